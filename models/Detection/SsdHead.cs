using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models;

/// <summary>
/// One 3x3 convolution per source giving <see cref="Columns"/> numbers for each default box of each
/// cell, as torchvision's <c>SSDScoringHead</c>: "module_list.k" maps source k's [N, C, H, W] to
/// [N, A·K, H, W], read as [N, A, K, H, W] and laid out as [N, H·W·A, K]; the sources are then
/// concatenated, in the default boxes' order. ssd.pytorch's permute(0, 2, 3, 1).view(N, -1, K) gives
/// the same layout. Weights Xavier-uniform, biases 0.
/// </summary>
public sealed class SsdScoringHead : Module
{
    private readonly ModuleList<Conv2d> moduleList;

    /// <summary>A head over sources of <paramref name="inChannels"/> with <paramref name="boxesPerLocation"/> boxes per cell and <paramref name="columns"/> numbers per box.</summary>
    public SsdScoringHead(IReadOnlyList<int> inChannels, IReadOnlyList<int> boxesPerLocation, int columns, Generator generator)
    {
        if (inChannels.Count != boxesPerLocation.Count)
            throw new ArgumentException($"ssd_head: {inChannels.Count} sources but default boxes for {boxesPerLocation.Count}");
        Columns = columns;
        moduleList = RegisterModule("module_list", new ModuleList<Conv2d>());
        for (int k = 0; k < inChannels.Count; k++)
        {
            var conv = new Conv2d(inChannels[k], columns * boxesPerLocation[k], 3, generator, padding: 1);
            Init.XavierUniform(conv.Weight, generator);
            Init.Zeros(conv.Bias!);
            moduleList.Add(conv);
        }
    }

    /// <summary>Numbers per default box (4 box codes, or one logit per class).</summary>
    public int Columns { get; }

    /// <summary>Source <paramref name="k"/>'s convolution ("module_list.k").</summary>
    internal Conv2d this[int k] => moduleList[k];

    /// <summary>How many sources the head reads.</summary>
    internal int SourceCount => moduleList.Count;

    /// <summary>[N, P, <see cref="Columns"/>] for the sources.</summary>
    public Tensor Forward(IReadOnlyList<Tensor> sources)
    {
        var results = new List<Tensor>(sources.Count);
        for (int k = 0; k < sources.Count; k++)
            results.Add(HeadLayout.PermuteAndFlatten(moduleList[k].Forward(sources[k]), Columns));
        return HeadLayout.CatAndDispose(results, 1);
    }
}

/// <summary>SSD's two heads, as torchvision's <c>SSDHead</c>: "classification_head" (class logits) and "regression_head" (box codes).</summary>
public sealed class SsdHead : Module
{
    /// <summary>Heads for <paramref name="numClasses"/> classes (background included).</summary>
    public SsdHead(IReadOnlyList<int> inChannels, IReadOnlyList<int> boxesPerLocation, int numClasses, Generator generator)
    {
        ClassificationHead = RegisterModule("classification_head", new SsdScoringHead(inChannels, boxesPerLocation, numClasses, generator));
        RegressionHead = RegisterModule("regression_head", new SsdScoringHead(inChannels, boxesPerLocation, 4, generator));
    }

    /// <summary>Class logits per default box.</summary>
    public SsdScoringHead ClassificationHead { get; }

    /// <summary>Box codes per default box.</summary>
    public SsdScoringHead RegressionHead { get; }

    /// <summary>
    /// Box codes [N, P, 4] and class logits [N, P, classes], as each head's <see cref="SsdScoringHead.Forward"/>.
    /// On each source both heads' convolutions run as one, their weights and biases joined along the
    /// output channels and the result split again: one pass over the source instead of two, and the
    /// box codes' 16 or 24 channels fill no GEMM tiles and need no input transform of their own.
    /// Every output channel is the same sum as in its own convolution.
    /// </summary>
    public (Tensor BoxRegression, Tensor ClassLogits) Forward(IReadOnlyList<Tensor> sources)
    {
        if (sources.Count != RegressionHead.SourceCount)
            throw new ArgumentException($"ssd_head: {sources.Count} sources for heads over {RegressionHead.SourceCount}");
        var (codes, logits) = (new List<Tensor>(sources.Count), new List<Tensor>(sources.Count));
        for (int k = 0; k < sources.Count; k++)
        {
            Conv2d box = RegressionHead[k], classes = ClassificationHead[k];
            using var weight = Tensor.Cat([box.Weight, classes.Weight], 0);
            using var bias = Tensor.Cat([box.Bias!, classes.Bias!], 0);
            using var both = Tensor.Conv2d(sources[k], weight, bias, box.Stride, box.Padding, box.Dilation, box.Groups);
            codes.Add(HeadLayout.PermuteAndFlatten(both.Narrow(1, 0, box.OutChannels), RegressionHead.Columns));
            logits.Add(HeadLayout.PermuteAndFlatten(both.Narrow(1, box.OutChannels, classes.OutChannels), ClassificationHead.Columns));
        }
        return (HeadLayout.CatAndDispose(codes, 1), HeadLayout.CatAndDispose(logits, 1));
    }
}
