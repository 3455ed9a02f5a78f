namespace ScratchDetect.Engine.Tests;

/// <summary>Max, average and adaptive average pooling against PyTorch 1.13 (fixtures from tools/parity/pooling.py).</summary>
public class PoolingParityTests : ParityTests<PoolingParityTests>, IParityFamily
{
    public static string Family => "pooling";

    // Tolerances (float32 epsilon 6e-8; inputs are O(1)):
    // - Exact: max pooling and its indices select input elements without arithmetic, and its
    //   gradient adds the overlapping windows' terms in output order, as PyTorch does: 0.
    // - Averaging: pooling sums at most ~20 terms in a different order, then divides: 1e-6.
    private const double Exact = 0, AveragingTol = 1e-6;

    public static IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; } = new Dictionary<string, (Func<Tensor[], Tensor>, double)>
    {
        ["maxpool_3x3_s2_p1_ceil"] = (x => Tensor.MaxPool2d(x[0], 3, 2, 1, ceilMode: true), Exact),
        ["maxpool_dilated_ceil"] = (x => Tensor.MaxPool2d(x[0], (2, 3), (2, 1), 1, dilation: 2, ceilMode: true), Exact),
        ["maxpool_2x2"] = (x => Tensor.MaxPool2d(x[0], 2), Exact),
        ["maxpool_ties"] = (x => Tensor.MaxPool2d(x[0], 3, 1, 1), Exact),
        ["maxpool_nan"] = (x => Tensor.MaxPool2d(x[0], 2, 2), Exact),
        ["maxpool_indices"] = (x => Tensor.MaxPool2dWithIndices(x[0], 3, 2, 1, ceilMode: true).Indices, Exact),

        ["avgpool_ceil_exclude_pad"] = (x => Tensor.AvgPool2d(x[0], 3, 2, 1, ceilMode: true, countIncludePad: false), AveragingTol),
        ["avgpool_ceil_include_pad"] = (x => Tensor.AvgPool2d(x[0], 2, 2, 1, ceilMode: true), AveragingTol),
        ["avgpool_divisor_override"] = (x => Tensor.AvgPool2d(x[0], (3, 2), 1, divisorOverride: 5), AveragingTol),
        ["adaptive_7x5_to_3x2"] = (x => Tensor.AdaptiveAvgPool2d(x[0], (3, 2)), AveragingTol),
        ["adaptive_3x4_to_5x6"] = (x => Tensor.AdaptiveAvgPool2d(x[0], (5, 6)), AveragingTol),
        ["adaptive_global"] = (x => Tensor.AdaptiveAvgPool2d(x[0], 1), AveragingTol),
    };
}
