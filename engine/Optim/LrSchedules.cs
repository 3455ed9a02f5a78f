namespace ScratchDetect.Engine.Optim;

/// <summary>
/// A learning-rate schedule: the factor by which the base learning rate is multiplied at a step
/// (an iteration or an epoch, whichever the schedule counts). Schedules are pure functions of the
/// step, so resuming training needs nothing but the step; apply one with
/// <see cref="Optimizer.SetLearningRateFactor"/>.
/// </summary>
public interface ILrSchedule
{
    /// <summary>The factor at step <paramref name="step"/> (0 for the first step).</summary>
    double Factor(int step);
}

/// <summary>
/// Linear warm-up, as torch.optim.lr_scheduler.LinearLR with end factor 1: the factor rises from
/// <c>startFactor</c> at step 0 to 1 at step <c>iterations</c> and stays there.
/// </summary>
public sealed class LinearWarmup : ILrSchedule
{
    /// <summary>Warm-up from <paramref name="startFactor"/> over <paramref name="iterations"/> steps.</summary>
    public LinearWarmup(double startFactor, int iterations)
    {
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), $"linear warm-up: start factor {startFactor} must be in (0, 1]");
        if (iterations < 0) throw new ArgumentOutOfRangeException(nameof(iterations), $"linear warm-up: {iterations} iterations");
        StartFactor = startFactor;
        Iterations = iterations;
    }

    /// <summary>The factor at step 0.</summary>
    public double StartFactor { get; }

    /// <summary>The step from which the factor is 1.</summary>
    public int Iterations { get; }

    /// <inheritdoc/>
    public double Factor(int step) => step >= Iterations ? 1 : StartFactor + (1 - StartFactor) * step / Iterations;
}

/// <summary>
/// Step decay, as torch.optim.lr_scheduler.MultiStepLR: the factor is multiplied by
/// <c>gamma</c> at each milestone, i.e. gamma^(number of milestones ≤ step).
/// </summary>
public sealed class MultiStepLR : ILrSchedule
{
    private readonly int[] milestones;

    /// <summary>Decay by <paramref name="gamma"/> at each of <paramref name="milestones"/> (a repeated milestone decays twice, as torch's Counter does).</summary>
    public MultiStepLR(IEnumerable<int> milestones, double gamma = 0.1)
    {
        this.milestones = milestones.Order().ToArray();
        Gamma = gamma;
    }

    /// <summary>The steps at which the rate decays, sorted.</summary>
    public IReadOnlyList<int> Milestones => milestones;

    /// <summary>The decay per milestone.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public double Factor(int step) => Math.Pow(Gamma, milestones.Count(m => m <= step));
}

/// <summary>
/// Several schedules over the same steps, multiplied: what stepping several torch schedulers on one
/// optimizer amounts to (torch.optim.lr_scheduler.ChainedScheduler), e.g. warm-up and decay counted in iterations.
/// </summary>
public sealed class ChainedSchedule(params ILrSchedule[] schedules) : ILrSchedule
{
    /// <inheritdoc/>
    public double Factor(int step) => schedules.Aggregate(1.0, (factor, schedule) => factor * schedule.Factor(step));
}

/// <summary>
/// The schedule of torchvision's detection references (references/detection/train.py and
/// engine.py): a linear warm-up over the first iterations of epoch 0, stepped per iteration, times
/// a multi-step decay stepped per epoch.
/// </summary>
public sealed class WarmupThenMultiStep(LinearWarmup warmup, MultiStepLR decay)
{
    /// <summary>The references' warm-up: factor 1/1000 over min(1000, iterations per epoch - 1) iterations.</summary>
    public static LinearWarmup ReferenceWarmup(int iterationsPerEpoch) => new(1.0 / 1000, Math.Min(1000, iterationsPerEpoch - 1));

    /// <summary>The factor for iteration <paramref name="iteration"/> (counted within the epoch) of epoch <paramref name="epoch"/>.</summary>
    public double Factor(int epoch, int iteration) => (epoch == 0 ? warmup.Factor(iteration) : 1) * decay.Factor(epoch);
}
