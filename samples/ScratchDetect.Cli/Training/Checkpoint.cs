using System.Globalization;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Training;

/// <summary>
/// A training checkpoint: one safetensors file holding everything a run needs to continue
/// exactly, written atomically (<see cref="AtomicFile"/>: a kill mid-write leaves the previous
/// checkpoint whole). Tensors: the detector's state dict under torchvision's names, and the
/// optimizer's state under "optimizer." in torch's optimizer state_dict layout (SGD's
/// "state.{i}.momentum_buffer", AdamW's "state.{i}.exp_avg", "exp_avg_sq" and "step"). Metadata: the model name, the next (epoch, batch), and the generator's four state
/// words. The learning rate needs no entry: the schedule is a function of the position.
/// </summary>
internal sealed record Checkpoint(string Model, TrainingPosition Position, ulong[] GeneratorState,
    IReadOnlyDictionary<string, Tensor> ModelState, IReadOnlyDictionary<string, Tensor> OptimizerState)
{
    /// <summary>The checkpoint's file name inside RUN_DIR.</summary>
    public const string FileName = "checkpoint.safetensors";

    /// <summary>The trained weights alone (what `detect --weights` and `eval --weights` take), inside RUN_DIR.</summary>
    public const string WeightsFileName = "model.safetensors";

    private const string Format = "scratchdetect-checkpoint-1";
    private const string OptimizerPrefix = "optimizer.";

    /// <summary>The state of <paramref name="trainer"/> now.</summary>
    public static Checkpoint Of(string model, Trainer trainer) =>
        new(model, trainer.Position, trainer.Generator.SaveState(), trainer.Model.StateDict(), trainer.Optimizer.StateDict());

    /// <summary>The checkpoint as safetensors bytes.</summary>
    public byte[] Serialize()
    {
        var tensors = ModelState.Concat(OptimizerState.Select(e => KeyValuePair.Create(OptimizerPrefix + e.Key, e.Value)));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model"] = Model,
            ["epoch"] = Position.Epoch.ToString(CultureInfo.InvariantCulture),
            ["batch"] = Position.Batch.ToString(CultureInfo.InvariantCulture),
            ["generator"] = string.Join(",", GeneratorState.Select(w => w.ToString("x16", CultureInfo.InvariantCulture))),
        };
        return SafeTensors.Serialize(tensors, metadata);
    }

    /// <summary>Writes the checkpoint and the weights file into <paramref name="runDirectory"/>, each atomically.</summary>
    public void Save(string runDirectory)
    {
        AtomicFile.WriteAllBytes(Path.Combine(runDirectory, FileName), Serialize());
        SafeTensors.Save(Path.Combine(runDirectory, WeightsFileName), ModelState);
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>; errors name the file and what is wrong.</summary>
    public static Checkpoint Load(string path)
    {
        Dictionary<string, Tensor> tensors;
        Dictionary<string, string> metadata;
        try
        {
            (tensors, metadata) = SafeTensors.Deserialize(File.ReadAllBytes(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new TrainConfigException($"cannot read checkpoint '{path}': {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new TrainConfigException($"checkpoint '{path}' is damaged: {e.Message}");
        }
        if (metadata.GetValueOrDefault("format") != Format)
            throw new TrainConfigException($"'{path}' is not a scratchdetect checkpoint (metadata format '{metadata.GetValueOrDefault("format")}', expected '{Format}')");
        string Field(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new TrainConfigException($"checkpoint '{path}' lacks the metadata entry '{key}'");
        int Integer(string key) => int.TryParse(Field(key), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new TrainConfigException($"checkpoint '{path}': metadata '{key}' is '{Field(key)}', not a count");
        var words = Field("generator").Split(',');
        var state = new ulong[words.Length];
        for (int i = 0; i < words.Length; i++)
            if (!ulong.TryParse(words[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out state[i]))
                throw new TrainConfigException($"checkpoint '{path}': generator state '{Field("generator")}' is not hexadecimal words");
        return new Checkpoint(Field("model"), new TrainingPosition(Integer("epoch"), Integer("batch")), state,
            tensors.Where(e => !e.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToDictionary(),
            tensors.Where(e => e.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToDictionary(e => e.Key[OptimizerPrefix.Length..], e => e.Value));
    }
}
