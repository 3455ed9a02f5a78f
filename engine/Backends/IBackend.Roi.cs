namespace ScratchDetect.Engine.Backends;

/// <summary>
/// The geometry shared by the RoI kernels: a [Batch, Channels, Height, Width] feature map from which
/// every RoI is pooled to Channels x OutputHeight x OutputWidth. RoI coordinates are in input-image
/// pixels and are multiplied by <paramref name="SpatialScale"/> (e.g. 1/4 for a stride-4 map).
/// </summary>
public readonly record struct RoiGeometry(int Batch, int Channels, int Height, int Width, int OutputHeight, int OutputWidth, double SpatialScale);

public partial interface IBackend
{
    // ---- RoI pooling --------------------------------------------------------------------------
    // RoIs are a [roiCount, 5] storage of the input's dtype: (batch index, x1, y1, x2, y2).
    // Outputs are [roiCount, Channels, OutputHeight, OutputWidth].

    /// <summary>
    /// RoIAlign as torchvision 0.14's CPU kernel: each output bin averages bilinear samples taken
    /// on a regular grid inside the bin (<paramref name="samplingRatio"/> per side, or
    /// ceil(roi size / output size) when it is &lt;= 0). With <paramref name="aligned"/> the RoI
    /// is shifted by -0.5 pixel; without it, RoIs are at least 1 x 1. Samples farther than one
    /// pixel outside the map count as 0.
    /// </summary>
    Storage RoiAlign(Storage input, Storage rois, int roiCount, RoiGeometry geometry, int samplingRatio, bool aligned);

    /// <summary>The gradient of <see cref="RoiAlign"/> with respect to its input: each bin's output gradient scattered back with its bilinear weights. Returns [Batch, Channels, Height, Width].</summary>
    Storage RoiAlignBackward(Storage gradOutput, Storage rois, int roiCount, RoiGeometry geometry, int samplingRatio, bool aligned);

    /// <summary>
    /// RoIPool as torchvision 0.14's CPU kernel: RoI corners are rounded to whole cells, each bin
    /// takes the maximum over its cells (0 for a bin with no cells). Also returns, per output
    /// element, the int64 position (y·Width + x) of the maximum in its channel plane, or -1.
    /// </summary>
    (Storage Output, Storage Argmax) RoiPool(Storage input, Storage rois, int roiCount, RoiGeometry geometry);

    /// <summary>The gradient of <see cref="RoiPool"/>: each output gradient added at its argmax. Returns [Batch, Channels, Height, Width].</summary>
    Storage RoiPoolBackward(Storage gradOutput, Storage argmax, Storage rois, int roiCount, RoiGeometry geometry);
}
