using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Diagnostics;

/// <summary>
/// One named gradient check: an op (or layer) in one configuration, a function of its float64
/// inputs, and the inputs to check at. Inputs are built fresh for every run.
/// </summary>
/// <param name="Op">The op or layer name, as <c>scratchdetect gradcheck --op</c> takes it.</param>
/// <param name="Configuration">What is special about this case (stride, padding, broadcast, ...).</param>
/// <param name="Function">The function whose gradients are checked.</param>
/// <param name="MakeInputs">Builds the inputs from a seeded generator; those to check require grad.</param>
/// <param name="Atol">Absolute tolerance per element.</param>
/// <param name="Rtol">Relative tolerance per element.</param>
public sealed record GradCheckCase(string Op, string Configuration, Func<Tensor[], Tensor> Function, Func<Generator, Tensor[]> MakeInputs, double Atol = 1e-5, double Rtol = 1e-3)
{
    /// <summary>
    /// Runs the check on freshly made inputs (from seed <paramref name="seed"/>; the cotangent from
    /// seed + 1) on <paramref name="device"/> (default: the CPU). The inputs move there in place, as
    /// <c>Module.To(device)</c> moves parameters, so a module case's layer still holds the very
    /// tensors the checker perturbs.
    /// </summary>
    public GradCheckResult Run(ulong seed = 0, Device device = default)
    {
        var inputs = MakeInputs(new Generator(seed));
        using (GradMode.NoGrad())
            foreach (var input in inputs)
                if (input.Device != device) input.ReplaceData(input.To(device));
        return GradCheck.Check(Function, inputs, atol: Atol, rtol: Rtol, seed: seed + 1);
    }

    /// <summary>"op (configuration)".</summary>
    public override string ToString() => $"{Op} ({Configuration})";
}

/// <summary>
/// Every gradient check the project has, one partial file per op family (GradCheckCatalog.*.cs).
/// Tolerances: with ε = 1e-6 in float64 the central difference is accurate to about ε² times the
/// third derivative plus 1e-16/ε rounding, i.e. ~1e-10; atol 1e-5 / rtol 1e-3 leave wide margins
/// while any real gradient bug is off by O(1).
/// </summary>
public static partial class GradCheckCatalog
{
    /// <summary>All cases, grouped by family.</summary>
    public static IReadOnlyList<GradCheckCase> All { get; } =
    [
        .. ElementwiseCases(), .. ReductionCases(), .. MatmulCases(), .. LayoutCases(), .. NNCases(),
        .. ConvCases(), .. SoftmaxCases(), .. LossCases(), .. NormalizeCases(), .. RoiCases(),
    ];

    /// <summary>Float64 values uniform in [low, high), requiring grad.</summary>
    internal static Tensor Leaf(Generator g, double low, double high, params int[] shape) =>
        Tensor.Uniform(shape, low, high, g, DType.Float64).RequireGrad();

    /// <summary>Float64 values with |x| in [0.1, 1) and a random sign, requiring grad: away from the kinks of relu, abs and friends, farther than ε.</summary>
    internal static Tensor AwayFromZero(Generator g, params int[] shape)
    {
        var magnitude = Tensor.Uniform(shape, 0.1, 1.0, g, DType.Float64);
        var sign = Tensor.Uniform(shape, 0, 1, g, DType.Float64).Gt(0.5);
        return Tensor.Where(sign, magnitude, -magnitude).Detach().RequireGrad();
    }

    private static IEnumerable<GradCheckCase> ElementwiseCases()
    {
        yield return new("add", "broadcast [2,3,4] + [3,1]", x => x[0] + x[1], g => [Leaf(g, -1, 1, 2, 3, 4), Leaf(g, -1, 1, 3, 1)]);
        yield return new("sub", "broadcast [3,1] - [2,1,4]", x => x[0] - x[1], g => [Leaf(g, -1, 1, 3, 1), Leaf(g, -1, 1, 2, 1, 4)]);
        yield return new("mul", "broadcast with scalar tensor", x => x[0] * x[1], g => [Leaf(g, -1, 1, 2, 3), Leaf(g, -1, 1)]);
        yield return new("div", "broadcast, denominators in [0.5, 2)", x => x[0] / x[1], g => [Leaf(g, -1, 1, 2, 3), Leaf(g, 0.5, 2, 3)]);
        yield return new("neg", "[5]", x => -x[0], g => [Leaf(g, -1, 1, 5)]);
        yield return new("exp", "[2,3]", x => x[0].Exp(), g => [Leaf(g, -2, 2, 2, 3)]);
        yield return new("log", "[2,3] in [0.5, 3)", x => x[0].Log(), g => [Leaf(g, 0.5, 3, 2, 3)]);
        yield return new("sqrt", "[2,3] in [0.5, 3)", x => x[0].Sqrt(), g => [Leaf(g, 0.5, 3, 2, 3)]);
        yield return new("pow", "scalar exponent 2.5", x => x[0].Pow(2.5), g => [Leaf(g, 0.5, 2, 4)]);
        yield return new("pow", "tensor exponent, broadcast", x => Tensor.Pow(x[0], x[1]), g => [Leaf(g, 0.5, 2, 2, 3), Leaf(g, -1, 2, 3)]);
        yield return new("abs", "away from 0", x => x[0].Abs(), g => [AwayFromZero(g, 2, 5)]);
        yield return new("relu", "away from 0", x => x[0].Relu(), g => [AwayFromZero(g, 3, 4)]);
        yield return new("sigmoid", "[3,4]", x => x[0].Sigmoid(), g => [Leaf(g, -4, 4, 3, 4)]);
        yield return new("tanh", "[3,4]", x => x[0].Tanh(), g => [Leaf(g, -2, 2, 3, 4)]);
        yield return new("clamp", "min -0.5 max 0.5, away from the bounds", x => x[0].Clamp(-0.5, 0.5),
            g => [Tensor.FromArray(new[] { -0.9, -0.3, 0.0, 0.2, 0.7, 1.5 }, 6).RequireGrad()]);
        yield return new("maximum", "broadcast, no ties", x => Tensor.Maximum(x[0], x[1]), g => [Leaf(g, -1, 1, 2, 4), Leaf(g, -1, 1, 4)]);
        yield return new("minimum", "broadcast, no ties", x => Tensor.Minimum(x[0], x[1]), g => [Leaf(g, -1, 1, 2, 4), Leaf(g, -1, 1, 4)]);
        yield return new("where", "broadcast condition", x => Tensor.Where(x[0].Gt(0), x[0] * 2, x[1]), g => [AwayFromZero(g, 3, 4), Leaf(g, -1, 1, 4)]);
        yield return new("normalize", "[2,3,4,5], per channel of axis 1", x => x[0].NormalizeChannels(Tensor.FromArray(new[] { 0.1, -0.3, 0.7 }, [3], x[0].Device), Tensor.FromArray(new[] { 0.5, 1.3, 1.9 }, [3], x[0].Device)),
            g => [Leaf(g, -1, 1, 2, 3, 4, 5)]);
    }

    private static IEnumerable<GradCheckCase> ReductionCases()
    {
        yield return new("sum", "all elements", x => x[0].Sum(), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("sum", "axes 0 and 2, keepDim", x => x[0].Sum([0, 2], keepDim: true), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("mean", "axis -1", x => x[0].Mean(-1), g => [Leaf(g, -1, 1, 3, 5)]);
        yield return new("max", "axis 1, distinct values", x => x[0].Max(1).Values, g => [Leaf(g, -1, 1, 3, 6)]);
        yield return new("min", "axis 0, keepDim", x => x[0].Min(0, keepDim: true).Values, g => [Leaf(g, -1, 1, 4, 3)]);
        yield return new("max", "all elements, distinct values", x => x[0].Max(), g => [Leaf(g, -1, 1, 3, 4)]);
        yield return new("amax", "axes 0 and 2, distinct values", x => x[0].Amax([0, 2]), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("amin", "axis -1, keepDim", x => x[0].Amin(-1, keepDim: true), g => [Leaf(g, -1, 1, 3, 5)]);
    }

    private static IEnumerable<GradCheckCase> MatmulCases()
    {
        yield return new("matmul", "[3,4] @ [4,5]", x => Tensor.Matmul(x[0], x[1]), g => [Leaf(g, -1, 1, 3, 4), Leaf(g, -1, 1, 4, 5)]);
        yield return new("matmul", "batched [2,3,4] @ [2,4,2]", x => Tensor.Matmul(x[0], x[1]), g => [Leaf(g, -1, 1, 2, 3, 4), Leaf(g, -1, 1, 2, 4, 2)]);
        yield return new("matmul", "leading axes [2,2,3] @ [3,4]", x => Tensor.Matmul(x[0], x[1]), g => [Leaf(g, -1, 1, 2, 2, 3), Leaf(g, -1, 1, 3, 4)]);
        yield return new("linear", "[2,3,5] with bias", x => Tensor.Linear(x[0], x[1], x[2]), g => [Leaf(g, -1, 1, 2, 3, 5), Leaf(g, -1, 1, 4, 5), Leaf(g, -1, 1, 4)]);
        yield return new("linear", "no bias", x => Tensor.Linear(x[0], x[1]), g => [Leaf(g, -1, 1, 3, 5), Leaf(g, -1, 1, 2, 5)]);
    }

    private static IEnumerable<GradCheckCase> LayoutCases()
    {
        yield return new("reshape", "[2,3,4] -> [4,-1]", x => x[0].Reshape(4, -1) * Tensor.Arange(6, DType.Float64, x[0].Device), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("flatten", "axes 1..2 of [2,3,4,2]", x => x[0].Flatten(1, 2) * Tensor.Arange(12, DType.Float64, x[0].Device).Reshape(12, 1), g => [Leaf(g, -1, 1, 2, 3, 4, 2)]);
        yield return new("select_rows", "boolean mask over axis 0 (x[mask])", x => x[0].SelectRows(Tensor.FromArray(new[] { true, false, true, true }, [4], x[0].Device)), g => [Leaf(g, -1, 1, 4, 3)]);
        yield return new("permute", "[2,3,4] -> (2,0,1)", x => x[0].Permute(2, 0, 1), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("transpose", "axes 0 and 2", x => x[0].Transpose(0, 2), g => [Leaf(g, -1, 1, 2, 3, 4)]);
        yield return new("expand", "[3,1] -> [2,3,4]", x => x[0].Expand(2, 3, 4), g => [Leaf(g, -1, 1, 3, 1)]);
        yield return new("narrow", "axis 1, [1,3)", x => x[0].Narrow(1, 1, 2), g => [Leaf(g, -1, 1, 2, 4, 3)]);
        yield return new("cat", "three parts along axis 1", x => Tensor.Cat([x[0], x[1], x[2]], 1), g => [Leaf(g, -1, 1, 2, 1, 3), Leaf(g, -1, 1, 2, 2, 3), Leaf(g, -1, 1, 2, 3, 3)]);
        yield return new("stack", "axis 1", x => Tensor.Stack([x[0], x[1]], 1), g => [Leaf(g, -1, 1, 2, 3), Leaf(g, -1, 1, 2, 3)]);
        yield return new("split", "[1,3] along axis 0, second part", x => x[0].Split([1, 3], 0)[1], g => [Leaf(g, -1, 1, 4, 2)]);
        yield return new("index_select", "axis 0 with repeated indices", x => x[0].IndexSelect(0, Tensor.FromArray(new long[] { 2, 0, 2, 1 }, [4], x[0].Device)), g => [Leaf(g, -1, 1, 3, 2)]);
        yield return new("gather", "axis 1", x => x[0].Gather(1, Tensor.FromArray(new long[] { 0, 0, 2, 1, 1, 0 }, [2, 3], x[0].Device)), g => [Leaf(g, -1, 1, 2, 4)]);
        yield return new("masked_select", "checkerboard mask", x => x[0].MaskedSelect(Tensor.FromArray(new[] { true, false, true, false, true, false }, [2, 3], x[0].Device)), g => [Leaf(g, -1, 1, 2, 3)]);
        yield return new("sort", "descending values along axis 1", x => x[0].Sort(1, descending: true).Values, g => [Leaf(g, -1, 1, 2, 5)]);
        yield return new("topk", "k=2 along the last axis", x => x[0].TopK(2).Values, g => [Leaf(g, -1, 1, 3, 5)]);
    }
}
