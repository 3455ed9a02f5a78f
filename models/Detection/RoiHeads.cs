using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>Two fully connected layers with ReLU on flattened pooled features (fc6, fc7), as torchvision's <c>TwoMLPHead</c>.</summary>
public sealed class TwoMlpHead : Layer
{
    private readonly Linear fc6, fc7;

    /// <summary>A head from <paramref name="inFeatures"/> to <paramref name="representationSize"/> features.</summary>
    public TwoMlpHead(int inFeatures, int representationSize, Generator generator)
    {
        fc6 = RegisterModule("fc6", new Linear(inFeatures, representationSize, generator));
        fc7 = RegisterModule("fc7", new Linear(representationSize, representationSize, generator));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Flatten(1).Then(fc6.Forward).Then(t => t.Relu()).Then(fc7.Forward).Then(t => t.Relu());
}

/// <summary>Class logits (cls_score) and per-class box codes (bbox_pred), as torchvision's <c>FastRCNNPredictor</c>.</summary>
public sealed class FastRcnnPredictor : Module
{
    private readonly Linear clsScore, bboxPred;

    /// <summary>A predictor for <paramref name="numClasses"/> classes (background included).</summary>
    public FastRcnnPredictor(int inFeatures, int numClasses, Generator generator)
    {
        clsScore = RegisterModule("cls_score", new Linear(inFeatures, numClasses, generator));
        bboxPred = RegisterModule("bbox_pred", new Linear(inFeatures, numClasses * 4, generator));
    }

    /// <summary>Logits [K, classes] and codes [K, 4·classes].</summary>
    public (Tensor Logits, Tensor Codes) Forward(Tensor features) => (clsScore.Forward(features), bboxPred.Forward(features));
}

/// <summary>The box head's settings, torchvision 0.14's defaults (and py-faster-rcnn's background floor, off by default).</summary>
public sealed record RoiHeadsOptions
{
    /// <summary>Class scores at or below this are not reported.</summary>
    public double ScoreThresh { get; init; } = 0.05;
    /// <summary>IoU above which NMS (per class) drops the lower-scoring detection.</summary>
    public double NmsThresh { get; init; } = 0.5;
    /// <summary>Detections kept per image.</summary>
    public int DetectionsPerImage { get; init; } = 100;
    /// <summary>IoU from which a proposal is a positive.</summary>
    public double FgIouThresh { get; init; } = 0.5;
    /// <summary>IoU below which a proposal is background.</summary>
    public double BgIouThresh { get; init; } = 0.5;
    /// <summary>py-faster-rcnn's bg_thresh_lo: proposals whose best IoU is below this are not sampled at all (0: every low-IoU proposal is background).</summary>
    public double BgIouLow { get; init; }
    /// <summary>Proposals sampled per image for the losses.</summary>
    public int BatchSizePerImage { get; init; } = 512;
    /// <summary>Largest share of positives among them.</summary>
    public double PositiveFraction { get; init; } = 0.25;
    /// <summary>Box coder weights (wx, wy, ww, wh).</summary>
    public (double X, double Y, double W, double H) BoxWeights { get; init; } = (10, 10, 5, 5);
}

/// <summary>
/// The second stage, as torchvision 0.14's <c>RoIHeads</c> (boxes only): pools each proposal,
/// classifies it and refines its box per class. Training appends the ground-truth boxes to the
/// proposals, matches (0.5 / 0.5), samples (512, a quarter positive) and returns
/// "loss_classifier" (cross entropy) and "loss_box_reg" (smooth L1, beta 1/9, on the positives'
/// true-class codes, divided by the sample size). Evaluation turns logits into softmax scores,
/// decodes one box per class, clips, drops the background, scores ≤ 0.05 and boxes under 0.01 px,
/// runs NMS per class and keeps the top 100.
/// </summary>
public sealed class RoiHeads : Module
{
    private readonly BoxCoder boxCoder;
    private readonly Matcher matcher;
    private readonly BalancedPositiveNegativeSampler sampler;

    /// <summary>Heads over <paramref name="channels"/>-channel features for <paramref name="numClasses"/> classes (background included).</summary>
    public RoiHeads(int channels, int numClasses, RoiHeadsOptions options, Generator generator)
    {
        Options = options;
        NumClasses = numClasses;
        BoxRoiPool = new MultiScaleRoiAlign();
        BoxHead = RegisterModule("box_head", new TwoMlpHead(channels * BoxRoiPool.OutputSize * BoxRoiPool.OutputSize, 1024, generator));
        BoxPredictor = RegisterModule("box_predictor", new FastRcnnPredictor(1024, numClasses, generator));
        boxCoder = new BoxCoder(options.BoxWeights.X, options.BoxWeights.Y, options.BoxWeights.W, options.BoxWeights.H);
        matcher = new Matcher(options.FgIouThresh, options.BgIouThresh);
        sampler = new BalancedPositiveNegativeSampler(options.BatchSizePerImage, options.PositiveFraction);
    }

    /// <summary>The settings.</summary>
    public RoiHeadsOptions Options { get; }

    /// <summary>Classes including the background (0).</summary>
    public int NumClasses { get; }

    /// <summary>The pooler (7x7, sampling ratio 2, levels "0".."3").</summary>
    public MultiScaleRoiAlign BoxRoiPool { get; }

    /// <summary>fc6, fc7.</summary>
    public TwoMlpHead BoxHead { get; }

    /// <summary>cls_score, bbox_pred.</summary>
    public FastRcnnPredictor BoxPredictor { get; }

    /// <summary>The losses (training: <paramref name="targets"/> given) for proposals of each image.</summary>
    public Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> features, IReadOnlyList<Tensor> proposals, IReadOnlyList<(int Height, int Width)> imageSizes,
        IReadOnlyList<DetectionTarget> targets, Generator generator)
    {
        var sampledProposals = new List<Tensor>();
        var labels = new List<Tensor>();
        var regressionTargets = new List<Tensor>();
        using (GradMode.NoGrad())
            for (int i = 0; i < proposals.Count; i++)
            {
                var (p, l, t) = SelectTrainingSamples(proposals[i], targets[i], generator);
                sampledProposals.Add(p);
                labels.Add(l);
                regressionTargets.Add(t);
            }
        var (logits, codes) = BoxPredictor.Forward(BoxRoiPool.Forward(features, sampledProposals, imageSizes).Then(BoxHead.Forward));

        var allLabels = Tensor.Cat(labels, 0);
        var classLoss = Tensor.CrossEntropy(logits, allLabels);
        // Each positive's codes for its own class: row r·C + label of the [K·C, 4] code matrix.
        var positives = allLabels.Gt(0).Nonzero().Reshape(-1);
        var rows = positives * NumClasses + allLabels.IndexSelect(0, positives);
        var positiveCodes = codes.Reshape(-1, 4).IndexSelect(0, rows);
        var positiveTargets = Tensor.Cat(regressionTargets, 0).IndexSelect(0, positives);
        var boxLoss = Tensor.SmoothL1(positiveCodes, positiveTargets, 1.0 / 9, Reduction.Sum) / allLabels.Size(0);
        // Autograd keeps what the losses' backward reads; the rest goes back to the pool now.
        foreach (var used in sampledProposals.Append(logits).Append(codes)) used.Dispose();
        return new() { ["loss_classifier"] = classLoss, ["loss_box_reg"] = boxLoss };
    }

    /// <summary>Detections per image (in the resized image's pixels).</summary>
    public Detection[] Detect(IReadOnlyList<Tensor> features, IReadOnlyList<Tensor> proposals, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var (logits, codes) = BoxPredictor.Forward(BoxRoiPool.Forward(features, proposals, imageSizes).Then(BoxHead.Forward));
        var boxes = boxCoder.Decode(codes, Tensor.Cat(proposals, 0)); // [K, C, 4]
        var scores = Tensor.Softmax(logits, -1);
        var result = new Detection[proposals.Count];
        int offset = 0;
        for (int i = 0; i < proposals.Count; i++)
        {
            int count = proposals[i].Size(0);
            result[i] = PostprocessImage(boxes.Narrow(0, offset, count), scores.Narrow(0, offset, count), imageSizes[i]);
            offset += count;
        }
        return result;
    }

    private Detection PostprocessImage(Tensor boxes, Tensor scores, (int Height, int Width) imageSize)
    {
        int count = boxes.Size(0), foreground = NumClasses - 1;
        boxes = Tensor.ClipBoxesToImage(boxes, imageSize.Height, imageSize.Width).Narrow(1, 1, foreground).Reshape(-1, 4);
        scores = scores.Narrow(1, 1, foreground).Reshape(-1);
        var labels = Tensor.Arange(1, NumClasses, device: boxes.Device).Unsqueeze(0).Expand(count, foreground).Reshape(-1);

        var confident = scores.Gt(Options.ScoreThresh).Nonzero().Reshape(-1);
        (boxes, scores, labels) = (boxes.IndexSelect(0, confident), scores.IndexSelect(0, confident), labels.IndexSelect(0, confident));
        var large = Tensor.RemoveSmallBoxes(boxes, 1e-2);
        (boxes, scores, labels) = (boxes.IndexSelect(0, large), scores.IndexSelect(0, large), labels.IndexSelect(0, large));
        var keep = Tensor.BatchedNms(boxes, scores, labels, Options.NmsThresh);
        keep = keep.Narrow(0, 0, Math.Min(Options.DetectionsPerImage, keep.Size(0)));
        return new Detection(boxes.IndexSelect(0, keep), labels.IndexSelect(0, keep), scores.IndexSelect(0, keep));
    }

    /// <summary>One image's sampled proposals (ground truth appended), their labels (int64) and regression targets.</summary>
    internal (Tensor Proposals, Tensor Labels, Tensor Targets) SelectTrainingSamples(Tensor proposals, DetectionTarget target, Generator generator)
    {
        var gt = target.Boxes.Detach().To(proposals.DType);
        var candidates = Tensor.Cat([proposals, gt], 0);
        int n = candidates.Size(0);
        Tensor matched, labels;
        if (gt.Size(0) == 0)
        {
            matched = Tensor.Zeros([n], DType.Int64, proposals.Device);
            labels = matched;
        }
        else
        {
            var iou = Tensor.BoxIou(gt, candidates);
            var matches = matcher.Match(iou);
            matched = matches.Clamp(min: 0);
            // Matched: the box's class; between the thresholds or below py-faster-rcnn's background
            // floor: -1, ignored by the sampler; otherwise background 0.
            var ignored = matches.Eq(Matcher.BetweenThresholds).Or(iou.Amax(0).Lt(Options.BgIouLow));
            var zero = Tensor.Scalar(0, DType.Int64, proposals.Device);
            labels = Tensor.Where(matches.Ge(0), target.Labels.IndexSelect(0, matched), Tensor.Where(ignored, zero - 1, zero));
        }
        var (pos, neg) = sampler.Sample(labels, generator);
        var sampled = pos.Or(neg).Nonzero().Reshape(-1);
        var matchedGt = (gt.Size(0) == 0 ? Tensor.Zeros([1, 4], proposals.DType, proposals.Device) : gt).IndexSelect(0, matched.IndexSelect(0, sampled));
        var sampledProposals = candidates.IndexSelect(0, sampled);
        return (sampledProposals, labels.IndexSelect(0, sampled), boxCoder.Encode(matchedGt, sampledProposals));
    }
}
