using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine;

/// <summary>How a loss combines its per-element values, as PyTorch's <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss per element (per sample for cross entropy).</summary>
    None,
    /// <summary>The mean (for weighted cross entropy: the weighted mean). An empty input gives NaN, as in PyTorch.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
}

// Losses with PyTorch 1.13 semantics. Cross entropy and smooth L1 are compositions of
// differentiable ops, so autograd derives their backward passes; binary cross entropy with
// logits has its own backward because the composition's gradient would be wrong at x = 0
// (relu and abs both have a kink there, the sum of the pieces has none).
public sealed partial class Tensor
{
    private static Tensor Reduce(Tensor losses, Reduction reduction) => reduction switch
    {
        Reduction.None => losses,
        Reduction.Mean => losses.Mean(),
        Reduction.Sum => losses.Sum(),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction)),
    };

    private static void CheckLossOperands(string op, Tensor input, Tensor target)
    {
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: the input must be floating point, not {input.DType.Name()} {Shapes.Format(input.shape)}");
        CheckCompatible(op, input, target);
        if (!input.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"{op}: the target {Shapes.Format(target.shape)} must have the input's shape {Shapes.Format(input.shape)}");
    }

    /// <summary>
    /// Cross entropy between unnormalised class scores and class indices, exactly as
    /// torch.nn.functional.cross_entropy: loss_i = -weight[t_i] · log_softmax(logits_i)[t_i].
    /// Logits are [N, C] or [N, C, d1, ...] (classes on axis 1) and targets int64 [N] or [N, d1, ...].
    /// Targets equal to <paramref name="ignoreIndex"/> contribute 0 and are left out of the mean.
    /// <see cref="Reduction.Mean"/> divides by the summed class weights of the non-ignored targets
    /// (their count when there are no weights), so if every target is ignored the mean is 0/0 = NaN,
    /// as in PyTorch 1.13. The class weights are constants: no gradient flows into them.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string op = "cross_entropy";
        if (!logits.DType.IsFloatingPoint() || logits.Rank < 2)
            throw new ArgumentException($"{op}: logits must be floating point [N, C] or [N, C, d1, ...], not {logits.DType.Name()} {Shapes.Format(logits.shape)}");
        var expectedTargetShape = logits.shape.Where((_, d) => d != 1).ToArray();
        if (target.DType != DType.Int64 || !target.shape.SequenceEqual(expectedTargetShape))
            throw new ArgumentException($"{op}: the target must be int64 {Shapes.Format(expectedTargetShape)} for logits {Shapes.Format(logits.shape)}, not {target.DType.Name()} {Shapes.Format(target.shape)}");
        int classes = logits.shape[1];
        if (weight is not null && (weight.DType != logits.DType || weight.Rank != 1 || weight.shape[0] != classes))
            throw new ArgumentException($"{op}: the class weights must be {logits.DType.Name()} [{classes}], not {weight.DType.Name()} {Shapes.Format(weight.shape)}");
        CheckSameDevice(op, ("logits", logits), ("target", target), ("weight", weight));
        // Checked on the device; only the count of bad targets (and, on failure, the first one) reaches the host.
        var bad = target.Lt(0).Or(target.Ge(classes)).And(target.Ne(ignoreIndex)).Reshape(-1).Nonzero();
        if (bad.Size(0) > 0)
        {
            long first = (long)target.Reshape(-1).IndexSelect(0, bad.Narrow(0, 0, 1).Reshape(1)).Item();
            throw new ArgumentOutOfRangeException(nameof(target), $"{op}: target value {first} is out of range for {classes} classes (valid: 0..{classes - 1}, or the ignore index {ignoreIndex})");
        }

        var ignored = target.Eq(ignoreIndex);
        // Ignored positions look up class 0 (any valid index would do); they are masked out below.
        var safeTarget = Where(ignored, target.ScalarLike(0), target);
        using var targetColumn = safeTarget.Unsqueeze(1);
        var logProbability = LogSoftmax(logits, 1).Then(l => l.Gather(1, targetColumn)).Then(l => l.Squeeze(1));
        var classWeight = weight is null
            ? logits.ScalarLike(1)
            : weight.Detach().IndexSelect(0, safeTarget.Reshape(-1)).Reshape(expectedTargetShape);
        var zero = logits.ScalarLike(0);
        // Where (not a multiplication by weight 0) keeps the gradient of ignored positions exactly 0,
        // also when an all-ignored mean is 0/0 and its gradient would be ∞·0 = NaN; PyTorch gives 0 there.
        var losses = Where(ignored, zero, -logProbability * classWeight);
        return reduction == Reduction.Mean ? losses.Sum() / Where(ignored, zero, classWeight).Sum() : Reduce(losses, reduction);
    }

    /// <summary>
    /// Binary cross entropy on logits, as torch.nn.functional.binary_cross_entropy_with_logits:
    /// loss = weight · ((1 - t)·x + (1 + (posWeight - 1)·t) · log(1 + e^-x)), where log(1 + e^-x)
    /// is evaluated as max(-x, 0) + log(1 + e^-|x|) so nothing overflows (without posWeight this is
    /// max(x, 0) - x·t + log(1 + e^-|x|)). Targets are probabilities with the logits' shape;
    /// <paramref name="weight"/> and <paramref name="posWeight"/> broadcast to it (posWeight usually
    /// [C], one factor per class for the positive term). Gradients flow to the logits and the
    /// targets; the weights are constants.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "binary_cross_entropy_with_logits";
        CheckLossOperands(op, logits, targets);
        foreach (var (name, factor) in new[] { ("weight", weight), ("pos_weight", posWeight) })
        {
            if (factor is null) continue;
            CheckCompatible(op, logits, factor);
            if (!Shapes.Broadcast(op, logits.shape, factor.shape).SequenceEqual(logits.shape))
                throw new ArgumentException($"{op}: {name} {Shapes.Format(factor.shape)} does not broadcast to the logits' shape {Shapes.Format(logits.shape)}");
        }

        var x = logits;
        var t = targets;
        Tensor softplusOfMinusX, positiveFactor, losses;
        using (GradMode.NoGrad())
        {
            softplusOfMinusX = (-x).Relu() + ((-x.Abs()).Exp() + 1).Log();
            positiveFactor = posWeight is null ? x.ScalarLike(1) : (posWeight.Detach() - 1) * t + 1;
            losses = (1 - t) * x + positiveFactor * softplusOfMinusX;
            if (weight is not null) losses *= weight.Detach();
        }
        Tensor?[] saves = [x, weight, x.requiresGrad ? t : null, x.requiresGrad ? positiveFactor : null, t.requiresGrad ? softplusOfMinusX : null, t.requiresGrad ? posWeight : null];
        losses = Record(op, losses, [x, t], saves, g =>
        {
            var scaled = weight is null ? g : g * weight.Detach();
            // d/dx = (1 - t) - positiveFactor·sigmoid(-x), which is sigmoid(x) - t without posWeight;
            // d/dt = -x + (posWeight - 1)·log(1 + e^-x).
            return
            [
                x.requiresGrad ? scaled * ((1 - t) - positiveFactor * (-x).Sigmoid()) : null,
                t.requiresGrad ? scaled * (posWeight is null ? -x : (posWeight.Detach() - 1) * softplusOfMinusX - x) : null,
            ];
        });
        // Kept by autograd when the backward pass reads them.
        softplusOfMinusX.Dispose();
        positiveFactor.Dispose();
        return Reduce(losses, reduction);
    }

    /// <summary>
    /// Smooth L1 (Huber-like) loss, as torch.nn.functional.smooth_l1_loss in PyTorch 1.13: with
    /// d = input - target, 0.5·d²/beta where |d| &lt; beta and |d| - 0.5·beta elsewhere; beta = 0
    /// is plain L1. torchvision's detection heads use beta = 1/9 with <see cref="Reduction.Sum"/>.
    /// Differentiable in both input and target.
    /// </summary>
    public static Tensor SmoothL1(Tensor input, Tensor target, double beta = 1.0, Reduction reduction = Reduction.Mean)
    {
        const string op = "smooth_l1_loss";
        CheckLossOperands(op, input, target);
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), $"{op}: beta must be non-negative, not {beta}");
        var difference = input - target;
        var absolute = difference.Abs();
        var losses = beta == 0 ? absolute : Where(absolute.Lt(beta), difference * difference * (0.5 / beta), absolute - 0.5 * beta);
        return Reduce(losses, reduction);
    }
}
