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
}
