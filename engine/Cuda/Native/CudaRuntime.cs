using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Cuda.Native;

/// <summary>
/// The few CUDA runtime (libcudart) entry points ILGPU does not give us: version and device
/// queries for the availability check and the selftest's header, and free-memory reporting.
/// Device memory, streams and kernel launches go through ILGPU (the driver API), whose raw
/// pointers and streams cuBLAS and cuDNN accept as they are. Every call returns a cudaError_t;
/// pass it to <see cref="CudaStatus.CheckRuntime"/>.
/// </summary>
internal static partial class CudaRuntime
{
    private const string Library = "cudart";

    static CudaRuntime() => CudaLibraryResolver.InstallImportResolver();

    [LibraryImport(Library, EntryPoint = "cudaRuntimeGetVersion")]
    internal static partial int RuntimeGetVersion(out int version);

    [LibraryImport(Library, EntryPoint = "cudaDriverGetVersion")]
    internal static partial int DriverGetVersion(out int version);

    [LibraryImport(Library, EntryPoint = "cudaGetDeviceCount")]
    internal static partial int GetDeviceCount(out int count);

    [LibraryImport(Library, EntryPoint = "cudaSetDevice")]
    internal static partial int SetDevice(int device);

    [LibraryImport(Library, EntryPoint = "cudaMemGetInfo")]
    internal static partial int MemGetInfo(out nuint free, out nuint total);

    [LibraryImport(Library, EntryPoint = "cudaDeviceSynchronize")]
    internal static partial int DeviceSynchronize();
}
