using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The vectorised, channels-last float32 RoIAlign and RoIPool kernels against the scalar reference
/// kernels (torchvision's operation order, CpuBackend.Roi.cs): bit for bit, on channel counts that
/// leave every vector tail (1, 7, 8, 9, 17, 33), RoIs inside, across and outside the map, tiny and
/// inverted RoIs, adaptive and fixed sampling, aligned and not, and maps holding NaN and infinities.
/// CPU-only by nature: these are the CPU backend's own fast paths against its reference kernels
/// (the device-independent behaviour of the same ops is in the device-parameterised op tests).
/// </summary>
public class RoiChannelsLastTests
{
    public static TheoryData<int, int, int, int, int, bool> Cases()
    {
        var data = new TheoryData<int, int, int, int, int, bool>();
        foreach (int channels in new[] { 1, 7, 8, 9, 17, 33 })
        {
            data.Add(channels, 7, 7, 2, 0, false);   // Faster R-CNN's box head
            data.Add(channels, 3, 4, 0, 1, true);    // adaptive sampling, aligned
            data.Add(channels, 2, 5, 3, 2, false);   // a map with NaN and infinities
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RoiAlignForwardAndBackwardAreBitIdenticalToTheReference(int channels, int outH, int outW, int samplingRatio, int specials, bool aligned)
    {
        var (input, rois, count, g) = Problem(channels, outH, outW, specials, seed: (ulong)(channels * 31 + outH));
        AssertBitwiseEqual(CpuBackend.RoiAlignOf(input, rois, count, g, samplingRatio, aligned),
            CpuBackend.RoiAlignChannelsLast(input, rois, count, g, samplingRatio, aligned), "roi_align forward");
        var gradOutput = Tensor.Normal([count * channels * outH * outW], 0, 1, new Generator(3)).ToArray<float>();
        AssertBitwiseEqual(CpuBackend.RoiAlignBackwardOf(gradOutput, rois, count, g, samplingRatio, aligned),
            CpuBackend.RoiAlignBackwardChannelsLast(gradOutput, rois, count, g, samplingRatio, aligned), "roi_align backward");
    }

    public static TheoryData<int, int, int, int> PoolCases()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int channels in new[] { 1, 7, 8, 9, 17, 33 })
        {
            data.Add(channels, 7, 7, 0);
            data.Add(channels, 2, 5, 1); // a map with NaN and infinities
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void RoiPoolIsBitIdenticalToTheReference(int channels, int outH, int outW, int specials)
    {
        var (input, rois, count, g) = Problem(channels, outH, outW, specials, seed: (ulong)(channels * 17 + outW));
        var expectedArgmax = new long[count * channels * outH * outW];
        var argmax = new long[expectedArgmax.Length];
        AssertBitwiseEqual(CpuBackend.RoiPoolOf(input, rois, count, g, expectedArgmax),
            CpuBackend.RoiPoolChannelsLast(input, rois, count, g, argmax), "roi_pool forward");
        Assert.Equal(expectedArgmax, argmax);
    }

    [Fact]
    public void ABadBatchIndexNamesTheOpAndTheRoi()
    {
        var g = new RoiGeometry(1, 8, 6, 6, 2, 2, 1.0);
        var input = new float[8 * 36];
        var rois = new float[] { 0, 0, 0, 3, 3, 1, 0, 0, 3, 3 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CpuBackend.RoiAlignChannelsLast(input, rois, 2, g, 2, false));
        Assert.Contains("roi_align: RoI 1 has batch index 1", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => CpuBackend.RoiPoolChannelsLast(input, rois, 2, g, new long[2 * 8 * 4]));
        Assert.Contains("roi_pool: RoI 1 has batch index 1", e.Message);
    }

    /// <summary>A 2-image 13x11 map at scale 1/2 and 40 RoIs in image pixels: random boxes, some crossing or beyond the border, tiny, and inverted.</summary>
    private static (float[] Input, float[] Rois, int Count, RoiGeometry Geometry) Problem(int channels, int outH, int outW, int specials, ulong seed)
    {
        var g = new RoiGeometry(2, channels, 13, 11, outH, outW, 0.5);
        var random = new Generator(seed);
        var input = Tensor.Normal([2 * channels * 13 * 11], 0, 1, random).ToArray<float>();
        if (specials > 0)
            for (int i = 0; i < input.Length; i += 37)
                input[i] = (i / 37 % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        const int count = 40;
        var corners = Tensor.Uniform([count * 4], -6, 30, random).ToArray<float>();
        var rois = new float[count * 5];
        for (int r = 0; r < count; r++)
        {
            rois[r * 5] = r % 2;
            float x1 = corners[r * 4], y1 = corners[r * 4 + 1];
            // Every fifth RoI is inverted (x2 < x1), every seventh smaller than a cell.
            float w = r % 5 == 0 ? -3 : r % 7 == 0 ? 0.4f : Math.Abs(corners[r * 4 + 2]);
            float h = r % 5 == 0 ? -2 : r % 7 == 0 ? 0.3f : Math.Abs(corners[r * 4 + 3]);
            (rois[r * 5 + 1], rois[r * 5 + 2], rois[r * 5 + 3], rois[r * 5 + 4]) = (x1, y1, x1 + w, y1 + h);
        }
        return (input, rois, count, g);
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:G9}, the reference gives {expected[i]:G9}");
    }
}
