using ScratchDetect.Cli.Support;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Training;

/// <summary>
/// Reads a state dict from either weight format the CLI accepts: safetensors, or a PyTorch
/// checkpoint (.pth, .pt). The one way every command (detect, eval, train) loads a weights file.
/// </summary>
internal static class WeightFiles
{
    /// <summary>Keys of each kind a "does not fit" error names before it only counts the rest.</summary>
    public const int KeysShown = 8;

    /// <summary>Whether <paramref name="path"/> names a PyTorch checkpoint rather than a safetensors file.</summary>
    public static bool IsPyTorch(string path) => Path.GetExtension(path).ToLowerInvariant() is ".pth" or ".pt" or ".bin" or ".tar";

    /// <summary>
    /// The tensors in the file given as <paramref name="what"/> (such as "--weights"), by state-dict
    /// name. A missing file or a folder is a <see cref="UserErrorException"/>; a damaged or refused
    /// file (a .pth naming a global outside the allow-list) an <see cref="InvalidDataException"/>
    /// naming it. The top-level handler reports either as a user error.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, string what)
    {
        string full = UserPaths.InputFile(path, what);
        return IsPyTorch(full) ? PyTorchCheckpoint.Load(full) : SafeTensors.Load(full);
    }
}
