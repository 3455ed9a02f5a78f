using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Training;

/// <summary>Reads a state dict from either weight format the CLI accepts: safetensors, or a PyTorch checkpoint (.pth, .pt).</summary>
internal static class WeightFiles
{
    /// <summary>Whether <paramref name="path"/> names a PyTorch checkpoint rather than a safetensors file.</summary>
    public static bool IsPyTorch(string path) => Path.GetExtension(path).ToLowerInvariant() is ".pth" or ".pt" or ".bin" or ".tar";

    /// <summary>The tensors in <paramref name="path"/>, by state-dict name.</summary>
    /// <exception cref="InvalidDataException">The file is damaged or refused (a .pth naming a global outside the allow-list).</exception>
    public static Dictionary<string, Tensor> Load(string path) => IsPyTorch(path) ? PyTorchCheckpoint.Load(path) : SafeTensors.Load(path);
}
