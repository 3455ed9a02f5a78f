using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Optim;

/// <summary>
/// Adam with decoupled weight decay, as torch.optim.AdamW (1.13, amsgrad off). For each parameter p
/// with gradient g, in group (lr, λ), at step t (counted per parameter from 1):
/// <code>
/// p = p·(1 - lr·λ)                               (decoupled weight decay, before the moments)
/// m = β1·m + (1 - β1)·g                          (first moment)
/// v = β2·v + (1 - β2)·g²                         (second moment)
/// p = p - (lr / (1 - β1^t))·m / (√v / √(1 - β2^t) + ε)
/// </code>
/// The per-parameter step size adapts to each weight's gradient scale, which lets a small network
/// trained from scratch take large steps without the loss spikes SGD shows at the same pace (the
/// demo's calibration in tools/demo/torch_small_ssd.py). Parameters are updated in place, as
/// <see cref="SGD"/> does.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly Dictionary<Tensor, (Tensor ExpAvg, Tensor ExpAvgSq, long Step)> moments = new(ReferenceEqualityComparer.Instance);

    /// <summary>AdamW over several parameter groups (each group's weight decay is AdamW's decoupled λ).</summary>
    public AdamW(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8) : base(groups)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"adamw: betas ({beta1}, {beta2}) must lie in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"adamw: eps {eps} must be non-negative");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
    }

    /// <summary>AdamW with one group holding all <paramref name="parameters"/> (torch's default weight decay is 0.01).</summary>
    public AdamW(IEnumerable<Tensor> parameters, double learningRate, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], beta1, beta2, eps) { }

    /// <summary>β1: the decay of the first-moment (mean gradient) average.</summary>
    public double Beta1 { get; }

    /// <summary>β2: the decay of the second-moment (mean squared gradient) average.</summary>
    public double Beta2 { get; }

    /// <summary>ε: added to the denominator, so tiny second moments do not blow the step up.</summary>
    public double Eps { get; }

    /// <inheritdoc/>
    public override void Step()
    {
        using var _ = GradMode.NoGrad();
        foreach (var group in Groups)
            foreach (var parameter in group.Parameters)
            {
                if (parameter.Grad is not { } g) continue;
                var (expAvg, expAvgSq, step) = moments.TryGetValue(parameter, out var state)
                    ? state
                    : (parameter.ZerosLike(), parameter.ZerosLike(), 0L);
                step++;
                // One fused pass per parameter (Tensor.AdamWStep), the same values as, op by op:
                //   p = p·(1 - lr·λ); m = m·β1 + g·(1 - β1); v = v·β2 + g·g·(1 - β2)
                //   p = p - m / (√v / √(1 - β2^t) + ε) · lr / (1 - β1^t)
                Tensor.AdamWStep(parameter, g, expAvg, expAvgSq, new(
                    Decay: 1 - group.LearningRate * group.WeightDecay, Beta1, Beta2,
                    StepSize: group.LearningRate / (1 - Math.Pow(Beta1, step)),
                    SecondCorrection: Math.Sqrt(1 - Math.Pow(Beta2, step)), Eps));
                moments[parameter] = (expAvg, expAvgSq, step);
            }
    }

    /// <summary>
    /// The moments and step counts, for resuming training, named as in torch's optimizer state_dict:
    /// "state.{i}.exp_avg", "state.{i}.exp_avg_sq" and "state.{i}.step" (a float32 scalar, as torch
    /// 1.13 keeps it) with i the parameter's position over all groups in order. Parameters that have
    /// not been stepped yet have none. The moments are the live tensors, as torch's: later steps update them in place.
    /// </summary>
    public override OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (index, parameter) in AllParameters())
            if (moments.TryGetValue(parameter, out var m))
            {
                state.Add(Key(index, "exp_avg"), m.ExpAvg);
                state.Add(Key(index, "exp_avg_sq"), m.ExpAvgSq);
                state.Add(Key(index, "step"), Tensor.Scalar(m.Step));
            }
        return state;
    }

    /// <summary>
    /// Restores the state saved by <see cref="StateDict"/> from an optimizer over parameters of the same
    /// shapes in the same order; parameters without saved state start afresh. Unknown keys, incomplete
    /// entries and shape mismatches throw, naming them, before anything changes.
    /// </summary>
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var parameters = AllParameters().ToDictionary(p => p.Index, p => p.Parameter);
        var problems = new List<string>();
        var entries = new Dictionary<int, (Tensor? ExpAvg, Tensor? ExpAvgSq, Tensor? Step)>();
        foreach (var (key, value) in state)
        {
            var parts = key.Split('.');
            if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], out int index) || !parameters.ContainsKey(index)
                || parts[2] is not ("exp_avg" or "exp_avg_sq" or "step"))
            {
                problems.Add($"unexpected key {key}");
                continue;
            }
            if (parts[2] != "step" && !value.Shape.SequenceEqual(parameters[index].Shape))
                problems.Add($"{key} has shape {Shapes.Format(value.Shape)} but its parameter {Shapes.Format(parameters[index].Shape)}");
            var entry = entries.GetValueOrDefault(index);
            entries[index] = parts[2] switch
            {
                "exp_avg" => entry with { ExpAvg = value },
                "exp_avg_sq" => entry with { ExpAvgSq = value },
                _ => entry with { Step = value },
            };
        }
        foreach (var (index, entry) in entries)
            if (entry.ExpAvg is null || entry.ExpAvgSq is null || entry.Step is null)
                problems.Add($"state.{index} lacks one of exp_avg, exp_avg_sq and step");
        if (problems.Count > 0)
            throw new ArgumentException($"adamw load_state_dict: the state does not fit this optimizer's {parameters.Count} parameters: {string.Join("; ", problems)}");
        moments.Clear();
        using var _ = GradMode.NoGrad();
        foreach (var (index, entry) in entries)
        {
            var parameter = parameters[index];
            moments[parameter] = (entry.ExpAvg!.To(parameter.DType).To(parameter.Device).Clone(), entry.ExpAvgSq!.To(parameter.DType).To(parameter.Device).Clone(),
                (long)entry.Step!.Item());
        }
    }

    private static string Key(int index, string name) => $"state.{index}.{name}";
}
