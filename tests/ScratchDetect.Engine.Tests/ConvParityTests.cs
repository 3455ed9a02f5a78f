namespace ScratchDetect.Engine.Tests;

/// <summary>conv2d against PyTorch 1.13 (fixtures from tools/parity/conv.py).</summary>
public class ConvParityTests : ParityTests<ConvParityTests>, IParityFamily
{
    public static string Family => "conv";

    // Sums of up to 288 products of O(1) terms accumulated in another order (packed GEMM vs
    // oneDNN); rounding grows like sqrt(k)·eps·sum|terms| with float32 eps 6e-8, ~1e-5 for k = 288:
    // 5e-5. (PyTorch's own outputs for these cases move by up to 6e-6 between machines.)
    private const double ConvTol = 5e-5;

    public static IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; } = new Dictionary<string, (Func<Tensor[], Tensor>, double)>
    {
        ["conv_stride2_pad1"] = (x => Tensor.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), ConvTol),
        ["conv_dilation2_pad2"] = (x => Tensor.Conv2d(x[0], x[1], x[2], padding: 2, dilation: 2), ConvTol),
        ["conv_groups2_nobias"] = (x => Tensor.Conv2d(x[0], x[1], stride: (2, 1), padding: 1, groups: 2), ConvTol),
        ["conv_1x1"] = (x => Tensor.Conv2d(x[0], x[1], x[2]), ConvTol),
        ["conv_1x1_stride2"] = (x => Tensor.Conv2d(x[0], x[1], stride: 2), ConvTol),
        ["conv_7x7_stem"] = (x => Tensor.Conv2d(x[0], x[1], stride: 2, padding: 3), ConvTol),
        ["conv_deep_patch"] = (x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1), ConvTol),
    };
}
