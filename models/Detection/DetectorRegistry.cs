using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// How a detector is built for inference. Null means the architecture's default; a setting that
/// an architecture does not have is an error rather than silently ignored.
/// </summary>
/// <param name="NumClasses">Classes including the background (COCO: 91).</param>
/// <param name="MinSize">Shorter image side after resizing (Faster R-CNN: 800).</param>
/// <param name="MaxSize">Upper bound on the longer side after resizing (Faster R-CNN: 1333).</param>
/// <param name="ScoreThreshold">Detections scoring at or below this are dropped (Faster R-CNN: 0.05, SSD: 0.01).</param>
/// <param name="WeightsFormat">Whose key names the weights use: "torchvision" or "ssd.pytorch" (SSD only); null tells from the keys.</param>
public sealed record DetectorSettings(int NumClasses = 91, int? MinSize = null, int? MaxSize = null, double? ScoreThreshold = null, string? WeightsFormat = null);

/// <summary>
/// The one place where a detector is built by its torchvision name, so that tools (the CLI's
/// `detect`) accept any architecture added here.
/// </summary>
public static class DetectorRegistry
{
    /// <summary>The weight formats <see cref="DetectorSettings.WeightsFormat"/> accepts.</summary>
    public static IReadOnlyList<string> WeightsFormats { get; } = ["torchvision", "ssd.pytorch"];

    /// <summary>Each builder returns the detector and the state to load into it (renamed where the format needs it).</summary>
    private static readonly Dictionary<string, Func<DetectorSettings, IReadOnlyDictionary<string, Tensor>, (Detector, IReadOnlyDictionary<string, Tensor>)>> Builders = new()
    {
        ["fasterrcnn_resnet50_fpn"] = FasterRcnnResNet50Fpn,
        ["ssd300_vgg16"] = Ssd300Vgg16,
    };

    /// <summary>The names <see cref="FromStateDict"/> knows, as torchvision's model builders are called.</summary>
    public static IReadOnlyCollection<string> Names => Builders.Keys;

    /// <summary>
    /// The detector <paramref name="name"/> built with <paramref name="settings"/>, with
    /// <paramref name="state"/> loaded (strictly) and in evaluation mode.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No detector has that name.</exception>
    /// <exception cref="ArgumentException">A setting is out of range or does not apply to the architecture.</exception>
    /// <exception cref="StateDictMismatchException">The state's keys, shapes or dtypes do not fit the model; nothing was loaded.</exception>
    public static Detector FromStateDict(string name, DetectorSettings settings, IReadOnlyDictionary<string, Tensor> state)
    {
        if (!Builders.TryGetValue(name, out var build))
            throw new KeyNotFoundException($"no detector named '{name}' (known: {string.Join(", ", Names)})");
        if (settings.WeightsFormat is { } format && !WeightsFormats.Contains(format))
            throw new ArgumentException($"{name}: unknown weights format '{format}' (known: {string.Join(", ", WeightsFormats)})");
        var (detector, named) = build(settings, state);
        detector.LoadStateDict(named);
        return detector.Eval();
    }

    /// <summary>
    /// torchvision's fasterrcnn_resnet50_fpn. torchvision builds it with FrozenBatchNorm2d when it
    /// loads trained weights (its COCO checkpoints have no num_batches_tracked) and with
    /// BatchNorm2d when it trains from scratch (whose state dicts do have them); in evaluation mode
    /// both normalise with the stored statistics, so the one whose keys the state carries is built.
    /// </summary>
    private static (Detector, IReadOnlyDictionary<string, Tensor>) FasterRcnnResNet50Fpn(DetectorSettings settings, IReadOnlyDictionary<string, Tensor> state)
    {
        if (settings.WeightsFormat is { } format && format != "torchvision")
            throw new ArgumentException($"fasterrcnn_resnet50_fpn: weights come in torchvision's names only, not '{format}'");
        foreach (var (what, size) in new[] { ("min", settings.MinSize), ("max", settings.MaxSize) })
            if (size <= 0) throw new ArgumentException($"fasterrcnn_resnet50_fpn: the {what} size must be positive, got {size}");
        if (settings.ScoreThreshold is { } threshold && !(threshold >= 0 && threshold < 1))
            throw new ArgumentException($"fasterrcnn_resnet50_fpn: the score threshold must be in [0, 1), got {threshold}");
        bool frozenBatchNorm = !state.Keys.Any(key => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        var defaults = new RoiHeadsOptions();
        return (FasterRcnn.ResNetFpn(ResNetDepth.ResNet50, settings.NumClasses, pretrainedBackbone: frozenBatchNorm,
            minSizes: settings.MinSize is { } minSize ? [minSize] : null,
            maxSize: settings.MaxSize,
            roiHeads: defaults with { ScoreThresh = settings.ScoreThreshold ?? defaults.ScoreThresh }), state);
    }

    /// <summary>
    /// torchvision's ssd300_vgg16 for torchvision-named weights; for ssd.pytorch-named ones
    /// (vgg.N, L2Norm.weight, ...) ssd.pytorch's SSD300 with its conventions (BGR input minus
    /// 104, 117, 123; PriorBox's VOC default boxes; its L2Norm), the weights renamed to ours. Both
    /// postprocess as torchvision (score threshold 0.01 unless set). Images are always resized to
    /// 300x300, so min and max sizes do not apply.
    /// </summary>
    private static (Detector, IReadOnlyDictionary<string, Tensor>) Ssd300Vgg16(DetectorSettings settings, IReadOnlyDictionary<string, Tensor> state)
    {
        if (settings.MinSize is not null || settings.MaxSize is not null)
            throw new ArgumentException("ssd300_vgg16: every image is resized to 300x300, so min and max sizes do not apply");
        var format = settings.WeightsFormat switch
        {
            "torchvision" => SsdWeightFormat.Torchvision,
            "ssd.pytorch" => SsdWeightFormat.SsdPytorch,
            _ => SsdStateDict.DetectFormat(state.Keys),
        };
        var config = (format == SsdWeightFormat.SsdPytorch ? SsdConfig.Ssd300SsdPytorchVoc : SsdConfig.Ssd300) with { NumClasses = settings.NumClasses };
        if (settings.ScoreThreshold is { } threshold) config = config with { ScoreThreshold = threshold };
        var named = format == SsdWeightFormat.SsdPytorch ? SsdStateDict.FromSsdPytorch(state, config) : state;
        return (new Ssd(config), named);
    }
}
