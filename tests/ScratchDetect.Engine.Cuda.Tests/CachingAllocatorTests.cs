using ScratchDetect.Engine.Cuda.Memory;

namespace ScratchDetect.Engine.Cuda.Tests;

public class CachingAllocatorTests
{
    /// <summary>A device that hands out fake addresses, counts calls and can be made to run out of memory.</summary>
    private sealed class FakeDevice : IDeviceMemory
    {
        private long next = 0x1000;
        public readonly Dictionary<IntPtr, long> Live = [];
        public long Capacity { get; set; } = long.MaxValue;
        public int Allocations, Frees;

        public IntPtr Allocate(long bytes)
        {
            if (Live.Values.Sum() + bytes > Capacity) throw new OutOfMemoryException($"fake device full ({bytes} bytes requested)");
            Allocations++;
            var pointer = (IntPtr)next;
            next += bytes;
            Live[pointer] = bytes;
            return pointer;
        }

        public void Free(IntPtr pointer)
        {
            Assert.True(Live.Remove(pointer), $"freed an unknown pointer 0x{pointer:x}");
            Frees++;
        }
    }

    private static readonly IntPtr StreamA = 1, StreamB = 2;

    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData((1 << 20) - 1, 1 << 20)]     // the last small class: 2048 granules of 512
    [InlineData(1 << 20, 2 << 20)]           // large requests round to 2 MiB
    [InlineData((5 << 20) + 1, 6 << 20)]
    public void Requests_round_up_to_their_size_class(long bytes, long expected) => Assert.Equal(expected, CachingAllocator.RoundSize(bytes));

    [Fact]
    public void A_steady_training_loop_stops_calling_the_device_after_its_first_step()
    {
        var device = new FakeDevice();
        using var allocator = new CachingAllocator(device);
        long[] stepSizes = [4000, 1 << 22, 37, 4000, 300_000];
        for (int step = 0; step < 5; step++)
        {
            var blocks = stepSizes.Select(s => allocator.Allocate(s, StreamA)).ToList();
            blocks.ForEach(allocator.Free);
            if (step == 0) Assert.Equal(stepSizes.Length, device.Allocations);
        }
        Assert.Equal(stepSizes.Length, device.Allocations);
        Assert.Equal(0, allocator.BytesInUse);
        Assert.Equal(CachingAllocator.RoundSize(4000) * 2 + (4 << 20) + 512 + CachingAllocator.RoundSize(300_000), allocator.PeakBytesInUse);
    }

    [Fact]
    public void A_freed_block_is_reused_for_the_same_class_on_the_same_stream_only()
    {
        var device = new FakeDevice();
        using var allocator = new CachingAllocator(device);
        var first = allocator.Allocate(1000, StreamA);
        allocator.Free(first);
        Assert.Same(first, allocator.Allocate(900, StreamA));         // 900 and 1000 share the 1024 class
        var other = allocator.Allocate(1000, StreamB);                // stream B never takes stream A's blocks
        Assert.NotEqual(first.Pointer, other.Pointer);
        Assert.Equal(StreamB, other.Stream);
        var bigger = allocator.Allocate(2000, StreamA);               // another class: fresh memory
        Assert.NotEqual(first.Pointer, bigger.Pointer);
        Assert.Equal(3, device.Allocations);
    }

    [Fact]
    public void Out_of_memory_releases_the_cache_and_retries_once()
    {
        var device = new FakeDevice { Capacity = 3 << 20 };
        using var allocator = new CachingAllocator(device);
        allocator.Free(allocator.Allocate(1 << 20, StreamA)); // 2 MiB cached
        var block = allocator.Allocate(2 << 20, StreamB);     // does not fit beside the cached block
        Assert.Equal(2 << 20, block.Size);
        Assert.Equal(1, device.Frees);
        Assert.Equal(0, allocator.BytesCached);

        allocator.Free(block);
        allocator.EmptyCache();
        device.Capacity = 0;
        Assert.Throws<OutOfMemoryException>(() => allocator.Allocate(1, StreamA)); // nothing cached to give back
    }

    [Fact]
    public void Empty_cache_returns_every_cached_block_but_keeps_blocks_in_use()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device);
        var kept = allocator.Allocate(100, StreamA);
        allocator.Free(allocator.Allocate(5000, StreamA));
        allocator.Free(allocator.Allocate(5000, StreamB));
        allocator.EmptyCache();
        Assert.Equal(2, device.Frees);
        Assert.Single(device.Live);
        Assert.True(kept.InUse);
        Assert.Equal(kept.Size, allocator.BytesInUse);
    }

    [Fact]
    public void Freeing_a_block_twice_is_an_error_naming_it()
    {
        var allocator = new CachingAllocator(new FakeDevice());
        var block = allocator.Allocate(10, StreamA);
        allocator.Free(block);
        var error = Assert.Throws<InvalidOperationException>(() => allocator.Free(block));
        Assert.Contains("freed twice", error.Message);
    }
}
