namespace ScratchDetect.Engine.Tests;

/// <summary>Softmax, losses and L2Norm against PyTorch 1.13 (fixtures from tools/parity/losses.py).</summary>
public class LossesParityTests
{
    private static readonly ParityFixture Fixture = ParityFixture.Load("losses");

    // Tolerances: float32 (eps 6e-8). Softmax-based results sum up to 91 exponentials in another
    // order than PyTorch's vectorised kernel and reductions (means, sums over up to 160 terms)
    // reorder additions too: a few ulps per term, ~1e-6 relative, so 1e-5. Element-wise losses
    // and normalisation differ by a few ulps of their exp/log/sqrt: 1e-6 would do; 1e-5 keeps
    // one constant. Any real mistake (wrong weight, wrong mean denominator, missing ignore) is O(1e-2) or more.
    private const double Tol = 1e-5;

    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Cases = new()
    {
        ["softmax_scores"] = x => Tensor.Softmax(x[0], 1),
        ["softmax_axis1_4d"] = x => Tensor.Softmax(x[0], 1),
        ["log_softmax_last"] = x => Tensor.LogSoftmax(x[0], -1),
        ["log_softmax_axis0"] = x => Tensor.LogSoftmax(x[0], 0),
        ["log_softmax_large"] = x => Tensor.LogSoftmax(x[0], 1),
        ["cross_entropy_mean"] = x => Tensor.CrossEntropy(x[0], x[1]),
        ["cross_entropy_weight_ignore"] = x => Tensor.CrossEntropy(x[0], x[1], x[2]),
        ["cross_entropy_custom_ignore_sum"] = x => Tensor.CrossEntropy(x[0], x[1], ignoreIndex: 2, reduction: Reduction.Sum),
        ["cross_entropy_none"] = x => Tensor.CrossEntropy(x[0], x[1], x[2], reduction: Reduction.None),
        ["cross_entropy_4d"] = x => Tensor.CrossEntropy(x[0], x[1]),
        ["cross_entropy_all_ignored"] = x => Tensor.CrossEntropy(x[0], x[1]),
        ["bce_logits_mean"] = x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1]),
        ["bce_logits_weight_pos_weight_sum"] = x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], x[2], x[3], Reduction.Sum),
        ["bce_logits_none_extreme"] = x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], reduction: Reduction.None),
        ["smooth_l1_beta_ninth_sum"] = x => Tensor.SmoothL1(x[0], x[1], 1.0 / 9, Reduction.Sum),
        ["smooth_l1_beta1_mean"] = x => Tensor.SmoothL1(x[0], x[1], 1.0),
        ["smooth_l1_beta0_none"] = x => Tensor.SmoothL1(x[0], x[1], 0, Reduction.None),
        ["l2norm_ssd"] = x => Tensor.L2Norm(x[0], x[1]),
        ["normalize_torchvision"] = x => Tensor.Normalize(x[0]) * x[1].Reshape(1, -1, 1, 1),
    };

    public static TheoryData<string> CaseNames() => new(Fixture.CaseNames);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        Assert.True(Cases.ContainsKey(name), $"fixture case '{name}' has no C# counterpart");
        Fixture.Check(name, Cases[name], Tol, Tol);
    }

    [Fact]
    public void EveryCaseHasAFixture() => Assert.Empty(Cases.Keys.Except(Fixture.CaseNames));
}
