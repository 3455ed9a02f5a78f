using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Diagnostics;

public static partial class GradCheckCatalog
{
    private static IEnumerable<GradCheckCase> SoftmaxCases()
    {
        yield return new("softmax", "axis 1 of [2,4,3] (inner > 1)", x => Tensor.Softmax(x[0], 1), g => [Leaf(g, -3, 3, 2, 4, 3)]);
        yield return new("softmax", "last axis", x => Tensor.Softmax(x[0], -1), g => [Leaf(g, -3, 3, 3, 5)]);
        yield return new("log_softmax", "axis 0 of [4,3]", x => Tensor.LogSoftmax(x[0], 0), g => [Leaf(g, -3, 3, 4, 3)]);
        yield return new("log_softmax", "last axis, large logits", x => Tensor.LogSoftmax(x[0], -1), g => [Leaf(g, 50, 60, 3, 5)]);
    }

    // Targets include the ignore index (-100 or a custom one) so that the masking and the weighted mean are exercised.
    private static Tensor Targets(Tensor logits, params long[] values) => Tensor.FromArray(values, [values.Length], logits.Device);

    private static IEnumerable<GradCheckCase> LossCases()
    {
        yield return new("cross_entropy", "mean, no weights", x => Tensor.CrossEntropy(x[0], Targets(x[0], 2, 0, 4, 1)), g => [Leaf(g, -2, 2, 4, 5)]);
        yield return new("cross_entropy", "class weights and ignore_index, weighted mean",
            x => Tensor.CrossEntropy(x[0], Targets(x[0], 2, -100, 4, 1, 2), x[1]), g => [Leaf(g, -2, 2, 5, 5), Tensor.Uniform([5], 0.5, 2, g, DType.Float64)]);
        yield return new("cross_entropy", "weights, custom ignore_index 3, sum",
            x => Tensor.CrossEntropy(x[0], Targets(x[0], 3, 0, 1, 3), x[1], ignoreIndex: 3, reduction: Reduction.Sum), g => [Leaf(g, -2, 2, 4, 4), Tensor.Uniform([4], 0.5, 2, g, DType.Float64)]);
        yield return new("cross_entropy", "no reduction", x => Tensor.CrossEntropy(x[0], Targets(x[0], 1, -100, 0), reduction: Reduction.None), g => [Leaf(g, -2, 2, 3, 3)]);
        yield return new("cross_entropy", "[N,C,d] logits",
            x => Tensor.CrossEntropy(x[0], Tensor.FromArray(new long[] { 0, 2, 1, -100, 2, 2 }, [2, 3], x[0].Device)), g => [Leaf(g, -2, 2, 2, 3, 3)]);

        yield return new("binary_cross_entropy_with_logits", "mean, gradients to logits and targets",
            x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1]), g => [Leaf(g, -4, 4, 3, 4), Leaf(g, 0, 1, 3, 4)]);
        yield return new("binary_cross_entropy_with_logits", "weight and pos_weight, sum",
            x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], x[2], x[3], Reduction.Sum),
            g => [Leaf(g, -4, 4, 3, 4), Leaf(g, 0, 1, 3, 4), Tensor.Uniform([3, 1], 0.5, 2, g, DType.Float64), Tensor.Uniform([4], 0.5, 3, g, DType.Float64)]);
        yield return new("binary_cross_entropy_with_logits", "no reduction, large logits",
            x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], reduction: Reduction.None), g => [Leaf(g, -40, 40, 6), Leaf(g, 0, 1, 6)]);

        // Differences are built away from the kinks: |d| never within 0.01 of beta (where the
        // second derivative jumps) nor, for beta = 0, of 0.
        yield return new("smooth_l1_loss", "beta 1/9, sum, both sides of beta", x => Tensor.SmoothL1(x[0], x[1], 1.0 / 9, Reduction.Sum),
            g => InputAndShiftedTarget(g, 0.03, -0.05, 0.08, -0.2, 0.5, -0.9));
        yield return new("smooth_l1_loss", "beta 1, mean", x => Tensor.SmoothL1(x[0], x[1], 1.0),
            g => InputAndShiftedTarget(g, 0.3, -0.7, 1.5, -2.0));
        yield return new("smooth_l1_loss", "beta 0 (L1), no reduction", x => Tensor.SmoothL1(x[0], x[1], 0, Reduction.None),
            g => InputAndShiftedTarget(g, 0.1, -0.3, 0.05, -0.6));
    }

    /// <summary>An input leaf and a target leaf at input - differences, so |input - target| is exactly as given.</summary>
    private static Tensor[] InputAndShiftedTarget(Generator g, params double[] differences)
    {
        var input = Leaf(g, -1, 1, differences.Length);
        var target = (input.Detach() - Tensor.FromArray(differences, differences.Length)).RequireGrad();
        return [input, target];
    }

    private static IEnumerable<GradCheckCase> NormalizeCases()
    {
        yield return new("vector_norm", "axis 1", x => x[0].VectorNorm(1), g => [Leaf(g, -1, 1, 3, 4)]);
        yield return new("normalize", "channels of [2,3,2,2]", x => Tensor.Normalize(x[0]), g => [Leaf(g, -1, 1, 2, 3, 2, 2)]);
        yield return new("l2norm", "input and per-channel weight", x => Tensor.L2Norm(x[0], x[1]), g => [Leaf(g, -1, 1, 2, 3, 2, 2), Leaf(g, 10, 30, 3)]);
        yield return ModuleGradCheck.ForLayer("nn.L2Norm", "module, ssd.pytorch style, input and weight", _ => new L2Norm(3), g => Leaf(g, -1, 1, 2, 3, 2, 2));
        yield return ModuleGradCheck.ForLayer("nn.L2Norm", "module, torchvision style, input and weight", _ => new L2Norm(4, style: L2NormStyle.Torchvision), g => Leaf(g, -1, 1, 1, 4, 3, 2));
    }
}
