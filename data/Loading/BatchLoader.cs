using System.Runtime.CompilerServices;

namespace ScratchDetect.Data.Loading;

/// <summary>How a <see cref="BatchLoader{T}"/> orders, groups and prepares samples.</summary>
public sealed record LoaderOptions
{
    /// <summary>Samples per batch (the last batch may be smaller unless <see cref="DropLast"/>).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Whether each epoch visits the samples in a seeded random order (else in index order).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seeds both the order and every sample's augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Threads loading and augmenting samples.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Batches prepared ahead of the one the consumer holds (at least 1); bounds memory.</summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Whether to leave out a last, incomplete batch.</summary>
    public bool DropLast { get; init; }
}

/// <summary>One batch of samples; images may differ in size.</summary>
/// <typeparam name="T">The sample type.</typeparam>
/// <param name="Index">The batch's position in the epoch, from 0.</param>
/// <param name="Items">The samples, in the epoch's order, without the skipped ones.</param>
/// <param name="Skipped">Samples of this batch that the load function skipped (returned null).</param>
public sealed record Batch<T>(int Index, IReadOnlyList<T> Items, int Skipped);

/// <summary>
/// Loads samples on worker threads and hands them out in batches, always in the same order: sample i of epoch e is
/// produced by <c>load(i, rng)</c> with an <see cref="Random"/> seeded from (seed, e, i) alone, so the output does
/// not depend on thread timing, worker count or batch size. At most <see cref="LoaderOptions.Prefetch"/> batches
/// are prepared ahead of the consumer.
/// </summary>
/// <typeparam name="T">The sample type.</typeparam>
public sealed class BatchLoader<T> where T : class
{
    readonly int count;
    readonly Func<int, Random, T?> load;
    readonly LoaderOptions options;

    /// <summary>
    /// A loader over samples 0..<paramref name="count"/>-1. <paramref name="load"/> returns null to skip a sample
    /// and may throw to stop the epoch (the exception reaches the consumer at that batch).
    /// </summary>
    public BatchLoader(int count, Func<int, Random, T?> load, LoaderOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Prefetch, 1);
        this.count = count;
        this.load = load;
        this.options = options;
    }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => options.DropLast ? count / options.BatchSize : (count + options.BatchSize - 1) / options.BatchSize;

    /// <summary>The sample indices of <paramref name="epoch"/> in visiting order.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        if (options.Shuffle) new Random(SeedMix.Of(options.Seed, epoch, -1)).Shuffle(order);
        return order;
    }

    /// <summary>The batches of <paramref name="epoch"/>; blocks while the next batch is being prepared.</summary>
    public IEnumerable<Batch<T>> Epoch(int epoch, CancellationToken cancellationToken = default) => Epoch(epoch, 0, cancellationToken);

    /// <summary>
    /// The batches of <paramref name="epoch"/> from batch <paramref name="firstBatch"/> on, without loading the
    /// earlier ones: what resuming an interrupted epoch needs. They equal the same batches of a whole epoch,
    /// since every sample depends on (seed, epoch, index) alone.
    /// </summary>
    public IEnumerable<Batch<T>> Epoch(int epoch, int firstBatch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBatch, BatchCount);
        using var run = new EpochRun(this, epoch, cancellationToken, firstBatch);
        for (int b = firstBatch; b < BatchCount; b++)
        {
            // Checked first because a prefetched batch may be complete already.
            cancellationToken.ThrowIfCancellationRequested();
            yield return run.Next().WaitAsync(cancellationToken).GetAwaiter().GetResult();
        }
    }

    /// <summary>The batches of <paramref name="epoch"/>, awaiting each while it is being prepared.</summary>
    public async IAsyncEnumerable<Batch<T>> EpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var run = new EpochRun(this, epoch, cancellationToken);
        for (int b = 0; b < BatchCount; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return await run.Next().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The batches of one epoch in flight; disposing cancels what has not started and waits for the rest.</summary>
    sealed class EpochRun : IDisposable
    {
        readonly BatchLoader<T> loader;
        readonly int epoch;
        readonly int[] order;
        readonly CancellationTokenSource stop;
        readonly TaskScheduler workers;
        readonly Queue<Task<Batch<T>>> inFlight = new();
        int nextToStart;

        public EpochRun(BatchLoader<T> loader, int epoch, CancellationToken cancellationToken, int firstBatch = 0)
        {
            nextToStart = firstBatch;
            this.loader = loader;
            this.epoch = epoch;
            order = loader.Order(epoch);
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // Samples queue in batch order, so earlier batches finish first.
            workers = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, loader.options.Workers).ConcurrentScheduler;
        }

        /// <summary>The next batch's task, with the following Prefetch batches started behind it.</summary>
        public Task<Batch<T>> Next()
        {
            StartUpTo(loader.options.Prefetch + 1);
            var next = inFlight.Dequeue();
            StartUpTo(loader.options.Prefetch);
            return next;
        }

        void StartUpTo(int depth)
        {
            while (inFlight.Count < depth && nextToStart < loader.BatchCount)
                inFlight.Enqueue(Start(nextToStart++));
        }

        async Task<Batch<T>> Start(int batch)
        {
            int size = loader.options.BatchSize;
            var indices = order.AsSpan(batch * size, Math.Min(size, order.Length - batch * size)).ToArray();
            var samples = indices.Select(i => Task.Factory.StartNew(
                () => loader.load(i, new Random(SeedMix.Of(loader.options.Seed, epoch, i))),
                stop.Token, TaskCreationOptions.None, workers)).ToArray();
            var loaded = await Task.WhenAll(samples).ConfigureAwait(false);
            var items = loaded.OfType<T>().ToArray();
            return new Batch<T>(batch, items, loaded.Length - items.Length);
        }

        public void Dispose()
        {
            stop.Cancel();
            try
            {
                Task.WhenAll(inFlight).Wait();
            }
            catch (AggregateException)
            {
                // Cancelled or failed batches nobody asked for: their outcome no longer matters.
            }
            stop.Dispose();
        }
    }
}

/// <summary>Derives independent seeds from a few integers (SplitMix64 finaliser), so no state is shared between threads.</summary>
public static class SeedMix
{
    /// <summary>A seed for <see cref="Random"/> that depends on every argument.</summary>
    public static int Of(int seed, int a, int b)
    {
        // Mix is a bijection, so for a fixed seed distinct (a, b) give distinct 64-bit states.
        ulong z = Mix((uint)seed + 0x9E3779B97F4A7C15UL);
        z = Mix(z ^ (uint)a);
        z = Mix(z ^ ((ulong)(uint)b << 32));
        return (int)(z >> 33);
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
