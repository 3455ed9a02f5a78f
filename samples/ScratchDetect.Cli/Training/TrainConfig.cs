using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScratchDetect.Cli.Training;

/// <summary>Thrown for a training configuration that cannot be used; the message names the setting or file.</summary>
internal sealed class TrainConfigException(string message) : Exception(message);

/// <summary>
/// Every setting of `scratchdetect train`, as the command line, a JSON --config file and the
/// run's resolved RUN_DIR/config.json all spell them (the option names without the dashes:
/// <c>{"model": "...", "batch-size": 4, "lr-steps": [16, 22]}</c>). Null means "not given";
/// <see cref="Resolve"/> fills in the model's recipe.
/// </summary>
internal sealed record TrainConfig
{
    /// <summary>The file name of the resolved configuration inside RUN_DIR.</summary>
    public const string FileName = "config.json";

    public string? Model { get; init; }
    public string? Data { get; init; }
    public string? Year { get; init; }
    public string? Labels { get; init; }
    public string? Split { get; init; }
    public string? ValSplit { get; init; }
    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    public double? Lr { get; init; }
    public string? Optimizer { get; init; }
    public double? Momentum { get; init; }
    public double? WeightDecay { get; init; }
    public int? WarmupIters { get; init; }
    public int[]? LrSteps { get; init; }
    public double? LrGamma { get; init; }
    public int? Workers { get; init; }
    public int? Seed { get; init; }
    public int? MinSize { get; init; }
    public int? MaxSize { get; init; }
    public string? Out { get; init; }
    public string? BackboneWeights { get; init; }
    public string? Weights { get; init; }
    public int? EvalEvery { get; init; }
    public int? EvalImages { get; init; }
    public int? PrintEvery { get; init; }
    public string? Device { get; init; }
    public bool? Strict { get; init; }

    /// <summary>Stop (with a checkpoint) after this many iterations of this invocation; not kept for a resumed run.</summary>
    public int? StopAfter { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>This configuration with every setting it leaves unset taken from <paramref name="lower"/>.</summary>
    public TrainConfig Over(TrainConfig lower)
    {
        var merged = this with { };
        foreach (var property in typeof(TrainConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (property.GetValue(merged) is null)
                property.SetValue(merged, property.GetValue(lower));
        return merged;
    }

    /// <summary>Reads a JSON configuration; unknown keys and wrong types are errors naming the file.</summary>
    public static TrainConfig Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(path), Json)
                ?? throw new TrainConfigException($"config '{path}' is empty (null)");
        }
        catch (JsonException e)
        {
            throw new TrainConfigException($"config '{path}': {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainConfigException($"cannot read config '{path}': {e.Message}");
        }
    }

    /// <summary>The configuration as JSON, in the same spelling <see cref="Read"/> takes.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Every setting filled in: unset ones from <paramref name="model"/>'s recipe, the learning rate
    /// scaled to the batch size, then checked. Relative paths stay as given.
    /// </summary>
    public TrainConfig Resolve(TrainableModel model)
    {
        var recipe = model.Recipe;
        int batch = BatchSize ?? recipe.BatchSize;
        var resolved = this.Over(new TrainConfig
        {
            Split = "trainval",
            Epochs = recipe.Epochs,
            BatchSize = batch,
            Lr = recipe.LearningRate * batch / recipe.ReferenceBatchSize,
            Optimizer = recipe.Optimizer,
            Momentum = recipe.Momentum,
            WeightDecay = recipe.WeightDecay,
            WarmupIters = recipe.WarmupIterations,
            LrSteps = recipe.LrSteps,
            LrGamma = recipe.LrGamma,
            Workers = Math.Min(4, Environment.ProcessorCount),
            Seed = 0,
            MinSize = recipe.MinSize,
            MaxSize = recipe.MaxSize,
            EvalEvery = 0,
            EvalImages = 0,
            PrintEvery = 20,
            Device = "cpu",
            Strict = false,
        });
        resolved.Check();
        return resolved;
    }

    /// <summary>The file and folder settings as absolute paths, so that config.json resumes from any working directory.</summary>
    public TrainConfig WithFullPaths()
    {
        static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);
        return this with { Data = Full(Data), Labels = Full(Labels), Out = Full(Out), BackboneWeights = Full(BackboneWeights), Weights = Full(Weights) };
    }

    private void Check()
    {
        void Positive(string name, double? value)
        {
            if (!(value > 0)) throw new TrainConfigException($"--{name} must be positive, got {value}");
        }
        void NonNegative(string name, double? value)
        {
            if (!(value >= 0)) throw new TrainConfigException($"--{name} must not be negative, got {value}");
        }
        if (Data is null) throw new TrainConfigException("--data is required: the VOC-format dataset folder");
        if (Out is null) throw new TrainConfigException("--out is required: the run folder for checkpoints, metrics and plots");
        Positive("epochs", Epochs);
        Positive("batch-size", BatchSize);
        Positive("lr", Lr);
        Positive("min-size", MinSize);
        Positive("max-size", MaxSize);
        Positive("workers", Workers);
        Positive("print-every", PrintEvery);
        NonNegative("momentum", Momentum);
        NonNegative("weight-decay", WeightDecay);
        NonNegative("warmup-iters", WarmupIters);
        NonNegative("eval-every", EvalEvery);
        NonNegative("eval-images", EvalImages);
        if (StopAfter is { } stop) Positive("stop-after", stop);
        if (!(LrGamma > 0 && LrGamma <= 1)) throw new TrainConfigException($"--lr-gamma must be in (0, 1], got {LrGamma}");
        if (LrSteps!.FirstOrDefault(s => s < 1) is var bad && bad != 0) throw new TrainConfigException($"--lr-steps are epochs and must be positive, got {bad}");
        if (Optimizer is not ("sgd" or "adamw")) throw new TrainConfigException($"--optimizer '{Optimizer}' is not known (known: sgd, adamw)");
        if (Device != "cpu") throw new TrainConfigException($"--device '{Device}' is not available: training runs on the CPU only (cpu)");
        if (BackboneWeights is not null && Weights is not null)
            throw new TrainConfigException("give --weights (a whole detector) or --backbone-weights (an ImageNet backbone), not both");
    }
}
