using ScratchDetect.Data.Loading;

namespace ScratchDetect.Data.Tests;

public class BatchLoaderTests
{
    /// <summary>A sample that records which index and which random draw produced it.</summary>
    sealed record Item(int Index, int Draw);

    static Func<int, Random, Item?> SlowLoad(int jitterSeed) => (i, rng) =>
    {
        // Uneven, index-dependent delays so threads finish out of order.
        Thread.Sleep((i * 7 + jitterSeed) % 4);
        return new Item(i, rng.Next());
    };

    static List<Item[]> Collect(BatchLoader<Item> loader, int epoch) =>
        loader.Epoch(epoch).Select(b => b.Items.ToArray()).ToList();

    [Fact]
    public void OutputIsTheSameWhateverTheThreading()
    {
        var options = new LoaderOptions { BatchSize = 4, Seed = 11, Workers = 1, Prefetch = 1 };
        var serial = Collect(new BatchLoader<Item>(23, SlowLoad(0), options), epoch: 3);
        var parallel = Collect(new BatchLoader<Item>(23, SlowLoad(3), options with { Workers = 4, Prefetch = 3 }), epoch: 3);
        Assert.Equal(serial.Count, parallel.Count);
        for (int b = 0; b < serial.Count; b++) Assert.Equal(serial[b], parallel[b]);

        // 23 samples in batches of 4: five full batches and one of 3, every index once, shuffled.
        Assert.Equal([4, 4, 4, 4, 4, 3], serial.Select(b => b.Length));
        var indices = serial.SelectMany(b => b).Select(x => x.Index).ToArray();
        Assert.Equal(Enumerable.Range(0, 23), indices.Order());
        Assert.NotEqual(Enumerable.Range(0, 23), indices);
    }

    /// <summary>Resuming an epoch at batch k gives the whole epoch's batches from k on, and loads none of the earlier samples.</summary>
    [Fact]
    public void StartingAtABatchSkipsTheEarlierOnesWithoutLoadingThem()
    {
        var loaded = new System.Collections.Concurrent.ConcurrentBag<int>();
        var options = new LoaderOptions { BatchSize = 4, Seed = 5, Workers = 2, Prefetch = 2 };
        var whole = Collect(new BatchLoader<Item>(23, SlowLoad(1), options), epoch: 2);
        var resumed = new BatchLoader<Item>(23, (i, rng) => { loaded.Add(i); return new Item(i, rng.Next()); }, options)
            .Epoch(2, firstBatch: 4).ToList();

        Assert.Equal([4, 5], resumed.Select(b => b.Index));
        for (int b = 0; b < resumed.Count; b++) Assert.Equal(whole[4 + b], resumed[b].Items);
        Assert.Equal(whole[4].Concat(whole[5]).Select(x => x.Index).Order(), loaded.Order());
    }

    [Fact]
    public void EpochsDifferAndRepeatUnderTheSeed()
    {
        var loader = new BatchLoader<Item>(30, SlowLoad(0), new LoaderOptions { BatchSize = 5, Seed = 1 });
        Assert.NotEqual(loader.Order(0), loader.Order(1));
        Assert.Equal(loader.Order(1), new BatchLoader<Item>(30, SlowLoad(0), new LoaderOptions { BatchSize = 5, Seed = 1 }).Order(1));
        Assert.NotEqual(loader.Order(1), new BatchLoader<Item>(30, SlowLoad(0), new LoaderOptions { BatchSize = 5, Seed = 2 }).Order(1));
        // A sample's random draw depends on (seed, epoch, index) only, not on the batch size.
        var bySize = new BatchLoader<Item>(30, SlowLoad(0), new LoaderOptions { BatchSize = 7, Seed = 1 });
        var draws5 = Collect(loader, 1).SelectMany(b => b).ToDictionary(x => x.Index, x => x.Draw);
        var draws7 = Collect(bySize, 1).SelectMany(b => b).ToDictionary(x => x.Index, x => x.Draw);
        Assert.Equal(draws5.OrderBy(p => p.Key), draws7.OrderBy(p => p.Key));
    }

    [Fact]
    public void UnshuffledDropLastAndSkipped()
    {
        var options = new LoaderOptions { BatchSize = 4, Shuffle = false, DropLast = true, Workers = 2 };
        // Multiples of 3 are skipped. 10 samples, batches of 4, last (8, 9) dropped: {0,1,2,3} and {4,5,6,7}.
        var loader = new BatchLoader<Item>(10, (i, _) => i % 3 == 0 ? null : new Item(i, 0), options);
        var batches = loader.Epoch(0).ToList();
        Assert.Equal(2, loader.BatchCount);
        Assert.Equal([1, 2], batches[0].Items.Select(x => x.Index));
        Assert.Equal(2, batches[0].Skipped);
        Assert.Equal([4, 5, 7], batches[1].Items.Select(x => x.Index));
        Assert.Equal(1, batches[1].Skipped);
    }

    [Fact]
    public void PrefetchBoundsTheWorkAhead()
    {
        int started = 0;
        var options = new LoaderOptions { BatchSize = 3, Workers = 2, Prefetch = 2 };
        var loader = new BatchLoader<Item>(30, (i, _) => { Interlocked.Increment(ref started); return new Item(i, 0); }, options);
        foreach (var batch in loader.Epoch(0))
        {
            Thread.Sleep(5); // a slow consumer lets the workers run as far ahead as allowed
            // Held batch plus two prefetched: at most (index + 1 + 2) batches of 3 started.
            Assert.InRange(Volatile.Read(ref started), 0, (batch.Index + 3) * 3);
        }
    }

    [Fact]
    public void CancellationStopsTheEpoch()
    {
        using var cts = new CancellationTokenSource();
        var loader = new BatchLoader<Item>(40, SlowLoad(0), new LoaderOptions { BatchSize = 4, Workers = 2 });
        int seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var _ in loader.Epoch(0, cts.Token))
            {
                seen++;
                cts.Cancel();
            }
        });
        Assert.Equal(1, seen);
    }

    [Fact]
    public void LoadErrorsReachTheConsumerAtTheirBatch()
    {
        var loader = new BatchLoader<Item>(12, (i, _) => i == 9 ? throw new InvalidDataException("sample 9") : new Item(i, 0),
            new LoaderOptions { BatchSize = 4, Shuffle = false });
        var seen = new List<int>();
        var error = Assert.Throws<InvalidDataException>(() => { foreach (var b in loader.Epoch(0)) seen.Add(b.Index); });
        Assert.Equal("sample 9", error.Message);
        Assert.Equal([0, 1], seen);
    }

    [Fact]
    public async Task AsyncEnumerationMatchesSync()
    {
        var loader = new BatchLoader<Item>(17, SlowLoad(1), new LoaderOptions { BatchSize = 5, Seed = 4, Workers = 2 });
        var sync = Collect(loader, 2);
        var async = new List<Item[]>();
        await foreach (var batch in loader.EpochAsync(2)) async.Add(batch.Items.ToArray());
        Assert.Equal(sync.Count, async.Count);
        for (int b = 0; b < sync.Count; b++) Assert.Equal(sync[b], async[b]);
    }
}
