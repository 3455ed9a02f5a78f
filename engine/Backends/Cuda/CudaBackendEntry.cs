using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Backends.Cuda;

/// <summary>
/// The one entry point through which <see cref="BackendRegistry"/> asks for a CUDA backend (as
/// candle's dummy_cuda_backend: without a GPU the engine still builds and says what is missing).
/// It probes for the NVIDIA driver library; the CUDA backend (native bindings and kernels, a
/// separate piece of work) plugs in by constructing itself here once the driver is found.
/// </summary>
internal static class CudaBackendEntry
{
    /// <summary>The driver API library every CUDA backend needs, by platform.</summary>
    internal static string DriverLibrary => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    /// <summary>Creates the backend of CUDA device <paramref name="index"/>, or says in one sentence why it cannot.</summary>
    public static bool TryCreate(int index, [NotNullWhen(true)] out IBackend? backend, out string reason)
    {
        backend = null;
        if (!NativeLibrary.TryLoad(DriverLibrary, out var driver))
        {
            reason = $"the NVIDIA driver library {DriverLibrary} was not found (no NVIDIA GPU driver is installed), so CUDA device {index} cannot be used; use the CPU";
            return false;
        }
        NativeLibrary.Free(driver);
        reason = $"the NVIDIA driver ({DriverLibrary}) is present, but this build of ScratchDetect has no CUDA backend kernels yet (engine/Backends/Cuda), so CUDA device {index} cannot be used; use the CPU";
        return false;
    }
}
