using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// RoIAlign over an FPN, as torchvision 0.14's <c>MultiScaleRoIAlign</c>: each box is pooled from
/// the level k = clamp(floor(4 + log2(√area / 224) + 1e-6), k_min, k_max) (the FPN paper's
/// heuristic), where the levels' scales are inferred from the feature sizes
/// (2^round(log2(feature height / largest image height))) and k_min, k_max are -log2 of the finest
/// and coarsest scale. Output [ΣK_i, C, size, size], boxes in input order; aligned = false.
/// </summary>
public sealed class MultiScaleRoiAlign(int outputSize = 7, int samplingRatio = 2, int canonicalScale = 224, int canonicalLevel = 4)
{
    /// <summary>Height and width of each pooled map.</summary>
    public int OutputSize { get; } = outputSize;

    /// <summary>Bilinear samples per bin side.</summary>
    public int SamplingRatio { get; } = samplingRatio;

    /// <summary>Pools <paramref name="boxes"/> (one [K_i, 4] tensor per image) from the feature levels used for RoIs.</summary>
    public Tensor Forward(IReadOnlyList<Tensor> features, IReadOnlyList<Tensor> boxes, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var scales = features.Select(f => InferScale(f.Size(2), imageSizes.Max(s => s.Height))).ToArray();
        int kMin = (int)-Math.Log2(scales[0]), kMax = (int)-Math.Log2(scales[^1]);
        var rois = Tensor.BoxesToRois(boxes);
        var levels = MapLevels(Tensor.Cat(boxes, 0), kMin, kMax);

        var pooled = new List<Tensor>();
        var order = new List<long>();
        for (int level = 0; level < features.Count; level++)
        {
            var inLevel = Enumerable.Range(0, levels.Length).Where(i => levels[i] == level).Select(i => (long)i).ToArray();
            if (inLevel.Length == 0) continue;
            var levelRois = rois.IndexSelect(0, Tensor.FromArray(inLevel, inLevel.Length));
            pooled.Add(Tensor.RoiAlign(features[level], levelRois, OutputSize, OutputSize, scales[level], SamplingRatio));
            order.AddRange(inLevel);
        }
        if (pooled.Count == 0) // no boxes at all, as torchvision's empty [0, C, size, size] result
            return Tensor.Zeros([0, features[0].Size(1), OutputSize, OutputSize], features[0].DType);
        // Back to the boxes' order: row order[j] of the concatenation belongs at position order[j].
        var inverse = new long[order.Count];
        for (int j = 0; j < order.Count; j++) inverse[order[j]] = j;
        return Tensor.Cat(pooled, 0).IndexSelect(0, Tensor.FromArray(inverse, inverse.Length));
    }

    /// <summary>2^round(log2(featureSize / imageSize)), the ratio taken in float32 as torchvision.</summary>
    private static double InferScale(int featureSize, int imageSize) =>
        Math.Pow(2, Math.Round(Math.Log2((float)((double)featureSize / imageSize)), MidpointRounding.ToEven));

    /// <summary>
    /// The level index (0 = k_min) of each box, as torchvision's LevelMapper, computed in the boxes'
    /// own precision as torchvision does: a box near a level boundary must land where torch puts it.
    /// </summary>
    internal int[] MapLevels(Tensor boxes, int kMin, int kMax) => boxes.DType == DType.Float64
        ? MapLevels(boxes.Detach().ToArray<double>(), kMin, kMax)
        : MapLevels(boxes.Detach().To(DType.Float32).ToArray<float>(), kMin, kMax);

    private int[] MapLevels<T>(T[] b, int kMin, int kMax) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        T scale = T.CreateChecked(canonicalScale), level0 = T.CreateChecked(canonicalLevel), eps = T.CreateChecked(1e-6);
        var levels = new int[b.Length / 4];
        for (int i = 0; i < levels.Length; i++)
        {
            // In T throughout, as torchvision's tensor arithmetic: near a level boundary the rounding
            // of 4 + log2(...) decides the level (in float32, side 111.999916 is level 3, not 2).
            T size = T.Sqrt((b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]));
            double level = double.CreateChecked(T.Floor(level0 + T.Log2(size / scale) + eps));
            levels[i] = (int)Math.Clamp(level, kMin, kMax) - kMin;
        }
        return levels;
    }
}
