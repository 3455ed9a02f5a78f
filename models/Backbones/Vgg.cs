using System.Globalization;
using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// SSD's VGG feature extractor with torchvision 0.14's module tree
/// (<c>SSDFeatureExtractorVGG</c>) built from an <see cref="SsdConfig"/>, ssd.pytorch's layer
/// list (<c>vgg()</c>, <c>add_extras()</c>) cut in the same places:
/// <list type="bullet">
/// <item>"features": the base up to (not including) its last "M" pool: conv1_1 .. conv4_3 and ReLU
/// in VGG16 (ssd.pytorch's vgg.0 .. vgg.22);</item>
/// <item>"scale_weight": the L2Norm scale [C] (20) applied to the features' output, the first source;</item>
/// <item>"extra.0": the last pool, the rest of the base (conv5_x) and, as its last child, pool5
/// (3x3/1/1), conv6 (3x3, dilation 6), ReLU, conv7 (1x1), ReLU: the second source;</item>
/// <item>"extra.1" ..: each extra block (1x1 conv, ReLU, 3x3 conv, ReLU), one source each.</item>
/// </list>
/// With <see cref="SsdConfig.BatchNormInExtras"/> a BatchNorm2d follows conv6, conv7 and each
/// extra convolution (before its ReLU), which moves conv7 to index 4 of extra.0's last child and each
/// block's second convolution to index 3.
/// Initialised as torchvision: base convolutions Kaiming-normal (fan out, ReLU), conv6, conv7 and
/// the extras Xavier-uniform, biases 0.
/// </summary>
public sealed class SsdVggBackbone : Module
{
    private readonly Sequential features;
    private readonly ModuleList<Sequential> extra;
    private readonly L2NormStyle l2NormStyle;

    /// <summary>The backbone <paramref name="config"/> describes, initialised from <paramref name="generator"/>.</summary>
    public SsdVggBackbone(SsdConfig config, Generator generator)
    {
        var layout = VggLayout.Parse(config.Base, config.BatchNorm);
        var layers = new List<Layer>();
        int channels = 3;
        foreach (var token in layout.Tokens)
        {
            if (token is "M" or "C")
            {
                layers.Add(new MaxPool2d(2, 2, ceilMode: token == "C"));
                continue;
            }
            int width = int.Parse(token, CultureInfo.InvariantCulture);
            var conv = new Conv2d(channels, width, 3, generator, padding: 1);
            Init.KaimingNormal(conv.Weight, generator, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
            Init.Zeros(conv.Bias!);
            layers.Add(conv);
            if (config.BatchNorm) layers.Add(new BatchNorm2d(width));
            layers.Add(new ReLU());
            channels = width;
        }
        int lastPool = layout.LastPoolLayer;
        features = RegisterModule("features", new Sequential(layers.Take(lastPool).ToArray()));
        ScaleWeight = RegisterParameter("scale_weight", Tensor.Full([layout.SourceChannels], config.L2NormScale));
        l2NormStyle = config.L2NormStyle;

        var conv6 = XavierConv(channels, config.FcChannels, 3, generator, padding: config.FcDilation, dilation: config.FcDilation);
        var conv7 = XavierConv(config.FcChannels, config.FcChannels, 1, generator);
        var fc = new Sequential([new MaxPool2d(3, 1, 1), .. Activated(conv6, config.BatchNormInExtras), .. Activated(conv7, config.BatchNormInExtras)]);
        extra = RegisterModule("extra", new ModuleList<Sequential>());
        extra.Add(new Sequential([.. layers.Skip(lastPool), fc]));
        var outChannels = new List<int> { layout.SourceChannels, config.FcChannels };
        channels = config.FcChannels;
        foreach (var block in config.Extras)
        {
            extra.Add(new Sequential([
                .. Activated(XavierConv(channels, block.MidChannels, 1, generator), config.BatchNormInExtras),
                .. Activated(XavierConv(block.MidChannels, block.OutChannels, block.Kernel, generator, block.Stride, block.Padding), config.BatchNormInExtras)]));
            outChannels.Add(channels = block.OutChannels);
        }
        OutChannels = outChannels;
    }

    /// <summary>A convolution and its ReLU, with a BatchNorm2d between them when <paramref name="batchNorm"/> (<see cref="SsdConfig.BatchNormInExtras"/>).</summary>
    private static Layer[] Activated(Conv2d conv, bool batchNorm) =>
        batchNorm ? [conv, new BatchNorm2d(conv.OutChannels), new ReLU()] : [conv, new ReLU()];

    /// <summary>The L2Norm scale of the first source, [C].</summary>
    public Tensor ScaleWeight { get; }

    /// <summary>Channels of each source.</summary>
    public IReadOnlyList<int> OutChannels { get; }

    /// <summary>The sources for a normalised batch [N, 3, H, W], largest first.</summary>
    public IReadOnlyList<Tensor> Forward(Tensor images)
    {
        var sources = ForwardVgg(images).ToList();
        sources.AddRange(ForwardExtras(sources[^1]));
        return sources;
    }

    /// <summary>
    /// The VGG part alone: "features" (up to conv4_3 in VGG16), its L2Norm-scaled output (the first
    /// source), and "extra.0" (conv5, pool5, conv6, conv7; the second source).
    /// <see cref="Forward"/> is this followed by <see cref="ForwardExtras"/>; `summary` times them apart.
    /// </summary>
    public IReadOnlyList<Tensor> ForwardVgg(Tensor images)
    {
        using var x = features.Forward(images);
        return [L2Norm.Apply(x, ScaleWeight, l2NormStyle), extra[0].Forward(x)];
    }

    /// <summary>The extra blocks ("extra.1" ..) on conv7's output: one source each.</summary>
    public IReadOnlyList<Tensor> ForwardExtras(Tensor conv7)
    {
        var sources = new List<Tensor>();
        var x = conv7;
        foreach (var block in extra.Skip(1))
        {
            x = block.Forward(x);
            sources.Add(x);
        }
        return sources;
    }

    private static Conv2d XavierConv(int inChannels, int outChannels, int kernel, Generator generator, int stride = 1, int padding = 0, int dilation = 1)
    {
        var conv = new Conv2d(inChannels, outChannels, kernel, generator, stride, padding, dilation);
        Init.XavierUniform(conv.Weight, generator);
        Init.Zeros(conv.Bias!);
        return conv;
    }
}

/// <summary>
/// Where the layers of an ssd.pytorch VGG configuration string land: its tokens, the flat layer
/// list's length (ssd.pytorch's vgg list before pool5), the index of the last "M" pool (where
/// torchvision cuts "features" from "extra.0"), and the channels of the first source.
/// </summary>
internal sealed record VggLayout(IReadOnlyList<string> Tokens, int BaseLayers, int LastPoolLayer, int SourceChannels)
{
    public static VggLayout Parse(string configuration, bool batchNorm)
    {
        var tokens = configuration.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int layers = 0, lastPool = -1, channels = 0, sourceChannels = 0;
        foreach (var token in tokens)
        {
            if (token is "M" or "C")
            {
                if (token == "M")
                {
                    lastPool = layers;
                    sourceChannels = channels;
                }
                layers++;
            }
            else if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int width) && width > 0)
            {
                layers += batchNorm ? 3 : 2;
                channels = width;
            }
            else
                throw new ArgumentException($"ssd: base configuration '{configuration}' has '{token}', which is neither a channel count nor M or C");
        }
        if (lastPool <= 0 || sourceChannels == 0)
            throw new ArgumentException($"ssd: base configuration '{configuration}' needs convolutions and then an M pool (the first source is the output before the last M)");
        return new VggLayout(tokens, layers, lastPool, sourceChannels);
    }
}
