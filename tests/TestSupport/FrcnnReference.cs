using System.Security.Cryptography;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Testing;

/// <summary>
/// The outputs of tools/frcnn_reference.py (torchvision 0.14's fasterrcnn_resnet50_fpn), made on
/// first use into a cache folder under the system temp directory keyed by the script's hash, so
/// later runs reuse them. The weights (~170 MB) are never committed. Used by the models' parity
/// tests and the CLI's `detect` test.
/// </summary>
internal static class FrcnnReference
{
    private static readonly Lazy<string> folder = new(Generate);

    /// <summary>The folder holding weights.safetensors, eval_320/eval_800/detect/train.safetensors.</summary>
    public static string Folder => folder.Value;

    /// <summary>Loads one of the reference files.</summary>
    public static Dictionary<string, Tensor> Load(string name) => SafeTensors.Load(Path.Combine(Folder, name + ".safetensors"));

    /// <summary>The torchvision model's weights under their torchvision names.</summary>
    public static string WeightsPath => Path.Combine(Folder, "weights.safetensors");

    private static string Generate()
    {
        string script = Path.Combine(RepoPaths.Root, "tools", "frcnn_reference.py");
        string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(script)))[..16];
        string dir = Path.Combine(Path.GetTempPath(), "scratchdetect-frcnn-" + hash);
        if (File.Exists(Path.Combine(dir, "done"))) return dir;
        // Test projects run in parallel processes and several need these files: the first one to
        // take the lock makes them, the others wait and then find them done.
        using var generating = TakeLock(dir + ".lock");
        if (File.Exists(Path.Combine(dir, "done"))) return dir;
        Reference.Run(Reference.Python, script, dir);
        File.WriteAllText(Path.Combine(dir, "done"), hash);
        return dir;
    }

    /// <summary>An exclusively opened lock file, waiting (up to 20 minutes) while another process holds it.</summary>
    private static FileStream TakeLock(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(20);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
        }
    }
}
