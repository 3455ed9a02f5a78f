using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;
using Xunit.Sdk;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The float32 1x1 convolution kernels (any stride, parallel over images, groups and weight-gradient blocks)
/// against the direct reference: the same convolution in float64 through the im2col path, which
/// float64 always takes. Shapes cover strides 1, 2, 3 and mixed, sizes the stride does not divide,
/// 1xN and Nx1 maps, odd channel counts, batches and groups.
/// CPU-only by nature: these are the CPU backend's own fast paths against its reference kernels
/// (the device-independent behaviour of the same ops is in the device-parameterised op tests).
/// </summary>
public class PointwiseConvTests
{
    // Any order of summing k products in float32 is within γ_k·Σ|terms| of the exact sum, γ_k ≈ k·u
    // with u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1): a bound that
    // holds for every blocking and every split into partial sums, and that indexing errors exceed by far.
    private const double UnitRoundoff = 1.0 / (1 << 24);

    public static TheoryData<int, int, int, int, int, int, int, int> Shapes() => new()
    {
        // batch, channels, height, width, out channels, stride h, stride w, groups
        { 1, 16, 5, 5, 8, 1, 1, 1 },
        { 2, 7, 9, 11, 13, 2, 2, 1 },     // odd sizes: the last row and column are read at stride 2
        { 3, 5, 10, 7, 6, 3, 3, 1 },      // stride 3, batch 3
        { 1, 4, 1, 17, 9, 1, 2, 1 },      // 1xN, stride only across
        { 2, 6, 17, 1, 5, 2, 1, 1 },      // Nx1
        { 2, 8, 6, 6, 12, 2, 2, 2 },      // two groups
        { 1, 33, 40, 40, 31, 1, 1, 1 },   // one image, 1600 pixels: the weight gradient is cut into blocks of its columns
        { 2, 64, 28, 28, 64, 2, 2, 1 },   // ResNet's downsampling shape, small
        { 2, 1024, 19, 19, 1024, 1, 1, 1 }, // SSD300's conv7: long reductions (1024) in all three passes
        { 2, 512, 10, 10, 128, 1, 1, 1 },   // SSD300's extra conv9_1
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AllThreePassesMatchTheDirectFloat64Convolution(int batch, int channels, int height, int width, int outChannels, int strideH, int strideW, int groups)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(1, 1), new Size2d(strideH, strideW), new Size2d(0, 0), new Size2d(1, 1), groups);
        Assert.True(CpuBackend.PointwiseApplies(g));
        var random = new Generator(5);
        var x = Random(batch * channels * height * width, random);
        var w = Random(outChannels * (channels / groups), random);
        var b = Random(outChannels, random);
        var gradOutput = Random(batch * outChannels * g.OutH * g.OutW, random);
        var backend = CpuBackend.Instance;
        Storage F64(float[] v, bool absolute) => backend.FromArray(v.Select(e => absolute ? Math.Abs((double)e) : e).ToArray());
        double[] Array64(Storage s) => (double[])backend.ToArray(s);

        // Forward: channels/groups products plus the bias per output.
        AssertWithinBound(Array64(backend.Conv2d(F64(x, false), F64(w, false), F64(b, false), g)),
            Array64(backend.Conv2d(F64(x, true), F64(w, true), F64(b, true), g)),
            CpuBackend.PointwiseConvForward(x, w, b, g), channels / groups + 1, $"1x1 forward {g}");
        // Backward data: outChannels/groups products per input pixel (0 where the stride skips it).
        AssertWithinBound(Array64(backend.Conv2dBackwardData(F64(gradOutput, false), F64(w, false), g)),
            Array64(backend.Conv2dBackwardData(F64(gradOutput, true), F64(w, true), g)),
            CpuBackend.PointwiseConvBackwardData(gradOutput, w, g), outChannels / groups, $"1x1 backward data {g}");
        // Backward filter: one product per output pixel of every image.
        AssertWithinBound(Array64(backend.Conv2dBackwardFilter(F64(gradOutput, false), F64(x, false), g)),
            Array64(backend.Conv2dBackwardFilter(F64(gradOutput, true), F64(x, true), g)),
            CpuBackend.PointwiseConvBackwardFilter(gradOutput, x, g), batch * g.OutH * g.OutW, $"1x1 backward filter {g}");
    }

    public static TheoryData<int, int, int, int, int, int, int> BlockedWeightGradientShapes() => new()
    {
        // batch, channels, height, width, out channels, stride, groups
        { 1, 64, 30, 30, 256, 1, 1 },  // more rows than columns: cut into row blocks (or left whole where the GEMM's tasks fill the cores)
        { 1, 256, 30, 30, 64, 1, 1 },  // more columns than rows: column blocks, C's rows cg apart
        { 1, 40, 20, 20, 29, 1, 1 },   // neither a multiple of a micro-tile
        { 3, 24, 13, 11, 36, 2, 1 },   // batch 3 at stride 2: the picked pixels of every image
        { 2, 16, 9, 9, 48, 1, 2 },     // two groups
    };

    /// <summary>
    /// The blocked weight gradient gives every weight the same float32 sums in the same order as one
    /// GEMM per image and group added in image order (the order of the general path), whatever the
    /// blocks: expected here by those GEMMs (the kernel KernelTests checks) over pixels picked by a
    /// loop written out in the test, compared bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(BlockedWeightGradientShapes))]
    public void WeightGradientEqualsOneGemmPerImageBitForBit(int batch, int channels, int height, int width, int outChannels, int stride, int groups)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(1, 1), new Size2d(stride, stride), new Size2d(0, 0), new Size2d(1, 1), groups);
        var random = new Generator(11);
        var x = Random(batch * channels * height * width, random);
        var gradOutput = Random(batch * outChannels * g.OutH * g.OutW, random);
        int plane = g.OutH * g.OutW, cg = channels / groups, og = outChannels / groups;
        var picked = new float[batch * channels * plane];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                        picked[((n * channels + c) * g.OutH + oh) * g.OutW + ow] = x[((n * channels + c) * height + oh * stride) * width + ow * stride];
        var expected = new float[outChannels * cg];
        for (int n = 0; n < batch; n++)
            for (int group = 0; group < groups; group++)
                CpuBackend.GemmAccumulate(gradOutput, (long)(n * outChannels + group * og) * plane, false, picked, (long)(n * channels + group * cg) * plane, true,
                    expected, (long)group * og * cg, og, cg, plane);
        Assert.Equal(expected, CpuBackend.PointwiseConvBackwardFilter(gradOutput, x, g)[..expected.Length]);
    }

    [Fact]
    public void TensorConv2dTakesThePointwisePathForFloat32()
    {
        // Tensor.Conv2d's float32 passes equal the 1x1 kernels bit for bit, so the dispatch reaches them.
        var random = new Generator(9);
        var x = Tensor.Uniform([2, 8, 9, 9], -1, 1, random).RequireGrad();
        var w = Tensor.Uniform([12, 8, 1, 1], -1, 1, random).RequireGrad();
        var y = Tensor.Conv2d(x, w, stride: 2);
        var gradOutput = Tensor.Uniform(y.Shape.ToArray(), -1, 1, random);
        y.Backward(gradOutput);
        var g = new Conv2dGeometry(2, 8, 9, 9, 12, new Size2d(1, 1), new Size2d(2, 2), new Size2d(0, 0), new Size2d(1, 1), 1);
        Assert.Equal(CpuBackend.PointwiseConvForward(x.ToArray<float>(), w.ToArray<float>(), null, g), y.ToArray<float>());
        Assert.Equal(CpuBackend.PointwiseConvBackwardData(gradOutput.ToArray<float>(), w.ToArray<float>(), g), x.Grad!.ToArray<float>());
        Assert.Equal(CpuBackend.PointwiseConvBackwardFilter(gradOutput.ToArray<float>(), x.ToArray<float>(), g), w.Grad!.ToArray<float>());
    }

    [Fact]
    public void PaddedOneByOneTakesTheGeneralPath()
    {
        var g = new Conv2dGeometry(1, 8, 5, 5, 8, new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), 1);
        Assert.False(CpuBackend.PointwiseApplies(g));
    }

    private static float[] Random(int length, Generator random) => Tensor.Uniform([length], -1, 1, random).ToArray<float>();

    private static void AssertWithinBound(double[] exact, double[] scale, float[] fast, int terms, string what)
    {
        Assert.Equal(exact.Length, fast.Length);
        double bound = terms * UnitRoundoff / (1 - terms * UnitRoundoff);
        for (int i = 0; i < exact.Length; i++)
        {
            double error = Math.Abs(fast[i] - exact[i]);
            if (!(error <= bound * scale[i] + 1e-30))
                throw new XunitException($"{what}: element {i} is {fast[i]:G9}, expected {exact[i]:G9}; error {error:G3} exceeds γ_{terms}·Σ|terms| = {bound * scale[i]:G3}");
        }
    }
}
