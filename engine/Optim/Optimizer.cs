using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Optim;

/// <summary>
/// Parameters that share hyper-parameters, as an entry of torch's <c>optimizer.param_groups</c>:
/// for example torchvision's detection references put normalisation weights in a group without
/// weight decay.
/// </summary>
public sealed class ParameterGroup
{
    /// <summary>A group trained at <paramref name="learningRate"/> with L2 penalty <paramref name="weightDecay"/>.</summary>
    public ParameterGroup(IEnumerable<Tensor> parameters, double learningRate, double weightDecay = 0)
    {
        Parameters = parameters.ToList();
        if (Parameters.FirstOrDefault(p => !p.IsLeaf || !p.DType.IsFloatingPoint()) is { } bad)
            throw new ArgumentException($"optimizer: parameters must be floating-point leaves, not a {bad.DType.Name()} {Shapes.Format(bad.Shape)}{(bad.IsLeaf ? "" : " made by an op")}");
        if (learningRate < 0) throw new ArgumentOutOfRangeException(nameof(learningRate), $"optimizer: learning rate {learningRate} is negative");
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"optimizer: weight decay {weightDecay} is negative");
        BaseLearningRate = learningRate;
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The tensors this group updates.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The learning rate the group was created with, which schedules scale (torch's <c>initial_lr</c>).</summary>
    public double BaseLearningRate { get; }

    /// <summary>The learning rate of the next step.</summary>
    public double LearningRate { get; set; }

    /// <summary>The L2 penalty coefficient: λ·p is added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <summary>
    /// The trainable parameters of <paramref name="model"/> split as torchvision's
    /// split_normalization_params: those owned directly by normalisation modules (as told by
    /// <paramref name="isNormalization"/>) and all others, each in <see cref="Module.NamedParameters"/>
    /// order. The detection references train the first with their own weight decay (--norm-weight-decay).
    /// </summary>
    public static (List<Tensor> Normalization, List<Tensor> Other) SplitNormalization(Module model, Func<Module, bool> isNormalization)
    {
        var normalization = new List<Tensor>();
        var other = new List<Tensor>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (_, module) in model.NamedModules())
            foreach (var (_, parameter) in module.NamedParameters(recurse: false))
                if (parameter.RequiresGrad && seen.Add(parameter))
                    (isNormalization(module) ? normalization : other).Add(parameter);
        return (normalization, other);
    }
}

/// <summary>An optimizer: updates its groups' parameters from their gradients.</summary>
public abstract class Optimizer
{
    /// <summary>An optimizer over <paramref name="groups"/>; a tensor may belong to one group only.</summary>
    protected Optimizer(IEnumerable<ParameterGroup> groups)
    {
        Groups = groups.ToList();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var parameter in Groups.SelectMany(g => g.Parameters))
            if (!seen.Add(parameter))
                throw new ArgumentException($"optimizer: the parameter {Shapes.Format(parameter.Shape)} appears twice in the parameter groups");
    }

    /// <summary>The parameter groups, in the order given.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Updates every parameter that has a gradient; parameters without one are skipped.</summary>
    public abstract void Step();

    /// <summary>The per-parameter state (momentum buffers, moments), for resuming training, under torch's optimizer state_dict names.</summary>
    public abstract OrderedDictionary<string, Tensor> StateDict();

    /// <summary>Restores a state saved by <see cref="StateDict"/> from an optimizer of the same kind over parameters of the same shapes; throws, naming what does not fit, before anything changes.</summary>
    public abstract void LoadStateDict(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>Every parameter with its position over all groups in order: the i of torch's "state.{i}..." keys.</summary>
    protected IEnumerable<(int Index, Tensor Parameter)> AllParameters() => Groups.SelectMany(g => g.Parameters).Select((p, i) => (i, p));

    /// <summary>Forgets all gradients (sets them to null, as torch's <c>zero_grad(set_to_none=True)</c>), so the next backward starts afresh.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Groups.SelectMany(g => g.Parameters)) parameter.Grad = null;
    }

    /// <summary>Sets every group's learning rate to its base rate times <paramref name="factor"/> (the value of a schedule).</summary>
    public void SetLearningRateFactor(double factor)
    {
        if (!(factor >= 0)) throw new ArgumentOutOfRangeException(nameof(factor), $"optimizer: learning-rate factor {factor} must be non-negative");
        foreach (var group in Groups) group.LearningRate = group.BaseLearningRate * factor;
    }
}
