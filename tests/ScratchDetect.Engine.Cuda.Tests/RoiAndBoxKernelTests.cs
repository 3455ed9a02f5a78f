using ILGPU.Runtime;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Models;

namespace ScratchDetect.Engine.Cuda.Tests;

[Collection(KernelCollection.Name)]
public class RoiKernelTests(CpuAcceleratorFixture gpu)
{
    private const int Batch = 2, Channels = 3, Height = 9, Width = 11;

    /// <summary>RoIs in image pixels (scale 0.5 maps to the 9 x 11 map): inside, partly outside, tiny, malformed (x2 &lt; x1), and whole-map.</summary>
    private static Tensor Rois() => Tensor.FromArray(new float[]
    {
        0, 2, 3, 15, 12,
        1, -6, -4, 8, 30,
        1, 10.2f, 7.7f, 10.9f, 8.1f,
        0, 14, 10, 6, 4,
        1, 0, 0, 22, 18,
        0, 19.5f, 15.25f, 30, 25,
    }, 6, 5);

    [Theory]
    [InlineData(false, -1, 3, 3)]
    [InlineData(true, -1, 2, 4)]
    [InlineData(false, 2, 7, 7)]
    [InlineData(true, 1, 1, 1)]
    public void Roi_align_forward_and_backward_match_the_cpu(bool aligned, int samplingRatio, int outH, int outW)
    {
        var generator = new Generator(41);
        var input = Tensor.Uniform([Batch, Channels, Height, Width], -1, 1, generator);
        var rois = Rois();
        var gradOutput = Tensor.Uniform([6, Channels, outH, outW], -1, 1, generator);
        var x = input.Detach().RequireGrad();
        var expected = Tensor.RoiAlign(x, rois, outH, outW, 0.5, samplingRatio, aligned);
        (expected * gradOutput).Sum().Backward();

        var g = new RoiGeometry(Batch, Channels, Height, Width, outH, outW, 0.5);
        using var di = gpu.Upload(input);
        using var dr = gpu.Upload(rois);
        using var dg = gpu.Upload(gradOutput);
        using var y = gpu.Kernels.RoiAlign(di.View, dr.View, 6, g, samplingRatio, aligned);
        using var gradInput = gpu.Kernels.RoiAlignBackward(dg.View, dr.View, 6, g, samplingRatio, aligned);
        // Forward: the same float32 operations in the same order (1e-6 for the compiler's freedom).
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(y, 6, Channels, outH, outW), 1e-6, 1e-6, $"roi_align aligned={aligned} ratio={samplingRatio}");
        // Backward: atomic adds land in any order; overlapping RoIs add up to ~50 terms of |g·w| <= 1 (1e-5).
        TensorAssert.Close(x.Grad!, CpuAcceleratorFixture.Download(gradInput, Batch, Channels, Height, Width), 1e-5, 1e-5, "roi_align backward");
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 5)]
    public void Roi_pool_forward_argmax_and_backward_match_the_cpu(int outH, int outW)
    {
        var generator = new Generator(43);
        var input = Tensor.Uniform([Batch, Channels, Height, Width], -1, 1, generator);
        var rois = Rois();
        var gradOutput = Tensor.Uniform([6, Channels, outH, outW], -1, 1, generator);
        var x = input.Detach().RequireGrad();
        var expected = Tensor.RoiPool(x, rois, outH, outW, 0.5);
        (expected * gradOutput).Sum().Backward();

        var g = new RoiGeometry(Batch, Channels, Height, Width, outH, outW, 0.5);
        using var di = gpu.Upload(input);
        using var dr = gpu.Upload(rois);
        using var dg = gpu.Upload(gradOutput);
        var (y, argmax) = gpu.Kernels.RoiPool(di.View, dr.View, 6, g);
        using var gradInput = gpu.Kernels.RoiPoolBackward(dg.View, argmax.View, dr.View, 6, g);
        Assert.Equal(expected.ToArray<float>(), CpuAcceleratorFixture.Download(y, 6, Channels, outH, outW).ToArray<float>()); // a max: exact
        TensorAssert.Close(x.Grad!, CpuAcceleratorFixture.Download(gradInput, Batch, Channels, Height, Width), 1e-6, 1e-6, "roi_pool backward");
        y.Dispose();
        argmax.Dispose();
    }
}

[Collection(KernelCollection.Name)]
public class BoxKernelTests(CpuAcceleratorFixture gpu)
{
    /// <summary>Clustered random boxes (so many overlap), with duplicated scores and two empty boxes.</summary>
    private static (Tensor Boxes, Tensor Scores) Clustered(int count, ulong seed)
    {
        var generator = new Generator(seed);
        var data = new float[count * 4];
        var scores = new float[count];
        for (int i = 0; i < count; i++)
        {
            double cx = 20 * (i % 5) + 4 * generator.NextDouble(), cy = 20 * (i % 3) + 4 * generator.NextDouble();
            double w = 5 + 10 * generator.NextDouble(), h = 5 + 10 * generator.NextDouble();
            data[i * 4] = (float)(cx - w / 2);
            data[i * 4 + 1] = (float)(cy - h / 2);
            data[i * 4 + 2] = (float)(cx + w / 2);
            data[i * 4 + 3] = (float)(cy + h / 2);
            scores[i] = (float)Math.Round(generator.NextDouble(), 1); // ties: ten score levels
        }
        data[8] = data[10]; // box 2 has zero width
        data[12 + 1] = data[12 + 3]; // box 3 has zero height
        return (Tensor.FromArray(data, count, 4), Tensor.FromArray(scores, count));
    }

    [Fact]
    public void Iou_matches_the_cpu()
    {
        var (a, _) = Clustered(23, 1);
        var (b, _) = Clustered(9, 2);
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        using var iou = gpu.Kernels.BoxIou(da.View, 23, db.View, 9);
        TensorAssert.Close(Tensor.BoxIou(a, b), CpuAcceleratorFixture.Download(iou, 23, 9), 0, 1e-7, "box_iou"); // same float32 operations
    }

    [Theory]
    [InlineData(150, 0.5, 3ul)]  // three 64-bit mask words, the last one partial
    [InlineData(64, 0.3, 4ul)]   // exactly one word
    [InlineData(7, 0.7, 5ul)]
    [InlineData(1, 0.5, 6ul)]
    public void Bitmask_nms_keeps_what_the_cpu_keeps(int count, double threshold, ulong seed)
    {
        var (boxes, scores) = Clustered(Math.Max(count, 4), seed);
        boxes = boxes.Narrow(0, 0, count);
        scores = scores.Narrow(0, 0, count);
        using var db = gpu.Upload(boxes);
        using var ds = gpu.Upload(scores);
        var kept = gpu.Kernels.Nms(db.View, ds.View, count, threshold);
        var expected = Tensor.Nms(boxes, scores, threshold).ToArray<long>();
        Assert.Equal(expected, kept);
        Assert.True(count < 64 || kept.Length < count, "the test boxes should overlap enough to suppress some");
    }

    [Fact]
    public void The_greedy_pass_follows_the_mask_rows_of_kept_boxes_only()
    {
        // Sorted boxes 0..3: 0 suppresses 1, 1 (suppressed) would suppress 2, so 2 survives; 2 suppresses 3.
        ulong[] mask = [0b0010, 0b0100, 0b1000, 0];
        Assert.Equal([10L, 12L], Kernels.DeviceKernels.GreedyKeep(mask, [10, 11, 12, 13], 4, 1));
    }

    [Fact]
    public void Box_encode_and_decode_match_the_box_coder()
    {
        var (targets, _) = Clustered(17, 7);
        var (references, _) = Clustered(17, 8);
        var coder = new BoxCoder(10, 10, 5, 5);
        using var dt = gpu.Upload(targets);
        using var dr = gpu.Upload(references);
        // Boxes 2 and 3 are empty: log(0) = -inf codes, which the CPU gives too.
        using var codes = gpu.Kernels.EncodeBoxes(dt.View, dr.View, 17, (10, 10, 5, 5));
        var expectedCodes = coder.Encode(targets, references);
        TensorAssert.Close(expectedCodes.Narrow(0, 4, 13), CpuAcceleratorFixture.Download(codes, 17, 4).Narrow(0, 4, 13), 1e-6, 1e-6, "encode");

        var perClass = Tensor.Uniform([17, 12], -2, 2, new Generator(9)); // 3 boxes per reference, some size codes past the clip
        perClass = perClass * Tensor.FromArray(new float[] { 1, 1, 5, 5 }, 4).Reshape(1, 4).Expand(3, 4).Reshape(1, 12);
        using var dc = gpu.Upload(perClass);
        using var boxes = gpu.Kernels.DecodeBoxes(dc.View, dr.View, 17, 3, (10, 10, 5, 5), (float)BoxCoder.DefaultXformClip);
        TensorAssert.Close(coder.Decode(perClass, references), CpuAcceleratorFixture.Download(boxes, 17, 3, 4), 1e-5, 1e-6, "decode"); // exp of the same float32 inputs: an ulp or two
    }
}

[Collection(KernelCollection.Name)]
public class SortKernelTests(CpuAcceleratorFixture gpu)
{
    [Theory]
    [InlineData(1, 37, 1, false)]
    [InlineData(1, 37, 1, true)]
    [InlineData(3, 20, 4, true)]   // sort along a middle axis
    [InlineData(2, 64, 1, false)]  // already a power of two: no padding
    [InlineData(4, 1, 2, false)]
    public void Sort_is_stable_and_matches_the_cpu(int outer, int size, int inner, bool descending)
    {
        var data = Tensor.Uniform([outer * size * inner], 0, 1, new Generator(47)).ToArray<float>()
            .Select((v, i) => i % 7 == 3 ? float.NaN : MathF.Round(v * 5)).ToArray(); // many ties and some NaN
        var x = Tensor.FromArray(data, outer, size, inner);
        using var input = gpu.Upload(x);
        var (values, indices) = gpu.Kernels.Sort(input.View, outer, size, inner, descending, keep: size);
        var (expectedValues, expectedIndices) = x.Sort(1, descending);
        TensorAssert.Close(expectedValues, CpuAcceleratorFixture.Download(values, outer, size, inner), 0, 0, "sorted values");
        Assert.Equal(expectedIndices.ToArray<long>(), CpuAcceleratorFixture.DownloadLongs(indices, (long)outer * size * inner));
        values.Dispose();
        indices.Dispose();
    }

    [Theory]
    [InlineData(1000, 7, true)]
    [InlineData(50, 50, false)]
    [InlineData(9, 0, true)]
    public void Top_k_is_the_first_k_of_the_sort(int size, int k, bool largest)
    {
        var x = Tensor.Uniform([2, size], -1, 1, new Generator(53));
        using var input = gpu.Upload(x);
        var (values, indices) = gpu.Kernels.Sort(input.View, 2, size, 1, descending: largest, keep: k);
        var (expectedValues, expectedIndices) = x.TopK(k, 1, largest);
        TensorAssert.Close(expectedValues, CpuAcceleratorFixture.Download(values, 2, k), 0, 0, "top-k values");
        Assert.Equal(expectedIndices.ToArray<long>(), CpuAcceleratorFixture.DownloadLongs(indices, 2L * k));
        values.Dispose();
        indices.Dispose();
    }
}
