using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The im2col forward pass over a whole batch at once (one GEMM over every image's columns side by
/// side, taken when they fit the column budget) against the per-image path it replaces, which a
/// batch of one always takes: each image of the batch must come out bitwise as when convolved
/// alone, with bias, with the fused ReLU and without either, in float32 and float64, for strides,
/// padding, dilation, maps down to 1x1 and channel counts that fill no register tile.
/// CPU-only by nature: the CPU backend's fast path against its own reference path (the op's
/// agreement with PyTorch is in ConvParityTests).
/// </summary>
public class BatchedConvForwardTests
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
    public void EveryImageIsAsWhenConvolvedAlone(int batch, int channels, int height, int width, int outChannels, int kernel, int stride, int padding, int dilation)
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

        Conv2dGeometry Geometry(int n) => new(n, channels, height, width, outChannels, new Size2d(kernel, kernel), new Size2d(stride, stride), new Size2d(padding, padding), new Size2d(dilation, dilation), 1);
        double[] Values(Storage s) => s.DType == DType.Float32 ? Array.ConvertAll((float[])CpuBackend.Instance.ToArray(s), v => (double)v) : (double[])CpuBackend.Instance.ToArray(s);
    }
}
