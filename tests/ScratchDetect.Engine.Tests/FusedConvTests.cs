using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Fused convolution epilogues: conv + bias + ReLU in one backend call against the plain
/// conv2d followed by relu (both tested against PyTorch elsewhere), the GEMM's ReLU write-back
/// against the GEMM followed by a separate ReLU on every tail, and batch norm folded into the
/// convolution against the layers run one by one, with its rounding error measured against float64.
/// </summary>
public class FusedConvTests
{
    private static readonly (int Batch, int Channels, int Height, int Width, int OutChannels, int Kernel, int Stride, int Padding, int Dilation, int Groups)[] Geometries =
    [
        ( 1, 16, 5, 5, 8, 1, 1, 0, 1, 1 ),     // 1x1: the pointwise GEMM path
        ( 2, 7, 9, 11, 13, 1, 2, 0, 1, 1 ),    // 1x1 at stride 2, odd sizes
        ( 2, 8, 6, 6, 12, 1, 1, 0, 1, 2 ),     // 1x1, two groups
        ( 2, 5, 9, 7, 6, 3, 1, 1, 1, 1 ),      // 3x3 im2col, odd sizes
        ( 1, 4, 1, 17, 9, 3, 1, 1, 1, 1 ),     // 1xN
        ( 2, 6, 17, 1, 5, 3, 1, 1, 1, 1 ),     // Nx1
        ( 1, 3, 23, 29, 10, 7, 2, 3, 1, 1 ),   // the 7x7 stride-2 stem, small
        ( 1, 8, 14, 14, 8, 3, 1, 6, 6, 1 ),    // dilated (SSD's conv6 pattern)
        ( 2, 6, 8, 8, 9, 3, 2, 1, 1, 3 ),      // grouped 3x3 at stride 2
        ( 1, 64, 121, 121, 8, 3, 1, 1, 1, 1 ), // 576·121·121 > the im2col budget: banded, the ReLU on each band's copy
        ( 2, 16, 30, 29, 17, 3, 1, 1, 1, 1 ),  // 3x3 stride 1, 16+ channels, odd widths: the 3x3 layers of both detectors
    ];

    [Theory, OnCpu, OnCuda]
    public void FusedReluEqualsConvolutionThenRelu(DeviceKind kind)
    {
        // The fused op must give exactly relu(conv2d(...)), bit for bit, in both dtypes: the epilogue
        // changes where the ReLU is applied, not what is summed. NaN from the input must survive.
        var device = TestDevices.Of(kind);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var row in Geometries)
            {
                var (x, w, b, conv) = Convolution(row, dtype, device, seed: 3);
                foreach (var bias in new[] { b, null })
                {
                    var fused = Tensor.Conv2d(x, w, bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, ConvActivation.Relu);
                    var plain = Tensor.Conv2d(x, w, bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups).Relu();
                    Assert.Equal(plain.Shape.ToArray(), fused.Shape.ToArray());
                    Assert.True(plain.Values().SequenceEqual(fused.Values()), $"{dtype} {conv} bias {bias is not null}");
                    Assert.Contains(fused.Values(), v => v == 0); // the ReLU did cut something
                }
            }
        var nanInput = Tensor.FromArray(new[] { 1f, float.NaN, -2f, 3f }, 1, 1, 2, 2).To(device);
        var kernel = Tensor.FromArray(new[] { 1f }, 1, 1, 1, 1).To(device);
        Assert.Equal(new[] { 1f, float.NaN, 0f, 3f }, Tensor.Conv2d(nanInput, kernel, activation: ConvActivation.Relu).ToArray<float>());
    }

    [Theory, OnCpu, OnCuda]
    public void FusedReluGradientsEqualThoseOfConvolutionThenRelu(DeviceKind kind)
    {
        // Backward: g·[y > 0] through the saved output, then the convolution's own backward passes.
        var device = TestDevices.Of(kind);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var row in Geometries)
            {
                double[][] Gradients(bool fused)
                {
                    var (x, w, b, conv) = Convolution(row, dtype, device, seed: 4);
                    foreach (var leaf in new[] { x, w, b }) leaf.RequiresGrad = true;
                    var y = fused
                        ? Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, ConvActivation.Relu)
                        : Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups).Relu();
                    var upstream = Tensor.Uniform(y.Shape.ToArray(), -1, 1, new Generator(5), dtype).To(device);
                    y.Backward(upstream);
                    return [x.Grad!.Values(), w.Grad!.Values(), b.Grad!.Values()];
                }
                var expected = Gradients(fused: false);
                var actual = Gradients(fused: true);
                for (int i = 0; i < 3; i++)
                    Assert.True(expected[i].SequenceEqual(actual[i]), $"{dtype} {row} gradient {i} (input, weight, bias)");
            }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void GemmReluWriteBackEqualsGemmThenReluOnEveryTail(bool transA, bool transB)
    {
        // The CPU GEMM applies the ReLU per parallel task once that task's last k block is added.
        // Sizes hit every edge: one row/column, MR = 6 ± 1, NR (16 or 32) ± 1, more than one task's
        // rows (96) and columns, and k beyond one packed block (256) so an early ReLU would show.
        int[] sizes = [1, 5, 6, 7, 15, 17, 31, 33, 97, 300];
        var random = new Generator(11);
        foreach (int m in sizes)
            foreach (int n in new[] { 1, 7, 33, 290 })
                foreach (int k in new[] { 0, 1, 9, 257, 600 })
                {
                    if ((long)m * n * k > 20_000_000) continue;
                    var a = Tensor.Uniform([m * k], -1, 1, random).ToArray<float>();
                    var b = Tensor.Uniform([k * n], -1, 1, random).ToArray<float>();
                    var start = Tensor.Uniform([m * n], -1, 1, random).ToArray<float>(); // the GEMM accumulates onto C (a bias)
                    var expected = (float[])start.Clone();
                    CpuBackend.GemmAccumulate(a, 0, transA, b, 0, transB, expected, 0, m, n, k);
                    for (int i = 0; i < expected.Length; i++) expected[i] = expected[i] > 0 ? expected[i] : 0;
                    var actual = (float[])start.Clone();
                    CpuBackend.GemmAccumulate(a, 0, transA, b, 0, transB, actual, 0, m, n, k, relu: true);
                    Assert.True(expected.SequenceEqual(actual), $"m={m} n={n} k={k} transA={transA} transB={transB}");
                }
    }

    [Theory, OnCpu, OnCuda]
    public void FusedResidualEqualsConvolutionPlusResidualThenRelu(DeviceKind kind)
    {
        // activation(conv + bias + residual) in one call must be exactly (conv2d(...) + residual),
        // relu'd when asked, bit for bit: the 1x1 rows add the residual in the GEMM's epilogue, the
        // others in a pass after the kernel, and both are the same add then the same ReLU per element.
        var device = TestDevices.Of(kind);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var row in Geometries)
            {
                var (x, w, b, conv) = Convolution(row, dtype, device, seed: 6);
                var plainConv = Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups);
                var residual = Tensor.Uniform(plainConv.Shape.ToArray(), -2, 2, new Generator(7), dtype).To(device);
                foreach (var activation in new[] { ConvActivation.None, ConvActivation.Relu })
                {
                    var fused = Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, activation, residual);
                    var sum = plainConv + residual;
                    var plain = activation == ConvActivation.Relu ? sum.Relu() : sum;
                    Assert.True(plain.Values().SequenceEqual(fused.Values()), $"{dtype} {conv} {activation}");
                    if (activation == ConvActivation.Relu) Assert.Contains(fused.Values(), v => v == 0);
                }
            }
        var wrong = Tensor.Zeros([1, 2, 2, 2]);
        var error = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros([1, 1, 2, 2]), Tensor.Zeros([1, 1, 1, 1]), residual: wrong));
        Assert.Contains("residual", error.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void FusedResidualGradientsEqualThoseOfTheSeparateOps(DeviceKind kind)
    {
        // Backward: g·[y > 0] through the saved output is the gradient of the convolution's output
        // and of the residual; the input, weight and bias gradients then follow as for conv2d.
        var device = TestDevices.Of(kind);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var row in Geometries)
                foreach (var relu in new[] { false, true })
                {
                    double[][] Gradients(bool fused)
                    {
                        var (x, w, b, conv) = Convolution(row, dtype, device, seed: 8);
                        var plainShape = Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups).Shape.ToArray();
                        var residual = Tensor.Uniform(plainShape, -2, 2, new Generator(9), dtype).To(device);
                        foreach (var leaf in new[] { x, w, b, residual }) leaf.RequiresGrad = true;
                        Tensor y;
                        if (fused)
                            y = Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, relu ? ConvActivation.Relu : ConvActivation.None, residual);
                        else
                        {
                            y = Tensor.Conv2d(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups) + residual;
                            if (relu) y = y.Relu();
                        }
                        var upstream = Tensor.Uniform(y.Shape.ToArray(), -1, 1, new Generator(10), dtype).To(device);
                        y.Backward(upstream);
                        return [x.Grad!.Values(), w.Grad!.Values(), b.Grad!.Values(), residual.Grad!.Values()];
                    }
                    var expected = Gradients(fused: false);
                    var actual = Gradients(fused: true);
                    for (int i = 0; i < 4; i++)
                        Assert.True(expected[i].SequenceEqual(actual[i]), $"{dtype} {row} relu={relu} gradient {i} (input, weight, bias, residual)");
                }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void GemmResidualEpilogueEqualsGemmThenAddOnEveryTail(bool transA, bool transB)
    {
        // The residual is added per parallel task once its last k block is in, then the optional
        // ReLU: the same values as the GEMM followed by a separate add and ReLU. C is a block of
        // wider rows (ldc = n + 3) so the residual is read at C's strided indices, and the elements
        // between the rows must stay untouched. Sizes as in the ReLU test above; n = 4100 crosses
        // a 4096-column packing block.
        var random = new Generator(12);
        foreach (int m in new[] { 1, 7, 97, 300 })
            foreach (int n in new[] { 1, 33, 290, 4100 })
                foreach (int k in new[] { 0, 9, 600 })
                    foreach (bool relu in new[] { false, true })
                    {
                        if ((long)m * n * k > 20_000_000) continue;
                        int ldc = n + 3;
                        var a = Tensor.Uniform([m * k], -1, 1, random).ToArray<float>();
                        var b = Tensor.Uniform([k * n], -1, 1, random).ToArray<float>();
                        var start = Tensor.Uniform([m * ldc], -1, 1, random).ToArray<float>();
                        var residual = Tensor.Uniform([m * ldc], -3, 3, random).ToArray<float>();
                        var expected = (float[])start.Clone();
                        CpuBackend.GemmAccumulate(a, 0, transA, b, 0, transB, expected, 0, m, n, k, ldc: ldc);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                            {
                                float sum = expected[i * ldc + j] + residual[i * ldc + j];
                                expected[i * ldc + j] = !relu || sum > 0 ? sum : 0;
                            }
                        var actual = (float[])start.Clone();
                        CpuBackend.GemmAccumulate(a, 0, transA, b, 0, transB, actual, 0, m, n, k, relu, ldc, residual);
                        Assert.True(expected.SequenceEqual(actual), $"m={m} n={n} k={k} relu={relu} transA={transA} transB={transB}");
                    }
    }

    [Theory, OnCpu, OnCuda]
    public void FoldedBatchNormMatchesTheLayersWithinItsRounding(DeviceKind kind)
    {
        // conv → norm → relu as one Sequential under NoGrad (folded) against the same layers one by
        // one, both in float32, each measured against the float64 layers one by one. Folding rounds
        // differently (the weight is scaled before the sum instead of the sum after), so it is held
        // to the unfolded float32 error's size: at most 4x the largest unfolded error plus
        // 2^-24·max|y| (the norm's own multiply and add), for frozen and eval-mode batch norms
        // with and without a conv bias and with non-trivial statistics (a scale up to 3). Measured:
        // the folded error is 0.6-2.0x the unfolded one (1e-7 to 4e-6 against max|y| of 1 to 8).
        var device = TestDevices.Of(kind);
        foreach (var row in Geometries)
            foreach (var frozen in new[] { true, false })
            {
                var generator = new Generator(21);
                var conv = new Conv2d(row.Channels, row.OutChannels, row.Kernel, generator, row.Stride, row.Padding, row.Dilation, row.Groups, bias: !frozen);
                var norm = RandomNorm(row.OutChannels, frozen, generator);
                var layers = new Sequential(conv, norm, new ReLU()).Eval().To(device);
                var x = Tensor.Uniform([row.Batch, row.Channels, row.Height, row.Width], -1, 1, generator).To(device);

                Tensor folded, separate, exact;
                using (GradMode.NoGrad())
                {
                    folded = layers.Forward(x);
                    separate = norm.Forward(conv.Forward(x)).Relu();
                }
                var wide = new Sequential(Clone(conv, generator), Clone(norm, frozen, row.OutChannels), new ReLU()).Eval().To(DType.Float64).To(device);
                using (GradMode.NoGrad())
                    exact = wide[1].Forward(wide[0].Forward(x.To(DType.Float64))).Relu();

                double[] e = exact.Values(), f = folded.Values(), s = separate.Values();
                double largest = e.Max(Math.Abs), separateError = 0, foldedError = 0;
                for (int i = 0; i < e.Length; i++)
                {
                    separateError = Math.Max(separateError, Math.Abs(s[i] - e[i]));
                    foldedError = Math.Max(foldedError, Math.Abs(f[i] - e[i]));
                }
                Console.WriteLine($"{row} frozen={frozen}: folded error {foldedError:G3}, separate {separateError:G3}, max|y| {largest:G3}");
                Assert.True(foldedError <= 4 * separateError + largest / (1 << 24),
                    $"{row} frozen={frozen}: folded error {foldedError:G3}, separate layers' float32 error {separateError:G3}, max|y| {largest:G3}");
                Assert.NotEqual(s, f); // the fold did happen: a different rounding
            }
    }

    [Theory, OnCpu, OnCuda]
    public void FoldIsRedoneWhenAWeightOrStatisticChanges(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var generator = new Generator(31);
        var conv = new Conv2d(4, 6, 3, generator, padding: 1, bias: false);
        var norm = (FrozenBatchNorm2d)RandomNorm(6, frozen: true, generator);
        var layers = new Sequential(conv, norm).To(device);
        var x = Tensor.Uniform([1, 4, 7, 7], -1, 1, generator).To(device);
        using var _ = GradMode.NoGrad();
        double[] Separate() => norm.Forward(conv.Forward(x)).Values();
        void AssertFoldMatchesLayers(string when) => TensorAssert.Close(Separate(), layers.Forward(x).Values(), 1e-5, 1e-5, when);

        AssertFoldMatchesLayers("first fold");
        var before = layers.Forward(x).Values();
        norm.RunningVar.CopyFrom(norm.RunningVar * 4);          // a statistic changes in place: scale halves
        AssertFoldMatchesLayers("after running_var changed");
        Assert.NotEqual(before, layers.Forward(x).Values());
        conv.Weight.CopyFrom(-conv.Weight);                      // the weight changes in place
        AssertFoldMatchesLayers("after the weight changed");
    }

    [Theory, OnCpu, OnCuda]
    public void NormIsNotFoldedWhereAGradientFlowsThroughIt(DeviceKind kind)
    {
        // With gradients wanted the layers run one by one: the result is bit for bit theirs and the
        // weight gets a gradient; a BatchNorm2d in training mode is never folded (batch statistics).
        var device = TestDevices.Of(kind);
        var generator = new Generator(41);
        var conv = new Conv2d(3, 5, 3, generator, padding: 1, bias: false);
        var norm = RandomNorm(5, frozen: true, generator);
        var layers = new Sequential(conv, norm, new ReLU()).To(device);
        var x = Tensor.Uniform([2, 3, 6, 6], -1, 1, generator).To(device);
        var fusedPath = layers.Forward(x);
        var separate = norm.Forward(conv.Forward(x)).Relu();
        Assert.Equal(separate.Values(), fusedPath.Values());
        fusedPath.Sum().Backward();
        Assert.NotNull(conv.Weight.Grad);

        var batchNorm = new BatchNorm2d(5).To(device);
        var training = new Sequential(conv, batchNorm).To(device);
        double[] expected;
        using (GradMode.NoGrad())
        {
            var mean = batchNorm.RunningMean!.Values();
            var y = training.Forward(x);
            Assert.NotEqual(mean, batchNorm.RunningMean!.Values()); // training statistics were used and tracked
            expected = Tensor.BatchNorm(conv.Forward(x), null, null, batchNorm.Weight, batchNorm.Bias, training: true).Values();
            Assert.Equal(expected, y.Values());
        }
    }

    private static (Tensor X, Tensor W, Tensor B, Conv2d Layer) Convolution(
        (int Batch, int Channels, int Height, int Width, int OutChannels, int Kernel, int Stride, int Padding, int Dilation, int Groups) row, DType dtype, Device device, ulong seed)
    {
        var (batch, channels, height, width, outChannels, kernel, stride, padding, dilation, groups) = row;
        var generator = new Generator(seed);
        var layer = new Conv2d(channels, outChannels, kernel, generator, stride, padding, dilation, groups);
        var x = Tensor.Uniform([batch, channels, height, width], -1, 1, generator, dtype).To(device);
        var w = Tensor.Uniform([outChannels, channels / groups, kernel, kernel], -1, 1, generator, dtype).To(device);
        var b = Tensor.Uniform([outChannels], -0.5, 0.5, generator, dtype).To(device);
        return (x, w, b, layer);
    }

    private static Layer RandomNorm(int channels, bool frozen, Generator generator)
    {
        Layer norm = frozen ? new FrozenBatchNorm2d(channels) : new BatchNorm2d(channels);
        var values = new[] { ("weight", 0.2, 3.0), ("bias", -0.5, 0.5), ("running_mean", -0.3, 0.3), ("running_var", 0.1, 2.0) };
        var state = norm.StateDict();
        using var _ = GradMode.NoGrad();
        foreach (var (name, low, high) in values)
            state[name].CopyFrom(Tensor.Uniform(state[name].Shape.ToArray(), low, high, generator));
        return norm;
    }

    private static Conv2d Clone(Conv2d conv, Generator generator)
    {
        var copy = new Conv2d(conv.InChannels, conv.OutChannels, conv.KernelSize, generator, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, conv.Bias is not null);
        copy.LoadStateDict(conv.StateDict());
        return copy;
    }

    private static Layer Clone(Layer norm, bool frozen, int channels)
    {
        Layer copy = frozen ? new FrozenBatchNorm2d(channels) : new BatchNorm2d(channels);
        copy.LoadStateDict(norm.StateDict());
        return copy;
    }
}

file static class TensorValues
{
    /// <summary>The elements as float64 (exact for float32), whatever the dtype.</summary>
    public static double[] Values(this Tensor tensor) => tensor.To(DType.Float64).ToArray<double>();
}
