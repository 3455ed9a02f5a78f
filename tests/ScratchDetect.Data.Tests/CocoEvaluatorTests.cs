using ScratchDetect.Data.Evaluation;

namespace ScratchDetect.Data.Tests;

public class CocoEvaluatorTests
{
    static readonly string[] OneClass = ["thing"];

    /// <summary>A devkit-frame box whose continuous-frame extent is (x, 0)..(x + 10, h): width 10, height h.</summary>
    static VocBox Box(double x, double h = 10) => new(x + 1, 1, x + 10, h);

    static ClassAp Evaluate(params EvalImage[] images) => CocoEvaluator.Evaluate(images, OneClass).Classes[0];

    // Tolerance 1e-12: pycocotools adds np.spacing(1) to each precision denominator, so precisions are 1 - 2e-16.

    [Fact]
    public void ThresholdsAreCountedOneByOne()
    {
        // IoU = (10 * 7.2) / (10 * 10) = 0.72: a TP for t = 0.50, 0.55, 0.60, 0.65, 0.70 (AP_t = 1 at all 101 recall
        // points) and an FP for the other five (AP_t = 0). AP = 5/10, AP50 = 1, AP75 = 0.
        var ap = Evaluate(new EvalImage("a", [new(1, Box(0), false)], [new(1, Box(0, 7.2), 0.9)]));
        Assert.Equal(0.5, ap.Ap!.Value, 12);
        Assert.Equal(1.0, ap.Ap50!.Value, 12);
        Assert.Equal(0.0, ap.Ap75!.Value, 12);
    }

    [Fact]
    public void RecallIsInterpolatedAt101Points()
    {
        // Two positives, ranked TP FP TP (exact boxes, so every threshold alike): recall 1/2 1/2 1,
        // precision 1 1/2 2/3, envelope 1 2/3 2/3. Recall points 0, 0.01, ..., 0.50 (51 of them) read 1, the 50 above
        // read 2/3: AP = (51 + 50 * 2/3) / 101.
        var image = new EvalImage("a", [new(1, Box(0), false), new(1, Box(100), false)],
            [new(1, Box(0), 0.9), new(1, Box(300), 0.8), new(1, Box(100), 0.7)]);
        var ap = Evaluate(image);
        double expected = (51 + 50 * 2.0 / 3.0) / 101;
        Assert.Equal(expected, ap.Ap!.Value, 12);
        Assert.Equal(expected, ap.Ap50!.Value, 12);
    }

    [Fact]
    public void DifficultObjectsAreIgnored()
    {
        // One positive, one difficult. Ranked: on the difficult object (ignored: neither TP nor FP), on the positive
        // (TP). Recall 0 1, precision 0 1, envelope 1 1: every recall point reads 1, AP = 1.
        var image = new EvalImage("a", [new(1, Box(0), false), new(1, Box(100), true)],
            [new(1, Box(100), 0.9), new(1, Box(0), 0.8)]);
        var ap = Evaluate(image);
        Assert.Equal(1.0, ap.Ap!.Value, 12);
        Assert.Equal(1, ap.Positives);
    }

    [Fact]
    public void ADetectionPrefersARegularObjectOverADifficultOne()
    {
        // The detection (width 10, height 10 in the continuous frame) overlaps the regular object with IoU 0.62
        // (height 6.2) and the difficult one with IoU 0.9 (height 9). pycocotools keeps the regular match while it
        // qualifies: TP for t = 0.50, 0.55, 0.60 (AP_t = 1); for t = 0.65..0.90 it matches the difficult object and is
        // ignored, leaving no TP (AP_t = 0); for t = 0.95 it is an FP (AP_t = 0). AP = 3/10, AP50 = 1, AP75 = 0.
        var image = new EvalImage("a", [new(1, Box(0, 6.2), false), new(1, Box(0, 9), true)], [new(1, Box(0), 0.9)]);
        var ap = Evaluate(image);
        Assert.Equal(0.3, ap.Ap!.Value, 12);
        Assert.Equal(1.0, ap.Ap50!.Value, 12);
        Assert.Equal(0.0, ap.Ap75!.Value, 12);
    }

    [Fact]
    public void OnlyTheTop100DetectionsOfAnImageCount()
    {
        // 100 false positives outscore the one true positive, which falls outside maxDets = 100: AP = 0.
        var dets = Enumerable.Range(0, 100).Select(i => new Detection(1, Box(1000 + 20 * i), 0.9)).Append(new Detection(1, Box(0), 0.5)).ToArray();
        var ap = Evaluate(new EvalImage("a", [new(1, Box(0), false)], dets));
        Assert.Equal(0.0, ap.Ap!.Value);
        // With 99 false positives the TP is the 100th: recall 1 at precision 1/100 for every threshold: AP = 1/100.
        var fewer = dets.Skip(1).ToArray();
        Assert.Equal(0.01, Evaluate(new EvalImage("a", [new(1, Box(0), false)], fewer)).Ap!.Value, 12);
    }

    [Fact]
    public void ClassWithoutPositivesIsUndefined()
    {
        var result = CocoEvaluator.Evaluate([new EvalImage("a", [new(1, Box(0), false)], [new(2, Box(0), 0.9), new(1, Box(0), 0.9)])], ["one", "two"]);
        Assert.Null(result.Classes[1].Ap);
        Assert.Equal(1.0, result.Map, 12);
        Assert.Contains("AP75", result.ToTable());
    }
}
