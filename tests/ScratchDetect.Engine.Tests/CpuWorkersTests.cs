using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// <see cref="CpuWorkers.For"/> runs every item exactly once, on the spinning workers when they are
/// free and on the calling thread otherwise (a loop inside a loop, two loops at once), and hands a
/// body's exception back to the caller with its own type.
/// </summary>
public class CpuWorkersTests
{
    /// <summary>Runs a loop of <paramref name="count"/> items and returns how often each ran.</summary>
    private static int[] RunCounts(int count, Action<int>? extra = null)
    {
        var runs = new int[count];
        CpuWorkers.For(count, i =>
        {
            Interlocked.Increment(ref runs[i]);
            extra?.Invoke(i);
        });
        return runs;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    public void EveryItemRunsExactlyOnce(int count)
    {
        // Many loops in a row: a worker still on a finished loop must take nothing from the next one.
        for (int repeat = 0; repeat < 200; repeat++)
            Assert.All(RunCounts(count), runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void ItemsRunOnMoreThanOneThreadWhenThereAreCores()
    {
        if (Environment.ProcessorCount < 2) return; // one core: everything runs on the caller, by design
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        // Items long enough (about 1 ms each) that the worker joins before the caller has taken them all.
        for (int attempt = 0; attempt < 20 && threads.Count < 2; attempt++)
            CpuWorkers.For(16, _ =>
            {
                threads[Environment.CurrentManagedThreadId] = true;
                Thread.SpinWait(200_000);
            });
        Assert.True(threads.Count >= 2, $"all items ran on {threads.Count} thread");
    }

    [Fact]
    public void ALoopInsideALoopRunsEveryInnerItem()
    {
        var inner = new int[64 * 50];
        var outer = RunCounts(64, i => CpuWorkers.For(50, j => Interlocked.Increment(ref inner[i * 50 + j])));
        Assert.All(outer, runs => Assert.Equal(1, runs));
        Assert.All(inner, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void LoopsStartedFromTwoThreadsAtOnceBothComplete()
    {
        var results = new int[2][];
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var total = new int[500];
            for (int repeat = 0; repeat < 100; repeat++)
            {
                var runs = RunCounts(500);
                for (int i = 0; i < runs.Length; i++) total[i] += runs[i];
            }
            results[t] = total;
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "a loop did not finish");
        Assert.All(results, total => Assert.All(total, runs => Assert.Equal(100, runs)));
    }

    [Fact]
    public void ABodysExceptionReachesTheCallerWithItsTypeAndTheWorkersStayUsable()
    {
        var error = Assert.Throws<ArgumentException>(() => CpuWorkers.For(100, i =>
        {
            if (i == 37) throw new ArgumentException("item 37 is bad");
        }));
        Assert.Equal("item 37 is bad", error.Message);
        Assert.All(RunCounts(100), runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void AnExceptionStillLetsEveryOtherItemRun()
    {
        var runs = new int[100];
        Assert.Throws<InvalidOperationException>(() => CpuWorkers.For(100, i =>
        {
            Interlocked.Increment(ref runs[i]);
            if (i % 10 == 3) throw new InvalidOperationException($"item {i}");
        }));
        // The loop finishes before it throws, so no body still runs while the caller's finally blocks return its buffers.
        Assert.All(runs, count => Assert.Equal(1, count));
    }
}
