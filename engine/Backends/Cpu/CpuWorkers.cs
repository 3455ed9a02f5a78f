using System.Runtime.ExceptionServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The CPU backend's parallel loops: one worker thread per core but one (the calling thread is
/// the last), which spin for <see cref="SpinTicks"/> after each loop before they sleep, as
/// OpenMP's threads do under PyTorch. A training step runs thousands of short parallel loops
/// with a little serial work between them (autograd, small ops), and under Parallel.For a loop
/// after more than a few tens of microseconds of serial work first woke a sleeping thread-pool
/// thread. A loop of two 7 µs items took 117 µs longer than the two items one after the other
/// when 300 µs of serial work came before it, and 22 µs longer back to back; on these workers
/// 7 µs shorter and 6 µs shorter (a scratch timing of 1000 loops each on this 2-core VM). The
/// demo's training step took 0.90x Parallel.For's time (median of 100 steps each, the two
/// alternating in blocks of 10 in one process).
/// <para>
/// One loop runs at a time. A loop started while another runs (a data-loading thread's resize
/// during a training step's convolution, or a loop inside a loop's body) runs on its calling
/// thread alone: the cores are busy with the first one. Items are claimed one at a time from a
/// shared counter, so a late worker takes only what is left. A failing body does not stop the
/// others: the loop returns only when no body runs any more (so the caller's finally blocks, which
/// return the loop's buffers to the pool, never race one), and then rethrows the first exception,
/// with its own type and stack, on the calling thread.
/// </para>
/// </summary>
internal static class CpuWorkers
{
    /// <summary>How long an idle worker waits for the next loop before it sleeps: 0.5 ms, longer than most serial gaps inside a training step, far shorter than the benchmarks' 250 ms pause before each timed run.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000;

    /// <summary>One parallel loop: its body, its items, and how far they have got.</summary>
    private sealed class Loop(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        public int Next;        // the next unclaimed item
        public int Unfinished = count;
        public ExceptionDispatchInfo? Failure;

        /// <summary>Claims and runs items until none is left.</summary>
        public void Work()
        {
            int item;
            while ((item = Interlocked.Increment(ref Next) - 1) < Count)
            {
                try
                {
                    Body(item);
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref Failure, ExceptionDispatchInfo.Capture(exception), null);
                }
                Interlocked.Decrement(ref Unfinished);
            }
        }
    }

    private static readonly int WorkerCount = Math.Max(0, Environment.ProcessorCount - 1);
    private static Loop? current;           // the latest loop, which workers join
    private static int busy;                // 1 while a loop runs
    private static int sleepers;            // workers blocked on wake
    private static readonly SemaphoreSlim Wake = new(0);
    private static int started;

    [ThreadStatic] private static bool insideLoop;

    /// <summary>Runs <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>), in parallel where the workers are free, and returns when all have run.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || WorkerCount == 0 || insideLoop || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        try
        {
            if (Volatile.Read(ref started) == 0) StartWorkers();
            var loop = new Loop(count, body);
            Volatile.Write(ref current, loop);
            int asleep = Interlocked.Exchange(ref sleepers, 0);
            if (asleep > 0) Wake.Release(asleep);
            insideLoop = true;
            try
            {
                loop.Work();
            }
            finally
            {
                insideLoop = false;
            }
            var wait = new SpinWait();
            while (Volatile.Read(ref loop.Unfinished) > 0) wait.SpinOnce(sleep1Threshold: -1);
            loop.Failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref current, null); // the body's captures are not kept alive until the next loop
            Volatile.Write(ref busy, 0);
        }
    }

    private static void StartWorkers()
    {
        lock (Wake)
        {
            if (started != 0) return;
            for (int i = 0; i < WorkerCount; i++)
                new Thread(WorkerLoop) { IsBackground = true, Name = $"ScratchDetect CPU worker {i + 1}" }.Start();
            Volatile.Write(ref started, 1);
        }
    }

    private static void WorkerLoop()
    {
        insideLoop = true; // a loop inside a body runs where it is
        Loop? seen = null;
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            Loop? next;
            while ((next = Volatile.Read(ref current)) == seen || next is null)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                Interlocked.Increment(ref sleepers);
                // A loop published after the count went up releases Wake; one published before it is seen here.
                if (Volatile.Read(ref current) is var latest && (latest == seen || latest is null)) Wake.Wait();
                spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            }
            seen = next;
            next.Work();
        }
    }
}
