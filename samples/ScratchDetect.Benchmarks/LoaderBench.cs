using ScratchDetect.Data.Augmentation;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Samples;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// "loader": images per second through the SSD training pipeline (JPEG decode, validation, SSDAugmentation) on
/// the synthetic shapes dataset, with the loader's workers, and the two stages alone on one thread.
/// </summary>
public static class LoaderBench
{
    const int Images = 64;

    public static IEnumerable<BenchRow> Run()
    {
        var directory = Directory.CreateTempSubdirectory("scratchdetect-loaderbench-").FullName;
        try
        {
            ShapesDataset.Write(directory, new ShapesOptions { Train = Images, Test = 0, MinSize = 300, MaxSize = 500, Seed = 1 });
            var dataset = VocDataset.Open(directory);
            var set = new VocTrainingSet(dataset, "train", new SsdAugmentation());
            var rows = new List<BenchRow>();
            foreach (int workers in new[] { 2, 1 })
            {
                var loader = set.CreateLoader(new LoaderOptions { BatchSize = 16, Workers = workers, Prefetch = 2 });
                double ms = Harness.MedianMs(() => loader.Epoch(0).Sum(b => b.Items.Count), warmup: 2, runs: 5);
                rows.Add(new BenchRow($"loader epoch, {Images} images 300..500 px, decode + SSD augmentation, {workers} worker(s)",
                    ms, null, "-", $"{Images / (ms / 1000):F1} images/s"));
            }

            var reader = new VocSampleReader(dataset);
            var ids = dataset.ReadSplit("train");
            double decodeMs = Harness.MedianMs(() => { foreach (var id in ids) reader.Read(id); }, warmup: 1, runs: 3);
            rows.Add(new BenchRow($"read + decode + validate, {Images} images, 1 thread", decodeMs, null, "-", $"{Images / (decodeMs / 1000):F1} images/s"));

            var samples = ids.Select(id => reader.Read(id)).Select(r => new DetectionSample(r.Id, FloatImage.FromRgb(r.Image!), r.Targets!)).ToArray();
            var augmentation = new SsdAugmentation();
            double augmentMs = Harness.MedianMs(() =>
            {
                for (int i = 0; i < samples.Length; i++) augmentation.Apply(samples[i], new Random(i));
            }, warmup: 1, runs: 3);
            rows.Add(new BenchRow($"SSD augmentation alone, {Images} images, 1 thread", augmentMs, null, "-", $"{Images / (augmentMs / 1000):F1} images/s"));
            return rows;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
