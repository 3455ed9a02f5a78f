using ScratchDetect.Engine;

namespace ScratchDetect.Testing;

/// <summary>
/// The outputs of tools/ssd_reference.py (torchvision 0.14's ssd300_vgg16 and ssd.pytorch's SSD300
/// as that repository defines it), made on first use into a cache folder (see
/// <see cref="ReferenceCache"/>); the weights (~250 MB together) are never committed. Used by the
/// models' SSD parity tests and the CLI's `detect` test.
/// </summary>
internal static class SsdReference
{
    private static readonly ReferenceCache Cache = new("ssd_reference.py", "ssd");

    /// <summary>Loads one of the reference files (tv_eval, tv_detect, tv_train, sp_train, sp_detect).</summary>
    public static Dictionary<string, Tensor> Load(string name) => Cache.Load(name);

    /// <summary>torchvision's seeded ssd300_vgg16 (91 classes) under torchvision's names.</summary>
    public static string TorchvisionWeightsPath => Cache.PathOf("tv_weights");

    /// <summary>ssd.pytorch's seeded SSD300 (21 classes) under ssd.pytorch's names.</summary>
    public static string SsdPytorchWeightsPath => Cache.PathOf("sp_weights");
}
