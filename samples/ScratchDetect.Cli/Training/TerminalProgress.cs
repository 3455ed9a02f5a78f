using System.Globalization;
using System.Text;
using Spectre.Console;

namespace ScratchDetect.Cli.Training;

/// <summary>
/// Progress for a terminal (Spectre.Console): a live bar over the run's iterations with the epoch,
/// the loss, the learning rate, images/s and the time left, while the hooks' lines (evaluation
/// tables, checkpoints, warnings) scroll above it. Pipes and logs get <see cref="ProgressHook"/>'s
/// plain lines instead.
/// </summary>
internal sealed class TerminalProgress : ITrainingHook
{
    private readonly IAnsiConsole console = AnsiConsole.Console;
    private ProgressTask? task;
    private double seconds;
    private int images, iterations;

    /// <summary>A display on the process's terminal.</summary>
    public TerminalProgress() => Writer = new LineWriter(console);

    /// <summary>Whether standard output is a terminal (so live output is wanted).</summary>
    public static bool Wanted => !Console.IsOutputRedirected;

    /// <summary>Where the other hooks write: each line is printed above the live display.</summary>
    public TextWriter Writer { get; }

    /// <summary>Runs <paramref name="train"/> (which trains <paramref name="trainer"/>, with this hook added) under the live display.</summary>
    public T Run<T>(Trainer trainer, Func<T> train) =>
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                task = context.AddTask("training", maxValue: trainer.TotalIterations);
                task.Value = trainer.Iteration;
                return train();
            });

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result)
    {
        if (task is null) return;
        seconds += result.Seconds;
        images += result.ImageIds.Count;
        iterations++;
        task.Value = trainer.Iteration;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch} [{result.Batch + 1}/{trainer.BatchesPerEpoch}] loss {result.Loss:F4} lr {result.LearningRate:G4} {images / seconds:F1} img/s"));
    }

    /// <summary>Hands complete lines to the console, which prints them above the live display.</summary>
    private sealed class LineWriter(IAnsiConsole console) : TextWriter
    {
        private readonly StringBuilder pending = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                console.WriteLine(pending.ToString().TrimEnd('\r'));
                pending.Clear();
            }
            else
            {
                pending.Append(value);
            }
        }
    }
}
