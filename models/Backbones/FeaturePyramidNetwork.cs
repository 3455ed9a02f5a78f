using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// A feature pyramid (Lin et al. 2017) as torchvision 0.14's <c>FeaturePyramidNetwork</c> with
/// <c>LastLevelMaxPool</c>: a 1x1 lateral convolution per input level (inner_blocks.i.0), a
/// top-down path that upsamples the coarser merged map to the lateral's size (nearest) and adds
/// it, a 3x3 output convolution per level (layer_blocks.i.0), and an extra "pool" level that is
/// max_pool2d(kernel 1, stride 2) of the coarsest output. The ".0" in the names is torchvision's
/// Conv2dNormActivation wrapper (a Sequential holding only the convolution here).
/// </summary>
public sealed class FeaturePyramidNetwork : Module
{
    private readonly ModuleList<Sequential> innerBlocks, layerBlocks;

    /// <summary>An FPN from inputs of <paramref name="inChannels"/> channels to <paramref name="outChannels"/> each; convolutions initialised Kaiming uniform (a = 1), biases 0.</summary>
    public FeaturePyramidNetwork(IReadOnlyList<int> inChannels, int outChannels, Generator generator)
    {
        OutChannels = outChannels;
        innerBlocks = RegisterModule("inner_blocks", new ModuleList<Sequential>(inChannels.Select(c => new Sequential(Conv(c, outChannels, 1, 0, generator)))));
        layerBlocks = RegisterModule("layer_blocks", new ModuleList<Sequential>(inChannels.Select(_ => new Sequential(Conv(outChannels, outChannels, 3, 1, generator)))));
    }

    /// <summary>Channels of every output level.</summary>
    public int OutChannels { get; }

    /// <summary>The names of the output levels: "0".."n-1" for the inputs, then "pool".</summary>
    public IReadOnlyList<string> Names => [.. Enumerable.Range(0, innerBlocks.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "pool"];

    /// <summary>The pyramid for <paramref name="features"/> ordered finest first; returns one map per input level and the "pool" level.</summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> features)
    {
        if (features.Count != innerBlocks.Count)
            throw new ArgumentException($"fpn: {features.Count} feature maps for {innerBlocks.Count} levels");
        int last = features.Count - 1;
        var results = new Tensor[features.Count + 1];
        var merged = innerBlocks[last].Forward(features[last]);
        results[last] = layerBlocks[last].Forward(merged);
        for (int level = last - 1; level >= 0; level--)
        {
            var lateral = innerBlocks[level].Forward(features[level]);
            var topDown = Tensor.Interpolate(merged, size: new Size2d(lateral.Size(2), lateral.Size(3)), mode: InterpolateMode.Nearest);
            merged.Dispose();
            merged = lateral + topDown;
            lateral.Dispose();
            topDown.Dispose();
            results[level] = layerBlocks[level].Forward(merged);
        }
        merged.Dispose();
        results[^1] = Tensor.MaxPool2d(results[last], 1, 2, 0);
        return results;
    }

    private static Conv2d Conv(int inChannels, int outChannels, int kernel, int padding, Generator generator)
    {
        var conv = new Conv2d(inChannels, outChannels, kernel, generator, padding: padding);
        Init.KaimingUniform(conv.Weight, generator, a: 1);
        Init.Zeros(conv.Bias!);
        return conv;
    }
}

/// <summary>
/// A ResNet body with an FPN on top, as torchvision's <c>BackboneWithFPN</c> from
/// <c>_resnet_fpn_extractor</c>: parameters under body.* and fpn.*; the FPN reads layer1..layer4.
/// </summary>
public sealed class BackboneWithFpn : Module
{
    /// <summary>A backbone over <paramref name="body"/> with <paramref name="outChannels"/> FPN channels.</summary>
    public BackboneWithFpn(ResNet body, int outChannels, Generator generator)
    {
        Body = RegisterModule("body", body);
        Fpn = RegisterModule("fpn", new FeaturePyramidNetwork(body.StageChannels, outChannels, generator));
    }

    /// <summary>The ResNet.</summary>
    public ResNet Body { get; }

    /// <summary>The feature pyramid.</summary>
    public FeaturePyramidNetwork Fpn { get; }

    /// <summary>Channels of every output level.</summary>
    public int OutChannels => Fpn.OutChannels;

    /// <summary>The pyramid levels "0".."3" (strides 4..32) and "pool" (stride 64) for a batch.</summary>
    public Tensor[] Forward(Tensor images)
    {
        var stages = Body.Forward(images);
        var pyramid = Fpn.Forward(stages);
        foreach (var stage in stages) stage.Dispose();
        return pyramid;
    }
}
