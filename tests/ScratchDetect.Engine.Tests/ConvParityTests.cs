using ScratchDetect.Engine;

namespace ScratchDetect.Engine.Tests;

/// <summary>The convolution family against PyTorch 1.13 / torchvision 0.14 (fixtures from tools/parity/conv.py).</summary>
public class ConvParityTests
{
    private static readonly ParityFixture Fixture = ParityFixture.Load("conv");

    // Tolerances (float32 epsilon 6e-8; inputs and weights are O(1)):
    // - Exact: max pooling and its indices select input elements without arithmetic, and its
    //   gradient adds the overlapping windows' terms in output order, as PyTorch does: 0.
    // - Nearest: the output is a selection (exact), but the gradient adds up to 4 terms per input in
    //   another grouping (width pass, then height pass): a few ulps of O(1) sums, 1e-6.
    // - Averaging: pooling sums at most ~20 terms in a different order, then divides: 1e-6.
    // - Bilinear: two weighted taps per axis with weights computed as PyTorch does; rounding differs
    //   at most in the last bits of a few products: 1e-6.
    // - Convolution: sums of up to 288 products of O(1) terms accumulated in another order (packed
    //   GEMM vs oneDNN); rounding grows like sqrt(k)·eps·sum|terms|, ~1e-5 for k = 288: 5e-5.
    // - Batch norm: PyTorch accumulates the statistics in double, we in float32 over up to 100
    //   elements per channel; the backward divides by the standard deviation: 1e-5.
    private const double Exact = 0, NearestTol = 1e-6, AveragingTol = 1e-6, BilinearTol = 1e-6, ConvTol = 5e-5, NormTol = 1e-5;

    private static readonly Dictionary<string, (Func<Tensor[], Tensor> Run, double Tol)> Cases = new()
    {
        ["conv_stride2_pad1"] = (x => Tensor.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), ConvTol),
        ["conv_dilation2_pad2"] = (x => Tensor.Conv2d(x[0], x[1], x[2], padding: 2, dilation: 2), ConvTol),
        ["conv_groups2_nobias"] = (x => Tensor.Conv2d(x[0], x[1], stride: (2, 1), padding: 1, groups: 2), ConvTol),
        ["conv_1x1"] = (x => Tensor.Conv2d(x[0], x[1], x[2]), ConvTol),
        ["conv_1x1_stride2"] = (x => Tensor.Conv2d(x[0], x[1], stride: 2), ConvTol),
        ["conv_7x7_stem"] = (x => Tensor.Conv2d(x[0], x[1], stride: 2, padding: 3), ConvTol),
        ["conv_deep_patch"] = (x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1), ConvTol),

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

        ["bn_train_affine"] = (x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true), NormTol),
        ["bn_train_no_affine"] = (x => Tensor.BatchNorm(x[0], null, null, training: true, eps: 1e-3), NormTol),
        ["bn_running_stats"] = (x => RunningStatsAfterTraining(x, 0.1), NormTol),
        ["bn_running_stats_momentum_0_3"] = (x => RunningStatsAfterTraining(x, 0.3), NormTol),
        ["bn_eval"] = (x => Tensor.BatchNorm(x[0], x[3], x[4], x[1], x[2]), NormTol),
        ["frozen_bn"] = (x => Tensor.FrozenBatchNorm2d(x[0], x[1], x[2], x[3], x[4]), NormTol),

        ["nearest_scale_1_7_x_0_6"] = (x => Tensor.Interpolate(x[0], scaleFactor: (1.7, 0.6)), NearestTol),
        ["nearest_scale_0_3"] = (x => Tensor.Interpolate(x[0], scaleFactor: (0.3, 0.3)), NearestTol),
        ["nearest_scale_2"] = (x => Tensor.Interpolate(x[0], scaleFactor: (2, 2)), NearestTol),
        ["nearest_size_7_3"] = (x => Tensor.Interpolate(x[0], size: (7, 3)), NearestTol),
        ["nearest_recompute_1_3_x_2_7"] = (x => Tensor.Interpolate(x[0], scaleFactor: (1.3, 2.7), recomputeScaleFactor: true), NearestTol),
        ["bilinear_scale_1_5_x_0_75"] = (x => Tensor.Interpolate(x[0], scaleFactor: (1.5, 0.75), mode: InterpolateMode.Bilinear), BilinearTol),
        ["bilinear_scale_0_4"] = (x => Tensor.Interpolate(x[0], scaleFactor: (0.4, 0.4), mode: InterpolateMode.Bilinear), BilinearTol),
        ["bilinear_size_5_9"] = (x => Tensor.Interpolate(x[0], size: (5, 9), mode: InterpolateMode.Bilinear), BilinearTol),
        ["bilinear_recompute_1_37"] = (x => Tensor.Interpolate(x[0], scaleFactor: (1.37, 1.37), mode: InterpolateMode.Bilinear, recomputeScaleFactor: true), BilinearTol),
        ["bilinear_same_height"] = (x => Tensor.Interpolate(x[0], size: (4, 7), mode: InterpolateMode.Bilinear), BilinearTol),
    };

    /// <summary>The running mean and variance (stacked) after one training-mode batch norm on copies of the fixture's.</summary>
    private static Tensor RunningStatsAfterTraining(Tensor[] x, double momentum)
    {
        var (runningMean, runningVar) = (x[1].Clone(), x[2].Clone());
        Tensor.BatchNorm(x[0], runningMean, runningVar, training: true, momentum: momentum);
        return Tensor.Stack([runningMean, runningVar]);
    }

    public static TheoryData<string> CaseNames() => new(Fixture.CaseNames);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        Assert.True(Cases.ContainsKey(name), $"fixture case '{name}' has no C# counterpart");
        var (run, tol) = Cases[name];
        Fixture.Check(name, run, tol, tol);
    }

    [Fact]
    public void EveryCaseHasAFixture() => Assert.Empty(Cases.Keys.Except(Fixture.CaseNames));
}
