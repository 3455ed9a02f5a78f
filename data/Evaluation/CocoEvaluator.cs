using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Evaluation;

/// <summary>
/// COCO-style box AP as pycocotools' COCOeval computes it for area "all" and maxDets 100: per image and class,
/// the 100 highest-scoring detections are matched greedily to the unmatched ground truth with the highest IoU
/// ≥ t, for t = 0.50, 0.55, ..., 0.95; precision at the 101 recall points 0, 0.01, ..., 1 is read off the
/// precision envelope; AP is the mean over thresholds and recall points; AP50 and AP75 use one threshold.
/// <para>
/// Boxes arrive in the devkit frame and are converted once to the continuous frame (so a VOC box's width is
/// x2 - x1 + 1), where IoU is computed as pycocotools' bbox IoU. Nothing is crowd. Difficult objects play the
/// role of pycocotools' ignored ground truth: they are not positives, a detection matched to one counts
/// neither as TP nor as FP, and a detection prefers a non-difficult match; unlike crowd regions, each can
/// absorb only one detection. Ties in score keep image order, then the detector's order (pycocotools' stable
/// mergesort over images in id order).
/// </para>
/// </summary>
public static class CocoEvaluator
{
    const int MaxDetections = 100;

    /// <summary>np.spacing(1), which pycocotools adds to every precision denominator.</summary>
    const double NumpySpacing1 = 2.220446049250313e-16;

    /// <summary>np.linspace(.5, .95, 10): the same doubles pycocotools compares against.</summary>
    static readonly double[] IouThresholds = Enumerable.Range(0, 10).Select(i => i == 9 ? 0.95 : i * ((0.95 - 0.5) / 9) + 0.5).ToArray();

    /// <summary>np.linspace(0, 1, 101).</summary>
    static readonly double[] RecallThresholds = Enumerable.Range(0, 101).Select(i => i == 100 ? 1.0 : i * 0.01).ToArray();

    /// <summary>Evaluates <paramref name="images"/> for every class in <paramref name="classes"/>.</summary>
    public static EvaluationResult Evaluate(IReadOnlyList<EvalImage> images, IReadOnlyList<string> classes)
    {
        EvalChecks.Labels(images, classes.Count);
        var results = new ClassAp[classes.Count];
        for (int label = 1; label <= classes.Count; label++)
        {
            var matches = images.Select(img => MatchImage(img, label)).Where(m => m is not null).Select(m => m!).ToArray();
            int positives = matches.Sum(m => m.Positives);
            int detections = matches.Sum(m => m.Scores.Length);
            if (positives == 0)
            {
                results[label - 1] = new ClassAp(label, classes[label - 1], 0, detections, null, null, null);
                continue;
            }
            var perThreshold = Accumulate(matches, positives);
            results[label - 1] = new ClassAp(label, classes[label - 1], positives, detections,
                perThreshold.Average(), perThreshold[0], perThreshold[5]);
        }
        return new EvaluationResult(ApMetric.Coco, results);
    }

    /// <summary>pycocotools' maskUtils bbox IoU for continuous-frame (x, y, w, h) boxes, non-crowd.</summary>
    static double Iou((double X, double Y, double W, double H) d, (double X, double Y, double W, double H) g)
    {
        double w = Math.Min(d.X + d.W, g.X + g.W) - Math.Max(d.X, g.X);
        if (w <= 0) return 0;
        double h = Math.Min(d.Y + d.H, g.Y + g.H) - Math.Max(d.Y, g.Y);
        if (h <= 0) return 0;
        double inter = w * h;
        return inter / (d.W * d.H + g.W * g.H - inter);
    }

    static (double X, double Y, double W, double H) Xywh(VocBox box)
    {
        var (x1, y1, x2, y2) = VocCoordinates.ToContinuous(box.X1, box.Y1, box.X2, box.Y2);
        return (x1, y1, x2 - x1, y2 - y1);
    }

    /// <summary>One image's detections of a class, score-ordered, with per-threshold outcomes.</summary>
    sealed record ImageMatches(double[] Scores, bool[,] Matched, bool[,] Ignored, int Positives);

    /// <summary>pycocotools' evaluateImg for one image and class; null when it has neither objects nor detections.</summary>
    static ImageMatches? MatchImage(EvalImage image, int label)
    {
        // Non-ignored ground truth first, as pycocotools orders it (stable).
        var gts = image.Objects.Where(o => o.Label == label).OrderBy(o => o.Difficult).ToArray();
        var dts = image.Detections.Where(d => d.Label == label).OrderByDescending(d => d.Score).Take(MaxDetections).ToArray();
        if (gts.Length == 0 && dts.Length == 0) return null;

        var gtBoxes = gts.Select(g => Xywh(g.Box)).ToArray();
        var ious = new double[dts.Length, gts.Length];
        for (int d = 0; d < dts.Length; d++)
        {
            var box = Xywh(dts[d].Box);
            for (int g = 0; g < gts.Length; g++) ious[d, g] = Iou(box, gtBoxes[g]);
        }

        int thresholds = IouThresholds.Length;
        var matched = new bool[thresholds, dts.Length];
        var ignored = new bool[thresholds, dts.Length];
        for (int t = 0; t < thresholds; t++)
        {
            var gtTaken = new bool[gts.Length];
            for (int d = 0; d < dts.Length; d++)
            {
                double best = Math.Min(IouThresholds[t], 1 - 1e-10);
                int m = -1;
                for (int g = 0; g < gts.Length; g++)
                {
                    if (gtTaken[g]) continue;
                    // Already matched to a regular object and only ignored ones are left.
                    if (m > -1 && !gts[m].Difficult && gts[g].Difficult) break;
                    if (ious[d, g] < best) continue;
                    best = ious[d, g];
                    m = g;
                }
                if (m == -1) continue;
                gtTaken[m] = true;
                matched[t, d] = true;
                ignored[t, d] = gts[m].Difficult;
            }
        }
        return new ImageMatches(dts.Select(d => d.Score).ToArray(), matched, ignored, gts.Count(g => !g.Difficult));
    }

    /// <summary>pycocotools' accumulate for one class: the mean interpolated precision at each IoU threshold.</summary>
    static double[] Accumulate(IReadOnlyList<ImageMatches> images, int positives)
    {
        var ranked = images
            .SelectMany(m => Enumerable.Range(0, m.Scores.Length).Select(d => (m, d)))
            .OrderByDescending(x => x.m.Scores[x.d]) // stable, as np.argsort(kind='mergesort')
            .ToArray();
        var result = new double[IouThresholds.Length];
        for (int t = 0; t < IouThresholds.Length; t++)
        {
            var recall = new List<double>(ranked.Length);
            var precision = new List<double>(ranked.Length);
            double tp = 0, fp = 0;
            foreach (var (m, d) in ranked)
            {
                // A detection matched to an ignored (difficult) object adds to neither sum but keeps its place.
                if (!m.Ignored[t, d])
                {
                    if (m.Matched[t, d]) tp++; else fp++;
                }
                recall.Add(tp / positives);
                precision.Add(tp / (fp + tp + NumpySpacing1));
            }
            result[t] = InterpolatedPrecision(recall, precision).Average();
        }
        return result;
    }

    /// <summary>
    /// Makes precision monotone decreasing from the right, then reads it at the first rank whose recall reaches
    /// each of the 101 recall thresholds (np.searchsorted side='left'); thresholds beyond the last recall get 0.
    /// </summary>
    static double[] InterpolatedPrecision(IReadOnlyList<double> recall, List<double> precision)
    {
        for (int i = precision.Count - 1; i > 0; i--)
            if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
        var q = new double[RecallThresholds.Length];
        int rank = 0;
        for (int r = 0; r < RecallThresholds.Length; r++)
        {
            while (rank < recall.Count && recall[rank] < RecallThresholds[r]) rank++;
            if (rank == recall.Count) break;
            q[r] = precision[rank];
        }
        return q;
    }
}
