using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The float32 sort by packed keys (CpuBackend.SortOrderByPackedKeys) against the comparison sort
/// it replaced (CpuBackend.SortOrder, stable, NaN largest): the orders must be identical, so ties
/// (many repeats, -0 against +0, several NaNs) keep their positions in both directions. Lengths
/// 0..70 and a long run; inner > 1 sorts a middle axis with a stride. CPU-only: the CPU backend's
/// fast kernel against its reference (the op's behaviour on every device is in KernelTests).
/// </summary>
public class SortKernelTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var shapes = new TheoryData<int, int, int>();
        for (int size = 0; size <= 70; size += 7) shapes.Add(1, size, 1);
        shapes.Add(1, 1, 1);
        shapes.Add(3, 17, 4);   // a strided middle axis, several outer rows
        shapes.Add(1, 5000, 1); // long enough for the introsort's heap and partition paths
        return shapes;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PackedKeySortGivesTheComparisonSortsOrder(int outer, int size, int inner)
    {
        var random = new Random(outer * 1000 + size * 10 + inner);
        // Few distinct values, so most entries tie; plus the values whose order is special.
        float[] special = [0f, -0f, float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, float.Epsilon, -float.Epsilon];
        var x = new float[outer * size * inner];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.Next(4) == 0 ? special[random.Next(special.Length)] : random.Next(-3, 4) * 0.5f;
        foreach (bool descending in new[] { false, true })
            Assert.Equal(CpuBackend.SortOrder(x, outer, size, inner, descending), CpuBackend.SortOrderByPackedKeys(x, outer, size, inner, descending));
    }
}
