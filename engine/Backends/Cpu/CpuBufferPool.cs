using System.Runtime.CompilerServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The CPU backend's caching allocator: arrays of released storages wait here, by element type and
/// exact length, for the next kernel that needs that size, so a steady-state forward or training
/// step reuses the previous one's buffers instead of handing the GC gigabytes of large short-lived
/// arrays (which live on the large-object heap and are only reclaimed by full collections).
/// </summary>
/// <remarks>
/// Buffers are keyed by exact length, so a storage's array is exactly its logical length and
/// kernels may use the array's length (a size-class pool would need every kernel to work on spans
/// of the logical length). Arrays below <see cref="MinPooledBytes"/> are left to the GC, whose
/// gen0 handles small ones cheaply. At most <see cref="MaxRetainedBytes"/> wait in the pool; beyond
/// that a returned array is dropped for the GC, so sizes that never recur cannot pile up.
/// <para>
/// Dropped arrays are garbage on the large-object heap, which only a full collection reclaims; the
/// GC's own schedule leaves them resident while the next step allocates its buffers anew (a
/// training step's backward pass hands back its whole working set at once: SSD300's 8-image step
/// reached 4.5 GB resident for a working set under 2 GB). So once <see cref="CollectAfterDroppedBytes"/>
/// have been dropped, the next array the pool cannot serve is allocated after a full blocking
/// collection, into the space the dropped ones left: PyTorch's CPU allocator frees such blocks
/// to the system at once.
/// </para>
/// </remarks>
internal static class CpuBufferPool
{
    /// <summary>Arrays smaller than this are not pooled (64 KiB: well below the 85 000-byte large-object threshold).</summary>
    internal const long MinPooledBytes = 64 * 1024;

    /// <summary>
    /// The most bytes kept waiting for reuse. 256 MiB holds the largest activations of a ResNet50-FPN
    /// forward at 800x1333 (56 MB each at stride 4) several times over, and is a quarter of what
    /// torchvision's whole process needs for that detect.
    /// </summary>
    internal static long MaxRetainedBytes { get; set; } = 256L << 20;

    /// <summary>
    /// Bytes dropped for the GC after which the next array the pool cannot serve waits for a full
    /// collection. Measured on SSD300's 8-image training step (2 cores): 256 MiB peaked at 3.20 GB
    /// resident, 64 MiB at 2.90 GB, both with about 0.15 s of GC pauses per 40 s step.
    /// </summary>
    internal const long CollectAfterDroppedBytes = 64L << 20;

    // Waiting arrays by (element type, length), each list in return order, and all of them in one
    // list by return time, so that when the pool is full the least recently returned go first.
    private static readonly Dictionary<(Type Element, int Length), List<LinkedListNode<Array>>> Free = new();
    private static readonly LinkedList<Array> ByAge = new();
    private static long retainedBytes;
    // Bytes dropped for the GC since the last collection the pool asked for.
    private static long droppedBytes;

    /// <summary>Bytes waiting in the pool now.</summary>
    internal static long RetainedBytes
    {
        get
        {
            lock (Free) return retainedBytes;
        }
    }

    /// <summary>An array of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    internal static T[] Rent<T>(long length)
    {
        int n = checked((int)length);
        long bytes = (long)n * Unsafe.SizeOf<T>();
        if (bytes < MinPooledBytes) return GC.AllocateUninitializedArray<T>(n);
        bool collect;
        lock (Free)
        {
            if (Free.TryGetValue((typeof(T), n), out var waiting) && waiting.Count > 0)
            {
                var node = waiting[^1]; // the most recently returned: likely still in cache
                waiting.RemoveAt(waiting.Count - 1);
                ByAge.Remove(node);
                retainedBytes -= bytes;
                return (T[])node.Value;
            }
            collect = droppedBytes >= CollectAfterDroppedBytes;
            if (collect) droppedBytes = 0;
        }
        if (collect) GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        return GC.AllocateUninitializedArray<T>(n);
    }

    /// <summary>An array of exactly <paramref name="length"/> zeros.</summary>
    internal static T[] RentZeroed<T>(long length)
    {
        var array = Rent<T>(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>
    /// Takes back an array no storage uses any more. When that would exceed
    /// <see cref="MaxRetainedBytes"/>, the arrays waiting longest are dropped for the GC first, so a
    /// new workload's sizes displace an old one's.
    /// </summary>
    internal static void Return(Array array)
    {
        long bytes = Buffer.ByteLength(array);
        if (bytes < MinPooledBytes) return;
        lock (Free)
        {
            if (bytes > MaxRetainedBytes)
            {
                droppedBytes += bytes;
                return;
            }
            while (retainedBytes + bytes > MaxRetainedBytes && ByAge.First is { } oldest)
            {
                ByAge.RemoveFirst();
                Free[KeyOf(oldest.Value)].Remove(oldest);
                retainedBytes -= Buffer.ByteLength(oldest.Value);
                droppedBytes += Buffer.ByteLength(oldest.Value);
            }
            var key = KeyOf(array);
            if (!Free.TryGetValue(key, out var waiting)) Free[key] = waiting = [];
            waiting.Add(ByAge.AddLast(array));
            retainedBytes += bytes;
        }
    }

    private static (Type, int) KeyOf(Array array) => (array.GetType().GetElementType()!, array.Length);

    /// <summary>Drops every waiting array (for tests and for handing memory back between unrelated workloads).</summary>
    internal static void Clear()
    {
        lock (Free)
        {
            Free.Clear();
            ByAge.Clear();
            retainedBytes = 0;
        }
    }
}
