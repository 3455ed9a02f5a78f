namespace ScratchDetect.Engine.Tests;

/// <summary>Nearest and bilinear interpolate against PyTorch 1.13 (fixtures from tools/parity/interpolate.py).</summary>
public class InterpolateParityTests : ParityTests<InterpolateParityTests>, IParityFamily
{
    public static string Family => "interpolate";

    // Tolerances (float32 epsilon 6e-8; inputs are O(1)):
    // - Nearest: the output is a selection (exact), but the gradient adds up to 4 terms per input in
    //   another grouping (width pass, then height pass): a few ulps of O(1) sums, 1e-6.
    // - Bilinear: two weighted taps per axis with weights computed as PyTorch does; rounding differs
    //   at most in the last bits of a few products: 1e-6.
    // The cases from nearest_fpn_double on (odd sizes, factors below and above 1, 1xN and Nx1, the
    // detectors' configurations, float64), largest differences seen in brackets:
    // - Nearest: the gradient sums up to 6 terms below 10 in another order: two ulps, 2e-6 [4.8e-7].
    // - Bilinear: torch's CPU kernel forms the source position in double, we in float32 (see
    //   CpuBackend.LinearTaps), so a weight can differ by an ulp of the source: 3.8e-6 at positions up
    //   to 32, times pixel or gradient differences up to ~5: 2e-5 [3.6e-6].
    // - float64: the same at float64's epsilon: 1e-12 [2.2e-16].
    private const double NearestTol = 1e-6, BilinearTol = 1e-6, NearestSumTol = 2e-6, BilinearSourceTol = 2e-5, Float64Tol = 1e-12;

    public static IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; } = new Dictionary<string, (Func<Tensor[], Tensor>, double)>
    {
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
        ["nearest_fpn_double"] = (x => Tensor.Interpolate(x[0], size: (14, 18)), NearestSumTol),
        ["nearest_fpn_odd_lateral"] = (x => Tensor.Interpolate(x[0], size: (25, 34)), NearestSumTol),
        ["nearest_size_up_h_down_w"] = (x => Tensor.Interpolate(x[0], size: (11, 3)), NearestSumTol),
        ["nearest_scale_0_45"] = (x => Tensor.Interpolate(x[0], scaleFactor: (0.45, 0.45)), NearestSumTol),
        ["nearest_scale_2_3_x_1_6"] = (x => Tensor.Interpolate(x[0], scaleFactor: (2.3, 1.6)), NearestSumTol),
        ["nearest_row_1xN"] = (x => Tensor.Interpolate(x[0], size: (3, 40)), NearestSumTol),
        ["nearest_column_Nx1"] = (x => Tensor.Interpolate(x[0], size: (40, 1)), NearestSumTol),
        ["nearest_float64_scale_0_7"] = (x => Tensor.Interpolate(x[0], scaleFactor: (0.7, 0.7)), Float64Tol),
        ["bilinear_transform_recompute_1_777"] = (x => Bilinear(x[0], scaleFactor: (1.777, 1.777), recompute: true), BilinearSourceTol),
        ["bilinear_transform_recompute_0_61"] = (x => Bilinear(x[0], scaleFactor: (0.61, 0.61), recompute: true), BilinearSourceTol),
        ["bilinear_scale_0_55"] = (x => Bilinear(x[0], scaleFactor: (0.55, 0.55)), BilinearSourceTol),
        ["bilinear_scale_1_83_x_0_7"] = (x => Bilinear(x[0], scaleFactor: (1.83, 0.7)), BilinearSourceTol),
        ["bilinear_size_13_4"] = (x => Bilinear(x[0], size: (13, 4)), BilinearSourceTol),
        ["bilinear_same_width"] = (x => Bilinear(x[0], size: (10, 9)), BilinearSourceTol),
        ["bilinear_row_1xN"] = (x => Bilinear(x[0], size: (3, 31)), BilinearSourceTol),
        ["bilinear_column_Nx1"] = (x => Bilinear(x[0], size: (7, 1)), BilinearSourceTol),
        ["bilinear_one_pixel_to_5x4"] = (x => Bilinear(x[0], size: (5, 4)), BilinearSourceTol),
        ["bilinear_float64_scale_0_6"] = (x => Bilinear(x[0], scaleFactor: (0.6, 0.6)), Float64Tol),
    };

    private static Tensor Bilinear(Tensor x, Size2d? size = null, (double, double)? scaleFactor = null, bool? recompute = null) =>
        Tensor.Interpolate(x, size, scaleFactor, InterpolateMode.Bilinear, recompute);
}
