namespace ScratchDetect.Engine.Backends;

// Pooling over 2-D windows, forward and backward as cuDNN splits them. Max pooling returns the
// winners' positions, which its backward kernel scatters the output gradient to.
public partial interface IBackend
{
    /// <summary>
    /// The largest value of every window (implicit -inf padding) and its int64 position h·W + w
    /// within the input plane, as torch's max_pool2d_with_indices: the first maximum wins ties and
    /// a NaN wins over every number.
    /// </summary>
    (Storage Values, Storage Indices) MaxPool2d(Storage input, Pool2dGeometry geometry);

    /// <summary>The adjoint of <see cref="MaxPool2d"/> (cudnnPoolingBackward): each output gradient added at its window's winner, given by <paramref name="indices"/>.</summary>
    Storage MaxPool2dBackward(Storage gradOutput, Storage indices, Pool2dGeometry geometry);

    /// <summary>
    /// The mean of every window, with zero padding. The divisor is <paramref name="divisorOverride"/>
    /// when given; otherwise the window's size clipped to the padded input when
    /// <paramref name="countIncludePad"/>, or to the input itself when not (as torch's avg_pool2d).
    /// </summary>
    Storage AvgPool2d(Storage input, Pool2dGeometry geometry, bool countIncludePad, int? divisorOverride);

    /// <summary>The adjoint of <see cref="AvgPool2d"/>: each output gradient spread evenly (by the same divisor) over its window.</summary>
    Storage AvgPool2dBackward(Storage gradOutput, Pool2dGeometry geometry, bool countIncludePad, int? divisorOverride);

    /// <summary>
    /// The mean over adaptive windows of [planes, height, width], giving [planes, outHeight, outWidth]:
    /// output row i covers input rows floor(i·height/outHeight) to ceil((i+1)·height/outHeight), as
    /// torch's adaptive_avg_pool2d (likewise for columns).
    /// </summary>
    Storage AdaptiveAvgPool2d(Storage input, int planes, int height, int width, int outHeight, int outWidth);

    /// <summary>The adjoint of <see cref="AdaptiveAvgPool2d"/>.</summary>
    Storage AdaptiveAvgPool2dBackward(Storage gradOutput, int planes, int height, int width, int outHeight, int outWidth);
}
