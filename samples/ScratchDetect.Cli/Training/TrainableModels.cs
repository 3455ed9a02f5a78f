using ScratchDetect.Data.Augmentation;
using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Training;

/// <summary>
/// The defaults of a model's training recipe, as torchvision's detection references
/// (references/detection/README.md) train it. The learning rate is given for
/// <see cref="ReferenceBatchSize"/> images per iteration (8 GPUs times the per-GPU batch) and is
/// scaled linearly to the batch actually used (Goyal et al. 2017, the rule the references follow).
/// </summary>
internal sealed record TrainingRecipe(
    double LearningRate, int ReferenceBatchSize, int BatchSize, int Epochs, int[] LrSteps,
    double Momentum, double WeightDecay, int MinSize, int MaxSize, double LrGamma = 0.1, int WarmupIterations = 1000, string Optimizer = "sgd");

/// <summary>What building a model for training needs to know.</summary>
/// <param name="NumClasses">Classes including the background.</param>
/// <param name="MinSize">Shorter image side after resizing.</param>
/// <param name="MaxSize">Upper bound on the longer side after resizing.</param>
/// <param name="PretrainedBackbone">Whether backbone weights will be loaded (torchvision then freezes batch norm and the first stages).</param>
/// <param name="Seed">Seeds the initial weights.</param>
/// <param name="ScoreThreshold">Detections scoring at or below this are dropped (null: the model's default, 0.05 for Faster R-CNN).</param>
internal sealed record ModelBuild(int NumClasses, int MinSize, int MaxSize, bool PretrainedBackbone, ulong Seed, double? ScoreThreshold = null);

/// <summary>
/// A detector that `train` can build from scratch: its name, recipe, builder, the augmentation
/// its recipe uses, and how ImageNet backbone weights (a torchvision classifier's state dict,
/// or ssd.pytorch's VGG) go into it.
/// </summary>
/// <param name="Name">The --model name.</param>
/// <param name="Description">One line for --help.</param>
/// <param name="Recipe">Default hyper-parameters.</param>
/// <param name="Build">A freshly initialised detector.</param>
/// <param name="Augmentation">The sample transform for training (true) or evaluation (false); it receives values 0..255 and must give what <see cref="Detector.Losses"/> takes.</param>
/// <param name="LoadBackbone">Copies a classifier's state dict into the detector's backbone and says what did not fit.</param>
internal sealed record TrainableModel(
    string Name, string Description, TrainingRecipe Recipe, Func<ModelBuild, Detector> Build,
    Func<bool, ISampleTransform> Augmentation, Func<Detector, IReadOnlyDictionary<string, Tensor>, StateDictLoadResult> LoadBackbone);

/// <summary>
/// The models `train` knows. Adding a detector to training is one entry here: its recipe, builder,
/// augmentation and backbone mapping.
/// </summary>
internal static class TrainableModels
{
    /// <summary>torchvision's Faster R-CNN recipe: lr 0.02 for 16 images (8 GPUs x 2), 26 epochs, decay at 16 and 22, weight decay 1e-4.</summary>
    private static readonly TrainingRecipe FasterRcnnRecipe = new(
        LearningRate: 0.02, ReferenceBatchSize: 16, BatchSize: 2, Epochs: 26, LrSteps: [16, 22],
        Momentum: 0.9, WeightDecay: 1e-4, MinSize: 800, MaxSize: 1333);

    /// <summary>
    /// torchvision's SSD300 recipe (references/detection/README.md): lr 0.002 for 32 images (8 GPUs x 4),
    /// 120 epochs, decay at 80 and 110, weight decay 5e-4, ssd.pytorch's augmentation; 300 x 300 input.
    /// </summary>
    private static readonly TrainingRecipe Ssd300Recipe = new(
        LearningRate: 0.002, ReferenceBatchSize: 32, BatchSize: 4, Epochs: 120, LrSteps: [80, 110],
        Momentum: 0.9, WeightDecay: 5e-4, MinSize: 300, MaxSize: 300);

    /// <summary>
    /// The small batch-norm SSD trained from scratch: batch norm tolerates a learning rate ten times
    /// SSD300's (0.02 per 32 images) with a short warm-up, which is what training in minutes needs.
    /// </summary>
    private static readonly TrainingRecipe SsdSmallRecipe = Ssd300Recipe with
    {
        LearningRate = 0.02, BatchSize = 32, MinSize = 150, MaxSize = 150, WarmupIterations = 100,
    };

    /// <summary>
    /// Every model, in the order --help lists them. ssd_tiny's recipe is the demo's: AdamW at lr 0.006 per
    /// 32 images (0.003 for its batch of 16) with decoupled weight decay 0.01; in the PyTorch calibration
    /// SGD learnt several times slower on this model and made the loss jump to 20..180 from 0.02 per 32.
    /// </summary>
    public static IReadOnlyList<TrainableModel> All { get; } =
    [
        FasterRcnnModel("fasterrcnn_resnet50_fpn", "torchvision's Faster R-CNN, ResNet-50-FPN, 800..1333 px",
            ResNetDepth.ResNet50, FasterRcnnRecipe, fpnChannels: 256, light: false),
        FasterRcnnModel("fasterrcnn_resnet18_fpn", "Faster R-CNN with a ResNet-18-FPN, torchvision's heads, 512..853 px",
            ResNetDepth.ResNet18, FasterRcnnRecipe with { MinSize = 512, MaxSize = 853 }, fpnChannels: 256, light: false),
        FasterRcnnModel("fasterrcnn_resnet18_fpn_lite", "ResNet-18-FPN with 64 FPN channels and a lighter RPN and RoI head (fewer proposals and samples), 192..320 px",
            ResNetDepth.ResNet18, FasterRcnnRecipe with { MinSize = 192, MaxSize = 320, BatchSize = 8 }, fpnChannels: 64, light: true),
        SsdModel("ssd300_vgg16", "torchvision's SSD300 with a VGG16 base, 300 x 300 px (--min-size sets the square input)",
            Ssd300Recipe, build => SsdConfig.Ssd300 with { NumClasses = build.NumClasses, ImageSize = build.MinSize }),
        SsdModel("ssd_small", "a small batch-norm SSD for training from scratch (SsdConfig.Small: 32..256 channels, four sources), 150 x 150 px",
            SsdSmallRecipe, build => SsdConfig.Small(build.NumClasses, build.MinSize)),
        SsdModel("ssd_tiny", "the small SSD at half its widths (16..128 channels), default boxes for objects of 0.2..0.95 of the image, 96 x 96 px, mild augmentation: the demo's model, trains on a CPU in minutes",
            SsdSmallRecipe with { Optimizer = "adamw", LearningRate = 0.006, WeightDecay = 0.01, BatchSize = 16, MinSize = 96, MaxSize = 96, WarmupIterations = 50 }, build => SsdConfig.Tiny(build.NumClasses, build.MinSize),
            train => new SsdTrainingTransform(train, expand: false, crop: false)),
    ];

    /// <summary>The names, for --help and error messages.</summary>
    public static IEnumerable<string> Names => All.Select(m => m.Name);

    /// <summary>The model called <paramref name="name"/>, or null.</summary>
    public static TrainableModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    private static TrainableModel FasterRcnnModel(string name, string description, ResNetDepth depth, TrainingRecipe recipe, int fpnChannels, bool light) => new(
        name, description, recipe,
        build => BuildFasterRcnn(depth, build, fpnChannels, light),
        train => new FasterRcnnTransform(train),
        LoadResNetBackbone);

    /// <summary>
    /// An SSD whose square input side is the build's MinSize (MaxSize is unused: SSD resizes to a fixed
    /// square); the score threshold, when given, replaces the configuration's. Its augmentation is
    /// ssd.pytorch's full recipe unless <paramref name="augmentation"/> gives another.
    /// </summary>
    private static TrainableModel SsdModel(string name, string description, TrainingRecipe recipe, Func<ModelBuild, SsdConfig> config,
        Func<bool, ISampleTransform>? augmentation = null) => new(
        name, description, recipe,
        build =>
        {
            var ssd = config(build);
            return new Ssd(build.ScoreThreshold is { } threshold ? ssd with { ScoreThreshold = threshold } : ssd, build.Seed);
        },
        augmentation ?? (train => new SsdTrainingTransform(train)),
        LoadVggBackbone);

    /// <summary>
    /// ssd.pytorch's ImageNet VGG (vgg16_reducedfc.pth: keys N.weight and N.bias of its flat vgg
    /// list, conv6 and conv7 included) into the SSD's base. Its keys are ssd.pytorch's vgg.N without
    /// the prefix, so <see cref="SsdStateDict.FromSsdPytorch"/> names them: N below the last pool
    /// before conv5 is backbone.features.N, conv5, conv6 and conv7 are in backbone.extra.0. Only the
    /// base is loaded; the L2Norm scale, extras and heads keep their initialisation.
    /// </summary>
    private static StateDictLoadResult LoadVggBackbone(Detector detector, IReadOnlyDictionary<string, Tensor> vgg)
    {
        var ssd = (Ssd)detector;
        var renamed = SsdStateDict.FromSsdPytorch(vgg.ToDictionary(e => "vgg." + e.Key, e => e.Value), ssd.Config);
        var result = ssd.LoadStateDict(renamed, strict: false);
        // Only the base (backbone.features and backbone.extra.0) must be complete; the rest is not in a classifier's file.
        return result with { MissingKeys = result.MissingKeys.Where(IsVggBase).ToArray() };

        static bool IsVggBase(string key) => key.StartsWith("backbone.features.", StringComparison.Ordinal) || key.StartsWith("backbone.extra.0.", StringComparison.Ordinal);
    }

    /// <summary>
    /// A Faster R-CNN as torchvision composes one. The light variant keeps torchvision's structure and
    /// names but uses a narrower FPN, fewer proposals (600/300 in training, 300/100 in evaluation) and
    /// fewer sampled anchors and RoIs (128 each), which is what small images with few objects need.
    /// </summary>
    private static Detector BuildFasterRcnn(ResNetDepth depth, ModelBuild build, int fpnChannels, bool light)
    {
        var defaults = new RoiHeadsOptions();
        var scored = defaults with { ScoreThresh = build.ScoreThreshold ?? defaults.ScoreThresh };
        if (fpnChannels == 256 && !light)
            return FasterRcnn.ResNetFpn(depth, build.NumClasses, build.PretrainedBackbone, minSizes: [build.MinSize], maxSize: build.MaxSize, roiHeads: scored, seed: build.Seed);
        var generator = new Generator(build.Seed);
        var norm = build.PretrainedBackbone ? ResNetNorm.FrozenBatchNorm : ResNetNorm.BatchNorm;
        var body = depth == ResNetDepth.ResNet18 ? ResNet.ResNet18(norm, generator) : ResNet.ResNet50(norm, generator);
        body.FreezeLayers(build.PretrainedBackbone ? 3 : 5);
        var backbone = new BackboneWithFpn(body, fpnChannels, generator);
        var transform = new GeneralizedRcnnTransform([build.MinSize], build.MaxSize, GeneralizedRcnnTransform.ImageNetMean, GeneralizedRcnnTransform.ImageNetStd);
        var rpn = new RpnOptions { PreNmsTopNTrain = 600, PostNmsTopNTrain = 300, PreNmsTopNTest = 300, PostNmsTopNTest = 100, BatchSizePerImage = 128 };
        var roiHeads = scored with { BatchSizePerImage = 128 };
        return new FasterRcnn(transform, backbone,
            new RegionProposalNetwork(AnchorGenerator.FpnDefault(), backbone.OutChannels, rpn, generator),
            new RoiHeads(backbone.OutChannels, build.NumClasses, roiHeads, generator));
    }

    /// <summary>
    /// A torchvision ResNet classifier's state dict (resnet50-*.pth converted, or its safetensors) into
    /// backbone.body: its fc.* layer has no place in a detector, and FrozenBatchNorm2d has no
    /// num_batches_tracked (torchvision drops both the same way).
    /// </summary>
    private static StateDictLoadResult LoadResNetBackbone(Detector detector, IReadOnlyDictionary<string, Tensor> classifier)
    {
        var body = ((FasterRcnn)detector).Backbone.Body;
        var own = body.StateDict();
        var state = classifier
            .Where(e => !e.Key.StartsWith("fc.", StringComparison.Ordinal) && (own.ContainsKey(e.Key) || !e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
            .ToDictionary(e => e.Key, e => e.Value);
        return body.LoadStateDict(state, strict: false);
    }
}
