using System.Security.Cryptography;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Testing;

/// <summary>
/// Reference files that a tools/ script writes with PyTorch, made on first use into a cache folder
/// under the system temp directory keyed by the script's hash, so later runs reuse them and a
/// changed script makes new ones. Used for references too large to commit (whole-model weights).
/// </summary>
/// <param name="scriptName">The script under tools/, run as `python3 tools/NAME OUT_DIR`.</param>
/// <param name="cacheName">The cache folder's name before the hash.</param>
internal sealed class ReferenceCache(string scriptName, string cacheName)
{
    private readonly Lazy<string> folder = new(() => Generate(scriptName, cacheName));

    /// <summary>The folder holding the script's outputs (made on first use).</summary>
    public string Folder => folder.Value;

    /// <summary>The path of one output file.</summary>
    public string PathOf(string name) => Path.Combine(Folder, name + ".safetensors");

    /// <summary>Loads one of the outputs.</summary>
    public Dictionary<string, Tensor> Load(string name) => SafeTensors.Load(PathOf(name));

    private static string Generate(string scriptName, string cacheName)
    {
        string script = Path.Combine(RepoPaths.Root, "tools", scriptName);
        string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(script)))[..16];
        string dir = Path.Combine(Path.GetTempPath(), $"scratchdetect-{cacheName}-{hash}");
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
