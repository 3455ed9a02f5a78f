using ScottPlot;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Training;

/// <summary>The font the CLI ships (DejaVu Sans), so plots and drawn labels have text on a machine without system fonts.</summary>
internal static class ShippedFont
{
    /// <summary>The family name the font is registered under.</summary>
    public const string Family = "DejaVu Sans (shipped)";

    private static readonly Lazy<string> Registered = new(() =>
    {
        string path = FilePath;
        if (!File.Exists(path)) throw new FileNotFoundException($"the shipped font '{path}' is missing from the installation", path);
        Fonts.AddFontFile(Family, path, bold: false, italic: false);
        return Family;
    });

    /// <summary>Assets/DejaVuSans.ttf beside the program.</summary>
    public static string FilePath => Path.Combine(AppContext.BaseDirectory, "Assets", "DejaVuSans.ttf");

    /// <summary>Registers the font with ScottPlot (once) and returns its family name.</summary>
    public static string ForScottPlot() => Registered.Value;
}

/// <summary>
/// Rewrites RUN_DIR/losses.{png,svg} (each loss term and their sum per iteration) and, once there
/// are evaluations, RUN_DIR/map.{png,svg} (VOC07 and VOC12 mAP), every <c>every</c> iterations
/// (but at least <see cref="MinIterationsBetweenDraws"/> apart), after each epoch and at the end. Each file is replaced atomically, so a viewer never sees half a plot.
/// </summary>
internal sealed class PlotHook(RunMetrics metrics, string runDirectory, int every) : ITrainingHook
{
    private const int Width = 900, Height = 500;

    /// <summary>The plots' file names (without extension) inside RUN_DIR.</summary>
    public static readonly string[] Names = ["losses", "map"];

    /// <summary>
    /// The fewest iterations between two draws within an epoch. Each draw renders every iteration so
    /// far, so drawing at the demo's 10-iteration progress lines cost about 15 s of its 10 minutes:
    /// its training loop took 496 s, its iterations 457 s, and its 15 evaluations 24 s of the
    /// difference (a draw at 1,875 iterations measured 0.45-0.93 s on the machine at load 34).
    /// </summary>
    public const int MinIterationsBetweenDraws = 100;

    private readonly int drawEvery = Math.Max(every, MinIterationsBetweenDraws);

    /// <inheritdoc/>
    public void AfterIteration(Trainer trainer, IterationResult result)
    {
        if (trainer.Iteration % drawEvery == 0) Draw();
    }

    /// <inheritdoc/>
    public void AfterEpoch(Trainer trainer, int epoch) => Draw();

    /// <inheritdoc/>
    public void AfterTraining(Trainer trainer, TrainingOutcome outcome) => Draw();

    /// <summary>Draws both plots from the metrics so far.</summary>
    public void Draw()
    {
        var rows = metrics.Iterations.Where(r => r.Losses.Count > 0).ToArray();
        if (rows.Length > 0)
        {
            var plot = NewPlot("training loss", "iteration", "loss");
            double[] x = rows.Select(r => (double)r.Iteration).ToArray();
            foreach (var term in rows[0].Losses.Select(l => l.Key))
                Line(plot, x, rows.Select(r => r.Losses.FirstOrDefault(l => l.Key == term).Value).ToArray(), term, 1);
            Line(plot, x, rows.Select(r => r.Loss).ToArray(), "loss (sum)", 2);
            Save(plot, "losses");
        }
        if (metrics.Evaluations.Count > 0)
        {
            var plot = NewPlot("validation mAP@0.5", "iteration", "mAP");
            double[] x = metrics.Evaluations.Select(e => (double)e.Iteration).ToArray();
            Line(plot, x, metrics.Evaluations.Select(e => e.Voc07).ToArray(), "VOC07 (11-point)", 2, markers: true);
            Line(plot, x, metrics.Evaluations.Select(e => e.Voc12).ToArray(), "VOC12 (area)", 2, markers: true);
            plot.Axes.SetLimitsY(0, 1);
            Save(plot, "map");
        }
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(ShippedFont.ForScottPlot());
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        return plot;
    }

    private static void Line(Plot plot, double[] x, double[] y, string label, float width, bool markers = false)
    {
        var line = plot.Add.Scatter(x, y);
        line.LegendText = label;
        line.LineWidth = width;
        line.MarkerSize = markers ? 6 : 0;
    }

    private void Save(Plot plot, string name)
    {
        AtomicFile.WriteAllBytes(Path.Combine(runDirectory, name + ".png"), plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png));
        AtomicFile.WriteAllText(Path.Combine(runDirectory, name + ".svg"), plot.GetSvgXml(Width, Height));
    }
}
