using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// The RPN's convolutional head, as torchvision 0.14's <c>RPNHead</c>: a shared 3x3 convolution
/// with ReLU (conv.0.0, in Conv2dNormActivation's naming), then per anchor an objectness logit
/// (cls_logits, 1x1) and four box codes (bbox_pred, 1x1); all weights N(0, 0.01²), biases 0.
/// </summary>
public sealed class RpnHead : Module
{
    private readonly Sequential conv;
    private readonly Conv2d clsLogits, bboxPred;

    /// <summary>A head for <paramref name="channels"/>-channel maps and <paramref name="numAnchors"/> anchors per cell.</summary>
    public RpnHead(int channels, int numAnchors, Generator generator)
    {
        conv = RegisterModule("conv", new Sequential(new Sequential(Conv(channels, channels, 3, 1, generator), new ReLU())));
        clsLogits = RegisterModule("cls_logits", Conv(channels, numAnchors, 1, 0, generator));
        bboxPred = RegisterModule("bbox_pred", Conv(channels, numAnchors * 4, 1, 0, generator));
    }

    /// <summary>Per level, the objectness logits [N, A, H, W] and box codes [N, 4A, H, W].</summary>
    public (Tensor Logits, Tensor Codes)[] Forward(IReadOnlyList<Tensor> features) => features.Select(f =>
    {
        using var shared = conv.Forward(f);
        return (clsLogits.Forward(shared), bboxPred.Forward(shared));
    }).ToArray();

    private static Conv2d Conv(int inChannels, int outChannels, int kernel, int padding, Generator generator)
    {
        var c = new Conv2d(inChannels, outChannels, kernel, generator, padding: padding);
        Init.Normal(c.Weight, generator, 0, 0.01);
        Init.Zeros(c.Bias!);
        return c;
    }
}

/// <summary>The RPN's settings, torchvision 0.14's defaults (and py-faster-rcnn's options, off by default).</summary>
public sealed record RpnOptions
{
    /// <summary>Top-scoring anchors kept per level before NMS, in training.</summary>
    public int PreNmsTopNTrain { get; init; } = 2000;
    /// <summary>Top-scoring anchors kept per level before NMS, in evaluation.</summary>
    public int PreNmsTopNTest { get; init; } = 1000;
    /// <summary>Proposals kept per image after NMS, in training.</summary>
    public int PostNmsTopNTrain { get; init; } = 2000;
    /// <summary>Proposals kept per image after NMS, in evaluation.</summary>
    public int PostNmsTopNTest { get; init; } = 1000;
    /// <summary>IoU above which NMS (per level) drops the lower-scoring proposal.</summary>
    public double NmsThresh { get; init; } = 0.7;
    /// <summary>IoU from which an anchor is a positive.</summary>
    public double FgIouThresh { get; init; } = 0.7;
    /// <summary>IoU below which an anchor is a negative.</summary>
    public double BgIouThresh { get; init; } = 0.3;
    /// <summary>Anchors sampled per image for the losses.</summary>
    public int BatchSizePerImage { get; init; } = 256;
    /// <summary>Largest share of positives among them.</summary>
    public double PositiveFraction { get; init; } = 0.5;
    /// <summary>Proposals with a lower objectness probability are dropped.</summary>
    public double ScoreThresh { get; init; } = 0.0;
    /// <summary>Proposals narrower or lower than this many pixels are dropped (torchvision 1e-3; py-faster-rcnn 16 x the image scale).</summary>
    public double MinSize { get; init; } = 1e-3;
    /// <summary>py-faster-rcnn: anchors not entirely inside the image take no part in matching RPN targets and are ignored.</summary>
    public bool DropCrossBoundaryAnchors { get; init; }
}

/// <summary>
/// The region proposal network, as torchvision 0.14's <c>RegionProposalNetwork</c>: scores and
/// refines anchors, keeps per level the top-n by objectness, decodes (weights 1, 1, 1, 1), clips,
/// drops small boxes, runs NMS per level and keeps the post-NMS top-n per image. In training it
/// also matches anchors to the ground truth (0.7 / 0.3, low-quality matches allowed), samples
/// them, and returns the objectness loss (binary cross entropy, mean over the sample) and the box
/// loss (smooth L1, beta 1/9, summed over positives and divided by the sample size). Selection runs
/// on detached values without gradient recording, as in torchvision.
/// </summary>
public sealed class RegionProposalNetwork : Module
{
    private readonly BoxCoder boxCoder = new(1, 1, 1, 1);
    private readonly Matcher matcher;
    private readonly BalancedPositiveNegativeSampler sampler;

    /// <summary>An RPN over <paramref name="channels"/>-channel feature maps.</summary>
    public RegionProposalNetwork(AnchorGenerator anchorGenerator, int channels, RpnOptions options, Generator generator)
    {
        AnchorGenerator = anchorGenerator;
        Options = options;
        Head = RegisterModule("head", new RpnHead(channels, anchorGenerator.NumAnchorsPerLocation()[0], generator));
        matcher = new Matcher(options.FgIouThresh, options.BgIouThresh, allowLowQualityMatches: true);
        sampler = new BalancedPositiveNegativeSampler(options.BatchSizePerImage, options.PositiveFraction);
    }

    /// <summary>The anchors.</summary>
    public AnchorGenerator AnchorGenerator { get; }

    /// <summary>The settings.</summary>
    public RpnOptions Options { get; }

    /// <summary>The convolutional head.</summary>
    public RpnHead Head { get; }

    /// <summary>
    /// Proposals (float [P_i, 4] per image, detached) and, when <paramref name="targets"/> are
    /// given (training), the losses "loss_objectness" and "loss_rpn_box_reg".
    /// </summary>
    public (Tensor[] Proposals, Dictionary<string, Tensor> Losses) Forward(ImageList images, IReadOnlyList<Tensor> features,
        IReadOnlyList<DetectionTarget>? targets, Generator? generator)
    {
        var head = Head.Forward(features);
        int batch = images.Tensors.Size(0);
        var anchors = AnchorGenerator.Generate(images.Tensors.Size(2), images.Tensors.Size(3), features.Select(f => (f.Size(2), f.Size(3))).ToList(), features[0].DType, features[0].Device);
        var perLevel = head.Select(h => h.Logits.Size(1) * h.Logits.Size(2) * h.Logits.Size(3)).ToArray();
        // [N, Σ H·W·A] logits and [N·Σ H·W·A, 4] codes, ordered (level, y, x, anchor) like the anchors.
        var objectness = HeadLayout.CatAndDispose(head.Select(h => HeadLayout.PermuteAndFlatten(h.Logits, 1)).ToList(), 1).Then(joined => joined.Reshape(batch, -1));
        var codes = HeadLayout.CatAndDispose(head.Select(h => HeadLayout.PermuteAndFlatten(h.Codes, 4)).ToList(), 1).Then(joined => joined.Reshape(-1, 4));

        Tensor[] proposals;
        using (GradMode.NoGrad())
        {
            var allAnchors = Tensor.Cat(Enumerable.Repeat(anchors, batch).ToList(), 0);
            var decoded = boxCoder.Decode(codes.Detach(), allAnchors).Reshape(batch, -1, 4);
            proposals = Enumerable.Range(0, batch)
                .Select(i => FilterProposals(decoded.Narrow(0, i, 1).Squeeze(0), objectness.Detach().Narrow(0, i, 1).Squeeze(0), perLevel, images.ImageSizes[i]))
                .ToArray();
            decoded.Dispose();
            allAnchors.Dispose();
        }
        var losses = new Dictionary<string, Tensor>();
        if (targets is null)
        {
            objectness.Dispose();
            codes.Dispose();
            return (proposals, losses);
        }
        if (generator is null) throw new ArgumentException("rpn: training needs a generator for the sampler");

        var (labels, regressionTargets) = AssignTargets(anchors, targets, images);
        var positives = new List<Tensor>();
        var sampled = new List<Tensor>();
        for (int i = 0; i < batch; i++)
        {
            var (pos, neg) = sampler.Sample(labels[i], generator);
            positives.Add(pos);
            sampled.Add(pos.Or(neg));
        }
        var positiveIndex = Tensor.Cat(positives, 0).Nonzero().Reshape(-1);
        var sampledIndex = Tensor.Cat(sampled, 0).Nonzero().Reshape(-1);
        var allLabels = Tensor.Cat(labels, 0);
        var allTargets = Tensor.Cat(regressionTargets, 0);
        var boxLoss = Tensor.SmoothL1(codes.IndexSelect(0, positiveIndex), allTargets.IndexSelect(0, positiveIndex), 1.0 / 9, Reduction.Sum) / sampledIndex.Size(0);
        var objectnessLoss = Tensor.BinaryCrossEntropyWithLogits(objectness.Reshape(-1).IndexSelect(0, sampledIndex), allLabels.IndexSelect(0, sampledIndex));
        losses["loss_objectness"] = objectnessLoss;
        losses["loss_rpn_box_reg"] = boxLoss;
        // Autograd keeps what the losses' backward reads.
        objectness.Dispose();
        codes.Dispose();
        return (proposals, losses);
    }

    /// <summary>One image's proposals from its decoded boxes [A, 4] and logits [A].</summary>
    private Tensor FilterProposals(Tensor boxes, Tensor logits, int[] perLevel, (int Height, int Width) imageSize)
    {
        int preNms = Training ? Options.PreNmsTopNTrain : Options.PreNmsTopNTest;
        int postNms = Training ? Options.PostNmsTopNTrain : Options.PostNmsTopNTest;
        var picked = new List<Tensor>();
        var levels = new List<Tensor>();
        int offset = 0;
        for (int level = 0; level < perLevel.Length; level++)
        {
            var levelLogits = logits.Narrow(0, offset, perLevel[level]);
            var (_, top) = levelLogits.TopK(Math.Min(preNms, perLevel[level]));
            picked.Add(top + offset);
            levels.Add(top.FullLike(level));
            offset += perLevel[level];
        }
        var index = Tensor.Cat(picked, 0);
        var levelOf = Tensor.Cat(levels, 0);
        var kept = Tensor.ClipBoxesToImage(boxes.IndexSelect(0, index), imageSize.Height, imageSize.Width);
        var scores = logits.IndexSelect(0, index).Sigmoid();

        var large = Tensor.RemoveSmallBoxes(kept, Options.MinSize);
        (kept, scores, levelOf) = (kept.IndexSelect(0, large), scores.IndexSelect(0, large), levelOf.IndexSelect(0, large));
        var confident = scores.Ge(Options.ScoreThresh).Nonzero().Reshape(-1);
        (kept, scores, levelOf) = (kept.IndexSelect(0, confident), scores.IndexSelect(0, confident), levelOf.IndexSelect(0, confident));
        var survivors = Tensor.BatchedNms(kept, scores, levelOf, Options.NmsThresh);
        survivors = survivors.Narrow(0, 0, Math.Min(postNms, survivors.Size(0)));
        return kept.IndexSelect(0, survivors);
    }

    /// <summary>Per image: anchor labels ([A] in the anchors' dtype: 1 positive, 0 negative, -1 ignored) and box regression targets [A, 4].</summary>
    internal (List<Tensor> Labels, List<Tensor> Targets) AssignTargets(Tensor anchors, IReadOnlyList<DetectionTarget> targets, ImageList images)
    {
        var labels = new List<Tensor>();
        var regression = new List<Tensor>();
        using var _ = GradMode.NoGrad();
        for (int i = 0; i < targets.Count; i++)
        {
            var gt = targets[i].Boxes.Detach();
            // py-faster-rcnn: anchors not entirely inside the image take no part in matching (a
            // box's best anchor is its best inside one) and are ignored.
            var inside = Options.DropCrossBoundaryAnchors ? InsideImage(anchors, images.ImageSizes[i]) : null;
            Tensor label, matchedBoxes;
            if (gt.Size(0) == 0)
            {
                label = Tensor.Zeros([anchors.Size(0)], anchors.DType, anchors.Device);
                matchedBoxes = anchors.ZerosLike();
            }
            else
            {
                var iou = Tensor.BoxIou(gt, anchors);
                // IoU -1 puts outside anchors below every threshold and below every inside anchor.
                if (inside is not null) iou = Tensor.Where(inside.Unsqueeze(0), iou, iou.FullLike(-1));
                var matches = matcher.Match(iou);
                matchedBoxes = gt.IndexSelect(0, matches.Clamp(min: 0));
                // Matched: 1; background (below the low threshold): 0; between the thresholds: -1.
                var one = Tensor.Scalar(1, anchors.DType, anchors.Device);
                label = Tensor.Where(matches.Ge(0), one, Tensor.Where(matches.Eq(Matcher.BetweenThresholds), -one, one * 0));
            }
            if (inside is not null) label = Tensor.Where(inside, label, label.FullLike(-1));
            labels.Add(label);
            regression.Add(boxCoder.Encode(matchedBoxes, anchors));
        }
        return (labels, regression);
    }

    /// <summary>
    /// Whether each anchor lies within an image of the given size (bool [A]). py-faster-rcnn's
    /// x2 &lt; width is in inclusive pixel coordinates; in continuous ones an anchor ending on the
    /// border (x2 = width) is inside.
    /// </summary>
    private static Tensor InsideImage(Tensor anchors, (int Height, int Width) size) =>
        anchors.Narrow(1, 0, 1).Ge(0).And(anchors.Narrow(1, 1, 1).Ge(0))
            .And(anchors.Narrow(1, 2, 1).Le(size.Width)).And(anchors.Narrow(1, 3, 1).Le(size.Height)).Reshape(-1);
}
