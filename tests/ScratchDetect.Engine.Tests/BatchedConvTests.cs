using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The im2col passes over a whole batch at once (one GEMM over every image's columns side by side,
/// taken when they fit the column budget) against the per-image path they replace, which a batch
/// of one always takes, in float32 and float64, for strides, padding, dilation, maps down to 1x1 and
/// channel counts that fill no register tile: forward (with bias, with the fused ReLU and without
/// either) and backward data must give each image bitwise as when it is alone (the same sums in the
/// same order); the weight gradient, whose sum over the batch's positions is blocked differently,
/// must match the per-image gradients' float64 sum within the rounding bound of that sum.
/// CPU-only by nature: the CPU backend's fast path against its own reference path (the op's
/// agreement with PyTorch is in ConvParityTests).
/// </summary>
public class BatchedConvTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int> Shapes() => new()
    {
        // batch, channels, height, width, out channels, kernel, stride, padding, dilation
        { 4, 16, 12, 12, 32, 3, 1, 1, 1 },  // ssd_tiny's 12x12 layers, narrowed
        { 3, 5, 6, 6, 7, 3, 2, 1, 1 },      // an extra block's stride-2 3x3 on a 6x6 map
        { 2, 3, 9, 11, 13, 3, 1, 1, 1 },    // RGB input, odd sizes
        { 5, 8, 3, 3, 6, 3, 1, 1, 1 },      // 3x3 map: one output row
        { 2, 4, 1, 1, 9, 3, 1, 1, 1 },      // 1x1 map: only the centre tap is inside
        { 2, 6, 10, 10, 4, 3, 1, 2, 2 },    // dilated
        { 3, 7, 8, 8, 5, 5, 2, 2, 1 },      // 5x5, stride 2
        { 2, 130, 4, 4, 97, 3, 1, 1, 1 },   // more than one packed row block of the weights
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryImageIsAsWhenAlone(int batch, int channels, int height, int width, int outChannels, int kernel, int stride, int padding, int dilation)
    {
        var backend = CpuBackend.Instance;
        var random = new Generator(3);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var (withBias, activation) in new[] { (true, ConvActivation.Relu), (true, ConvActivation.None), (false, ConvActivation.None) })
            {
                var x = Tensor.Normal([batch, channels, height, width], 0, 1, random).To(dtype);
                var w = Tensor.Normal([outChannels, channels, kernel, kernel], 0, 0.3, random).To(dtype);
                var b = withBias ? Tensor.Normal([outChannels], 0, 1, random).To(dtype) : null;
                var whole = backend.Conv2dBiasActivation(x.Storage, w.Storage, b?.Storage, activation, Geometry(batch));
                var together = Values(whole);
                int perImage = together.Length / batch;
                for (int i = 0; i < batch; i++)
                {
                    var alone = Values(backend.Conv2dBiasActivation(x.Narrow(0, i, 1).Storage, w.Storage, b?.Storage, activation, Geometry(1)));
                    for (int e = 0; e < perImage; e++)
                        if (BitConverter.DoubleToInt64Bits(alone[e]) != BitConverter.DoubleToInt64Bits(together[i * perImage + e]))
                            Assert.Fail($"{dtype.Name()} bias {withBias} {activation}: image {i} element {e} is {together[i * perImage + e]:R} in the batch, {alone[e]:R} alone");
                }
            }

        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.Normal([batch, channels, height, width], 0, 1, random).To(dtype);
            var w = Tensor.Normal([outChannels, channels, kernel, kernel], 0, 0.3, random).To(dtype);
            var full = Geometry(batch);
            var gradOutput = Tensor.Normal([batch, outChannels, full.OutH, full.OutW], 0, 1, random).To(dtype);
            var gradInput = Values(backend.Conv2dBackwardData(gradOutput.Storage, w.Storage, full));
            int perImage = gradInput.Length / batch;
            var gradWeight = Values(backend.Conv2dBackwardFilter(gradOutput.Storage, x.Storage, full));
            var sum = new double[gradWeight.Length];
            for (int i = 0; i < batch; i++)
            {
                var alone = Values(backend.Conv2dBackwardData(gradOutput.Narrow(0, i, 1).Storage, w.Storage, Geometry(1)));
                for (int e = 0; e < perImage; e++)
                    if (BitConverter.DoubleToInt64Bits(alone[e]) != BitConverter.DoubleToInt64Bits(gradInput[i * perImage + e]))
                        Assert.Fail($"{dtype.Name()} backward data: image {i} element {e} is {gradInput[i * perImage + e]:R} in the batch, {alone[e]:R} alone");
                var weightAlone = Values(backend.Conv2dBackwardFilter(gradOutput.Narrow(0, i, 1).Storage, x.Narrow(0, i, 1).Storage, Geometry(1)));
                for (int e = 0; e < sum.Length; e++) sum[e] += weightAlone[e];
            }
            // Both are sums of the same batch·plane products (per-image partial sums, then the batch, or
            // all at once): each within γ_n·Σ|terms| of the exact sum, n = batch·plane + batch, γ_n ≈ n·u
            // (Higham, Accuracy and Stability, 3.1), so within twice that of each other.
            double unit = dtype == DType.Float32 ? 1.0 / (1 << 24) : Math.Pow(2, -53);
            var magnitude = Values(backend.Conv2dBackwardFilter(gradOutput.To(DType.Float64).Abs().Storage, x.To(DType.Float64).Abs().Storage, full));
            long n = (long)batch * full.OutH * full.OutW + batch;
            for (int e = 0; e < sum.Length; e++)
                Assert.True(Math.Abs(gradWeight[e] - sum[e]) <= 2 * n * unit * magnitude[e] + 1e-300,
                    $"{dtype.Name()} backward filter element {e}: {gradWeight[e]:R} batched, {sum[e]:R} summed per image, bound {2 * n * unit * magnitude[e]:G3}");
        }

        Conv2dGeometry Geometry(int n) => new(n, channels, height, width, outChannels, new Size2d(kernel, kernel), new Size2d(stride, stride), new Size2d(padding, padding), new Size2d(dilation, dilation), 1);
        double[] Values(Storage s) => s.DType == DType.Float32 ? Array.ConvertAll((float[])CpuBackend.Instance.ToArray(s), v => (double)v) : (double[])CpuBackend.Instance.ToArray(s);
    }
}
