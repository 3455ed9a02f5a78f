using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Models;

/// <summary>
/// SSD's training loss (Liu et al. 2016; torchvision 0.14's <c>SSD.compute_loss</c> and
/// ssd.pytorch's <c>MultiBoxLoss</c>) over the matched default boxes of a batch:
/// <list type="bullet">
/// <item>"bbox_regression": smooth L1 (beta 1), summed over the positives (default boxes matched to
/// a ground-truth box) of the codes against the <see cref="BoxCoder"/> (10, 10, 5, 5) encoding of
/// their boxes;</item>
/// <item>"classification": cross entropy summed over the positives and the hard negatives: per image,
/// the <see cref="NegativeToPositiveRatio"/> (3) · positives background boxes with the highest
/// cross entropy (at most all but one default box, ssd.pytorch's clamp at num_priors - 1);</item>
/// </list>
/// both divided by the batch's number of positives N.
/// <para>
/// Choices where the references differ or fail:
/// a positive is never also counted as a negative (torchvision adds cls_loss[background_idxs] to
/// cls_loss[foreground_idxs], and once positives exceed a quarter of the boxes its mined negatives
/// include -inf-ranked positives a second time, NVIDIA's SSD issue #948; ssd.pytorch's mask union
/// does not). The per-box losses are reshaped to [batch, boxes] before positives are masked out
/// (ssd.pytorch masks the flat [batch·boxes, 1] tensor with a [batch, boxes] mask, which PyTorch
/// ≥ 1.x rejects: its issues #99, #173, #292). A batch without any object gives N = 0: as
/// torchvision, N is taken as max(1, N), so that batch has no positives, mines
/// max(ratio · 0, <see cref="MinHardNegatives"/>) = 0 negatives by default, and both losses are
/// exactly 0 with zero gradients, not 0/0 = NaN as in ssd.pytorch. Setting
/// <see cref="MinHardNegatives"/> (gluon-cv's min_hard_negatives) instead trains the background
/// score on such batches.
/// </para>
/// <para>
/// Mining sorts detached losses with a stable sort, so equal losses are taken in box order and a
/// run repeats exactly.
/// </para>
/// </summary>
public sealed class MultiBoxLoss
{
    /// <summary>A loss with SSD's settings unless given.</summary>
    public MultiBoxLoss(BoxCoder? boxCoder = null, double negativeToPositiveRatio = 3, int minHardNegatives = 0)
    {
        if (!(negativeToPositiveRatio >= 0)) throw new ArgumentException($"multibox_loss: the negative to positive ratio must be non-negative, got {negativeToPositiveRatio}");
        if (minHardNegatives < 0) throw new ArgumentException($"multibox_loss: min_hard_negatives must be non-negative, got {minHardNegatives}");
        BoxCoder = boxCoder ?? new BoxCoder(10, 10, 5, 5);
        NegativeToPositiveRatio = negativeToPositiveRatio;
        MinHardNegatives = minHardNegatives;
    }

    /// <summary>Encodes the matched boxes (SSD: weights 10, 10, 5, 5, i.e. variances 0.1, 0.2).</summary>
    public BoxCoder BoxCoder { get; }

    /// <summary>Hard negatives mined per positive of an image (torchvision: (1 - 0.25) / 0.25 = 3).</summary>
    public double NegativeToPositiveRatio { get; }

    /// <summary>Hard negatives mined per image at least, whatever its positives (0: none, as torchvision and ssd.pytorch).</summary>
    public int MinHardNegatives { get; }

    /// <summary>
    /// The two losses for the head's outputs <paramref name="boxRegression"/> [N, P, 4] and
    /// <paramref name="classLogits"/> [N, P, C] over <paramref name="defaultBoxes"/> [P, 4] (pixels),
    /// with each image's matches (int64 [P]: the ground-truth index, or negative for background)
    /// and targets (boxes in the same pixels).
    /// </summary>
    public Dictionary<string, Tensor> Compute(Tensor boxRegression, Tensor classLogits, Tensor defaultBoxes, IReadOnlyList<Tensor> matches, IReadOnlyList<DetectionTarget> targets)
    {
        int batch = boxRegression.Size(0), boxes = boxRegression.Size(1), classes = classLogits.Size(2);
        if (matches.Count != batch || targets.Count != batch || classLogits.Size(0) != batch || classLogits.Size(1) != boxes || defaultBoxes.Size(0) != boxes)
            throw new ArgumentException($"multibox_loss: regression {Shapes.Format(boxRegression.Shape)}, logits {Shapes.Format(classLogits.Shape)}, {defaultBoxes.Size(0)} default boxes, {matches.Count} matches and {targets.Count} targets do not fit together");
        var boxLosses = new List<Tensor>(batch);
        var classTargets = new List<Tensor>(batch);
        long positives = 0;
        for (int i = 0; i < batch; i++)
        {
            var (regression, classTarget, count) = ImageTargets(boxRegression.Narrow(0, i, 1).Squeeze(0), defaultBoxes, matches[i], targets[i]);
            boxLosses.Add(regression);
            classTargets.Add(classTarget);
            positives += count;
        }
        var labels = Tensor.Stack(classTargets, 0);                                            // [N, P]
        // Reshaped to [N, P] before anything is masked (ssd.pytorch's trap).
        using var flatLogits = classLogits.Reshape(-1, classes);
        using var flatLabels = labels.Reshape(-1);
        var classLoss = Tensor.CrossEntropy(flatLogits, flatLabels, reduction: Reduction.None).Then(loss => loss.Reshape(batch, boxes));
        var positive = labels.Gt(0);
        Tensor selected;
        using (GradMode.NoGrad())
            selected = positive.Or(HardNegatives(classLoss.Detach(), positive));
        double normaliser = Math.Max(1, positives);
        return new()
        {
            ["bbox_regression"] = Tensor.Stack(boxLosses, 0).Sum() / normaliser,
            ["classification"] = Tensor.Where(selected, classLoss, Tensor.Scalar(0, classLoss.DType)).Sum() / normaliser,
        };
    }

    /// <summary>
    /// The background boxes [N, P] (bool) with the highest cross entropy, ratio · positives of them
    /// per image (at least <see cref="MinHardNegatives"/>, at most P - 1), never a positive.
    /// </summary>
    public Tensor HardNegatives(Tensor classLoss, Tensor positive)
    {
        int boxes = classLoss.Size(1);
        // Positives rank last (-inf); a box's rank is its position in the descending order.
        var negativeLoss = Tensor.Where(positive, Tensor.Scalar(double.NegativeInfinity, classLoss.DType), classLoss);
        var order = negativeLoss.Sort(1, descending: true).Indices;
        var rank = order.Sort(1).Indices.To(DType.Float64);
        var wanted = (positive.To(DType.Float64).Sum(1, keepDim: true) * NegativeToPositiveRatio).Clamp(min: MinHardNegatives).Clamp(max: boxes - 1);
        return rank.Lt(wanted).And(positive.Not());
    }

    /// <summary>One image's summed box loss, its class targets (int64 [P]: the matched label, 0 for background) and its number of positives.</summary>
    private (Tensor BoxLoss, Tensor ClassTarget, int Positives) ImageTargets(Tensor regression, Tensor defaultBoxes, Tensor matches, DetectionTarget target)
    {
        var foreground = matches.Ge(0).Nonzero().Reshape(-1);
        int count = foreground.Size(0);
        if (count == 0)
            return (Tensor.Scalar(0, regression.DType, regression.Device), Tensor.Zeros([defaultBoxes.Size(0)], DType.Int64, regression.Device), 0);
        var matchedGt = matches.IndexSelect(0, foreground);
        var codes = BoxCoder.Encode(target.Boxes.Detach().To(regression.DType).IndexSelect(0, matchedGt), defaultBoxes.IndexSelect(0, foreground));
        var boxLoss = Tensor.SmoothL1(regression.IndexSelect(0, foreground), codes, 1.0, Reduction.Sum);
        // Every box's matched label (box 0's for background, then zeroed): gathered as tensors.
        var gathered = target.Labels.IndexSelect(0, matches.Clamp(min: 0));
        var classTarget = Tensor.Where(matches.Ge(0), gathered, gathered.ZerosLike());
        return (boxLoss, classTarget, count);
    }
}
