using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>Which normalisation layer a ResNet uses, as torchvision's <c>norm_layer</c>.</summary>
public enum ResNetNorm
{
    /// <summary>nn.BatchNorm2d: batch statistics in training (torchvision's choice without pretrained weights).</summary>
    BatchNorm,
    /// <summary>FrozenBatchNorm2d: fixed statistics and affine terms (torchvision's choice with pretrained weights).</summary>
    FrozenBatchNorm,
}

/// <summary>
/// The convolutional body of torchvision 0.14's ResNet (conv1, bn1, relu, maxpool, layer1..layer4;
/// the classifier's avgpool and fc are left out, as IntermediateLayerGetter drops them), with
/// torchvision's parameter names so its state_dicts load one to one. <see cref="Forward"/>
/// returns the outputs of layer1..layer4 (strides 4, 8, 16, 32).
/// </summary>
public sealed class ResNet : Module
{
    private readonly Conv2d conv1;
    private readonly Layer bn1;
    private readonly Sequential[] layers;

    /// <summary>
    /// A ResNet of <paramref name="blocksPerStage"/> blocks per stage, bottleneck blocks (expansion 4)
    /// or basic ones (expansion 1), initialised as torchvision does (Kaiming normal, fan-out, for
    /// convolutions; norm weights 1, biases 0).
    /// </summary>
    public ResNet(int[] blocksPerStage, bool bottleneck, ResNetNorm norm, Generator generator)
    {
        if (blocksPerStage.Length != 4) throw new ArgumentException($"resnet: expected 4 stages, got {blocksPerStage.Length}");
        Norm = norm;
        conv1 = RegisterModule("conv1", Conv(3, 64, 7, 2, 3, generator));
        bn1 = RegisterModule("bn1", NormLayer(norm, 64));
        int inChannels = 64;
        layers = new Sequential[4];
        for (int stage = 0; stage < 4; stage++)
        {
            int width = 64 << stage, stride = stage == 0 ? 1 : 2;
            var blocks = new Sequential();
            for (int b = 0; b < blocksPerStage[stage]; b++)
            {
                Layer block = bottleneck
                    ? new Bottleneck(inChannels, width, b == 0 ? stride : 1, norm, generator)
                    : new BasicBlock(inChannels, width, b == 0 ? stride : 1, norm, generator);
                blocks.Append(block);
                inChannels = width * (bottleneck ? Bottleneck.Expansion : 1);
            }
            layers[stage] = RegisterModule($"layer{stage + 1}", blocks);
            StageChannels[stage] = inChannels;
        }
    }

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2].</summary>
    public static ResNet ResNet18(ResNetNorm norm, Generator generator) => new([2, 2, 2, 2], false, norm, generator);

    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet34(ResNetNorm norm, Generator generator) => new([3, 4, 6, 3], false, norm, generator);

    /// <summary>ResNet-50: bottleneck blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet50(ResNetNorm norm, Generator generator) => new([3, 4, 6, 3], true, norm, generator);

    /// <summary>ResNet-101: bottleneck blocks [3, 4, 23, 3].</summary>
    public static ResNet ResNet101(ResNetNorm norm, Generator generator) => new([3, 4, 23, 3], true, norm, generator);

    /// <summary>The normalisation layer used throughout.</summary>
    public ResNetNorm Norm { get; }

    /// <summary>Output channels of layer1..layer4.</summary>
    public int[] StageChannels { get; } = new int[4];

    /// <summary>
    /// Freezes all but the last <paramref name="trainableLayers"/> (0..5) of layer4, layer3, layer2,
    /// layer1 and conv1 (with bn1 when all five train), as torchvision's _resnet_fpn_extractor.
    /// </summary>
    public void FreezeLayers(int trainableLayers)
    {
        if (trainableLayers is < 0 or > 5)
            throw new ArgumentException($"resnet: trainable layers must be in [0, 5], got {trainableLayers}");
        var train = new[] { "layer4", "layer3", "layer2", "layer1", "conv1" }.Take(trainableLayers).ToList();
        if (trainableLayers == 5) train.Add("bn1");
        foreach (var (name, parameter) in NamedParameters())
            if (!train.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
                parameter.RequiresGrad = false;
    }

    /// <summary>The feature maps of layer1..layer4 for a batch [N, 3, H, W].</summary>
    public Tensor[] Forward(Tensor images)
    {
        var x = conv1.Forward(images, bn1, relu: true).Then(t => Tensor.MaxPool2d(t, 3, 2, 1));
        var outputs = new Tensor[4];
        for (int stage = 0; stage < 4; stage++) outputs[stage] = x = layers[stage].Forward(x);
        return outputs;
    }

    internal static Conv2d Conv(int inChannels, int outChannels, int kernel, int stride, int padding, Generator generator)
    {
        var conv = new Conv2d(inChannels, outChannels, kernel, generator, stride, padding, bias: false);
        Init.KaimingNormal(conv.Weight, generator, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        return conv;
    }

    /// <summary>
    /// relu(norm(conv(x)) + shortcut) for a block's last convolution, the shortcut being the block's input or its
    /// projection (disposed here): the add and the ReLU run in the convolution's epilogue where the
    /// norm folds (<see cref="Conv2d.Forward(Tensor, Layer?, bool, Tensor?)"/>).
    /// </summary>
    internal static Tensor LastConvWithShortcut(Conv2d conv, Layer norm, Tensor x, Tensor input, Sequential? downsample)
    {
        using var projection = downsample?.Forward(input);
        return conv.Forward(x, norm, relu: true, residual: projection ?? input);
    }

    internal static Layer NormLayer(ResNetNorm norm, int channels) =>
        norm == ResNetNorm.BatchNorm ? new BatchNorm2d(channels) : new FrozenBatchNorm2d(channels);

    /// <summary>The 1x1 projection (downsample.0 conv, downsample.1 norm) of a block whose shape changes, or null.</summary>
    internal static Sequential? Downsample(int inChannels, int outChannels, int stride, ResNetNorm norm, Generator generator) =>
        stride == 1 && inChannels == outChannels ? null : new Sequential(Conv(inChannels, outChannels, 1, stride, 0, generator), NormLayer(norm, outChannels));
}

/// <summary>ResNet-50/101's block: 1x1 reduce, 3x3 (carrying the stride, torchvision's "v1.5"), 1x1 expand by 4, plus the shortcut.</summary>
public sealed class Bottleneck : Layer
{
    /// <summary>Output channels per unit of width.</summary>
    public const int Expansion = 4;

    private readonly Conv2d conv1, conv2, conv3;
    private readonly Layer bn1, bn2, bn3;
    private readonly Sequential? downsample;

    /// <summary>A bottleneck of the given width from <paramref name="inChannels"/> channels.</summary>
    public Bottleneck(int inChannels, int width, int stride, ResNetNorm norm, Generator generator)
    {
        conv1 = RegisterModule("conv1", ResNet.Conv(inChannels, width, 1, 1, 0, generator));
        bn1 = RegisterModule("bn1", ResNet.NormLayer(norm, width));
        conv2 = RegisterModule("conv2", ResNet.Conv(width, width, 3, stride, 1, generator));
        bn2 = RegisterModule("bn2", ResNet.NormLayer(norm, width));
        conv3 = RegisterModule("conv3", ResNet.Conv(width, width * Expansion, 1, 1, 0, generator));
        bn3 = RegisterModule("bn3", ResNet.NormLayer(norm, width * Expansion));
        downsample = ResNet.Downsample(inChannels, width * Expansion, stride, norm, generator);
        if (downsample is not null) RegisterModule("downsample", downsample);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        // Each conv, norm and ReLU as one fused call where autograd allows (Conv2d.Forward(x, norm, relu));
        // intermediates are disposed as soon as they are used (autograd keeps what backward needs).
        var x = conv1.Forward(input, bn1, relu: true);
        x = x.Then(t => conv2.Forward(t, bn2, relu: true));
        return x.Then(t => ResNet.LastConvWithShortcut(conv3, bn3, t, input, downsample));
    }
}

/// <summary>ResNet-18/34's block: two 3x3 convolutions (the first carrying the stride) plus the shortcut.</summary>
public sealed class BasicBlock : Layer
{
    private readonly Conv2d conv1, conv2;
    private readonly Layer bn1, bn2;
    private readonly Sequential? downsample;

    /// <summary>A basic block of <paramref name="width"/> output channels from <paramref name="inChannels"/>.</summary>
    public BasicBlock(int inChannels, int width, int stride, ResNetNorm norm, Generator generator)
    {
        conv1 = RegisterModule("conv1", ResNet.Conv(inChannels, width, 3, stride, 1, generator));
        bn1 = RegisterModule("bn1", ResNet.NormLayer(norm, width));
        conv2 = RegisterModule("conv2", ResNet.Conv(width, width, 3, 1, 1, generator));
        bn2 = RegisterModule("bn2", ResNet.NormLayer(norm, width));
        downsample = ResNet.Downsample(inChannels, width, stride, norm, generator);
        if (downsample is not null) RegisterModule("downsample", downsample);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var x = conv1.Forward(input, bn1, relu: true);
        return x.Then(t => ResNet.LastConvWithShortcut(conv2, bn2, t, input, downsample));
    }
}
