using System.Runtime.ExceptionServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The CPU backend's parallel loops: one worker thread per core but one (the calling thread is
/// the last), which wait for the next loop for <see cref="SpinTicks"/> before they sleep,
/// spinning but yielding the core to any other thread that is ready (<see cref="SpinWait"/>), as
/// OpenMP's threads wait under PyTorch. A training step runs thousands of short parallel loops
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
/// thread alone: the cores are busy with the first one. A late worker takes only what is left
/// (<see cref="Loop"/>). A failing body does not stop the
/// others: the loop returns only when no body runs any more (so the caller's finally blocks, which
/// return the loop's buffers to the pool, never race one), and then rethrows the first exception,
/// with its own type and stack, on the calling thread.
/// </para>
/// </summary>
internal static class CpuWorkers
{
    /// <summary>How long an idle worker waits for the next loop before it sleeps: 0.5 ms, longer than most serial gaps inside a training step, far shorter than the benchmarks' 250 ms pause before each timed run.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000;

    /// <summary>
    /// One parallel loop: its body, and its items cut into one contiguous block per participant
    /// (the caller is participant 0). Each participant runs its own block first and then takes what
    /// is left of the others', front first, so a late or slow worker's items are not waited for.
    /// Blocks rather than one shared counter keep the same items on the same core from one loop
    /// to the next (a GEMM's packing and then its tiles over the same rows): with items handed out
    /// one by one to whoever asked, a 512³ product's second run after a 250 ms pause took 2.5-3.2 ms
    /// against Parallel.For's 1.6-2.5 (scratch timing, eight pauses each).
    /// </summary>
    private sealed class Loop
    {
        private const int Padding = 16; // ints: each block's counter on a cache line of its own
        private readonly int count, blocks;
        private readonly Action<int> body;
        private readonly int[] claims;  // claims[b · Padding] = the next unclaimed item of block b
        public int Unfinished;
        public ExceptionDispatchInfo? Failure;

        public Loop(int count, Action<int> body, int participants)
        {
            this.count = count;
            this.body = body;
            blocks = Math.Min(count, participants);
            claims = new int[blocks * Padding];
            for (int b = 0; b < blocks; b++) claims[b * Padding] = BlockStart(b);
            Unfinished = count;
        }

        private int BlockStart(int block) => (int)((long)count * block / blocks);

        /// <summary>Claims and runs items, from <paramref name="participant"/>'s block and then from the others', until none is left.</summary>
        public void Work(int participant)
        {
            for (int i = 0; i < blocks; i++)
            {
                int block = (participant + i) % blocks, end = BlockStart(block + 1), item;
                while ((item = Interlocked.Increment(ref claims[block * Padding]) - 1) < end)
                {
                    try
                    {
                        body(item);
                    }
                    catch (Exception exception)
                    {
                        Interlocked.CompareExchange(ref Failure, ExceptionDispatchInfo.Capture(exception), null);
                    }
                    Interlocked.Decrement(ref Unfinished);
                }
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

    /// <summary>
    /// The threads a loop started now on this thread would run on: 1 inside a loop (a nested loop runs
    /// on its caller), else every worker and the caller. Callers that cut work into one piece per
    /// thread ask this (a loop started while another thread's runs also runs on its caller; that case
    /// is not foreseen here).
    /// </summary>
    public static int Participants => insideLoop ? 1 : WorkerCount + 1;

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
            var loop = new Loop(count, body, WorkerCount + 1);
            Volatile.Write(ref current, loop);
            int asleep = Interlocked.Exchange(ref sleepers, 0);
            if (asleep > 0) Wake.Release(asleep);
            insideLoop = true;
            try
            {
                loop.Work(0);
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
            for (int participant = 1; participant <= WorkerCount; participant++)
            {
                int id = participant;
                new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"ScratchDetect CPU worker {id}" }.Start();
            }
            Volatile.Write(ref started, 1);
        }
    }

    private static void WorkerLoop(int participant)
    {
        insideLoop = true; // a loop inside a body runs where it is
        Loop? seen = null;
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            var spinner = new SpinWait();
            Loop? next;
            while ((next = Volatile.Read(ref current)) == seen || next is null)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                Interlocked.Increment(ref sleepers);
                // A loop published after the count went up releases Wake; one published before it is seen here.
                if (Volatile.Read(ref current) is var latest && (latest == seen || latest is null)) Wake.Wait();
                spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            }
            seen = next;
            next.Work(participant);
        }
    }
}
