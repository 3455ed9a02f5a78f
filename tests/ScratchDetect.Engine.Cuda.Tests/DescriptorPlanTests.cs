using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Cuda.Dnn;

namespace ScratchDetect.Engine.Cuda.Tests;

public class DescriptorPlanTests
{
    [Theory]
    [InlineData(7, 9, 3, 3, 1, 1, 1, 1, 1)]
    [InlineData(224, 224, 7, 7, 2, 2, 3, 3, 1)] // ResNet's stem
    [InlineData(10, 13, 3, 3, 2, 1, 1, 2, 2)]
    [InlineData(19, 19, 3, 3, 1, 1, 6, 6, 6)]   // SSD's dilated fc6
    [InlineData(6, 5, 1, 1, 2, 2, 0, 0, 1)]
    public void The_convolution_plan_gives_the_cpu_convolutions_output_shape(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dilation)
    {
        int groups = 2, channels = 4, outChannels = 6;
        var g = new Conv2dGeometry(2, channels, h, w, outChannels, new Size2d(kh, kw), new Size2d(sh, sw), new Size2d(ph, pw), new Size2d(dilation, dilation), groups);
        var plan = ConvolutionPlan.From(g);
        var output = Tensor.Conv2d(Tensor.Zeros([2, channels, h, w]), Tensor.Zeros([outChannels, channels / groups, kh, kw]),
            stride: new Size2d(sh, sw), padding: new Size2d(ph, pw), dilation: new Size2d(dilation, dilation), groups: groups);
        Assert.Equal(output.Shape, new[] { plan.Output.N, plan.Output.C, plan.Output.H, plan.Output.W });
        Assert.Equal(new Nchw(outChannels, channels / groups, kh, kw), plan.Filter);
        Assert.Equal(groups, plan.Groups);
    }

    /// <summary>What cuDNN computes for the plan, written from cuDNN's definition: the input padded by -inf (extra rows/columns at the bottom/right), then floor-mode max pooling with symmetric padding that never wins.</summary>
    private static float[] PoolAsPlanned(MaxPoolingPlan plan, float[] x)
    {
        int paddedH = plan.Input.H + plan.ExtraBottom, paddedW = plan.Input.W + plan.ExtraRight;
        var y = new float[plan.Output.N * plan.Output.C * plan.Output.H * plan.Output.W];
        int at = 0;
        for (int p = 0; p < plan.Input.N * plan.Input.C; p++)
            for (int oh = 0; oh < plan.Output.H; oh++)
                for (int ow = 0; ow < plan.Output.W; ow++)
                {
                    float best = float.NegativeInfinity;
                    for (int dh = 0; dh < plan.WindowH; dh++)
                        for (int dw = 0; dw < plan.WindowW; dw++)
                        {
                            int r = oh * plan.StrideH - plan.PadH + dh, c = ow * plan.StrideW - plan.PadW + dw;
                            if (r < 0 || c < 0 || r >= paddedH || c >= paddedW) continue;
                            float v = r < plan.Input.H && c < plan.Input.W ? x[(p * plan.Input.H + r) * plan.Input.W + c] : float.NegativeInfinity;
                            best = Math.Max(best, v);
                        }
                    y[at++] = best;
                }
        return y;
    }

    [Theory]
    [InlineData(75, 75, 2, 2, 0, true)]   // SSD's pool3: 75 -> 38 only in ceil mode
    [InlineData(7, 8, 3, 2, 1, true)]
    [InlineData(6, 6, 3, 3, 1, true)]     // a ceil window that would start in the right padding is dropped
    [InlineData(9, 5, 3, 2, 1, false)]
    [InlineData(19, 19, 3, 1, 1, false)]  // SSD's pool5
    public void The_max_pooling_plan_reproduces_ceil_mode_with_extra_padding(int h, int w, int kernel, int stride, int padding, bool ceil)
    {
        var x = Tensor.Uniform([1, 2, h, w], -1, 1, new Generator(3));
        var expected = Tensor.MaxPool2d(x, new Size2d(kernel, kernel), new Size2d(stride, stride), new Size2d(padding, padding), ceilMode: ceil);
        var g = new Pool2dGeometry(1, 2, h, w, new Size2d(kernel, kernel), new Size2d(stride, stride), new Size2d(padding, padding), new Size2d(1, 1), ceil);
        var plan = MaxPoolingPlan.From(g);
        Assert.Equal(expected.Shape, new[] { plan.Output.N, plan.Output.C, plan.Output.H, plan.Output.W });
        // A max picks one input: exact equality.
        Assert.Equal(expected.ToArray<float>(), PoolAsPlanned(plan, x.ToArray<float>()));
    }

    [Fact]
    public void Dilated_pooling_is_refused_with_a_clear_message()
    {
        var g = new Pool2dGeometry(1, 1, 8, 8, new Size2d(2, 2), new Size2d(1, 1), new Size2d(0, 0), new Size2d(2, 2), false);
        var error = Assert.Throws<NotSupportedException>(() => MaxPoolingPlan.From(g));
        Assert.Contains("dilation 2x2", error.Message);
    }
}
