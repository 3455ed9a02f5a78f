using ScratchDetect.Data.Augmentation;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Tests;

public class ShapesDatasetTests
{
    // Ten images so that image 10 (every tenth) has no objects; small sides keep the test fast.
    static readonly ShapesOptions Small = new() { Train = 6, Test = 4, MinSize = 64, MaxSize = 160, Seed = 7 };

    [Fact]
    public void RoundTripsThroughTheReaderAndCheckCleanly()
    {
        using var dir = new TempDir();
        var summary = ShapesDataset.Write(dir.Path, Small);
        var dataset = VocDataset.Open(dir.Path);
        Assert.Equal(ShapesDataset.Classes, dataset.Classes); // picked up from labels.txt

        var train = DatasetCheck.Run(dataset, "train");
        var test = DatasetCheck.Run(dataset, "test");
        Assert.Empty(train.Problems.Concat(test.Problems));
        Assert.Equal((6, 6, 4, 4), (train.Images, train.UsableImages, test.Images, test.UsableImages));
        // The check's counts agree with what the generator says it wrote.
        var objects = train.Classes.Zip(test.Classes, (a, b) => a.Objects + b.Objects).ToArray();
        Assert.Equal(summary.ObjectsPerClass, objects);
        Assert.Equal(summary.Difficult, train.Classes.Concat(test.Classes).Sum(c => c.Difficult));
        Assert.Equal(summary.ImagesWithoutObjects, train.ImagesWithoutObjects + test.ImagesWithoutObjects);
        Assert.True(summary.ImagesWithoutObjects >= 1);
        Assert.True(objects.Sum() > 10, $"only {objects.Sum()} objects in 10 images");
    }

    [Fact]
    public void SameSeedSameFilesOtherSeedOtherFiles()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();
        var options = Small with { Train = 3, Test = 0 };
        ShapesDataset.Write(a.Path, options);
        ShapesDataset.Write(b.Path, options);
        ShapesDataset.Write(c.Path, options with { Seed = 8 });
        static byte[] Bytes(TempDir d, string file) => File.ReadAllBytes(Path.Combine(d.Path, file));
        foreach (var file in new[] { "JPEGImages/000002.jpg", "Annotations/000002.xml", "ImageSets/Main/train.txt" })
            Assert.Equal(Bytes(a, file), Bytes(b, file));
        Assert.NotEqual(Bytes(a, "JPEGImages/000002.jpg"), Bytes(c, "JPEGImages/000002.jpg"));
    }

    [Fact]
    public void TrainingLoaderDeliversEverySampleAugmented()
    {
        using var dir = new TempDir();
        ShapesDataset.Write(dir.Path, Small with { Test = 0 });
        var set = new VocTrainingSet(VocDataset.Open(dir.Path), "train", new SsdAugmentation(), keepDifficult: false);
        var batches = set.CreateLoader(new LoaderOptions { BatchSize = 4, Workers = 2, Seed = 3 }).Epoch(0).ToList();
        Assert.Equal([4, 2], batches.Select(b => b.Items.Count));
        Assert.All(batches.SelectMany(b => b.Items), s =>
        {
            Assert.Equal((300, 300), (s.Image.Width, s.Image.Height));
            Assert.All(s.Targets.Boxes, v => Assert.InRange(v, 0f, 1f));
            Assert.DoesNotContain(true, s.Targets.Difficult);
        });
        Assert.Empty(set.Problems);
    }

    /// <summary>
    /// --objects and --object-scale bound what is drawn: at most 2 objects per image, and no box wider
    /// or taller than the largest shape, whose radius is 0.25 of the shorter side (every shape fits in
    /// the square of twice its radius; +2 px for the VOC 1-based inclusive frame and anti-aliasing).
    /// </summary>
    [Fact]
    public void ObjectCountAndScaleOptionsBoundTheShapes()
    {
        using var dir = new TempDir();
        var options = Small with { Train = 20, Test = 0, MinObjects = 2, MaxObjects = 2, MinObjectScale = 0.2, MaxObjectScale = 0.25 };
        ShapesDataset.Write(dir.Path, options);
        int annotated = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "Annotations")))
        {
            var annotation = VocAnnotationParser.Parse(file);
            Assert.InRange(annotation.Objects.Count, 0, 2);
            annotated += annotation.Objects.Count;
            double limit = 2 * 0.25 * Math.Min(annotation.Width!.Value, annotation.Height!.Value) + 2;
            Assert.All(annotation.Objects, o => Assert.True(o.XMax - o.XMin <= limit && o.YMax - o.YMin <= limit, $"{file}: {o} exceeds {limit}"));
        }
        Assert.True(annotated >= 30, $"only {annotated} objects in 20 images of two each (18 with objects)");
    }

    [Theory]
    [InlineData(3, 2, 0.0, 0.3)]    // fewer maximum than minimum objects
    [InlineData(1, 51, 0.0, 0.3)]   // more than 50 objects
    [InlineData(1, 6, 0.3, 0.2)]    // scale range reversed
    [InlineData(1, 6, 0.0, 0.6)]    // radius beyond half the side
    [InlineData(1, 6, 0.0, 0.05)]   // largest radius 0.05 x 64 px is under the 6 px smallest
    public void BadObjectOptionsAreRefusedByName(int min, int max, double minScale, double maxScale)
    {
        var options = Small with { MinObjects = min, MaxObjects = max, MinObjectScale = minScale, MaxObjectScale = maxScale };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(min > max || max > 50 ? "objects per image" : "object scale", error.Message);
    }
}
