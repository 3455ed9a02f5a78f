using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;
using Xunit.Sdk;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The float32 Winograd F(4x4, 3x3) kernels (forward, backward data, backward filter; the F(2x2, 3x3)
/// forward pass is in WinogradF2Tests) against the direct reference: the same convolution in
/// float64 through the im2col path (float64 never takes Winograd), on shapes that cut tiles at
/// every edge, leave vector tails across tiles, use 1xN and Nx1 maps, channel counts that are not
/// multiples of the vector width, batches, groups, every padding up to 2, and images large enough
/// to be split into several chunks of tile rows.
/// </summary>
public class WinogradTests
{
    // The error bound, relative to the sum of absolute terms Σ|x·w| (+|bias|) of each output: the
    // scale that rounding errors of any summation order are proportional to. The float32 direct sum
    // typically stays near 1e-7 of it; F(4x4, 3x3) amplifies the rounding of the transformed-domain
    // values by its matrices' entries (the forward and backward-data points 0, ±1, ½, -2, ∞: up to 8
    // in Aᵀ and 2.5 in Bᵀ, combined over 36 points): measured up to 1.4e-6 on these shapes for the
    // forward pass, 2.1e-6 for backward data and 1.3e-6 for the weight gradient (which sums over up
    // to 34 000 tiles' pixels here). 1e-5 leaves room for other seeds, and any indexing or
    // transform bug gives errors of order 1.
    private const double RelativeBound = 1e-5;

    public static TheoryData<int, int, int, int, int, int, int, int, bool> Shapes() => new()
    {
        // batch, channels, height, width, out channels, pad h, pad w, groups, bias
        { 1, 16, 1, 1, 16, 1, 1, 1, true },     // a single pixel: one tile, 1 of its 16 outputs inside
        { 1, 16, 1, 9, 16, 1, 1, 1, false },    // 1xN
        { 1, 16, 9, 1, 16, 1, 1, 1, true },     // Nx1
        { 2, 17, 7, 11, 19, 1, 1, 1, true },    // odd sizes, odd channel counts, batch 2
        { 1, 16, 5, 5, 16, 0, 0, 1, false },    // no padding: 3x3 output
        { 1, 20, 6, 13, 18, 2, 2, 1, true },    // padding 2
        { 1, 16, 10, 9, 17, 0, 2, 1, true },    // different paddings per axis
        { 1, 16, 8, 70, 16, 1, 1, 1, false },   // 18 tiles per row: vector tails at 8 and 16 lanes
        { 1, 16, 4, 75, 16, 0, 0, 1, false },   // wide rows without padding: the input's 32-column phase split starts at column 0, then a tail
        { 1, 16, 3, 77, 16, 2, 2, 1, true },    // wide rows at padding 2: the phase split starts at column 2
        { 2, 34, 9, 10, 38, 1, 1, 2, true },    // two groups
        { 2, 16, 130, 130, 16, 1, 1, 1, true }, // 33x33 tiles per image: several chunks, one split inside an image
        { 1, 16, 60, 58, 256, 1, 1, 1, true },  // more output channels than tiles per chunk: the GEMMs take tiles as rows, 15x15 tiles in 3 chunks of 5 rows
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesTheDirectFloat64Convolution(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool withBias)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(7);
        var x = Random(batch * channels * height * width, random);
        var w = Random(outChannels * (channels / groups) * 9, random);
        var b = withBias ? Random(outChannels, random) : null;

        var fast = CpuBackend.WinogradConvForward(x, w, b, g);
        var exact = Float64Forward(x, w, b, g, absolute: false);
        var scale = Float64Forward(x, w, b, g, absolute: true);
        AssertWithinBound(exact, scale, fast, $"winograd forward {g}", RelativeBound);

        // The fused ReLU of the output transform is exactly relu of the unfused result.
        var rectified = CpuBackend.WinogradConvForward(x, w, b, g, relu: true);
        Assert.Equal(fast.Select(v => v > 0 ? v : 0f).ToArray(), rectified);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataMatchesTheDirectFloat64Gradient(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool _)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(11);
        var gradOutput = Random(batch * outChannels * g.OutH * g.OutW, random);
        var w = Random(outChannels * (channels / groups) * 9, random);

        var fast = CpuBackend.WinogradConvBackwardData(gradOutput, w, g);
        var exact = Float64BackwardData(gradOutput, w, g, absolute: false);
        var scale = Float64BackwardData(gradOutput, w, g, absolute: true);
        AssertWithinBound(exact, scale, fast, $"winograd backward data {g}", RelativeBound);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataIsTheForwardPassWithTheFlippedTransposedKernels(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool _)
    {
        // The backward-data pass reads the flipped, transposed kernels from the weight as it
        // transforms them; with the kernels copied that way here, the forward kernel must give the
        // same sums in the same order, so the same bits.
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(17);
        var gradOutput = Random(batch * outChannels * g.OutH * g.OutW, random);
        var w = Random(outChannels * (channels / groups) * 9, random);
        int cg = channels / groups, og = outChannels / groups;
        var flipped = new float[w.Length]; // flipped[group·cg + c, o, 8 - tap] = w[group·og + o, c, tap]
        for (int group = 0; group < groups; group++)
            for (int o = 0; o < og; o++)
                for (int c = 0; c < cg; c++)
                    for (int tap = 0; tap < 9; tap++)
                        flipped[((group * cg + c) * og + o) * 9 + 8 - tap] = w[((group * og + o) * cg + c) * 9 + tap];
        var adjoint = new Conv2dGeometry(batch, outChannels, g.OutH, g.OutW, channels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(2 - padH, 2 - padW), new Size2d(1, 1), groups);

        Assert.Equal(CpuBackend.WinogradConvForward(gradOutput, flipped, null, adjoint), CpuBackend.WinogradConvBackwardData(gradOutput, w, g));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardFilterMatchesTheDirectFloat64Gradient(int batch, int channels, int height, int width, int outChannels, int padH, int padW, int groups, bool _)
    {
        var g = new Conv2dGeometry(batch, channels, height, width, outChannels, new Size2d(3, 3), new Size2d(1, 1), new Size2d(padH, padW), new Size2d(1, 1), groups);
        var random = new Generator(13);
        var gradOutput = Random(batch * outChannels * g.OutH * g.OutW, random);
        var x = Random(batch * channels * height * width, random);

        var fast = CpuBackend.WinogradConvBackwardFilter(gradOutput, x, g);
        var backend = CpuBackend.Instance;
        double[] Reference(bool absolute) => (double[])backend.ToArray(backend.Conv2dBackwardFilter(
            backend.FromArray(Float64(gradOutput, absolute)), backend.FromArray(Float64(x, absolute)), g));
        AssertWithinBound(Reference(false), Reference(true), fast, $"winograd backward filter {g}", RelativeBound);
    }

    [Fact]
    public void ForwardKernelsWriteEveryElementOfAReusedOutputBuffer()
    {
        // The forward kernels rent their output unzeroed from the buffer pool (the output transforms
        // write every element). Pooled arrays of the output's length filled with NaN are waiting
        // first, so an element the transforms missed comes out NaN instead of a stale or zero value.
        // 1 x 16 x 37 x 70: 41 440 outputs (pooled: 64 KiB and more), partial tiles on both edges.
        var g = new Conv2dGeometry(1, 16, 37, 70, 16, new Size2d(3, 3), new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), 1);
        var random = new Generator(19);
        var x = Random(16 * 37 * 70, random);
        var w = Random(16 * 16 * 9, random);
        var b = Random(16, random);
        var kernels = new (string Name, Func<float[]> Run)[]
        {
            ("F(4x4) forward", () => CpuBackend.WinogradConvForward(x, w, b, g)),
            ("F(2x2) forward", () => CpuBackend.WinogradF2ConvForward(x, w, b, g)),
            ("F(4x4) backward data", () => CpuBackend.WinogradConvBackwardData(x, w, g)),
        };
        foreach (var (name, run) in kernels)
        {
            var fresh = run();
            var stale = Enumerable.Range(0, 4).Select(_ => CpuBufferPool.Rent<float>(fresh.Length)).ToArray();
            foreach (var buffer in stale)
            {
                Array.Fill(buffer, float.NaN);
                CpuBufferPool.Return(buffer);
            }
            var reused = run();
            Assert.True(reused.All(float.IsFinite), $"{name}: an output element was left unwritten");
            Assert.Equal(fresh, reused);
        }
    }

    [Theory]
    [InlineData(16, true)]    // up to 128 input channels: F(4x4, 3x3)
    [InlineData(136, false)]  // more: F(2x2, 3x3)
    public void TensorConv2dTakesTheWinogradPathsForFloat32(int channels, bool fourByFour)
    {
        // The op-level check: Tensor.Conv2d's float32 output equals the forward kernel's that
        // CpuBackend.Conv2d picks by the input channels (see there why), and not the other one's, and
        // its gradients the F(4x4, 3x3) backward kernels', bit for bit, so the dispatch reaches them.
        var random = new Generator(3);
        var x = Tensor.Uniform([2, channels, 28, 30], -1, 1, random).RequireGrad();
        var w = Tensor.Uniform([24, channels, 3, 3], -1, 1, random).RequireGrad();
        var y = Tensor.Conv2d(x, w, padding: 1);
        var gradOutput = Tensor.Uniform(y.Shape.ToArray(), -1, 1, random);
        y.Backward(gradOutput);
        var g = new Conv2dGeometry(2, channels, 28, 30, 24, new Size2d(3, 3), new Size2d(1, 1), new Size2d(1, 1), new Size2d(1, 1), 1);
        var f4 = CpuBackend.WinogradConvForward(x.ToArray<float>(), w.ToArray<float>(), null, g);
        var f2 = CpuBackend.WinogradF2ConvForward(x.ToArray<float>(), w.ToArray<float>(), null, g);
        Assert.Equal(fourByFour ? f4 : f2, y.ToArray<float>());
        Assert.NotEqual(fourByFour ? f2 : f4, y.ToArray<float>());
        Assert.Equal(CpuBackend.WinogradConvBackwardData(gradOutput.ToArray<float>(), w.ToArray<float>(), g), x.Grad!.ToArray<float>());
        Assert.Equal(CpuBackend.WinogradConvBackwardFilter(gradOutput.ToArray<float>(), x.ToArray<float>(), g), w.Grad!.ToArray<float>());
    }

    [Theory]
    [InlineData(3, 3, 1, 1, 64, 64, 1, 28, true, true)]     // ResNet's and VGG's 3x3 convolutions: 7x7 tiles
    [InlineData(3, 3, 1, 1, 15, 16, 1, 28, false, false)]   // too few input channels for the transforms to pay
    [InlineData(3, 3, 1, 1, 16, 15, 1, 28, false, false)]   // too few output channels
    [InlineData(3, 3, 1, 1, 512, 512, 1, 7, false, false)]  // ResNet's 7x7 layer4 maps: 2x2 tiles
    [InlineData(3, 3, 2, 1, 64, 64, 1, 28, false, false)]   // stride 2
    [InlineData(3, 3, 1, 2, 64, 64, 2, 28, false, false)]   // dilation 2 (SSD's conv6)
    [InlineData(1, 1, 1, 1, 64, 64, 0, 28, false, false)]   // 1x1
    [InlineData(3, 3, 1, 1, 64, 64, 3, 28, true, false)]    // padding 3: the adjoint would need padding -1
    public void WinogradIsChosenOnlyWhereItApplies(int kh, int kw, int stride, int dilation, int channels, int outChannels, int pad, int size, bool forward, bool backwardData)
    {
        var g = new Conv2dGeometry(1, channels, size, size, outChannels, new Size2d(kh, kw), new Size2d(stride, stride), new Size2d(pad, pad), new Size2d(dilation, dilation), 1);
        Assert.Equal(forward, CpuBackend.WinogradApplies(g));
        Assert.Equal(backwardData, CpuBackend.WinogradBackwardDataApplies(g));
    }

    internal static float[] Random(int length, Generator random) => Tensor.Uniform([length], -1, 1, random).ToArray<float>();

    private static double[] Float64(float[] values, bool absolute) => values.Select(v => absolute ? Math.Abs((double)v) : v).ToArray();

    internal static double[] Float64Forward(float[] x, float[] w, float[]? b, Conv2dGeometry g, bool absolute)
    {
        var backend = CpuBackend.Instance;
        var y = backend.Conv2d(backend.FromArray(Float64(x, absolute)), backend.FromArray(Float64(w, absolute)),
            b is null ? null : backend.FromArray(Float64(b, absolute)), g);
        return (double[])backend.ToArray(y);
    }

    private static double[] Float64BackwardData(float[] gradOutput, float[] w, Conv2dGeometry g, bool absolute)
    {
        var backend = CpuBackend.Instance;
        return (double[])backend.ToArray(backend.Conv2dBackwardData(backend.FromArray(Float64(gradOutput, absolute)), backend.FromArray(Float64(w, absolute)), g));
    }

    internal static void AssertWithinBound(double[] exact, double[] scale, float[] fast, string what, double bound)
    {
        Assert.Equal(exact.Length, fast.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < exact.Length; i++)
        {
            double relative = Math.Abs(fast[i] - exact[i]) / Math.Max(scale[i], 1e-30);
            if (!(relative <= worst)) (worst, worstAt) = (relative, i);
        }
        Console.WriteLine($"{what}: worst error {worst:G3} of Σ|terms|");
        if (!(worst <= bound))
            throw new XunitException($"{what}: element {worstAt} is {fast[worstAt]:G9}, expected {exact[worstAt]:G9}; error {worst:G3} of Σ|terms| {scale[worstAt]:G3} exceeds {bound:G3}");
    }
}
