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
    private const double NearestTol = 1e-6, BilinearTol = 1e-6;

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
    };
}
