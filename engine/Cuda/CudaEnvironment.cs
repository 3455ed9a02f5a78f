using ILGPU;
using ILGPU.Runtime.Cuda;
using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda;

/// <summary>
/// Whether this machine can run the CUDA backend: an NVIDIA GPU the driver exposes (found through
/// ILGPU, which talks to the driver's libcuda), and the CUDA runtime, cuBLAS and cuDNN libraries
/// (found by <see cref="CudaLibraryResolver"/>). Selecting CUDA where something is missing gives
/// exactly one line saying what.
/// </summary>
public static class CudaEnvironment
{
    /// <summary>Null when CUDA is usable here; otherwise the one-line reason, starting "CUDA not available:".</summary>
    public static string? UnavailableReason() => UnavailableReason(CountGpus, library =>
    {
        try
        {
            CudaLibraryResolver.Load(library);
            return null;
        }
        catch (CudaUnavailableException e)
        {
            return e.Message;
        }
    });

    /// <summary>The check itself, over a GPU counter and a library loader (null on success, else its one-line failure), so its order and messages are testable without a GPU.</summary>
    internal static string? UnavailableReason(Func<int> gpuCount, Func<CudaLibrary, string?> loadLibrary)
    {
        if (gpuCount() == 0)
            return "CUDA not available: no NVIDIA GPU found (the driver's libcuda.so.1 reports none, or is not installed)";
        foreach (var library in CudaLibrary.All)
            if (loadLibrary(library) is { } failure)
                return failure;
        return null;
    }

    /// <summary>The number of CUDA devices the driver reports; 0 when there is no driver at all.</summary>
    public static int CountGpus()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return 0;
        }
    }
}
