namespace ScratchDetect.Engine.Diagnostics;

public static partial class GradCheckCatalog
{
    // Feature maps are [2, 2, 6, 7] at stride 4 (spatial scale 1/4): image coordinates up to ~28.
    // RoIs: (batch, x1, y1, x2, y2) with one crossing the right/bottom border, one crossing the
    // top/left border, one smaller than a bin, and one in the second image. RoI ops are linear in
    // the feature map, so the central differences are exact up to rounding.
    private static Tensor Rois(Tensor features) => Tensor.FromArray(new[]
    {
        0, 3.0, 2.5, 21.0, 17.0,
        1, 14.0, 10.0, 34.0, 30.0,
        0, -6.0, -3.0, 9.0, 7.5,
        1, 10.3, 8.6, 11.1, 9.2,
    }, [4, 5], features.Device);

    private static Tensor FeatureMap(Generator g) => Leaf(g, -1, 1, 2, 2, 6, 7);

    private static IEnumerable<GradCheckCase> RoiCases()
    {
        yield return new("roi_align", "2x2, sampling ratio 2, not aligned, scale 1/4",
            x => Tensor.RoiAlign(x[0], Rois(x[0]), 2, 2, 0.25, samplingRatio: 2, aligned: false), g => [FeatureMap(g)]);
        yield return new("roi_align", "3x2, adaptive sampling, aligned, scale 1/4",
            x => Tensor.RoiAlign(x[0], Rois(x[0]), 3, 2, 0.25, samplingRatio: -1, aligned: true), g => [FeatureMap(g)]);
        yield return new("roi_align", "2x3, adaptive sampling, not aligned, scale 1/2",
            x => Tensor.RoiAlign(x[0], Rois(x[0]), 2, 3, 0.5, samplingRatio: 0, aligned: false), g => [FeatureMap(g)]);
        // Continuous random values have no ties, so every max has a unique winner.
        yield return new("roi_pool", "2x2, scale 1/4", x => Tensor.RoiPool(x[0], Rois(x[0]), 2, 2, 0.25), g => [FeatureMap(g)]);
        yield return new("roi_pool", "3x3, scale 1/2", x => Tensor.RoiPool(x[0], Rois(x[0]), 3, 3, 0.5), g => [FeatureMap(g)]);
    }
}
