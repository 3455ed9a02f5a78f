namespace ScratchDetect.Engine.Cuda.Memory;

/// <summary>
/// The raw device memory calls the caching allocator sits on (cuMemAlloc / cuMemFree, through
/// ILGPU on a GPU; a counting fake in tests). Both are expensive and synchronising on a real GPU,
/// which is why <see cref="CachingAllocator"/> exists.
/// </summary>
public interface IDeviceMemory
{
    /// <summary>Allocates <paramref name="bytes"/> of device memory; throws <see cref="OutOfMemoryException"/> when the device is full.</summary>
    IntPtr Allocate(long bytes);

    /// <summary>Returns memory from <see cref="Allocate"/> to the device.</summary>
    void Free(IntPtr pointer);
}

/// <summary>A block handed out by <see cref="CachingAllocator"/>: its device address, its rounded size and the stream it belongs to.</summary>
public sealed class DeviceBlock
{
    internal DeviceBlock(IntPtr pointer, long size, IntPtr stream)
    {
        Pointer = pointer;
        Size = size;
        Stream = stream;
    }

    /// <summary>The device address.</summary>
    public IntPtr Pointer { get; }

    /// <summary>The block's size in bytes (the request rounded up to its size class).</summary>
    public long Size { get; }

    /// <summary>The stream whose work uses the block; it is only reused for work on the same stream, so no cross-stream synchronisation is needed.</summary>
    public IntPtr Stream { get; }

    /// <summary>Whether the block is handed out (false while it waits in the cache).</summary>
    public bool InUse { get; internal set; }
}

/// <summary>
/// A caching device allocator in the spirit of PyTorch's CUDACachingAllocator, simplified:
/// requests are rounded up to size classes, a freed block waits in a per-stream, per-class free
/// list, and the next request of that class on that stream takes it back. A training loop that
/// allocates the same shapes every step therefore stops calling the device allocator after its
/// first step. Blocks are never split or merged (a block serves only its own size class). When
/// the device runs out of memory, every cached block is released and the request is retried once.
/// </summary>
public sealed class CachingAllocator(IDeviceMemory device) : IDisposable
{
    /// <summary>Requests are rounded up to a multiple of this (cudaMalloc's own alignment granularity).</summary>
    public const long SmallGranularity = 512;

    /// <summary>Requests of at least this size are "large" and rounded to <see cref="LargeGranularity"/>.</summary>
    public const long LargeThreshold = 1 << 20;

    /// <summary>The rounding step of large requests: fewer classes, so differently sized large tensors still share blocks.</summary>
    public const long LargeGranularity = 2 << 20;

    private readonly Dictionary<(IntPtr Stream, long Size), Stack<DeviceBlock>> free = [];
    private readonly HashSet<DeviceBlock> inUse = [];
    private readonly Lock gate = new();

    /// <summary>The size class of a request: a multiple of <see cref="SmallGranularity"/> below <see cref="LargeThreshold"/>, of <see cref="LargeGranularity"/> above; at least one granule.</summary>
    public static long RoundSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long granularity = bytes < LargeThreshold ? SmallGranularity : LargeGranularity;
        return Math.Max(granularity, (bytes + granularity - 1) / granularity * granularity);
    }

    /// <summary>How many times the device allocator has been called.</summary>
    public long DeviceAllocations { get; private set; }

    /// <summary>How many times memory has been returned to the device.</summary>
    public long DeviceFrees { get; private set; }

    /// <summary>Bytes in blocks currently handed out.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>The largest <see cref="BytesInUse"/> since creation (or <see cref="ResetPeak"/>): the peak memory a benchmark reports.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Bytes in cached blocks waiting for reuse.</summary>
    public long BytesCached { get; private set; }

    /// <summary>A block of at least <paramref name="bytes"/> for work on <paramref name="stream"/>: a cached one of the same class and stream when there is one, else fresh device memory.</summary>
    public DeviceBlock Allocate(long bytes, IntPtr stream)
    {
        long size = RoundSize(bytes);
        lock (gate)
        {
            DeviceBlock block;
            if (free.TryGetValue((stream, size), out var cached) && cached.Count > 0)
            {
                block = cached.Pop();
                BytesCached -= size;
            }
            else
            {
                block = new DeviceBlock(AllocateFromDevice(size), size, stream);
            }
            block.InUse = true;
            inUse.Add(block);
            BytesInUse += size;
            PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
            return block;
        }
    }

    /// <summary>Returns a block to the cache of its stream. Work already queued on that stream may still use it; later work on the same stream is ordered after it.</summary>
    public void Free(DeviceBlock block)
    {
        lock (gate)
        {
            if (!inUse.Remove(block))
                throw new InvalidOperationException($"CachingAllocator: block 0x{block.Pointer:x} ({block.Size} bytes) is not in use here (freed twice, or from another allocator)");
            block.InUse = false;
            BytesInUse -= block.Size;
            BytesCached += block.Size;
            if (!free.TryGetValue((block.Stream, block.Size), out var list))
                free[(block.Stream, block.Size)] = list = new Stack<DeviceBlock>();
            list.Push(block);
        }
    }

    /// <summary>Returns every cached (not in-use) block to the device, as torch.cuda.empty_cache.</summary>
    public void EmptyCache()
    {
        lock (gate)
        {
            foreach (var list in free.Values)
                while (list.Count > 0)
                {
                    var block = list.Pop();
                    device.Free(block.Pointer);
                    DeviceFrees++;
                    BytesCached -= block.Size;
                }
            free.Clear();
        }
    }

    /// <summary>Starts a new peak measurement from the current use.</summary>
    public void ResetPeak()
    {
        lock (gate) PeakBytesInUse = BytesInUse;
    }

    /// <summary>Releases the cache. Blocks still in use stay allocated on the device (their owners free them).</summary>
    public void Dispose() => EmptyCache();

    private IntPtr AllocateFromDevice(long size)
    {
        try
        {
            DeviceAllocations++;
            return device.Allocate(size);
        }
        catch (OutOfMemoryException) when (BytesCached > 0)
        {
            // The cache holds memory of other size classes or streams: give it back and try once more.
            EmptyCache();
            DeviceAllocations++;
            return device.Allocate(size);
        }
    }
}
