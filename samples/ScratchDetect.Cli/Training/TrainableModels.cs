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
    double Momentum, double WeightDecay, int MinSize, int MaxSize, double LrGamma = 0.1, int WarmupIterations = 1000);

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
/// The models `train` knows. Adding a detector to training is one entry here (SSD300 joins with
/// its own recipe, augmentation and VGG backbone mapping).
/// </summary>
internal static class TrainableModels
{
    /// <summary>torchvision's Faster R-CNN recipe: lr 0.02 for 16 images (8 GPUs x 2), 26 epochs, decay at 16 and 22, weight decay 1e-4.</summary>
    private static readonly TrainingRecipe FasterRcnnRecipe = new(
        LearningRate: 0.02, ReferenceBatchSize: 16, BatchSize: 2, Epochs: 26, LrSteps: [16, 22],
        Momentum: 0.9, WeightDecay: 1e-4, MinSize: 800, MaxSize: 1333);

    /// <summary>Every model, in the order --help lists them.</summary>
    public static IReadOnlyList<TrainableModel> All { get; } =
    [
        FasterRcnnModel("fasterrcnn_resnet50_fpn", "torchvision's Faster R-CNN, ResNet-50-FPN, 800..1333 px",
            ResNetDepth.ResNet50, FasterRcnnRecipe, fpnChannels: 256, light: false),
        FasterRcnnModel("fasterrcnn_resnet18_fpn", "Faster R-CNN with a ResNet-18-FPN, torchvision's heads, 512..853 px",
            ResNetDepth.ResNet18, FasterRcnnRecipe with { MinSize = 512, MaxSize = 853 }, fpnChannels: 256, light: false),
        FasterRcnnModel("fasterrcnn_resnet18_fpn_lite", "ResNet-18-FPN with 64 FPN channels and a lighter RPN and RoI head (fewer proposals and samples), 192..320 px",
            ResNetDepth.ResNet18, FasterRcnnRecipe with { MinSize = 192, MaxSize = 320, BatchSize = 8 }, fpnChannels: 64, light: true),
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
