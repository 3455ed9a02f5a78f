using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>Which ResNet a Faster R-CNN FPN backbone uses.</summary>
public enum ResNetDepth
{
    /// <summary>ResNet-18.</summary>
    ResNet18,
    /// <summary>ResNet-34.</summary>
    ResNet34,
    /// <summary>ResNet-50 (torchvision's fasterrcnn_resnet50_fpn).</summary>
    ResNet50,
    /// <summary>ResNet-101.</summary>
    ResNet101,
}

/// <summary>
/// Faster R-CNN (Ren et al. 2015) with a ResNet-FPN backbone, composed as torchvision 0.14's
/// <c>GeneralizedRCNN</c>: transform → backbone → RPN → RoI heads → boxes mapped back to the
/// original images. Parameters carry torchvision's names (backbone.body.*, backbone.fpn.*,
/// rpn.head.*, roi_heads.box_head.*, roi_heads.box_predictor.*), so a torchvision state_dict
/// loads one to one. <see cref="Losses"/> runs in training mode, <see cref="Detect"/> in evaluation mode.
/// </summary>
public sealed class FasterRcnn : Detector
{
    /// <summary>A Faster R-CNN from its parts.</summary>
    public FasterRcnn(GeneralizedRcnnTransform transform, BackboneWithFpn backbone, RegionProposalNetwork rpn, RoiHeads roiHeads)
    {
        Transform = transform;
        Backbone = RegisterModule("backbone", backbone);
        Rpn = RegisterModule("rpn", rpn);
        RoiHeads = RegisterModule("roi_heads", roiHeads);
    }

    /// <summary>
    /// torchvision's fasterrcnn_resnet50_fpn (or another depth) with its defaults. As torchvision
    /// decides: without pretrained weights (<paramref name="pretrainedBackbone"/> false) the
    /// backbone uses BatchNorm2d and trains all five stages; with them FrozenBatchNorm2d and
    /// <paramref name="trainableBackboneLayers"/> (default 3) trainable stages.
    /// </summary>
    public static FasterRcnn ResNetFpn(ResNetDepth depth = ResNetDepth.ResNet50, int numClasses = 91, bool pretrainedBackbone = false, int? trainableBackboneLayers = null,
        int[]? minSizes = null, int? maxSize = null, RpnOptions? rpn = null, RoiHeadsOptions? roiHeads = null, ulong seed = 0)
    {
        if (numClasses < 2) throw new ArgumentException($"faster_rcnn: num_classes must count the background and at least one class, got {numClasses}");
        var generator = new Generator(seed);
        var norm = pretrainedBackbone ? ResNetNorm.FrozenBatchNorm : ResNetNorm.BatchNorm;
        var body = depth switch
        {
            ResNetDepth.ResNet18 => ResNet.ResNet18(norm, generator),
            ResNetDepth.ResNet34 => ResNet.ResNet34(norm, generator),
            ResNetDepth.ResNet50 => ResNet.ResNet50(norm, generator),
            _ => ResNet.ResNet101(norm, generator),
        };
        body.FreezeLayers(pretrainedBackbone ? trainableBackboneLayers ?? 3 : 5);
        var backbone = new BackboneWithFpn(body, 256, generator);
        var transform = new GeneralizedRcnnTransform(minSizes ?? [800], maxSize ?? 1333, GeneralizedRcnnTransform.ImageNetMean, GeneralizedRcnnTransform.ImageNetStd);
        return new FasterRcnn(transform, backbone,
            new RegionProposalNetwork(AnchorGenerator.FpnDefault(), backbone.OutChannels, rpn ?? new RpnOptions(), generator),
            new RoiHeads(backbone.OutChannels, numClasses, roiHeads ?? new RoiHeadsOptions(), generator));
    }

    /// <summary>torchvision's fasterrcnn_resnet50_fpn with its defaults (see <see cref="ResNetFpn"/>).</summary>
    public static FasterRcnn ResNet50Fpn(int numClasses = 91, bool pretrainedBackbone = false, int? trainableBackboneLayers = null, ulong seed = 0) =>
        ResNetFpn(ResNetDepth.ResNet50, numClasses, pretrainedBackbone, trainableBackboneLayers, seed: seed);

    /// <summary>Normalisation, resizing and batching.</summary>
    public GeneralizedRcnnTransform Transform { get; set; }

    /// <summary>ResNet + FPN.</summary>
    public BackboneWithFpn Backbone { get; }

    /// <summary>The region proposal network.</summary>
    public RegionProposalNetwork Rpn { get; }

    /// <summary>The box classification and regression stage.</summary>
    public RoiHeads RoiHeads { get; }

    /// <summary>Classes including the background.</summary>
    public int NumClasses => RoiHeads.NumClasses;

    /// <summary>
    /// The four training losses ("loss_classifier", "loss_box_reg", "loss_objectness",
    /// "loss_rpn_box_reg") for float [3, H, W] images in [0, 1] and their targets (boxes in the
    /// images' pixels); images without boxes are valid. <paramref name="generator"/> drives the
    /// samplers and the choice of min size.
    /// </summary>
    public override Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Generator generator)
    {
        if (!Training) throw new InvalidOperationException("faster_rcnn: Losses needs training mode (call Train())");
        TargetValidation.Validate("faster_rcnn", images.Count, targets, NumClasses);
        var (batch, resizedTargets) = Transform.Apply(images, targets, training: true, generator);
        var features = Backbone.Forward(batch.Tensors);
        var (proposals, rpnLosses) = Rpn.Forward(batch, features, resizedTargets, generator);
        var losses = RoiHeads.Losses(features[..^1], proposals, batch.ImageSizes, resizedTargets!, generator);
        foreach (var (name, value) in rpnLosses) losses[name] = value;
        // Autograd keeps what its backward pass reads (the RPN convolution's input levels); the rest goes back to the pool now.
        batch.Tensors.Dispose();
        foreach (var used in features.Concat(proposals)) used.Dispose();
        return losses;
    }

    /// <inheritdoc/>
    public override Detection[] Detect(IReadOnlyList<Tensor> images)
    {
        if (Training) throw new InvalidOperationException("faster_rcnn: Detect needs evaluation mode (call Eval())");
        var (batch, _) = Transform.Apply(images, null, training: false);
        var features = Backbone.Forward(batch.Tensors);
        var (proposals, _) = Rpn.Forward(batch, features, null, null);
        var detections = RoiHeads.Detect(features[..^1], proposals, batch.ImageSizes);
        batch.Tensors.Dispose();
        foreach (var level in features) level.Dispose();
        return detections.Select((d, i) => d with
        {
            Boxes = GeneralizedRcnnTransform.ResizeBoxes(d.Boxes, batch.ImageSizes[i], (images[i].Size(1), images[i].Size(2))),
        }).ToArray();
    }
}
