namespace ScratchDetect.Data.Evaluation;

/// <summary>
/// Pascal VOC average precision, computed as py-faster-rcnn's voc_eval.py does:
/// <list type="bullet">
/// <item>IoU with the devkit's inclusive-pixel convention (widths are x2 - x1 + 1);</item>
/// <item>detections of a class ranked by score, highest first (stable: ties keep image order, then the detector's order);</item>
/// <item>each detection goes to the ground truth of its image with the highest IoU; it is a true positive when that IoU
/// is &gt; 0.5, the object is not difficult and not yet taken; a detection whose best object is difficult is neither
/// TP nor FP; a second detection of a taken object (a duplicate) is a false positive;</item>
/// <item>difficult objects are not positives.</item>
/// </list>
/// One departure: voc_eval gives a class without positives AP 0 (VOC07) or NaN (VOC12); here it is undefined (null)
/// and left out of the mean, as pycocotools does.
/// </summary>
public static class VocEvaluator
{
    /// <summary>np.finfo(np.float64).eps, voc_eval's guard against 0/0.</summary>
    const double NumpyEps = 2.220446049250313e-16;

    /// <summary>Evaluates <paramref name="images"/> with <paramref name="metric"/> (VOC07 or VOC12) for every class in <paramref name="classes"/>.</summary>
    public static EvaluationResult Evaluate(IReadOnlyList<EvalImage> images, IReadOnlyList<string> classes, ApMetric metric)
    {
        if (metric == ApMetric.Coco) throw new ArgumentException("use CocoEvaluator for the COCO metric", nameof(metric));
        EvalChecks.Labels(images, classes.Count);
        var results = new ClassAp[classes.Count];
        for (int label = 1; label <= classes.Count; label++)
        {
            var (recall, precision, positives, detections) = RankedRecallPrecision(images, label);
            double? ap = positives == 0 ? null : AveragePrecision(recall, precision, metric == ApMetric.Voc07);
            results[label - 1] = new ClassAp(label, classes[label - 1], positives, detections, ap);
        }
        return new EvaluationResult(metric, results);
    }

    /// <summary>The IoU of two devkit-frame boxes, counting pixels inclusively (a box (1,1,1,1) has area 1).</summary>
    public static double Iou(VocBox a, VocBox b)
    {
        double iw = Math.Max(Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1) + 1.0, 0.0);
        double ih = Math.Max(Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1) + 1.0, 0.0);
        double inter = iw * ih;
        double union = (a.X2 - a.X1 + 1.0) * (a.Y2 - a.Y1 + 1.0) + (b.X2 - b.X1 + 1.0) * (b.Y2 - b.Y1 + 1.0) - inter;
        return inter / union;
    }

    /// <summary>
    /// voc_ap: with <paramref name="use07Metric"/>, the mean over t = 0, 0.1, ..., 1 of the highest precision at
    /// recall ≥ t (0 when none); otherwise the area under the precision envelope (precision made monotone
    /// decreasing from the right) summed where recall changes.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<double> recall, IReadOnlyList<double> precision, bool use07Metric)
    {
        if (use07Metric)
        {
            double ap = 0;
            for (int k = 0; k <= 10; k++)
            {
                // numpy's arange(0, 1.1, 0.1) yields k * 0.1, so t = 0.30000000000000004 for k = 3: a recall of
                // exactly 3/10 does not reach it. Kept so that our numbers equal voc_eval's.
                double t = k * 0.1, p = 0;
                for (int i = 0; i < recall.Count; i++)
                    if (recall[i] >= t) p = Math.Max(p, precision[i]);
                ap += p / 11.0;
            }
            return ap;
        }

        int n = recall.Count;
        var mrec = new double[n + 2];
        var mpre = new double[n + 2];
        mrec[n + 1] = 1.0;
        for (int i = 0; i < n; i++) { mrec[i + 1] = recall[i]; mpre[i + 1] = precision[i]; }
        for (int i = mpre.Length - 1; i > 0; i--) mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        double area = 0;
        for (int i = 0; i + 1 < mrec.Length; i++)
            if (mrec[i + 1] != mrec[i]) area += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
        return area;
    }

    /// <summary>voc_eval's matching for one class: recall and precision after each ranked detection.</summary>
    static (double[] Recall, double[] Precision, int Positives, int Detections) RankedRecallPrecision(IReadOnlyList<EvalImage> images, int label)
    {
        var objects = images.Select(img => img.Objects.Where(o => o.Label == label).ToArray()).ToArray();
        var taken = objects.Select(o => new bool[o.Length]).ToArray();
        int positives = objects.Sum(o => o.Count(g => !g.Difficult));

        var ranked = images
            .SelectMany((img, imageIndex) => img.Detections.Where(d => d.Label == label).Select(d => (imageIndex, d)))
            .OrderByDescending(x => x.d.Score) // LINQ's sort is stable
            .ToArray();

        var recall = new double[ranked.Length];
        var precision = new double[ranked.Length];
        double tp = 0, fp = 0;
        for (int r = 0; r < ranked.Length; r++)
        {
            var (imageIndex, detection) = ranked[r];
            var gts = objects[imageIndex];
            double best = double.NegativeInfinity;
            int bestIndex = -1;
            for (int g = 0; g < gts.Length; g++)
            {
                double iou = Iou(detection.Box, gts[g].Box);
                if (iou > best) { best = iou; bestIndex = g; } // first maximum, as np.argmax
            }
            if (best > 0.5)
            {
                if (!gts[bestIndex].Difficult)
                {
                    if (!taken[imageIndex][bestIndex]) { tp++; taken[imageIndex][bestIndex] = true; }
                    else fp++;
                }
            }
            else fp++;
            recall[r] = tp / positives;
            precision[r] = tp / Math.Max(tp + fp, NumpyEps); // 0/eps = 0 while only difficult objects were hit
        }
        return (recall, precision, positives, ranked.Length);
    }
}
