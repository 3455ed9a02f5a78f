using ScratchDetect.Cli.Support;
using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Training;

/// <summary>
/// Builds a detector by name with a state dict loaded, for `eval` and `detect`: torchvision's
/// architectures through <see cref="DetectorRegistry"/>, and the variants only `train` knows
/// (<see cref="TrainableModels"/>) with the sizes of their recipe unless given.
/// </summary>
internal static class TrainedModelLoader
{
    /// <summary>Every name either way.</summary>
    public static IEnumerable<string> Names => DetectorRegistry.Names.Union(TrainableModels.Names);

    /// <summary>
    /// The detector in evaluation mode. Throws <see cref="KeyNotFoundException"/> for an unknown name,
    /// <see cref="StateDictMismatchException"/> when the state does not fit, <see cref="ArgumentException"/> for a bad setting.
    /// </summary>
    public static Detector Load(string name, DetectorSettings settings, IReadOnlyDictionary<string, Tensor> state)
    {
        if (DetectorRegistry.Names.Contains(name)) return DetectorRegistry.FromStateDict(name, settings, state);
        var model = TrainableModels.Find(name) ?? throw new KeyNotFoundException($"no detector named '{name}' (known: {string.Join(", ", Names)})");
        if (settings.ScoreThreshold is { } threshold && !(threshold >= 0 && threshold < 1))
            throw new ArgumentException($"{name}: the score threshold must be in [0, 1), got {threshold}");
        // Weights trained from scratch carry batch-norm counters; ImageNet-initialised runs use frozen batch norm without them.
        bool frozen = !state.Keys.Any(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        var detector = model.Build(new ModelBuild(settings.NumClasses, settings.MinSize ?? model.Recipe.MinSize, settings.MaxSize ?? model.Recipe.MaxSize, frozen, 0, settings.ScoreThreshold));
        detector.LoadStateDict(state);
        return detector.Eval();
    }

    /// <summary>
    /// The detector <paramref name="name"/> with the weights file <paramref name="weightsPath"/>
    /// (given as --weights) loaded, for `detect` and `eval`: weights that do not fit, or a setting
    /// the architecture refuses, are a user error naming the file.
    /// </summary>
    public static Detector FromFile(string name, string weightsPath, DetectorSettings settings)
    {
        var state = WeightFiles.Load(weightsPath, "--weights");
        try
        {
            return Load(name, settings, state);
        }
        catch (StateDictMismatchException e)
        {
            throw new UserErrorException($"'{weightsPath}' does not fit {name} with {settings.NumClasses} classes " +
                $"(a different model, or trained with another --num-classes?):\n{e.Result.Describe(WeightFiles.KeysShown)}", e);
        }
        catch (ArgumentException e)
        {
            // The registry's own checks of the settings (sizes, threshold) for this architecture.
            throw new UserErrorException(e.Message, e);
        }
    }
}
