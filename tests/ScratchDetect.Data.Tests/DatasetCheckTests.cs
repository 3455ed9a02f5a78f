using ScratchDetect.Data.Augmentation;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Tests;

public class DatasetCheckTests
{
    /// <summary>
    /// A two-class dataset with one sample per kind of problem:
    /// good (a cat and a difficult dog), empty (no objects), nojpeg (image missing), noxml (annotation missing),
    /// corrupt (image bytes are not an image), broken (XML cut short), resized (size says 40x30, image is 32x24),
    /// zebra (unknown class), flat (degenerate box next to a fine one), spill (box beyond the right edge).
    /// </summary>
    static TempDir BrokenDataset()
    {
        var dir = VocLayout.Create();
        VocClasses.WriteLabelsFile(Path.Combine(dir.Path, "labels.txt"), ["cat", "dog"]);
        var jpeg = JpegEncoder.Encode(new RgbImage(32, 24, Enumerable.Repeat((byte)128, 32 * 24 * 3).ToArray()));
        string Xml(string id) => Path.Combine(dir.Path, "Annotations", id + ".xml");
        void Image(string id) => File.WriteAllBytes(Path.Combine(dir.Path, "JPEGImages", id + ".jpg"), jpeg);
        VocObject Obj(string name, double x1, double y1, double x2, double y2, bool difficult = false) => new(name, x1, y1, x2, y2, difficult, false, 0);

        var ids = new[] { "good", "empty", "nojpeg", "noxml", "corrupt", "broken", "resized", "zebra", "flat", "spill" };
        File.WriteAllLines(Path.Combine(dir.Path, "ImageSets", "Main", "train.txt"), ids);
        foreach (var id in ids.Except(["nojpeg", "corrupt"])) Image(id);
        File.WriteAllBytes(Path.Combine(dir.Path, "JPEGImages", "corrupt.jpg"), [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        VocAnnotationWriter.Write(Xml("good"), "good.jpg", 32, 24, [Obj("cat", 1, 1, 10, 10), Obj("dog", 5, 5, 20, 20, difficult: true)]);
        VocAnnotationWriter.Write(Xml("empty"), "empty.jpg", 32, 24, []);
        VocAnnotationWriter.Write(Xml("nojpeg"), "nojpeg.jpg", 32, 24, [Obj("cat", 1, 1, 10, 10)]);
        VocAnnotationWriter.Write(Xml("corrupt"), "corrupt.jpg", 32, 24, [Obj("cat", 1, 1, 10, 10)]);
        File.WriteAllText(Xml("broken"), "<annotation>\n  <size><width>32</width><height>24</height></size>\n  <object>\n");
        VocAnnotationWriter.Write(Xml("resized"), "resized.jpg", 40, 30, [Obj("cat", 1, 1, 10, 10)]);
        VocAnnotationWriter.Write(Xml("zebra"), "zebra.jpg", 32, 24, [Obj("zebra", 1, 1, 10, 10)]);
        VocAnnotationWriter.Write(Xml("flat"), "flat.jpg", 32, 24, [Obj("cat", 10, 10, 9, 20), Obj("dog", 2, 2, 8, 8)]);
        VocAnnotationWriter.Write(Xml("spill"), "spill.jpg", 32, 24, [Obj("dog", 20, 2, 40, 8)]);
        return dir;
    }

    [Fact]
    public void ReportsEveryProblemWithItsFile()
    {
        using var dir = BrokenDataset();
        var report = DatasetCheck.Run(VocDataset.Open(dir.Path), "train");

        // Usable: good, empty, flat, spill.
        Assert.Equal((10, 4, 1), (report.Images, report.UsableImages, report.ImagesWithoutObjects));
        var found = report.Problems.Select(p => (Path.GetFileName(p.File), p.Kind, p.Severity)).ToHashSet();
        Assert.Equal(
            new HashSet<(string, ProblemKind, ProblemSeverity)>
            {
                ("nojpeg.jpg", ProblemKind.MissingFile, ProblemSeverity.Error),
                ("noxml.xml", ProblemKind.MissingFile, ProblemSeverity.Error),
                ("corrupt.jpg", ProblemKind.UnreadableImage, ProblemSeverity.Error),
                ("broken.xml", ProblemKind.MalformedXml, ProblemSeverity.Error),
                ("resized.xml", ProblemKind.SizeMismatch, ProblemSeverity.Error),
                ("zebra.xml", ProblemKind.UnknownClass, ProblemSeverity.Error),
                ("flat.xml", ProblemKind.DegenerateBox, ProblemSeverity.Warning),
                ("spill.xml", ProblemKind.BoxOutsideImage, ProblemSeverity.Warning),
            },
            found);
        Assert.Equal((6, 2), (report.Errors, report.Warnings));
        // The cut-short XML is reported at its end, line 4.
        Assert.Equal(4, report.Problems.Single(p => p.Kind == ProblemKind.MalformedXml).Line);

        // cat: good; dog: good (difficult), flat, spill.
        Assert.Equal(new ClassCount(1, "cat", 1, 1, 0), report.Classes[0]);
        Assert.Equal(new ClassCount(2, "dog", 3, 3, 1), report.Classes[1]);
    }

    [Fact]
    public void TrainingSkipsUnusableSamplesOrFailsFast()
    {
        using var dir = BrokenDataset();
        var dataset = VocDataset.Open(dir.Path);
        var options = new LoaderOptions { BatchSize = 10, Shuffle = false, Workers = 2 };
        var set = new VocTrainingSet(dataset, "train", new FasterRcnnTransform(train: true));
        var batch = Assert.Single(set.CreateLoader(options).Epoch(0));
        Assert.Equal(["good", "empty", "flat", "spill"], batch.Items.Select(s => s.Id));
        Assert.Equal(6, batch.Skipped);
        Assert.Equal(6, set.SkippedSamples);
        Assert.All(batch.Items.SelectMany(s => s.Targets.Boxes), v => Assert.True(float.IsFinite(v)));
        // spill's box (20, 2, 40, 8) is clipped to the 32-wide image: continuous (19, 1, 32, 8), or mirrored (0, 1, 13, 8).
        var spill = batch.Items.Single(s => s.Id == "spill").Targets.Boxes;
        Assert.Contains(spill, new[] { new float[] { 19, 1, 32, 8 }, [0, 1, 13, 8] });

        var strict = new VocTrainingSet(dataset, "train", new FasterRcnnTransform(train: false), failFast: true);
        var error = Assert.Throws<DatasetException>(() => strict.CreateLoader(options).Epoch(0).ToList());
        Assert.Equal(ProblemSeverity.Error, error.Problem.Severity);
    }
}
