using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>How SSD turns RGB images in [0, 1] into the network's input (see <see cref="SsdTransform"/>).</summary>
public enum SsdPreprocessing
{
    /// <summary>torchvision's ssd300_vgg16: RGB, minus mean (0.48235, 0.45882, 0.40784), divided by std 1/255 (so pixel values 0..255 minus the mean), then resized.</summary>
    Torchvision,

    /// <summary>ssd.pytorch's BaseTransform: the image as 0..255 values in BGR order, resized, minus (104, 117, 123) (B, G, R).</summary>
    SsdPytorch,
}

/// <summary>One extra block after conv7: a 1x1 convolution to <paramref name="MidChannels"/>, then a <paramref name="Kernel"/> convolution to <paramref name="OutChannels"/>, each followed by ReLU; its output is a source.</summary>
/// <param name="MidChannels">Channels of the 1x1 bottleneck.</param>
/// <param name="OutChannels">Channels of the block's output (a source).</param>
/// <param name="Kernel">Kernel size of the second convolution (3; 4 in SSD512's last block).</param>
/// <param name="Stride">Its stride (2 halves the map).</param>
/// <param name="Padding">Its padding.</param>
public sealed record SsdExtraBlock(int MidChannels, int OutChannels, int Kernel = 3, int Stride = 2, int Padding = 1);

/// <summary>
/// Everything that defines an SSD architecture, so that SSD300, SSD512 and smaller variants are
/// one class built from different settings. The base is ssd.pytorch's VGG configuration string:
/// numbers are 3x3 convolutions (padding 1) with that many channels, "M" a 2x2 max pool and "C" the
/// same pool with ceil mode; after it come pool5 (3x3, stride 1, padding 1), conv6 (3x3 with
/// dilation <see cref="FcDilation"/> and as much padding) and conv7 (1x1), both with
/// <see cref="FcChannels"/> channels. The first source is the base's output just before its last
/// "M" pool (conv4_3 in VGG16), rescaled by L2Norm; the second is conv7's; each extra block adds one.
/// <para>
/// <see cref="BatchNorm"/> puts a BatchNorm2d between each base convolution and its ReLU
/// (ssd.pytorch's batch_norm flag). Use it to train from scratch, especially on small data: without
/// ImageNet weights a plain 15-layer VGG trains slowly and is sensitive to the learning rate,
/// while batch norm keeps every layer's activations in range. Do not use it with checkpoints
/// trained without it (their names and layers differ), nor with batches of one or two images,
/// whose batch statistics are too noisy.
/// </para>
/// <para>
/// <see cref="Small"/> is a documented small variant (narrow batch-norm base, fewer sources,
/// smaller input) with SSD300's kind of default boxes, loss and postprocess.
/// </para>
/// </summary>
public sealed record SsdConfig
{
    /// <summary>ssd.pytorch's base['300'] (VGG16 up to conv5_3).</summary>
    public const string Vgg16Base = "64 64 M 128 128 M 256 256 256 C 512 512 512 M 512 512 512";

    /// <summary>Classes including the background (COCO: 91, VOC: 21).</summary>
    public int NumClasses { get; init; } = 91;

    /// <summary>Images are resized to this square size (300).</summary>
    public int ImageSize { get; init; } = 300;

    /// <summary>The VGG base as an ssd.pytorch configuration string (see the class summary).</summary>
    public string Base { get; init; } = Vgg16Base;

    /// <summary>BatchNorm2d after each base convolution (see the class summary for when).</summary>
    public bool BatchNorm { get; init; }

    /// <summary>
    /// BatchNorm2d also after conv6, conv7 and both convolutions of every extra block (off in
    /// SSD300 and SSD512, whose layers and names stay torchvision's). The small variants turn it
    /// on: trained from scratch, a base with batch norm feeding unnormalised conv6/conv7 and extras
    /// learns much more slowly than one normalised throughout.
    /// </summary>
    public bool BatchNormInExtras { get; init; }

    /// <summary>Channels of conv6 and conv7 (1024).</summary>
    public int FcChannels { get; init; } = 1024;

    /// <summary>Dilation and padding of conv6 (6).</summary>
    public int FcDilation { get; init; } = 6;

    /// <summary>The extra blocks after conv7, one source each (SSD300: conv8_2 .. conv11_2).</summary>
    public IReadOnlyList<SsdExtraBlock> Extras { get; init; } = Ssd300Extras;

    /// <summary>The default boxes, one set per source.</summary>
    public DefaultBoxGenerator DefaultBoxes { get; init; } = DefaultBoxGenerator.Ssd300();

    /// <summary>The input convention.</summary>
    public SsdPreprocessing Preprocessing { get; init; } = SsdPreprocessing.Torchvision;

    /// <summary>L2Norm's formula: torchvision's F.normalize or ssd.pytorch's x / (‖x‖ + 1e-10).</summary>
    public L2NormStyle L2NormStyle { get; init; } = L2NormStyle.Torchvision;

    /// <summary>Initial value of the L2Norm scale (20).</summary>
    public double L2NormScale { get; init; } = 20;

    /// <summary>IoU from which a default box matches a ground-truth box (0.5).</summary>
    public double IouThreshold { get; init; } = 0.5;

    /// <summary>Hard negatives per positive (3).</summary>
    public double NegativeToPositiveRatio { get; init; } = 3;

    /// <summary>Hard negatives per image at least (0; see <see cref="MultiBoxLoss"/>).</summary>
    public int MinHardNegatives { get; init; }

    /// <summary>Per-class score threshold of the detections (0.01).</summary>
    public double ScoreThreshold { get; init; } = 0.01;

    /// <summary>Candidates per class before NMS (400).</summary>
    public int TopKCandidates { get; init; } = 400;

    /// <summary>NMS IoU threshold, per class (0.45).</summary>
    public double NmsThreshold { get; init; } = 0.45;

    /// <summary>Detections per image (200).</summary>
    public int DetectionsPerImage { get; init; } = 200;

    /// <summary>Sources: the L2Norm-scaled one, conv7, and one per extra block.</summary>
    public int SourceCount => 2 + Extras.Count;

    /// <summary>SSD300's four extra blocks (ssd.pytorch's extras['300'], torchvision's extra.1 .. extra.4).</summary>
    public static readonly IReadOnlyList<SsdExtraBlock> Ssd300Extras =
        [new(256, 512), new(128, 256), new(128, 256, Stride: 1, Padding: 0), new(128, 256, Stride: 1, Padding: 0)];

    /// <summary>torchvision's ssd300_vgg16 (91 classes, its preprocessing and default boxes).</summary>
    public static SsdConfig Ssd300 { get; } = new();

    /// <summary>ssd.pytorch's SSD300 for VOC (21 classes, BGR input, PriorBox VOC, its L2Norm).</summary>
    public static SsdConfig Ssd300SsdPytorchVoc { get; } = new()
    {
        NumClasses = 21,
        DefaultBoxes = DefaultBoxGenerator.Ssd300Voc(),
        Preprocessing = SsdPreprocessing.SsdPytorch,
        L2NormStyle = L2NormStyle.SsdPytorch,
    };

    /// <summary>
    /// SSD512 as the original (Caffe) SSD: 512x512 input, five extra blocks (the last a 4x4
    /// convolution with padding 1), seven sources 64, 32, 16, 8, 4, 2, 1 and 24564 default boxes.
    /// </summary>
    public static SsdConfig Ssd512 { get; } = new()
    {
        ImageSize = 512,
        Extras = [new(256, 512), new(128, 256), new(128, 256), new(128, 256), new(128, 256, Kernel: 4, Stride: 1, Padding: 1)],
        DefaultBoxes = DefaultBoxGenerator.Ssd512(),
    };

    /// <summary>
    /// A small variant for training from scratch on small data and for quick experiments: a
    /// narrower, shallower batch-norm VGG-style base (four stages of 32..256 channels instead of
    /// 64..512, one or two convolutions each), conv6/conv7 of 256 channels, two extra blocks,
    /// <paramref name="imageSize"/> input (150 by default), and default boxes made the way SSD300's
    /// are (torchvision's scales 0.07 .. 1.05 spread over four sources, the same aspect ratios):
    /// the same <see cref="MultiBoxLoss"/> and postprocess as SSD300. At 150 px its sources are
    /// 19, 9, 5, 3 cells wide (2116 default boxes). Batch norm follows every convolution, base, conv6,
    /// conv7 and extras alike (<see cref="BatchNormInExtras"/>).
    /// </summary>
    public static SsdConfig Small(int numClasses, int imageSize = 150) => new()
    {
        NumClasses = numClasses,
        ImageSize = imageSize,
        Base = "32 M 64 M 128 128 C 256 256 M 256",
        BatchNorm = true,
        BatchNormInExtras = true,
        FcChannels = 256,
        Extras = [new(64, 128), new(64, 128)],
        DefaultBoxes = DefaultBoxGenerator.FromScales([[2], [2, 3], [2, 3], [2]], [0.1, 0.3, 0.55, 0.8, 1.05]),
    };

    /// <summary>
    /// <see cref="Small"/> with every width halved (base 16..128 channels, conv6/conv7 and
    /// extras 128/32, batch norm after every convolution): a quarter of its multiply-adds, the demo's
    /// model (`train --model ssd_tiny`). conv6 is not dilated: at 96 px conv5 is 6 x 6, where a
    /// dilation of 6 would reach only padding. Its default boxes are made the way SSD300's are, with
    /// scales 0.2, 0.35, 0.55, 0.75, 0.95 for objects of 0.2..0.95 of the image (the demo's shapes):
    /// at 96 px its sources are 12, 6, 3, 2 cells wide (862 default boxes), and 98.8% of the demo's
    /// test boxes have a default box at IoU 0.5 or more (94.2% with the small variant's 0.1 .. 1.05).
    /// Loss and postprocess are SSD300's.
    /// </summary>
    public static SsdConfig Tiny(int numClasses, int imageSize = 96) => Small(numClasses, imageSize) with
    {
        Base = "16 M 32 M 64 64 C 128 128 M 128",
        FcChannels = 128,
        FcDilation = 1,
        Extras = [new(32, 64), new(32, 64)],
        DefaultBoxes = DefaultBoxGenerator.FromScales([[2], [2, 3], [2, 3], [2]], [0.2, 0.35, 0.55, 0.75, 0.95]),
    };
}
