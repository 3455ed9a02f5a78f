using ScratchDetect.Engine;
using Xunit.Sdk;

namespace ScratchDetect.Testing;

/// <summary>Comparisons of tensors with tolerances, failing with the worst element and its position.</summary>
internal static class TensorAssert
{
    /// <summary>Same shape, and every element within atol + rtol·|expected| (NaN must match NaN).</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        if (!expected.Shape.SequenceEqual(actual.Shape))
            throw new XunitException($"{what}: shape {Shapes.Format(actual.Shape)}, expected {Shapes.Format(expected.Shape)}");
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        Close(e, a, atol, rtol, what);
    }

    /// <summary>Every element within atol + rtol·|expected| (NaN must match NaN).</summary>
    public static void Close(double[] expected, double[] actual, double atol, double rtol, string what)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: {actual.Length} elements, expected {expected.Length}");
        int worst = -1;
        double worstExcess = 0, maxAbs = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]) && double.IsNaN(actual[i])) continue;
            double diff = Math.Abs(expected[i] - actual[i]);
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, diff);
            double excess = diff - (atol + rtol * Math.Abs(expected[i]));
            if (excess > worstExcess)
            {
                worstExcess = excess;
                worst = i;
            }
        }
        if (worst >= 0)
            throw new XunitException($"{what}: element {worst} is {actual[worst]:G9}, expected {expected[worst]:G9} (max abs diff {maxAbs:G3}, atol {atol:G3}, rtol {rtol:G3})");
    }
}
