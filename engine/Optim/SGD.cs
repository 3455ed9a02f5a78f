using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, as torch.optim.SGD (1.13). For each parameter p with
/// gradient g, in group (lr, λ):
/// <code>
/// d = g + λ·p                                   (weight decay, before momentum)
/// b = d on the first step, else μ·b + (1 - τ)·d (momentum buffer, dampening τ)
/// d = d + μ·b if nesterov, else b
/// p = p - lr·d
/// </code>
/// Parameters are updated in place (outside autograd), so layers keep their tensors and graphs that
/// saved the old values are detected as stale. Momentum μ, dampening τ and Nesterov apply to all
/// groups; learning rate and weight decay are per group.
/// </summary>
public sealed class SGD : Optimizer
{
    private readonly Dictionary<Tensor, Tensor> momentumBuffers = new(ReferenceEqualityComparer.Instance);

    /// <summary>SGD over several parameter groups.</summary>
    public SGD(IEnumerable<ParameterGroup> groups, double momentum = 0, double dampening = 0, bool nesterov = false) : base(groups)
    {
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), $"sgd: momentum {momentum} is negative");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"sgd: Nesterov momentum needs momentum > 0 and zero dampening (momentum {momentum}, dampening {dampening})");
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    /// <summary>SGD with one group holding all <paramref name="parameters"/>.</summary>
    public SGD(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], momentum, dampening, nesterov) { }

    /// <summary>μ: how much of the previous update direction is kept.</summary>
    public double Momentum { get; }

    /// <summary>τ: the fraction of each new gradient left out of the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>Whether to step along the look-ahead direction d + μ·b.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override void Step()
    {
        using var _ = GradMode.NoGrad();
        foreach (var group in Groups)
            foreach (var parameter in group.Parameters)
            {
                if (parameter.Grad is not { } gradient) continue;
                Tensor? buffer = null;
                bool first = false;
                if (Momentum != 0 && !momentumBuffers.TryGetValue(parameter, out buffer))
                {
                    momentumBuffers[parameter] = buffer = parameter.ZerosLike();
                    first = true;
                }
                // One fused pass per parameter (Tensor.SgdStep), in place as PyTorch's mul_().add_(), the same values as, op by op:
                //   d = g + p·λ; b = d on the first step, else b·μ + d·(1 - τ); d = d + b·μ (Nesterov) or b; p = p - d·lr
                Tensor.SgdStep(parameter, gradient, buffer, new(group.LearningRate, group.WeightDecay, Momentum, Dampening, Nesterov, first));
            }
    }

    /// <summary>
    /// The momentum buffers, for resuming training, named as in torch's optimizer state_dict:
    /// "state.{i}.momentum_buffer" with i the parameter's position over all groups in order.
    /// Parameters that have not been stepped yet have none.
    /// </summary>
    public override OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (index, parameter) in AllParameters())
            if (momentumBuffers.TryGetValue(parameter, out var buffer))
                state.Add(BufferKey(index), buffer);
        return state;
    }

    /// <summary>
    /// Restores momentum buffers saved by <see cref="StateDict"/> from an optimizer over parameters of
    /// the same shapes in the same order; parameters without a saved buffer start afresh. Unknown keys
    /// and shape mismatches throw, naming them, before anything changes.
    /// </summary>
    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var parameters = AllParameters().ToDictionary(p => BufferKey(p.Index), p => p.Parameter);
        var problems = state.Keys.Where(k => !parameters.ContainsKey(k)).Select(k => $"unexpected key {k}")
            .Concat(state.Where(e => parameters.TryGetValue(e.Key, out var p) && !p.Shape.SequenceEqual(e.Value.Shape))
                .Select(e => $"{e.Key} has shape {Shapes.Format(e.Value.Shape)} but its parameter {Shapes.Format(parameters[e.Key].Shape)}"))
            .ToList();
        if (problems.Count > 0)
            throw new ArgumentException($"sgd load_state_dict: the state does not fit this optimizer's {parameters.Count} parameters: {string.Join("; ", problems)}");
        momentumBuffers.Clear();
        using var _ = GradMode.NoGrad();
        foreach (var (key, buffer) in state)
            momentumBuffers[parameters[key]] = buffer.To(parameters[key].DType).Clone();
    }

    private static string BufferKey(int index) => $"state.{index}.momentum_buffer";
}
