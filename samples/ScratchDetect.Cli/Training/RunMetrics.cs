using System.Globalization;

namespace ScratchDetect.Cli.Training;

/// <summary>One evaluation during training.</summary>
/// <param name="Iteration">Iterations done when it ran.</param>
/// <param name="Epoch">The epoch it followed or fell in.</param>
/// <param name="Voc07">VOC07 11-point mAP@0.5.</param>
/// <param name="Voc12">VOC12 area-under-curve mAP@0.5.</param>
internal sealed record EvalPoint(long Iteration, int Epoch, double Voc07, double Voc12);

/// <summary>
/// The run's metrics, kept in memory for the plots and appended to RUN_DIR/metrics.csv as they
/// come: one "train" row per iteration (learning rate, total loss, each term, seconds, images/s)
/// and one "eval" row per evaluation (VOC07 and VOC12 mAP). Numbers are written round-trip
/// exactly, so two runs can be compared value for value.
/// </summary>
internal sealed class RunMetrics
{
    /// <summary>The file name inside RUN_DIR.</summary>
    public const string FileName = "metrics.csv";

    private static readonly string[] Leading = ["phase", "iteration", "epoch", "batch", "lr", "loss"];
    private static readonly string[] Trailing = ["seconds", "images_per_s", "voc07_map", "voc12_map"];
    private readonly string path;
    private string[]? terms;

    /// <summary>The metrics of <paramref name="runDirectory"/>; continues its CSV when there is one.</summary>
    public RunMetrics(string runDirectory)
    {
        path = Path.Combine(runDirectory, FileName);
        if (File.Exists(path) && File.ReadLines(path).FirstOrDefault() is { } header)
            terms = header.Split(',')[Leading.Length..^Trailing.Length];
    }

    /// <summary>The iterations so far (of this invocation, and of earlier ones when resumed).</summary>
    public List<IterationResult> Iterations { get; } = [];

    /// <summary>The evaluations so far.</summary>
    public List<EvalPoint> Evaluations { get; } = [];

    /// <summary>
    /// Keeps the rows of the iterations before <paramref name="iteration"/> (and the evaluations up to it),
    /// dropping those an interrupted run wrote after its last checkpoint, and reads them back for the plots.
    /// </summary>
    public void ResumeAt(long iteration) => Load(iteration, rewrite: true);

    /// <summary>The metrics a run wrote, read back for reporting (the file is left as it is).</summary>
    public static RunMetrics Read(string runDirectory)
    {
        var metrics = new RunMetrics(runDirectory);
        metrics.Load(long.MaxValue, rewrite: false);
        return metrics;
    }

    /// <summary>Reads the rows before <paramref name="iteration"/> back; with <paramref name="rewrite"/>, drops the later ones from the file.</summary>
    private void Load(long iteration, bool rewrite)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        var kept = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            long at = long.Parse(cells[1], CultureInfo.InvariantCulture);
            bool train = cells[0] == "train";
            if (train ? at >= iteration : at > iteration) continue;
            kept.Add(line);
            if (train)
            {
                var losses = terms!.Select((t, i) => KeyValuePair.Create(t, Number(cells[Leading.Length + i]))).ToArray();
                Iterations.Add(new IterationResult(at, int.Parse(cells[2], CultureInfo.InvariantCulture), int.Parse(cells[3], CultureInfo.InvariantCulture),
                    losses, Number(cells[5]), Number(cells[4]), [], Number(cells[^4])));
            }
            else
            {
                Evaluations.Add(new EvalPoint(at, int.Parse(cells[2], CultureInfo.InvariantCulture), Number(cells[^2]), Number(cells[^1])));
            }
        }
        if (rewrite) File.WriteAllLines(path, kept);
    }

    /// <summary>Records an iteration.</summary>
    public void Add(IterationResult result)
    {
        Iterations.Add(result);
        if (result.Losses.Count == 0) return; // a batch whose samples were all skipped
        if (terms is null)
        {
            terms = result.Losses.Select(l => l.Key).ToArray();
            File.WriteAllText(path, string.Join(",", Leading.Concat(terms).Concat(Trailing)) + "\n");
        }
        var byName = result.Losses.ToDictionary(l => l.Key, l => l.Value);
        var cells = new List<string> { "train", Text(result.Iteration), Text(result.Epoch), Text(result.Batch), Text(result.LearningRate), Text(result.Loss) };
        cells.AddRange(terms.Select(t => byName.TryGetValue(t, out var v) ? Text(v) : ""));
        cells.AddRange([Text(result.Seconds), Text(result.ImageIds.Count / result.Seconds), "", ""]);
        File.AppendAllText(path, string.Join(",", cells) + "\n");
    }

    /// <summary>Records an evaluation.</summary>
    public void Add(EvalPoint point)
    {
        Evaluations.Add(point);
        if (terms is null) return; // no header yet: nothing trained, nothing to compare with
        var cells = new List<string> { "eval", Text(point.Iteration), Text(point.Epoch), "", "", "" };
        cells.AddRange(terms.Select(_ => ""));
        cells.AddRange(["", "", Text(point.Voc07), Text(point.Voc12)]);
        File.AppendAllText(path, string.Join(",", cells) + "\n");
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static double Number(string cell) => cell.Length == 0 ? double.NaN : double.Parse(cell, CultureInfo.InvariantCulture);
}
