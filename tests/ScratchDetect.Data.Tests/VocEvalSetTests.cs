using ScratchDetect.Data.Evaluation;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Tests;

public class VocEvalSetTests
{
    /// <summary>Images a (one cat at (1,1,10,10)) and b (one difficult dog); classes cat, dog.</summary>
    static (TempDir Dir, VocDataset Dataset) TwoImages()
    {
        var dir = VocLayout.Create();
        VocClasses.WriteLabelsFile(Path.Combine(dir.Path, "labels.txt"), ["cat", "dog"]);
        File.WriteAllLines(Path.Combine(dir.Path, "ImageSets", "Main", "test.txt"), ["a", "b"]);
        VocAnnotationWriter.Write(Path.Combine(dir.Path, "Annotations", "a.xml"), "a.jpg", 50, 40, [new VocObject("cat", 1, 1, 10, 10, false, false, 0)]);
        VocAnnotationWriter.Write(Path.Combine(dir.Path, "Annotations", "b.xml"), "b.jpg", 50, 40, [new VocObject("dog", 5, 5, 30, 30, true, false, 0)]);
        return (dir, VocDataset.Open(dir.Path));
    }

    static string Write(TempDir dir, string json)
    {
        var path = Path.Combine(dir.Path, "dets.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void ReadsNamesIndicesAndPaths()
    {
        var (dir, dataset) = TwoImages();
        using var _ = dir;
        var path = Write(dir, """
            [{"image": "JPEGImages/a.jpg", "width": 50, "height": 40,
              "detections": [{"box": [1, 1, 10, 10], "label": "cat", "score": 0.9},
                             {"box": [2, 2, 12, 12], "label": 1, "score": 0.4}]}]
            """);
        var images = VocEvalSet.Load(dataset, "test", path);
        Assert.Equal(["a", "b"], images.Select(i => i.Id));
        Assert.Equal([1, 1], images[0].Detections.Select(d => d.Label));
        Assert.Empty(images[1].Detections);
        Assert.True(images[1].Objects.Single().Difficult);
        // Exact box first, then a duplicate: AP 1 for cat; dog has no positives (only a difficult object).
        var result = VocEvaluator.Evaluate(images, dataset.Classes, ApMetric.Voc12);
        Assert.Equal(1.0, result.Classes[0].Ap);
        Assert.Null(result.Classes[1].Ap);
    }

    [Fact]
    public void ContinuousFrameBoxesAreConvertedToTheDevkitFrame()
    {
        // The cat spans VOC pixels 1..10, i.e. the continuous box (0, 0, 10, 10) that `detect` would
        // write. Read with BoxFrame.Continuous it becomes (1, 1, 10, 10) again and matches at IoU 1.
        var (dir, dataset) = TwoImages();
        using var _ = dir;
        var path = Write(dir, """[{"image": "a", "detections": [{"box": [0, 0, 10, 10], "label": "cat", "score": 0.9}]}]""");
        var continuous = VocEvalSet.Load(dataset, "test", path, BoxFrame.Continuous);
        Assert.Equal(new VocBox(1, 1, 10, 10), continuous[0].Detections.Single().Box);
        var voc = VocEvalSet.Load(dataset, "test", path);
        Assert.Equal(new VocBox(0, 0, 10, 10), voc[0].Detections.Single().Box);
    }

    [Theory]
    [InlineData("""[{"image": "zz", "detections": []}]""", "entry 0 (image 'zz'): 'zz' is not an image of the split")]
    [InlineData("""[{"image": "a", "detections": []}, {"image": "b", "detections": [{"box": [1,1,2,2], "label": "horse", "score": 1}]}]""", "entry 1 (image 'b') detection 0: label \"horse\"")]
    [InlineData("""[{"image": "a", "detections": [{"box": [1,1,2,2], "label": 0, "score": 1}]}]""", "detection 0: label 0 is not")]
    [InlineData("""[{"image": "a", "detections": [{"box": [1,1,2], "label": 1, "score": 1}]}]""", "box has 3 values")]
    [InlineData("""[{"image": "a", "width": 51, "detections": []}]""", "width 51 differs from the annotation's 50")]
    [InlineData("""[{"image": "a", "detections": [{"box": [1,1,2,2], "label": 1}]}]""", "no \"score\"")]
    [InlineData("""{"image": "a"}""", "expected a JSON array")]
    [InlineData("""[{"image": "a", "detections": [{"box": [1,1,2,2], "label": 1, "score": 1}, {"box": [10,1,2,5], "label": 1, "score": 1}]}]""", "entry 0 (image 'a') detection 1: box [10, 1, 2, 5] has x2 < x1")]
    [InlineData("""[{"image": "a", "detections": [{"box": [1,8,2,5], "label": 1, "score": 1}]}]""", "detection 0: box [1, 8, 2, 5] has y2 < y1")]
    public void ErrorsNameTheEntry(string json, string expected)
    {
        var (dir, dataset) = TwoImages();
        using var _ = dir;
        var error = Assert.Throws<EvaluationInputException>(() => VocEvalSet.Load(dataset, "test", Write(dir, json)));
        Assert.Contains(expected, error.Message);
        Assert.Contains("dets.json", error.Message);
    }

    [Fact]
    public void AReversedGroundTruthBoxIsAnErrorNamingTheAnnotation()
    {
        var (dir, dataset) = TwoImages();
        using var _ = dir;
        string annotation = Path.Combine(dir.Path, "Annotations", "b.xml");
        VocAnnotationWriter.Write(annotation, "b.jpg", 50, 40, [new VocObject("dog", 30, 5, 5, 30, false, false, 0)]);
        var error = Assert.Throws<EvaluationInputException>(() => VocEvalSet.Load(dataset, "test", Write(dir, "[]")));
        Assert.Contains(annotation, error.Message);
        Assert.Contains("'dog' box (30, 5, 5, 30) has xmax < xmin", error.Message);
    }
}
