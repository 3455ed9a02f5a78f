using System.Diagnostics;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Samples;
using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Training;

/// <summary>Where a run stands: the next batch to train, as (epoch, batch within the epoch).</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="Batch">The batch within the epoch, from 0.</param>
internal readonly record struct TrainingPosition(int Epoch, int Batch);

/// <summary>What one iteration did.</summary>
/// <param name="Iteration">The iteration over the whole run, from 0.</param>
/// <param name="Epoch">Its epoch.</param>
/// <param name="Batch">Its batch within the epoch.</param>
/// <param name="Losses">Each loss term's value, in the detector's order.</param>
/// <param name="Loss">Their sum, which was minimised.</param>
/// <param name="LearningRate">The learning rate of the step.</param>
/// <param name="ImageIds">The batch's images.</param>
/// <param name="Seconds">Wall time of the iteration, loading included.</param>
internal sealed record IterationResult(long Iteration, int Epoch, int Batch, IReadOnlyList<KeyValuePair<string, double>> Losses, double Loss,
    double LearningRate, IReadOnlyList<string> ImageIds, double Seconds);

/// <summary>How <see cref="Trainer.Run"/> ended.</summary>
internal enum TrainingOutcome
{
    /// <summary>Every epoch ran.</summary>
    Completed,
    /// <summary>A stop was requested (Ctrl-C, --stop-after); the run can be resumed.</summary>
    Stopped,
}

/// <summary>
/// Code that runs at fixed points of training (detectron2's HookBase): progress, metrics,
/// evaluation, checkpoints and plots are hooks, so the loop itself stays small. Hooks run in the
/// order they were added.
/// </summary>
internal interface ITrainingHook
{
    /// <summary>Before the first iteration of this invocation (also when resuming).</summary>
    void BeforeTraining(Trainer trainer) { }

    /// <summary>After each optimizer step.</summary>
    void AfterIteration(Trainer trainer, IterationResult result) { }

    /// <summary>After the last iteration of an epoch (<see cref="Trainer.Position"/> is already the next epoch's start).</summary>
    void AfterEpoch(Trainer trainer, int epoch) { }

    /// <summary>When the run ends by completing or by a requested stop (not after a failure).</summary>
    void AfterTraining(Trainer trainer, TrainingOutcome outcome) { }
}

/// <summary>
/// A loss that is NaN or infinite: training stops before the optimizer step, so the weights and
/// the last checkpoint stay as they were. The message names the iteration, the term and the images.
/// </summary>
internal sealed class NonFiniteLossException(IterationResult result, string term, double value)
    : Exception($"iteration {result.Iteration} (epoch {result.Epoch}, batch {result.Batch}): {term} is {value} " +
                $"for the batch of images {string.Join(", ", result.ImageIds)} " +
                $"(losses: {string.Join(", ", result.Losses.Select(l => $"{l.Key} {l.Value:G6}"))}, lr {result.LearningRate:G6})")
{
    /// <summary>The iteration whose loss was not finite (it made no step).</summary>
    public IterationResult Result { get; } = result;

    /// <summary>The first non-finite term.</summary>
    public string Term { get; } = term;
}

/// <summary>
/// The training loop of torchvision's references/detection/engine.py (train_one_epoch) as a
/// small core: for each batch, set the scheduled learning rate, compute the detector's losses,
/// stop on a non-finite one, step the optimizer on their sum, and call the hooks. Everything that decides
/// the next iteration lives here and is what a checkpoint saves: the model's and optimizer's
/// tensors, <see cref="Position"/> (which fixes the loader's batch, since the loader's output
/// depends on (seed, epoch, index) alone, and the schedule's step) and <see cref="Generator"/>
/// (the detector's samplers).
/// </summary>
internal sealed class Trainer
{
    private readonly BatchLoader<DetectionSample> loader;
    private readonly WarmupThenMultiStep schedule;

    /// <summary>A trainer that continues from <paramref name="start"/>.</summary>
    public Trainer(Detector model, Optimizer optimizer, WarmupThenMultiStep schedule, BatchLoader<DetectionSample> loader,
        Generator generator, int epochs, TrainingPosition start = default)
    {
        if (loader.BatchCount == 0) throw new ArgumentException("trainer: the loader has no batches (fewer samples than one batch?)");
        Model = model;
        Optimizer = optimizer;
        this.schedule = schedule;
        this.loader = loader;
        Generator = generator;
        Epochs = epochs;
        Position = start;
    }

    /// <summary>The detector being trained.</summary>
    public Detector Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The generator the detector's random choices draw from.</summary>
    public Generator Generator { get; private set; }

    /// <summary>Epochs the run trains in all.</summary>
    public int Epochs { get; }

    /// <summary>Iterations per epoch.</summary>
    public int BatchesPerEpoch => loader.BatchCount;

    /// <summary>Iterations in the whole run.</summary>
    public long TotalIterations => (long)Epochs * BatchesPerEpoch;

    /// <summary>The next batch to train.</summary>
    public TrainingPosition Position { get; private set; }

    /// <summary>Iterations done so far over the whole run (the index of the next one).</summary>
    public long Iteration => (long)Position.Epoch * BatchesPerEpoch + Position.Batch;

    /// <summary>The hooks, called in this order.</summary>
    public List<ITrainingHook> Hooks { get; } = [];

    /// <summary>Ids of images the current epoch skipped as unusable.</summary>
    public int SkippedImages { get; private set; }

    /// <summary>Boxes dropped from batches because they had no area or a non-finite coordinate.</summary>
    public int DroppedBoxes { get; private set; }

    /// <summary>Sets the state a checkpoint saved (see <see cref="Checkpoint"/>).</summary>
    public void Restore(TrainingPosition position, Generator generator)
    {
        if (position.Epoch < 0 || position.Batch < 0 || position.Batch >= BatchesPerEpoch)
            throw new ArgumentException($"trainer: position epoch {position.Epoch}, batch {position.Batch} does not fit {BatchesPerEpoch} batches per epoch");
        Position = position;
        Generator = generator;
    }

    /// <summary>
    /// Trains until the last epoch ends or <paramref name="stopRequested"/> says to stop, which is asked
    /// after each iteration (so a stop never splits one).
    /// </summary>
    /// <exception cref="NonFiniteLossException">A loss term was NaN or infinite; no step was made for it.</exception>
    public TrainingOutcome Run(Func<bool> stopRequested)
    {
        Model.Train();
        foreach (var hook in Hooks) hook.BeforeTraining(this);
        while (Position.Epoch < Epochs)
        {
            int epoch = Position.Epoch;
            var watch = Stopwatch.StartNew();
            foreach (var batch in loader.Epoch(epoch, Position.Batch))
            {
                var result = Step(epoch, batch, watch.Elapsed.TotalSeconds);
                Position = batch.Index + 1 < BatchesPerEpoch ? new(epoch, batch.Index + 1) : new(epoch + 1, 0);
                foreach (var hook in Hooks) hook.AfterIteration(this, result);
                watch.Restart();
                if (Position.Epoch == epoch && stopRequested()) return Stop();
            }
            foreach (var hook in Hooks) hook.AfterEpoch(this, epoch);
            if (Position.Epoch < Epochs && stopRequested()) return Stop();
        }
        foreach (var hook in Hooks) hook.AfterTraining(this, TrainingOutcome.Completed);
        return TrainingOutcome.Completed;
    }

    private TrainingOutcome Stop()
    {
        foreach (var hook in Hooks) hook.AfterTraining(this, TrainingOutcome.Stopped);
        return TrainingOutcome.Stopped;
    }

    private IterationResult Step(int epoch, Batch<DetectionSample> batch, double loadSeconds)
    {
        var watch = Stopwatch.StartNew();
        long iteration = (long)epoch * BatchesPerEpoch + batch.Index;
        SkippedImages += batch.Skipped;
        Optimizer.SetLearningRateFactor(schedule.Factor(epoch, batch.Index));
        double learningRate = Optimizer.Groups[0].LearningRate;
        var ids = batch.Items.Select(s => s.Id).ToArray();
        if (batch.Items.Count == 0)
            return new IterationResult(iteration, epoch, batch.Index, [], 0, learningRate, ids, loadSeconds + watch.Elapsed.TotalSeconds);

        var images = batch.Items.Select(s => SampleTensors.Image(s.Image)).ToArray();
        var targets = batch.Items.Select(ToTarget).ToArray();
        var losses = Model.Losses(images, targets, Generator);
        var values = losses.Select(l => KeyValuePair.Create(l.Key, l.Value.Item())).ToArray();
        double total = values.Sum(v => v.Value);
        var result = new IterationResult(iteration, epoch, batch.Index, values, total, learningRate, ids, 0);
        if (values.FirstOrDefault(v => !double.IsFinite(v.Value)) is { Key: not null } bad)
            throw new NonFiniteLossException(result, bad.Key, bad.Value);

        var loss = losses.Values.Aggregate((sum, term) => sum + term);
        Optimizer.ZeroGrad();
        loss.Backward();
        Optimizer.Step();
        return result with { Seconds = loadSeconds + watch.Elapsed.TotalSeconds };
    }

    /// <summary>The sample's objects as a target, leaving out boxes without area or with a non-finite coordinate (counted).</summary>
    private DetectionTarget ToTarget(DetectionSample sample)
    {
        var targets = sample.Targets;
        var keep = Enumerable.Range(0, targets.Count).Where(k =>
        {
            var b = targets.Boxes.AsSpan(4 * k, 4);
            return float.IsFinite(b[0]) && float.IsFinite(b[1]) && float.IsFinite(b[2]) && float.IsFinite(b[3]) && b[2] > b[0] && b[3] > b[1];
        }).ToArray();
        if (keep.Length < targets.Count)
        {
            DroppedBoxes += targets.Count - keep.Length;
            targets = targets.Select(keep, keep.SelectMany(k => targets.Boxes.AsSpan(4 * k, 4).ToArray()).ToArray());
        }
        var (boxes, labels) = SampleTensors.Targets(targets);
        return new DetectionTarget(boxes, labels);
    }
}
