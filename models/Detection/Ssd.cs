using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Models;

/// <summary>
/// SSD (Liu et al. 2016) with a VGG base, composed as torchvision 0.14's <c>SSD</c>: transform
/// (fixed-size resize) → backbone (VGG, L2Norm, extras) → head (class logits and box codes per
/// default box) → in training, matching and <see cref="MultiBoxLoss"/>; in evaluation, the
/// postprocess (softmax, per-class score threshold 0.01, the top 400 per class, NMS 0.45, 200 per
/// image) and boxes mapped back to each original image. Parameters carry torchvision's names
/// (backbone.features.*, backbone.extra.*, backbone.scale_weight,
/// head.classification_head.module_list.*, head.regression_head.module_list.*); ssd.pytorch's
/// checkpoints load after <see cref="SsdStateDict.FromSsdPytorch"/>. The architecture, default
/// boxes and input convention come from an <see cref="SsdConfig"/> (SSD300, SSD512, small variants).
/// </summary>
public sealed class Ssd : Detector
{
    private readonly SsdMatcher matcher;

    /// <summary>The SSD <paramref name="config"/> describes, randomly initialised from <paramref name="seed"/>.</summary>
    public Ssd(SsdConfig config, ulong seed = 0)
    {
        if (config.NumClasses < 2) throw new ArgumentException($"ssd: num_classes must count the background and at least one class, got {config.NumClasses}");
        if (config.SourceCount != config.DefaultBoxes.SourceCount)
            throw new ArgumentException($"ssd: the network has {config.SourceCount} sources (2 + {config.Extras.Count} extra blocks) but the default boxes are set up for {config.DefaultBoxes.SourceCount}");
        if (!(config.ScoreThreshold >= 0 && config.ScoreThreshold < 1))
            throw new ArgumentException($"ssd: the score threshold must be in [0, 1), got {config.ScoreThreshold}");
        if (config.TopKCandidates <= 0 || config.DetectionsPerImage <= 0)
            throw new ArgumentException($"ssd: top-k candidates ({config.TopKCandidates}) and detections per image ({config.DetectionsPerImage}) must be positive");
        Config = config;
        var generator = new Generator(seed);
        Transform = new SsdTransform(config.ImageSize, config.Preprocessing);
        Backbone = RegisterModule("backbone", new SsdVggBackbone(config, generator));
        Head = RegisterModule("head", new SsdHead(Backbone.OutChannels, config.DefaultBoxes.BoxesPerLocation, config.NumClasses, generator));
        BoxCoder = new BoxCoder(10, 10, 5, 5);
        matcher = new SsdMatcher(config.IouThreshold);
        Loss = new MultiBoxLoss(BoxCoder, config.NegativeToPositiveRatio, config.MinHardNegatives);
    }

    /// <summary>torchvision's ssd300_vgg16 (randomly initialised; load weights to use it).</summary>
    public static Ssd Ssd300Vgg16(int numClasses = 91, ulong seed = 0) => new(SsdConfig.Ssd300 with { NumClasses = numClasses }, seed);

    /// <summary>The architecture and settings.</summary>
    public SsdConfig Config { get; }

    /// <summary>Classes including the background.</summary>
    public int NumClasses => Config.NumClasses;

    /// <summary>Resizing and normalisation.</summary>
    public SsdTransform Transform { get; }

    /// <summary>VGG base, L2Norm and extra blocks.</summary>
    public SsdVggBackbone Backbone { get; }

    /// <summary>The class and box heads.</summary>
    public SsdHead Head { get; }

    /// <summary>Box codes with weights (10, 10, 5, 5) (variances 0.1, 0.2).</summary>
    public BoxCoder BoxCoder { get; }

    /// <summary>The training loss.</summary>
    public MultiBoxLoss Loss { get; }

    /// <summary>
    /// The head's outputs for a batch already transformed (<see cref="SsdTransform"/>): box codes
    /// [N, P, 4], class logits [N, P, classes] and the default boxes [P, 4] in the batch's pixels
    /// (shared with <see cref="DefaultBoxGenerator.Generate"/>'s cache: read-only, not to be disposed).
    /// </summary>
    public (Tensor BoxRegression, Tensor ClassLogits, Tensor DefaultBoxes) Forward(Tensor batch)
    {
        var sources = Backbone.Forward(batch);
        var (regression, logits) = Head.Forward(sources);
        var defaultBoxes = Config.DefaultBoxes.Generate(sources.Select(s => (s.Size(2), s.Size(3))).ToList(), (batch.Size(2), batch.Size(3)), regression.DType, regression.Device);
        foreach (var source in sources) source.Dispose(); // kept by autograd when training
        return (regression, logits, defaultBoxes);
    }

    /// <summary>
    /// "bbox_regression" and "classification" (see <see cref="MultiBoxLoss"/>) for float [3, H, W]
    /// RGB images in [0, 1] and their targets (boxes in the images' pixels; images without boxes are
    /// valid). Nothing is random: <paramref name="generator"/> is unused.
    /// </summary>
    public override Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Generator generator)
    {
        if (!Training) throw new InvalidOperationException("ssd: Losses needs training mode (call Train())");
        TargetValidation.Validate("ssd", images.Count, targets, NumClasses);
        var (batch, resized) = Transform.Apply(images, targets);
        var (regression, logits, defaultBoxes) = Forward(batch.Tensors);
        batch.Tensors.Dispose();
        var matches = new List<Tensor>(resized!.Count);
        using (GradMode.NoGrad())
            foreach (var target in resized)
                matches.Add(target.Boxes.Size(0) == 0
                    ? Tensor.Full([defaultBoxes.Size(0)], Matcher.BelowLowThreshold, DType.Int64, defaultBoxes.Device)
                    : matcher.Match(Tensor.BoxIou(target.Boxes.Detach().To(defaultBoxes.DType), defaultBoxes)));
        var losses = Loss.Compute(regression, logits, defaultBoxes, matches, resized);
        // Autograd keeps what its backward pass needs; the rest goes back to the pool now (the
        // default boxes are the generator's cached tensor, not ours to dispose).
        foreach (var used in matches.Append(regression).Append(logits)) used.Dispose();
        return losses;
    }

    /// <inheritdoc/>
    public override Detection[] Detect(IReadOnlyList<Tensor> images)
    {
        if (Training) throw new InvalidOperationException("ssd: Detect needs evaluation mode (call Eval())");
        var (batch, _) = Transform.Apply(images, null);
        var (regression, logits, defaultBoxes) = Forward(batch.Tensors);
        batch.Tensors.Dispose();
        using var scores = logits.Then(l => Tensor.Softmax(l, -1));
        var result = new Detection[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            using var codes = regression.Narrow(0, i, 1).Then(r => r.Squeeze(0));
            using var imageScores = scores.Narrow(0, i, 1).Then(s => s.Squeeze(0));
            var detection = Postprocess(codes, imageScores, defaultBoxes, batch.ImageSizes[i]);
            result[i] = detection with { Boxes = detection.Boxes.Then(boxes => GeneralizedRcnnTransform.ResizeBoxes(boxes, batch.ImageSizes[i], (images[i].Size(1), images[i].Size(2)))) };
        }
        regression.Dispose();
        return result;
    }

    /// <summary>
    /// One image's detections in the network input's pixels, as torchvision's
    /// postprocess_detections: decode and clip every default box, then per class the boxes scoring
    /// above the threshold, the best <see cref="SsdConfig.TopKCandidates"/> of them, NMS per class
    /// and the best <see cref="SsdConfig.DetectionsPerImage"/> overall. <paramref name="codes"/> [P, 4] and
    /// <paramref name="scores"/> [P, classes] (softmax) are one image's rows of <see cref="Forward"/>.
    /// </summary>
    public Detection Postprocess(Tensor codes, Tensor scores, Tensor defaultBoxes, (int Height, int Width) imageSize)
    {
        using var boxes = BoxCoder.Decode(codes, defaultBoxes).Then(decoded => decoded.Reshape(-1, 4)).Then(decoded => Tensor.ClipBoxesToImage(decoded, imageSize.Height, imageSize.Width));
        var (keptBoxes, keptScores, keptLabels) = (new List<Tensor>(), new List<Tensor>(), new List<Tensor>());
        for (int label = 1; label < NumClasses; label++)
        {
            var score = scores.Narrow(1, label, 1).Reshape(-1);
            var confident = score.Gt(Config.ScoreThreshold).Nonzero().Reshape(-1);
            score = score.IndexSelect(0, confident);
            var (top, order) = score.TopK(Math.Min(Config.TopKCandidates, score.Size(0)));
            keptScores.Add(top);
            keptBoxes.Add(boxes.IndexSelect(0, confident.IndexSelect(0, order)));
            keptLabels.Add(Tensor.Full([top.Size(0)], label, DType.Int64, top.Device));
        }
        using var allBoxes = HeadLayout.CatAndDispose(keptBoxes, 0);
        using var allScores = HeadLayout.CatAndDispose(keptScores, 0);
        using var allLabels = HeadLayout.CatAndDispose(keptLabels, 0);
        using var keep = Tensor.BatchedNms(allBoxes, allScores, allLabels, Config.NmsThreshold).Then(kept => kept.Narrow(0, 0, Math.Min(Config.DetectionsPerImage, kept.Size(0))));
        return new Detection(allBoxes.IndexSelect(0, keep), allLabels.IndexSelect(0, keep), allScores.IndexSelect(0, keep));
    }
}
