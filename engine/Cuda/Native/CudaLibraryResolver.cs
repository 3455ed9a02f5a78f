using System.Reflection;
using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Cuda.Native;

/// <summary>
/// One NVIDIA library the bindings load: the logical name the <c>[LibraryImport]</c> declarations
/// use, and the versioned file names accepted for it, newest first.
/// </summary>
/// <param name="DisplayName">The library as a user knows it ("cuBLAS").</param>
/// <param name="ImportName">The name in the <c>[LibraryImport]</c> declarations.</param>
/// <param name="FileNames">Accepted file names, in the order they are tried.</param>
public sealed record CudaLibrary(string DisplayName, string ImportName, IReadOnlyList<string> FileNames)
{
    /// <summary>The CUDA runtime (libcudart), CUDA 13 or 12.</summary>
    public static CudaLibrary Runtime { get; } = new("CUDA runtime", "cudart",
        OperatingSystem.IsWindows() ? ["cudart64_13.dll", "cudart64_12.dll"] : ["libcudart.so.13", "libcudart.so.12"]);

    /// <summary>cuBLAS, CUDA 13 or 12.</summary>
    public static CudaLibrary Cublas { get; } = new("cuBLAS", "cublas",
        OperatingSystem.IsWindows() ? ["cublas64_13.dll", "cublas64_12.dll"] : ["libcublas.so.13", "libcublas.so.12"]);

    /// <summary>cuDNN 9.</summary>
    public static CudaLibrary Cudnn { get; } = new("cuDNN", "cudnn",
        OperatingSystem.IsWindows() ? ["cudnn64_9.dll"] : ["libcudnn.so.9"]);

    /// <summary>Every library the backend needs, in the order they are checked.</summary>
    public static IReadOnlyList<CudaLibrary> All { get; } = [Runtime, Cublas, Cudnn];
}

/// <summary>
/// Finds the NVIDIA libraries at run time. The search order for each library is:
/// every folder in <see cref="FolderVariable"/> (separated like PATH), each accepted file name in
/// turn; then each bare file name through the system loader (LD_LIBRARY_PATH, the ldconfig cache,
/// the executable's folder). The first that loads wins. When none loads, the failure names the
/// library, every name tried and the variable to set.
/// </summary>
public static class CudaLibraryResolver
{
    /// <summary>Folders (PATH-style list) searched before the system loader, e.g. a PyTorch environment's site-packages/nvidia/cublas/lib.</summary>
    public const string FolderVariable = "SCRATCHDETECT_CUDA_LIB_DIR";

    private static readonly Dictionary<string, IntPtr> Loaded = [];
    private static readonly Lock Gate = new();
    private static bool resolverInstalled;

    /// <summary>
    /// The paths tried for <paramref name="library"/>, in order: folder candidates from
    /// <paramref name="folders"/> (the value of <see cref="FolderVariable"/>), then the bare names.
    /// </summary>
    public static IReadOnlyList<string> Candidates(CudaLibrary library, string? folders)
    {
        var candidates = new List<string>();
        foreach (var folder in (folders ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            foreach (var name in library.FileNames)
                candidates.Add(Path.Combine(folder, name));
        candidates.AddRange(library.FileNames);
        return candidates;
    }

    /// <summary>
    /// Loads the first candidate of <paramref name="library"/> that <paramref name="tryLoad"/>
    /// accepts (a handle, or <see cref="IntPtr.Zero"/> for a miss), or throws
    /// <see cref="CudaUnavailableException"/> naming the library, the names tried and <see cref="FolderVariable"/>.
    /// </summary>
    public static IntPtr Resolve(CudaLibrary library, string? folders, Func<string, IntPtr> tryLoad)
    {
        var candidates = Candidates(library, folders);
        foreach (var candidate in candidates)
        {
            var handle = tryLoad(candidate);
            if (handle != IntPtr.Zero) return handle;
        }
        throw new CudaUnavailableException(library, MissingMessage(library, folders));
    }

    /// <summary>The one-line explanation for a library that could not be loaded.</summary>
    public static string MissingMessage(CudaLibrary library, string? folders) =>
        $"CUDA not available: {library.DisplayName} could not be loaded (tried {string.Join(", ", library.FileNames)}" +
        (string.IsNullOrWhiteSpace(folders) ? " through the system loader" : $" in {FolderVariable}={folders} and through the system loader") +
        $"); set {FolderVariable} to the folder that holds it";

    /// <summary>Loads <paramref name="library"/> from this process's environment, once; throws <see cref="CudaUnavailableException"/> if it is missing.</summary>
    public static IntPtr Load(CudaLibrary library)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(library.ImportName, out var handle)) return handle;
            handle = Resolve(library, Environment.GetEnvironmentVariable(FolderVariable),
                path => NativeLibrary.TryLoad(path, out var h) ? h : IntPtr.Zero);
            Loaded[library.ImportName] = handle;
            return handle;
        }
    }

    /// <summary>Routes this assembly's <c>[LibraryImport]</c> names ("cudart", "cublas", "cudnn") through <see cref="Load"/>. Called by each binding's static constructor.</summary>
    internal static void InstallImportResolver()
    {
        lock (Gate)
        {
            if (resolverInstalled) return;
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, ResolveImport);
            resolverInstalled = true;
        }
    }

    private static IntPtr ResolveImport(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var library = CudaLibrary.All.FirstOrDefault(l => l.ImportName == name);
        return library is null ? IntPtr.Zero : Load(library);
    }
}

/// <summary>A CUDA library (or the GPU itself) is missing; the message is one line saying which and what to do.</summary>
public sealed class CudaUnavailableException : Exception
{
    /// <summary>Creates the exception for a missing library (null when no library is to blame, e.g. no GPU).</summary>
    public CudaUnavailableException(CudaLibrary? library, string message) : base(message) => Library = library;

    /// <summary>The library that could not be loaded, if that is the cause.</summary>
    public CudaLibrary? Library { get; }
}
