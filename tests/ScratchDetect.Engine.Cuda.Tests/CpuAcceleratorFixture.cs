using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Cuda.Kernels;

namespace ScratchDetect.Engine.Cuda.Tests;

/// <summary>
/// ILGPU's CPU accelerator, which runs our kernels with the GPU's execution model emulated
/// (groups, shared memory, barriers, atomics). One per test run, used by one test at a time
/// (the <see cref="KernelCollection"/>), with the kernels the CUDA backend launches on a GPU.
/// </summary>
public sealed class CpuAcceleratorFixture : IDisposable
{
    private readonly Context context;

    public CpuAcceleratorFixture()
    {
        context = KernelContext.Create();
        Accelerator = context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
        Kernels = new DeviceKernels(Accelerator);
    }

    public Accelerator Accelerator { get; }

    internal DeviceKernels Kernels { get; }

    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] data) where T : unmanaged =>
        data.Length == 0 ? Accelerator.Allocate1D<T>(1) : Accelerator.Allocate1D(data);

    public MemoryBuffer1D<float, Stride1D.Dense> Upload(Tensor t) => Upload(t.To(DType.Float32).ToArray<float>());

    /// <summary>The leading elements of a device buffer, as a float32 tensor of <paramref name="shape"/>.</summary>
    public static Tensor Download(MemoryBuffer1D<float, Stride1D.Dense> buffer, params int[] shape)
    {
        long length = Shapes.Numel(shape);
        var data = length == 0 ? [] : buffer.View.SubView(0, length).GetAsArray1D();
        return Tensor.FromArray(data, shape);
    }

    public static long[] DownloadLongs(MemoryBuffer1D<long, Stride1D.Dense> buffer, long length) =>
        length == 0 ? [] : buffer.View.SubView(0, length).GetAsArray1D();

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}

/// <summary>Kernel tests share one CPU accelerator and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<CpuAcceleratorFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
