using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
/// that a returned array is dropped for the GC, so sizes that never recur cannot pile up. A waiting
/// array keeps its address but not its memory (see <see cref="ReleasePages"/>), so the pool adds
/// almost nothing to a workload's peak; PyTorch's allocator likewise unmaps large blocks when they are freed.
/// <para>
/// Dropped arrays are garbage on the large-object heap, which only a full collection reclaims; the
/// GC's own schedule leaves them resident while the next step allocates its buffers anew (a
/// training step's backward pass hands back its whole working set at once: SSD300's 8-image step
/// reached 4.5 GB resident for a working set under 2 GB). So once <see cref="CollectAfterBytes"/>
/// have been dropped or allocated anew, the next array the pool cannot serve is allocated after a
/// full blocking collection, into the space the dropped ones left: PyTorch's CPU allocator frees such blocks
/// to the system at once.
/// </para>
/// </remarks>
internal static partial class CpuBufferPool
{
    /// <summary>Arrays smaller than this are not pooled (64 KiB: well below the 85 000-byte large-object threshold).</summary>
    internal const long MinPooledBytes = 64 * 1024;

    /// <summary>
    /// The most bytes kept waiting for reuse. 256 MiB holds the largest activations of a ResNet50-FPN
    /// forward at 800x1333 (56 MB each at stride 4) several times over. The bound is on address
    /// space the GC keeps, not on resident memory: waiting arrays are not resident.
    /// </summary>
    internal static long MaxRetainedBytes { get; set; } = 256L << 20;

    /// <summary>
    /// The most bytes of waiting arrays that stay resident: the most recently returned ones, which
    /// the next layers are likeliest to rent again (a backward pass returns and rents same-size
    /// buffers close together), so reusing them costs no page faults. Older waiting arrays give
    /// their pages back to the system (<see cref="ReleasePages"/>). With every waiting array
    /// released, SSD300's 8-image training step faulted each reused buffer back in and ran about
    /// 15% slower (two runs side by side at load 20). At 64 MiB a detection still faulted most of
    /// its buffers back in: Faster R-CNN at 320/533 rented 236 MiB of released arrays per image
    /// (its 50 MB RoI features twice among them). Measured on two cores in one process alternating
    /// the budget, each run after a 250 ms pause and an untimed run (10 each), 64 against 192 MiB:
    /// SSD300 detect 342 against 259 ms, Faster R-CNN at 320/533 374 against 314 ms, at 800/1333
    /// 1820 against 1505 ms (6 each). Peak resident memory (VmHWM, one process each) at 64, 128,
    /// 192 and 256 MiB: Faster R-CNN detect at 320/533 0.575, 0.638, 0.658 and 0.685 GB
    /// (torchvision's: 0.72), SSD300 detect 0.37, 0.44, 0.46 and 0.51 GB (0.59), SSD300's 8-image
    /// training step 1.93 GB at 64 MiB, 2.03 at 192 and 2.10 at 256 (2.32-2.49): 192 MiB keeps each
    /// at least a tenth under PyTorch's.
    /// </summary>
    internal static long MaxResidentBytes { get; set; } = 192L << 20;

    /// <summary>
    /// Bytes of arrays dropped for the GC or allocated anew (requests the pool could not serve)
    /// after which the next array the pool cannot serve waits for a full collection. New arrays
    /// count because the tensors nobody disposes (most of a training step's intermediates) reach
    /// the GC without passing the pool. Measured on two cores: SSD300's 8-image training step
    /// peaked at 3.20 GB resident counting dropped arrays only from 256 MiB, 2.90 GB from 64 MiB;
    /// Faster R-CNN's training step at 320/533 (one image, SGD) at 2.78 GB counting dropped arrays
    /// only, and counting new ones too at 2.42 GB from 1 GiB, 1.83 GB from 256 MiB, 1.71 GB from
    /// 128 MiB and 1.65 GB from 64 MiB, the step's time unchanged within its run-to-run spread (2.6-3.3 s,
    /// with 15-25 collections a step from 128 MiB).
    /// </summary>
    internal const long CollectAfterBytes = 128L << 20;

    // Waiting arrays by (element type, length), each list in return order, and all of them in one
    // list by return time, so that when the pool is full the least recently returned go first.
    // The resident ones are the newest: from oldestResident (null: none) to the end of ByAge.
    private static readonly Dictionary<(Type Element, int Length), List<LinkedListNode<Waiting>>> Free = new();
    private static readonly LinkedList<Waiting> ByAge = new();
    private static LinkedListNode<Waiting>? oldestResident;
    private static long retainedBytes, residentBytes;
    // Bytes of pooled-size arrays dropped for the GC or newly allocated since the last collection
    // the pool asked for.
    private static long bytesForTheGc;

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
                Unlink(node);
                return (T[])node.Value.Array;
            }
            bytesForTheGc += bytes;
            collect = bytesForTheGc >= CollectAfterBytes;
            if (collect) bytesForTheGc = 0;
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
                bytesForTheGc += bytes;
                ReleasePages(array); // garbage now, but resident until a collection
                return;
            }
            while (retainedBytes + bytes > MaxRetainedBytes && ByAge.First is { } oldest)
            {
                Free[KeyOf(oldest.Value.Array)].Remove(oldest);
                Unlink(oldest);
                bytesForTheGc += Buffer.ByteLength(oldest.Value.Array);
                if (oldest.Value.Resident) ReleasePages(oldest.Value.Array);
            }
            var key = KeyOf(array);
            if (!Free.TryGetValue(key, out var waiting)) Free[key] = waiting = [];
            var node = ByAge.AddLast(new Waiting(array));
            waiting.Add(node);
            retainedBytes += bytes;
            residentBytes += bytes;
            oldestResident ??= node;
            // Beyond the resident budget, the oldest resident arrays give their pages back.
            while (residentBytes > MaxResidentBytes && oldestResident is { } released)
            {
                residentBytes -= Buffer.ByteLength(released.Value.Array);
                released.Value.Resident = false;
                oldestResident = released.Next;
                ReleasePages(released.Value.Array);
            }
        }
    }

    /// <summary>Takes a waiting array's node out of <see cref="ByAge"/> and the byte counts (under the lock).</summary>
    private static void Unlink(LinkedListNode<Waiting> node)
    {
        long bytes = Buffer.ByteLength(node.Value.Array);
        retainedBytes -= bytes;
        if (node.Value.Resident)
        {
            residentBytes -= bytes;
            if (node == oldestResident) oldestResident = node.Next;
        }
        ByAge.Remove(node);
    }

    /// <summary>An array waiting in the pool, and whether its pages are still resident (it is among the newest <see cref="MaxResidentBytes"/>).</summary>
    private sealed class Waiting(Array array)
    {
        public Array Array { get; } = array;

        public bool Resident { get; set; } = true;
    }

    /// <summary>
    /// Hands the whole memory pages inside an array's elements back to the operating system
    /// (Linux's madvise(MADV_DONTNEED), what glibc's free does for large blocks): for a waiting
    /// array past the resident budget, or one dropped for the GC. A waiting array stays ours, so
    /// reusing it costs no allocation and no collection, but while it waits it is not resident,
    /// and the next writer finds those pages zero-filled (contents are unspecified to a renter
    /// anyway). Without this, up to <see cref="MaxRetainedBytes"/> of idle arrays sat on top of
    /// every peak: SSD300's 8-image detect peaked at 1.31 GB resident with the pool, 0.95 GB
    /// with no pool at all. Only the array's elements are touched, never its header, so the GC's
    /// view of the object is unchanged. Elsewhere (not Linux) waiting arrays stay resident.
    /// </summary>
    private static unsafe void ReleasePages(Array array)
    {
        if (!OperatingSystem.IsLinux()) return;
        fixed (byte* elements = &MemoryMarshal.GetArrayDataReference(array))
        {
            nuint start = ((nuint)elements + PageBytes - 1) & ~(PageBytes - 1);
            nuint end = ((nuint)elements + (nuint)Buffer.ByteLength(array)) & ~(PageBytes - 1);
            if (end > start) _ = Madvise((void*)start, end - start, MadviseDontNeed);
        }
    }

    private const nuint PageBytes = 4096; // the smallest page size Linux uses: whole pages of any larger size are whole 4 KiB pages too
    private const int MadviseDontNeed = 4; // MADV_DONTNEED

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static unsafe partial int Madvise(void* address, nuint length, int advice);

    private static (Type, int) KeyOf(Array array) => (array.GetType().GetElementType()!, array.Length);

    /// <summary>Drops every waiting array (for tests and for handing memory back between unrelated workloads).</summary>
    internal static void Clear()
    {
        lock (Free)
        {
            Free.Clear();
            ByAge.Clear();
            oldestResident = null;
            retainedBytes = residentBytes = 0;
        }
    }
}
