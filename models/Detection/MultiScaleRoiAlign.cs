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

        // Routing by level on the boxes' device: each level pools its boxes, and the concatenation
        // is put back into the boxes' order by the inverse of the routing permutation.
        var pooled = new List<Tensor>();
        var routed = new List<Tensor>();
        for (int level = 0; level < features.Count; level++)
        {
            var inLevel = levels.Eq(level).Nonzero().Reshape(-1);
            if (inLevel.Size(0) == 0) continue;
            pooled.Add(Tensor.RoiAlign(features[level], rois.IndexSelect(0, inLevel), OutputSize, OutputSize, scales[level], SamplingRatio));
            routed.Add(inLevel);
        }
        if (pooled.Count == 0) // no boxes at all, as torchvision's empty [0, C, size, size] result
            return Tensor.Zeros([0, features[0].Size(1), OutputSize, OutputSize], features[0].DType, features[0].Device);
        // Row j of the concatenation belongs to box order[j]; sorting order gives, per box, its row.
        var order = Tensor.Cat(routed, 0);
        var byLevel = Tensor.Cat(pooled, 0);
        foreach (var part in pooled) part.Dispose();
        return byLevel.Then(rows => rows.IndexSelect(0, order.Sort(0).Indices));
    }

    /// <summary>2^round(log2(featureSize / imageSize)), the ratio taken in float32 as torchvision.</summary>
    private static double InferScale(int featureSize, int imageSize) =>
        Math.Pow(2, Math.Round(Math.Log2((float)((double)featureSize / imageSize)), MidpointRounding.ToEven));

    /// <summary>
    /// The level index (int64 [K], 0 = k_min) of each box, as torchvision's LevelMapper, computed in the
    /// boxes' own precision as torchvision does: near a level boundary the rounding of
    /// 4 + log2(...) decides the level (in float32, side 111.999916 is level 3, not 2).
    /// </summary>
    internal Tensor MapLevels(Tensor boxes, int kMin, int kMax)
    {
        var size = Tensor.BoxArea(boxes.Detach()).Sqrt();
        var level = ((size / canonicalScale).Log2() + canonicalLevel + 1e-6).Floor();
        return level.Clamp(kMin, kMax).To(DType.Int64) - kMin;
    }
}
