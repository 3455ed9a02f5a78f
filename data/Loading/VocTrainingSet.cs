using System.Collections.Concurrent;
using ScratchDetect.Data.Augmentation;
using ScratchDetect.Data.Samples;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Loading;

/// <summary>
/// A VOC split prepared for training: each sample is read under <see cref="VocSampleReader"/>'s rules (the ones
/// `dataset check` applies), converted to float and passed through a transform. Unusable samples are skipped and
/// their problems kept in <see cref="Problems"/>, or, with <c>failFast</c>, stop loading with a
/// <see cref="DatasetException"/>.
/// </summary>
public sealed class VocTrainingSet
{
    readonly VocSampleReader reader;
    readonly IReadOnlyList<string> ids;
    readonly ISampleTransform transform;
    readonly bool failFast;
    readonly ConcurrentDictionary<string, IReadOnlyList<DatasetProblem>> problemsById = new();

    /// <summary>Prepares <paramref name="split"/> of <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="split">The ImageSets/Main split, such as "trainval".</param>
    /// <param name="transform">Augmentation applied to every sample (it receives values 0..255).</param>
    /// <param name="keepDifficult">Whether difficult objects stay in the targets (flagged).</param>
    /// <param name="failFast">Whether an unusable sample throws instead of being skipped.</param>
    public VocTrainingSet(VocDataset dataset, string split, ISampleTransform transform, bool keepDifficult = false, bool failFast = false)
    {
        reader = new VocSampleReader(dataset, keepDifficult);
        ids = dataset.ReadSplit(split);
        this.transform = transform;
        this.failFast = failFast;
    }

    /// <summary>Samples in the split.</summary>
    public int Count => ids.Count;

    /// <summary>The problems found so far, once per sample however many epochs read it, in no particular order.</summary>
    public IReadOnlyList<DatasetProblem> Problems => problemsById.Values.SelectMany(p => p).ToArray();

    /// <summary>Samples skipped as unusable so far (each counted once).</summary>
    public int SkippedSamples => problemsById.Values.Count(p => p.Any(x => x.Severity == ProblemSeverity.Error));

    /// <summary>Reads and transforms sample <paramref name="index"/>; null when it is unusable and not failing fast.</summary>
    public DetectionSample? Load(int index, Random rng)
    {
        var record = reader.Read(ids[index]);
        if (record.Problems.Count > 0) problemsById.TryAdd(record.Id, record.Problems);
        if (!record.Usable)
        {
            if (failFast) throw new DatasetException(record.Problems.First(p => p.Severity == ProblemSeverity.Error));
            return null;
        }
        var sample = new DetectionSample(record.Id, FloatImage.FromRgb(record.Image!), record.Targets!);
        return transform.Apply(sample, rng);
    }

    /// <summary>A loader over this split.</summary>
    public BatchLoader<DetectionSample> CreateLoader(LoaderOptions options) => new(Count, Load, options);
}
