using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The CPU backend's scatter-add (gather's and max-pooling's backward) against the definition
/// written out as loops here: result[o, index[o, i, k], k] += source[o, i, k] over the axes before,
/// along and after dim. The index has the result's shape off dim (the slice-parallel path) or is
/// smaller there (the general position walk). Values are small integers, so every sum is exact in
/// float32 whatever the order and the comparison is bitwise. Repeated indices must add up.
/// </summary>
public class ScatterAddTests
{
    [Theory]
    [InlineData(new[] { 3, 5, 4 }, 1, new[] { 3, 7, 4 })]       // inner axis after dim
    [InlineData(new[] { 6, 9 }, 0, new[] { 4, 9 })]              // dim 0: one slice
    [InlineData(new[] { 64, 400 }, 1, new[] { 64, 1600 })]       // max-pool's [planes, outputs]: parallel
    [InlineData(new[] { 2, 5, 3 }, 1, new[] { 3, 6, 4 })]        // index smaller off dim: the position walk
    public void MatchesTheDefinition(int[] indexShape, int dim, int[] outShape)
    {
        var random = new Random(indexShape.Sum() * 31 + dim);
        int count = indexShape.Aggregate(1, (p, n) => p * n);
        var source = Enumerable.Range(0, count).Select(_ => (float)random.Next(-8, 9)).ToArray();
        var index = Enumerable.Range(0, count).Select(_ => (long)random.Next(outShape[dim])).ToArray();
        var backend = CpuBackend.Instance;

        var actual = (float[])backend.ToArray(backend.ScatterAdd(backend.FromArray(source), indexShape, dim, backend.FromArray(index), outShape));

        var expected = new float[outShape.Aggregate(1, (p, n) => p * n)];
        // Each source element's coordinates, with the one along dim replaced by its index.
        for (long e = 0; e < count; e++)
        {
            var coordinates = Unravel(e, indexShape);
            coordinates[dim] = (int)index[e];
            expected[Ravel(coordinates, outShape)] += source[e];
        }
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AnIndexOutOfRangeNamesTheOpAndTheValue()
    {
        var backend = CpuBackend.Instance;
        var source = backend.FromArray(new float[] { 1, 2, 3, 4 });
        var error = Assert.Throws<IndexOutOfRangeException>(() =>
            backend.ScatterAdd(source, [2, 2], 1, backend.FromArray(new long[] { 0, 1, 3, 0 }), [2, 3]));
        Assert.Contains("scatter_add: index 3", error.Message);
    }

    private static int[] Unravel(long position, int[] shape)
    {
        var coordinates = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            coordinates[d] = (int)(position % shape[d]);
            position /= shape[d];
        }
        return coordinates;
    }

    private static int Ravel(int[] coordinates, int[] shape)
    {
        int position = 0;
        for (int d = 0; d < shape.Length; d++) position = position * shape[d] + coordinates[d];
        return position;
    }
}
