namespace ScratchDetect.Data.Evaluation;

/// <summary>A box in the devkit's frame: 1-based, inclusive pixel coordinates (see <see cref="Voc.VocCoordinates"/>).</summary>
/// <param name="X1">Left pixel column.</param>
/// <param name="Y1">Top pixel row.</param>
/// <param name="X2">Right pixel column (inclusive).</param>
/// <param name="Y2">Bottom pixel row (inclusive).</param>
public readonly record struct VocBox(double X1, double Y1, double X2, double Y2);

/// <summary>A ground-truth object.</summary>
/// <param name="Label">1-based class label.</param>
/// <param name="Box">The box, devkit frame.</param>
/// <param name="Difficult">Difficult objects are not positives; detections matching them count neither way.</param>
public sealed record GroundTruthObject(int Label, VocBox Box, bool Difficult);

/// <summary>A scored detection.</summary>
/// <param name="Label">1-based class label.</param>
/// <param name="Box">The box, devkit frame.</param>
/// <param name="Score">Confidence; higher ranks first.</param>
public sealed record Detection(int Label, VocBox Box, double Score);

/// <summary>One image to evaluate: its ground truth and the detections made on it.</summary>
/// <param name="Id">The image id (for error messages).</param>
/// <param name="Objects">Ground-truth objects, all classes.</param>
/// <param name="Detections">Detections, all classes, in the order the detector wrote them.</param>
public sealed record EvalImage(string Id, IReadOnlyList<GroundTruthObject> Objects, IReadOnlyList<Detection> Detections);

/// <summary>The metric to compute.</summary>
public enum ApMetric
{
    /// <summary>VOC2007's 11-point interpolated AP at IoU &gt; 0.5.</summary>
    Voc07,

    /// <summary>VOC2010+'s area under the monotone precision envelope at IoU &gt; 0.5.</summary>
    Voc12,

    /// <summary>COCO's AP averaged over IoU 0.50:0.05:0.95 with 101-point recall interpolation.</summary>
    Coco,
}

/// <summary>AP of one class. APs are null when the class has no non-difficult ground truth (undefined, left out of the mean).</summary>
/// <param name="Label">1-based label.</param>
/// <param name="Name">Class name.</param>
/// <param name="Positives">Non-difficult ground-truth objects.</param>
/// <param name="Detections">Detections of this class that were ranked.</param>
/// <param name="Ap">The metric's AP (for COCO: averaged over IoU 0.50:0.95).</param>
/// <param name="Ap50">COCO only: AP at IoU 0.5.</param>
/// <param name="Ap75">COCO only: AP at IoU 0.75.</param>
public sealed record ClassAp(int Label, string Name, int Positives, int Detections, double? Ap, double? Ap50 = null, double? Ap75 = null);

/// <summary>Per-class APs and their means over the classes that have ground truth.</summary>
/// <param name="Metric">The metric computed.</param>
/// <param name="Classes">One entry per class, in label order.</param>
public sealed record EvaluationResult(ApMetric Metric, IReadOnlyList<ClassAp> Classes)
{
    /// <summary>Mean of the defined per-class APs (mAP; for COCO, AP@[.50:.95]); NaN when none is defined.</summary>
    public double Map => Mean(c => c.Ap);

    /// <summary>COCO only: mean AP at IoU 0.5.</summary>
    public double Map50 => Mean(c => c.Ap50);

    /// <summary>COCO only: mean AP at IoU 0.75.</summary>
    public double Map75 => Mean(c => c.Ap75);

    double Mean(Func<ClassAp, double?> ap)
    {
        var defined = Classes.Select(ap).OfType<double>().ToArray();
        return defined.Length == 0 ? double.NaN : defined.Average();
    }

    /// <summary>A fixed-width table: one row per class, then the mean; undefined APs print as "-".</summary>
    public string ToTable()
    {
        static string Cell(double? v) => v is { } x ? x.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) : "-";
        int nameWidth = Math.Max(5, Classes.Select(c => c.Name.Length).DefaultIfEmpty(0).Max());
        bool coco = Metric == ApMetric.Coco;
        var header = $"{"class".PadRight(nameWidth)}  {"gt",6}  {"dets",7}  {(coco ? "AP" : Metric == ApMetric.Voc07 ? "AP07" : "AP12"),8}" +
                     (coco ? $"  {"AP50",8}  {"AP75",8}" : "");
        var lines = new List<string> { header, new string('-', header.Length) };
        foreach (var c in Classes)
            lines.Add($"{c.Name.PadRight(nameWidth)}  {c.Positives,6}  {c.Detections,7}  {Cell(c.Ap),8}" + (coco ? $"  {Cell(c.Ap50),8}  {Cell(c.Ap75),8}" : ""));
        lines.Add(new string('-', header.Length));
        double? Defined(double m) => double.IsNaN(m) ? null : m;
        lines.Add($"{"mean".PadRight(nameWidth)}  {Classes.Sum(c => c.Positives),6}  {Classes.Sum(c => c.Detections),7}  {Cell(Defined(Map)),8}" +
                  (coco ? $"  {Cell(Defined(Map50)),8}  {Cell(Defined(Map75)),8}" : ""));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Input checks shared by the evaluators.</summary>
static class EvalChecks
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the image when a label is outside 1..<paramref name="classCount"/>.</summary>
    public static void Labels(IReadOnlyList<EvalImage> images, int classCount)
    {
        foreach (var image in images)
        {
            foreach (int label in image.Objects.Select(o => o.Label).Concat(image.Detections.Select(d => d.Label)))
                if (label < 1 || label > classCount)
                    throw new ArgumentException($"image '{image.Id}': label {label} is outside 1..{classCount}");
        }
    }
}
