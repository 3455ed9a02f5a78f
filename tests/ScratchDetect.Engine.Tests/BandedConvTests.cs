using ScratchDetect.Engine.Backends;
using Xunit.Sdk;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The per-image im2col forward on maps whose columns exceed the im2col budget (8M elements), so
/// it runs in bands of output rows, each band's GEMM adding into those rows of every output plane
/// in place: against a direct convolution summed here in float64, with bias and fused ReLU. The
/// geometries are chosen so the last band is a short one (a tail) and sizes are odd: the ResNet stem
/// (7x7 stride 2, 3 channels) and a 3x3 stride-2 stage transition (too few output channels for
/// Winograd, which only serves stride 1 anyway). CPU-only: the CPU backend's banding against a plain sum.
/// </summary>
public class BandedConvTests
{
    // Any order of summing k products in float32 is within γ_k·Σ|terms| of the exact sum, γ_k ≈ k·u
    // with u = 2^-24 (Higham, 3.1), whatever the blocking; a band or row written at the wrong place
    // misses by the size of a whole output.
    private const double UnitRoundoff = 1.0 / (1 << 24);

    [Theory]
    // channels, height, width, out channels, kernel, stride, padding
    [InlineData(3, 501, 467, 5, 7, 2, 3)]   // stem: 147-row patches, 251x234 outputs: bands of 243 rows, then 8
    [InlineData(40, 311, 301, 7, 3, 2, 1)]  // 3x3 stride 2: 360-row patches, 156x151 outputs: bands of 154 rows, then 2
    public void BandedForwardMatchesTheDirectSum(int channels, int height, int width, int outChannels, int kernel, int stride, int padding)
    {
        var random = new Generator(11);
        var x = Tensor.Uniform([1, channels, height, width], -1, 1, random);
        var w = Tensor.Uniform([outChannels, channels, kernel, kernel], -1, 1, random);
        var b = Tensor.Uniform([outChannels], -1, 1, random);
        var y = Tensor.Conv2d(x, w, b, stride, padding, activation: ConvActivation.Relu);
        int outH = (height + 2 * padding - kernel) / stride + 1, outW = (width + 2 * padding - kernel) / stride + 1;
        Assert.True((long)channels * kernel * kernel * outH * outW > 8 << 20, "the geometry must exceed the im2col budget");
        Assert.Equal(new[] { 1, outChannels, outH, outW }, y.Shape.ToArray());
        float[] xs = x.ToArray<float>(), ws = w.ToArray<float>(), bs = b.ToArray<float>(), ys = y.ToArray<float>();
        int terms = channels * kernel * kernel + 1;
        double bound = terms * UnitRoundoff / (1 - terms * UnitRoundoff);
        for (int o = 0; o < outChannels; o++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    double sum = bs[o], scale = Math.Abs(bs[o]);
                    for (int c = 0; c < channels; c++)
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int ih = oh * stride - padding + ki;
                            if ((uint)ih >= (uint)height) continue;
                            for (int kj = 0; kj < kernel; kj++)
                            {
                                int iw = ow * stride - padding + kj;
                                if ((uint)iw >= (uint)width) continue;
                                double term = (double)xs[(c * height + ih) * width + iw] * ws[((o * channels + c) * kernel + ki) * kernel + kj];
                                sum += term;
                                scale += Math.Abs(term);
                            }
                        }
                    double expected = Math.Max(sum, 0), actual = ys[(o * outH + oh) * outW + ow];
                    // relu is 1-Lipschitz, so the bound carries over.
                    if (!(Math.Abs(actual - expected) <= bound * scale + 1e-30))
                        throw new XunitException($"output ({o}, {oh}, {ow}) is {actual:G9}, expected {expected:G9}; error exceeds γ_{terms}·Σ|terms| = {bound * scale:G3}");
                }
    }
}
