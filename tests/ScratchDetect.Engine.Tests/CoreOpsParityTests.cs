using ScratchDetect.Engine;

namespace ScratchDetect.Engine.Tests;

/// <summary>Core ops against PyTorch 1.13 (fixtures from tools/parity/core_ops.py).</summary>
public class CoreOpsParityTests : ParityTests<CoreOpsParityTests>, IParityFamily
{
    public static string Family => "core_ops";

    // Tolerances: float32 has a 6e-8 relative epsilon. Element-wise results differ from PyTorch's
    // by at most a few ulps (different exp/log implementations): 1e-6 relative. Sums and matrix
    // products accumulate up to 70 terms in another order: rounding grows like sqrt(k)·eps·|terms|,
    // ~1e-6 for these O(1)-valued inputs, so 1e-5 absolute.
    // Index results (argmax, nonzero) must be exact: tolerance 0.
    private const double ElementwiseTol = 1e-6, AccumulatingTol = 1e-5;

    public static IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; } = new Dictionary<string, (Func<Tensor[], Tensor>, double)>
    {
        ["add_broadcast"] = (x => x[0] + x[1], ElementwiseTol),
        ["sub_broadcast"] = (x => x[0] - x[1], ElementwiseTol),
        ["mul"] = (x => x[0] * x[1], ElementwiseTol),
        ["div"] = (x => x[0] / x[1], ElementwiseTol),
        ["exp"] = (x => x[0].Exp(), ElementwiseTol),
        ["log"] = (x => x[0].Log(), ElementwiseTol),
        ["sqrt"] = (x => x[0].Sqrt(), ElementwiseTol),
        ["pow_scalar"] = (x => x[0].Pow(2.5), ElementwiseTol),
        ["abs"] = (x => x[0].Abs(), ElementwiseTol),
        ["relu"] = (x => x[0].Relu(), ElementwiseTol),
        ["sigmoid"] = (x => x[0].Sigmoid(), ElementwiseTol),
        ["tanh"] = (x => x[0].Tanh(), ElementwiseTol),
        ["clamp"] = (x => x[0].Clamp(-0.5, 0.5), ElementwiseTol),
        ["maximum"] = (x => Tensor.Maximum(x[0], x[1]), ElementwiseTol),
        ["where"] = (x => Tensor.Where(x[0], x[1], x[2]), ElementwiseTol),
        ["sum_axes"] = (x => x[0].Sum([0, 2], keepDim: true), AccumulatingTol),
        ["mean_axis"] = (x => x[0].Mean(-1), AccumulatingTol),
        ["max_axis"] = (x => x[0].Max(1).Values, ElementwiseTol),
        ["matmul_2d"] = (x => Tensor.Matmul(x[0], x[1]), AccumulatingTol),
        ["matmul_batched"] = (x => Tensor.Matmul(x[0], x[1]), AccumulatingTol),
        ["linear"] = (x => Tensor.Linear(x[0], x[1], x[2]), AccumulatingTol),
        ["permute"] = (x => x[0].Permute(2, 0, 1), ElementwiseTol),
        ["narrow"] = (x => x[0].Narrow(1, 2, 3), ElementwiseTol),
        ["cat"] = (x => Tensor.Cat([x[0], x[1]], 1), ElementwiseTol),
        ["index_select"] = (x => x[0].IndexSelect(0, x[1]), ElementwiseTol),
        ["gather"] = (x => x[0].Gather(1, x[1]), ElementwiseTol),
        ["masked_select"] = (x => x[0].MaskedSelect(x[1]), ElementwiseTol),
        ["sort_desc"] = (x => x[0].Sort(1, descending: true).Values, ElementwiseTol),
        ["topk"] = (x => x[0].TopK(3).Values, ElementwiseTol),
        ["neg"] = (x => -x[0], ElementwiseTol),
        ["minimum"] = (x => Tensor.Minimum(x[0], x[1]), ElementwiseTol),
        ["pow_tensor"] = (x => Tensor.Pow(x[0], x[1]), ElementwiseTol),
        ["min_axis"] = (x => x[0].Min(0, keepDim: true).Values, ElementwiseTol),
        ["reshape"] = (x => x[0].Reshape(4, -1) * Tensor.Arange(0, 6, 1, DType.Float32, x[0].Device), ElementwiseTol),
        ["flatten"] = (x => x[0].Flatten(1, 2), ElementwiseTol),
        ["transpose"] = (x => x[0].Transpose(0, 2), ElementwiseTol),
        ["expand"] = (x => x[0].Expand(2, 3, 4), ElementwiseTol),
        ["stack"] = (x => Tensor.Stack([x[0], x[1]], 1), ElementwiseTol),
        ["split_second"] = (x => x[0].Split([1, 3], 0)[1], ElementwiseTol),
        ["argmax"] = (x => x[0].Argmax(1), 0),
        ["nonzero"] = (x => x[0].Gt(0).Nonzero(), 0),
    };
}
