using ScratchDetect.Data.Evaluation;

namespace ScratchDetect.Data.Tests;

public class VocEvaluatorTests
{
    static readonly string[] OneClass = ["thing"];

    /// <summary>A 10x10 box (devkit frame) starting at column <paramref name="x"/>.</summary>
    static VocBox Box(double x) => new(x, 1, x + 9, 10);

    static GroundTruthObject Gt(VocBox box, bool difficult = false) => new(1, box, difficult);

    static Detection Det(VocBox box, double score) => new(1, box, score);

    /// <summary>A box far from every other box in these tests.</summary>
    static readonly VocBox Nowhere = new(500, 500, 510, 510);

    [Fact]
    public void IouCountsPixelsInclusively()
    {
        // (1,1,1,1) is one pixel: area 1, so IoU with itself is 1 (0/0 without the +1).
        Assert.Equal(1.0, VocEvaluator.Iou(new VocBox(1, 1, 1, 1), new VocBox(1, 1, 1, 1)));
        // (1,1,10,10) has area 10*10 = 100; (1,1,10,5) area 10*5 = 50, all inside: 50 / 100.
        Assert.Equal(0.5, VocEvaluator.Iou(new VocBox(1, 1, 10, 10), new VocBox(1, 1, 10, 5)));
        // Touching at column 10: the intersection is the 1-pixel-wide column, 1*10 = 10; union 100 + 100 - 10 = 190.
        Assert.Equal(10.0 / 190.0, VocEvaluator.Iou(new VocBox(1, 1, 10, 10), new VocBox(10, 1, 19, 10)), 15);
    }

    [Fact]
    public void MatchNeedsIouAboveHalf()
    {
        // IoU exactly 0.5 (previous test) is a false positive, 0.6 = (10*6)/(10*10) a true positive.
        var image = new EvalImage("a", [Gt(new VocBox(1, 1, 10, 10))],
            [Det(new VocBox(1, 1, 10, 5), 0.9), Det(new VocBox(1, 1, 10, 6), 0.8)]);
        var result = VocEvaluator.Evaluate([image], OneClass, ApMetric.Voc12);
        // Ranked FP, TP: recall (0, 1), precision (0, 1/2). Envelope 1/2 from recall 0 to 1: AP = 1 * 1/2.
        Assert.Equal(0.5, result.Classes[0].Ap!.Value, 12);
    }

    /// <summary>Four positives over two images; ranked TP FP TP FP FP TP.</summary>
    static EvalImage[] SixRankedDetections() =>
    [
        new("img1", [Gt(Box(1)), Gt(Box(101)), Gt(Box(201))],
            [Det(Box(1), 0.95), Det(Nowhere, 0.9), Det(Box(101), 0.8), Det(Nowhere, 0.5)]),
        new("img2", [Gt(Box(1))], [Det(Nowhere, 0.4), Det(Box(1), 0.3)]),
    ];

    [Fact]
    public void Voc12AreaUnderTheEnvelopeByHand()
    {
        // recall    1/4  1/4  2/4  2/4  2/4  3/4
        // precision 1/1  1/2  2/3  2/4  2/5  3/6
        // Envelope (max to the right): 1 at recall 1/4, 2/3 at 2/4, 1/2 at 3/4.
        // Area = 1/4 * 1 + 1/4 * 2/3 + 1/4 * 1/2 = 13/24.
        var result = VocEvaluator.Evaluate(SixRankedDetections(), OneClass, ApMetric.Voc12);
        Assert.Equal(13.0 / 24.0, result.Classes[0].Ap!.Value, 12);
        Assert.Equal(4, result.Classes[0].Positives);
        Assert.Equal(6, result.Classes[0].Detections);
    }

    [Fact]
    public void Voc07ElevenPointsByHand()
    {
        // Same ranking. Max precision at recall >= t:
        //   t = 0, 0.1, 0.2            -> 1       (3 points)
        //   t = 0.3, 0.4, 0.5          -> 2/3     (3 points; recall 2/4 reaches 0.5)
        //   t = 0.6, 0.7               -> 1/2     (2 points; only recall 3/4)
        //   t = 0.8, 0.9, 1.0          -> 0       (3 points)
        // AP = (3 + 2 + 1) / 11 = 6/11.
        var result = VocEvaluator.Evaluate(SixRankedDetections(), OneClass, ApMetric.Voc07);
        Assert.Equal(6.0 / 11.0, result.Classes[0].Ap!.Value, 12);
    }

    [Fact]
    public void Voc07ThresholdsAreNumpyArangeValues()
    {
        // Ten positives, three found first: recall 0.1, 0.2, 0.3, all at precision 1.
        // np.arange(0, 1.1, 0.1)[3] is 0.30000000000000004 > 3/10, so only t = 0, 0.1, 0.2 score: AP = 3/11
        // (with an exact 0.3 it would be 4/11).
        var gts = Enumerable.Range(0, 10).Select(i => Gt(Box(1 + 100 * i))).ToArray();
        var dets = Enumerable.Range(0, 3).Select(i => Det(Box(1 + 100 * i), 1.0 - i * 0.1)).ToArray();
        var result = VocEvaluator.Evaluate([new EvalImage("a", gts, dets)], OneClass, ApMetric.Voc07);
        Assert.Equal(3.0 / 11.0, result.Classes[0].Ap!.Value, 12);
    }

    [Fact]
    public void DifficultMatchesCountNeitherWay()
    {
        // Ranked: on the difficult object (ignored), on the regular one (TP), nowhere (FP). One positive.
        // tp 0 1 1, fp 0 0 1: recall 0 1 1, precision 0 1 1/2. Envelope 1 from recall 0 to 1: AP = 1.
        // (Were the first an FP, precision at recall 1 would be 1/2 and AP 1/2.)
        var image = new EvalImage("a", [Gt(Box(1)), Gt(Box(101), difficult: true)],
            [Det(Box(101), 0.9), Det(Box(1), 0.8), Det(Nowhere, 0.7)]);
        var voc12 = VocEvaluator.Evaluate([image], OneClass, ApMetric.Voc12).Classes[0];
        Assert.Equal(1.0, voc12.Ap!.Value, 12);
        Assert.Equal(1, voc12.Positives);
        // VOC07: every t has recall 1 at precision 1 reachable: 11/11.
        Assert.Equal(1.0, VocEvaluator.Evaluate([image], OneClass, ApMetric.Voc07).Classes[0].Ap!.Value, 12);
    }

    [Fact]
    public void DuplicatesAreFalsePositives()
    {
        // Two positives; ranked: first object (TP), first object again (FP), second object (TP).
        // recall 1/2 1/2 1, precision 1 1/2 2/3.
        // VOC12: 1/2 * 1 + 1/2 * 2/3 = 5/6.
        // VOC07: t = 0..0.5 (6 points) -> 1, t = 0.6..1 (5 points) -> 2/3: (6 + 10/3) / 11 = 28/33.
        var image = new EvalImage("a", [Gt(Box(1)), Gt(Box(101))],
            [Det(Box(1), 0.9), Det(Box(1), 0.8), Det(Box(101), 0.7)]);
        Assert.Equal(5.0 / 6.0, VocEvaluator.Evaluate([image], OneClass, ApMetric.Voc12).Classes[0].Ap!.Value, 12);
        Assert.Equal(28.0 / 33.0, VocEvaluator.Evaluate([image], OneClass, ApMetric.Voc07).Classes[0].Ap!.Value, 12);
    }

    [Fact]
    public void EqualScoresKeepImageOrderThenDetectorOrder()
    {
        // All scores equal: the stable order is img1's FP, img1's TP, img2's TP. Two positives.
        // recall 0 1/2 1, precision 0 1/2 2/3: VOC12 = 1/2 * 2/3 + 1/2 * 2/3 = 2/3.
        // (Sorting the TPs first would give 1.)
        var images = new[]
        {
            new EvalImage("img1", [Gt(Box(1))], [Det(Nowhere, 0.5), Det(Box(1), 0.5)]),
            new EvalImage("img2", [Gt(Box(1))], [Det(Box(1), 0.5)]),
        };
        Assert.Equal(2.0 / 3.0, VocEvaluator.Evaluate(images, OneClass, ApMetric.Voc12).Classes[0].Ap!.Value, 12);
    }

    [Fact]
    public void NoDetectionsGiveZeroAndNoGroundTruthIsUndefined()
    {
        // Class 1 has an object and no detection: AP 0 in both metrics (voc_eval gives 0 too).
        // Class 2 has a detection and no object: undefined, so the mean is over class 1 alone.
        var image = new EvalImage("a", [Gt(Box(1))], [new Detection(2, Box(1), 0.9)]);
        string[] classes = ["one", "two"];
        foreach (var metric in new[] { ApMetric.Voc07, ApMetric.Voc12 })
        {
            var result = VocEvaluator.Evaluate([image], classes, metric);
            Assert.Equal(0.0, result.Classes[0].Ap);
            Assert.Null(result.Classes[1].Ap);
            Assert.Equal(0.0, result.Map);
            Assert.Contains("two", result.ToTable());
        }
    }

    [Fact]
    public void MeanIsOverClassesWithGroundTruth()
    {
        // Class 1 found perfectly (AP 1), class 2 missed (AP 0): mAP = 1/2.
        var image = new EvalImage("a", [Gt(Box(1)), new GroundTruthObject(2, Box(101), false)], [Det(Box(1), 0.9)]);
        var result = VocEvaluator.Evaluate([image], ["one", "two"], ApMetric.Voc12);
        Assert.Equal(0.5, result.Map, 12);
    }

    [Fact]
    public void LabelsOutsideTheClassListAreRejected()
    {
        var image = new EvalImage("img7", [], [new Detection(3, Box(1), 0.9)]);
        var error = Assert.Throws<ArgumentException>(() => VocEvaluator.Evaluate([image], ["one", "two"], ApMetric.Voc12));
        Assert.Contains("img7", error.Message);
    }
}
