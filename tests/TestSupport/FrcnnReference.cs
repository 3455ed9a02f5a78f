using ScratchDetect.Engine;

namespace ScratchDetect.Testing;

/// <summary>
/// The outputs of tools/frcnn_reference.py (torchvision 0.14's fasterrcnn_resnet50_fpn), made on
/// first use into a cache folder (see <see cref="ReferenceCache"/>). The weights (~170 MB) are never
/// committed. Used by the models' parity tests and the CLI's `detect` test.
/// </summary>
internal static class FrcnnReference
{
    private static readonly ReferenceCache Cache = new("frcnn_reference.py", "frcnn");

    /// <summary>The folder holding weights.safetensors, eval_320/eval_800/detect/train.safetensors.</summary>
    public static string Folder => Cache.Folder;

    /// <summary>Loads one of the reference files.</summary>
    public static Dictionary<string, Tensor> Load(string name) => Cache.Load(name);

    /// <summary>The torchvision model's weights under their torchvision names.</summary>
    public static string WeightsPath => Cache.PathOf("weights");
}
