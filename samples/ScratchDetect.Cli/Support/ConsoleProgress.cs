using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;

namespace ScratchDetect.Cli.Support;

/// <summary>
/// Progress of a command's long work (loading weights, running a detector, training), the one place
/// every long command shows it. When
/// standard output is an interactive terminal it is a live Spectre.Console display, one row per
/// step with a bar, the elapsed time and a spinner; otherwise (a pipe, a log file, the tests) it
/// is plain lines on the writer the command chooses, so logs stay readable and stdout stays clean.
/// <code>
/// ConsoleProgress.Run(Console.Error, progress =>
/// {
///     var load = progress.Step("loading weights");          // indeterminate: no total
///     ...; load.Complete();
///     var images = progress.Step("detecting", paths.Length); // one unit per image
///     foreach (var path in paths) { images.Begin(path); ...; progress.WriteLine(summary); images.Advance(); }
///     images.Complete();
/// });
/// </code>
/// Result lines go through <see cref="WriteLine"/> (or <see cref="Writer"/>, for code that takes a
/// TextWriter), which prints them above a live display instead of tearing it. An exception thrown
/// by the work ends the display and propagates.
/// </summary>
internal sealed class ConsoleProgress
{
    private readonly ProgressContext? live;
    private readonly TextWriter plain;

    private ConsoleProgress(ProgressContext? live, TextWriter plain)
    {
        this.live = live;
        this.plain = plain;
        Writer = live is null ? plain : new LineWriter(this);
    }

    /// <summary>A writer whose lines go through <see cref="WriteLine"/>: above the live display, or as plain lines.</summary>
    public TextWriter Writer { get; }

    /// <summary>Whether the live display is used: standard output is a terminal that can redraw lines.</summary>
    public static bool IsLive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> with progress; plain lines go to <paramref name="plain"/>.</summary>
    public static T Run<T>(TextWriter plain, Func<ConsoleProgress, T> work)
    {
        if (!IsLive) return work(new ConsoleProgress(null, plain));
        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context => work(new ConsoleProgress(context, plain)));
    }

    /// <summary>Runs <paramref name="work"/> with progress; plain lines go to <paramref name="plain"/>.</summary>
    public static void Run(TextWriter plain, Action<ConsoleProgress> work) =>
        Run(plain, progress => { work(progress); return 0; });

    /// <summary>Starts a step of <paramref name="total"/> units, or an open-ended one when <paramref name="total"/> is 0.</summary>
    public ProgressStep Step(string description, long total = 0)
    {
        if (live is null) plain.WriteLine($"{description} ...");
        var task = live?.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1)).IsIndeterminate(total == 0);
        return new ProgressStep(this, task, description, total);
    }

    /// <summary>Prints a result line: above the live display, or as a plain line.</summary>
    public void WriteLine(string text)
    {
        if (live is null) plain.WriteLine(text);
        else AnsiConsole.Console.WriteLine(text);
    }

    /// <summary>One step of a <see cref="ConsoleProgress"/>: advances unit by unit, then completes.</summary>
    internal sealed class ProgressStep
    {
        private readonly ConsoleProgress owner;
        private readonly ProgressTask? task;
        private readonly string description;
        private readonly long total;
        private readonly Stopwatch watch = Stopwatch.StartNew();
        private long done;

        internal ProgressStep(ConsoleProgress owner, ProgressTask? task, string description, long total)
        {
            this.owner = owner;
            this.task = task;
            this.description = description;
            this.total = total;
        }

        /// <summary>Says which unit is being worked on now (an image, a batch).</summary>
        public void Begin(string item)
        {
            if (task is null) owner.plain.WriteLine($"{description} {Count(done + 1)}: {item}");
            else task.Description = Markup.Escape($"{description} {Count(done + 1)}: {item}");
        }

        /// <summary>One unit is done; <paramref name="detail"/> (such as a loss) is shown with it.</summary>
        public void Advance(string? detail = null)
        {
            done++;
            if (task is null)
            {
                if (detail is not null) owner.plain.WriteLine($"{description} {Count(done)}: {detail}");
                return;
            }
            task.Increment(1);
            if (detail is not null) task.Description = Markup.Escape($"{description} {Count(done)}: {detail}");
        }

        /// <summary>
        /// <paramref name="units"/> units are done (a resumed run starts past 0) and <paramref name="detail"/>
        /// says how it goes. Plain output prints it only when <paramref name="print"/> is set, so a
        /// step of thousands of fast units (training iterations) can print every Nth; the live
        /// display shows every report, as <paramref name="brief"/> when given (one row beside the
        /// bar has less room than a log line).
        /// </summary>
        public void Report(long units, string detail, bool print, string? brief = null)
        {
            done = units;
            if (task is null)
            {
                if (print) owner.plain.WriteLine(detail);
                return;
            }
            task.Value = Math.Min(units, task.MaxValue);
            task.Description = Markup.Escape(brief ?? detail);
        }

        /// <summary>The step is finished (<paramref name="how"/>: "done", or "stopped" for one cut short); plain output says how long it took.</summary>
        public void Complete(string how = "done")
        {
            string seconds = watch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
            if (task is null)
            {
                owner.plain.WriteLine($"{description}: {how} in {seconds} s");
                return;
            }
            task.Description = Markup.Escape($"{description}: {how} in {seconds} s");
            task.IsIndeterminate = false;
            task.Value = task.MaxValue;
            task.StopTask();
        }

        private string Count(long n) => total > 0 ? $"{n}/{total}" : n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Hands each complete line to <see cref="WriteLine"/>, which prints it above the live display.</summary>
    private sealed class LineWriter(ConsoleProgress owner) : TextWriter
    {
        private readonly StringBuilder pending = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                owner.WriteLine(pending.ToString().TrimEnd('\r'));
                pending.Clear();
            }
            else
            {
                pending.Append(value);
            }
        }
    }
}
