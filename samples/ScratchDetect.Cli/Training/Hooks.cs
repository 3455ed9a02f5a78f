using System.Globalization;
using ScratchDetect.Cli.Support;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Training;

/// <summary>Appends every iteration to the run's metrics.</summary>
internal sealed class MetricsHook(RunMetrics metrics) : ITrainingHook
{
    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result) => metrics.Add(result);
}

/// <summary>
/// Shows training progress as a step of <see cref="ConsoleProgress"/>: the loss and its terms, the
/// learning rate, images per second and the time left (at this invocation's average pace). A
/// terminal's live bar shows every iteration; plain output prints the same line every
/// <c>printEvery</c> iterations and at the end of each epoch, which stays readable in logs and pipes.
/// </summary>
internal sealed class ProgressHook(ConsoleProgress progress, int printEvery) : ITrainingHook
{
    private ConsoleProgress.ProgressStep? step;
    private double seconds;
    private int images, iterations;

    /// <inheritdoc/>
    public void BeforeTraining(Trainer trainer)
    {
        step = progress.Step($"training {trainer.Epochs} epochs of {trainer.BatchesPerEpoch} iterations from epoch {trainer.Position.Epoch}, batch {trainer.Position.Batch}", trainer.TotalIterations);
        if (trainer.Iteration > 0) step.Report(trainer.Iteration, "resuming", print: false);
    }

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result)
    {
        seconds += result.Seconds;
        images += result.ImageIds.Count;
        iterations++;
        bool epochEnd = result.Batch == trainer.BatchesPerEpoch - 1;
        var terms = string.Join(" ", result.Losses.Select(l => $"{l.Key} {l.Value:F4}"));
        var eta = TimeSpan.FromSeconds(seconds / iterations * (trainer.TotalIterations - trainer.Iteration));
        string where = $"epoch {result.Epoch} [{result.Batch + 1}/{trainer.BatchesPerEpoch}]";
        step?.Report(trainer.Iteration, string.Create(CultureInfo.InvariantCulture,
            $"{where} iter {result.Iteration} loss {result.Loss:F4} ({terms}) lr {result.LearningRate:G4} {images / seconds:F1} img/s eta {Format(eta)}"),
            print: iterations == 1 || result.Iteration % printEvery == 0 || epochEnd,
            brief: string.Create(CultureInfo.InvariantCulture, $"{where} loss {result.Loss:F4} lr {result.LearningRate:G4} {images / seconds:F1} img/s eta {Format(eta)}"));
    }

    /// <inheritdoc/>
    public void AfterTraining(Trainer trainer, TrainingOutcome outcome) => step?.Complete(outcome == TrainingOutcome.Completed ? "done" : "stopped");

    private static string Format(TimeSpan span) => span.TotalHours >= 1 ? $"{(int)span.TotalHours}:{span:mm\\:ss}" : $"{span:mm\\:ss}";
}

/// <summary>
/// Reports what the data loader left out: each unusable sample once, as soon as it is skipped
/// (or, with --strict, loading stops at it), and after each epoch a count of the boxes that were
/// dropped (degenerate, or outside the image) or clipped.
/// </summary>
internal sealed class DataProblemsHook(VocTrainingSet trainingSet, TextWriter output) : ITrainingHook
{
    private readonly HashSet<DatasetProblem> reported = [];

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result)
    {
        foreach (var problem in trainingSet.Problems.Where(p => p.Severity == ProblemSeverity.Error && reported.Add(p)))
            output.WriteLine($"warning: skipped unusable sample: {problem}");
    }

    /// <inheritdoc/>
    public void AfterEpoch(Trainer trainer, int epoch)
    {
        var warnings = trainingSet.Problems.Where(p => p.Severity == ProblemSeverity.Warning).ToArray();
        var degenerate = warnings.Count(p => p.Kind == ProblemKind.DegenerateBox || (p.Kind == ProblemKind.BoxOutsideImage && p.Message.EndsWith("dropped", StringComparison.Ordinal)));
        if (degenerate + trainer.DroppedBoxes > 0)
            output.WriteLine($"warning: {degenerate + trainer.DroppedBoxes} degenerate boxes dropped so far ({degenerate} in annotations, " +
                             $"{trainer.DroppedBoxes} after augmentation){(warnings.Length > 0 ? $"; first: {warnings[0]}" : "")}");
        if (trainingSet.SkippedSamples > 0)
            output.WriteLine($"warning: {trainingSet.SkippedSamples} unusable samples skipped so far (run `scratchdetect dataset check` for the list)");
    }
}

/// <summary>
/// Evaluates on the validation split after each epoch (<c>every</c> 0) or every <c>every</c>
/// iterations and at the end: VOC07 and VOC12 mAP into the metrics and the per-class table printed.
/// </summary>
internal sealed class EvalHook(VocDataset dataset, IReadOnlyList<string> ids, int every, RunMetrics metrics, TextWriter output) : ITrainingHook
{
    private long lastEvaluated = -1;

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result)
    {
        if (every > 0 && trainer.Iteration % every == 0) Evaluate(trainer, result.Epoch);
    }

    /// <inheritdoc/>
    public void AfterEpoch(Trainer trainer, int epoch)
    {
        if (every == 0) Evaluate(trainer, epoch);
    }

    /// <inheritdoc/>
    public void AfterTraining(Trainer trainer, TrainingOutcome outcome)
    {
        if (outcome == TrainingOutcome.Completed) Evaluate(trainer, trainer.Epochs - 1);
    }

    private void Evaluate(Trainer trainer, int epoch)
    {
        if (lastEvaluated == trainer.Iteration) return;
        lastEvaluated = trainer.Iteration;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var scores = DetectorEvaluation.Run(trainer.Model, dataset, ids);
        foreach (var problem in scores.Unreadable) output.WriteLine($"warning: evaluation skipped an unreadable image: {problem}");
        metrics.Add(new EvalPoint(trainer.Iteration, epoch, scores.Voc07.Map, scores.Voc12.Map));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval after iteration {trainer.Iteration} (epoch {epoch}) on {ids.Count} images in {watch.Elapsed.TotalSeconds:F1} s: VOC07 mAP {scores.Voc07.Map:F4}, VOC12 mAP {scores.Voc12.Map:F4}"));
        output.WriteLine(scores.Voc07.ToTable());
    }
}

/// <summary>Writes a checkpoint after each epoch and when the run ends or is stopped.</summary>
internal sealed class CheckpointHook(string model, string runDirectory, TextWriter output) : ITrainingHook
{
    private long lastSaved = -1;

    /// <inheritdoc/>
    public void AfterEpoch(Trainer trainer, int epoch) => Save(trainer);

    /// <inheritdoc/>
    public void AfterTraining(Trainer trainer, TrainingOutcome outcome) => Save(trainer);

    private void Save(Trainer trainer)
    {
        if (lastSaved == trainer.Iteration) return;
        lastSaved = trainer.Iteration;
        Checkpoint.Of(model, trainer).Save(runDirectory);
        output.WriteLine($"checkpoint: {Path.Combine(runDirectory, Checkpoint.FileName)} (next: epoch {trainer.Position.Epoch}, batch {trainer.Position.Batch}; weights in {Checkpoint.WeightsFileName})");
    }
}

/// <summary>Asks the trainer to stop after a number of iterations of this invocation (--stop-after).</summary>
internal sealed class StopAfterHook(int iterations) : ITrainingHook
{
    private int done;

    /// <summary>Whether the count has been reached.</summary>
    public bool Reached => done >= iterations;

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result) => done++;
}
