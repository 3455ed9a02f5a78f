using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace ScratchDetect.Engine.Cuda.Memory;

/// <summary>
/// <see cref="IDeviceMemory"/> on an ILGPU accelerator: each allocation is an ILGPU byte buffer
/// (cuMemAlloc on a GPU), addressed by its device pointer, which is what cuBLAS and cuDNN take.
/// <see cref="View{T}"/> gives our kernels a typed view of a block.
/// </summary>
public sealed class AcceleratorDeviceMemory(Accelerator accelerator) : IDeviceMemory, IDisposable
{
    private readonly Dictionary<IntPtr, MemoryBuffer1D<byte, Stride1D.Dense>> buffers = [];
    private readonly Lock gate = new();

    /// <inheritdoc />
    public IntPtr Allocate(long bytes)
    {
        MemoryBuffer1D<byte, Stride1D.Dense> buffer;
        try
        {
            buffer = accelerator.Allocate1D<byte>(bytes);
        }
        catch (CudaException e) when (e.Error.Contains("OUT_OF_MEMORY", StringComparison.Ordinal))
        {
            throw new OutOfMemoryException($"{accelerator.Name}: out of device memory allocating {bytes} bytes", e);
        }
        lock (gate) buffers.Add(buffer.NativePtr, buffer);
        return buffer.NativePtr;
    }

    /// <inheritdoc />
    public void Free(IntPtr pointer)
    {
        MemoryBuffer1D<byte, Stride1D.Dense>? buffer;
        lock (gate)
            if (!buffers.Remove(pointer, out buffer))
                throw new InvalidOperationException($"AcceleratorDeviceMemory: 0x{pointer:x} was not allocated here");
        buffer.Dispose();
    }

    /// <summary>The first <paramref name="length"/> elements of <paramref name="block"/> as a typed view for our kernels.</summary>
    public ArrayView<T> View<T>(DeviceBlock block, long length) where T : unmanaged
    {
        long bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes > block.Size) throw new ArgumentOutOfRangeException(nameof(length), $"a view of {length} {typeof(T).Name} ({bytes} bytes) does not fit the {block.Size}-byte block");
        ArrayView<byte> raw;
        lock (gate) raw = buffers[block.Pointer].View;
        return raw.SubView(0, bytes).Cast<T>();
    }

    /// <summary>Frees every buffer still allocated.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            foreach (var buffer in buffers.Values) buffer.Dispose();
            buffers.Clear();
        }
    }
}
