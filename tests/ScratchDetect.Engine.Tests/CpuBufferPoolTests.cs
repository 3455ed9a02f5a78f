using System.Runtime.InteropServices;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// An array waiting in <see cref="CpuBufferPool"/> is kept (the next rent of its length gets the
/// same array, so no allocation) but, once newer returns pass the resident budget, not resident:
/// its whole pages were handed back to the operating system (Linux; the test reads residency with Linux's mincore, which reports a page
/// written since the last release as resident and a released one as not).
/// </summary>
[Collection(nameof(CpuBufferPoolTests))]
public partial class CpuBufferPoolTests
{
    // A length no other test rents (exact-length pool): 1.2 MB of floats, 292 whole pages or more.
    private const int Length = 300_007;

    [Fact]
    public void AWaitingArrayIsReusedButNotResident()
    {
        long budget = CpuBufferPool.MaxResidentBytes;
        CpuBufferPool.MaxResidentBytes = 0; // every waiting array past the budget
        try
        {
            var array = CpuBufferPool.Rent<float>(Length);
            Array.Fill(array, 1.5f);
            // Every page was just written: a residency check that cannot see pages would fail here.
            Assert.Equal(1.0, ResidentFraction(array));

            CpuBufferPool.Return(array);
            Assert.Equal(0.0, ResidentFraction(array));

            var again = CpuBufferPool.Rent<float>(Length);
            Assert.Same(array, again);
            again.AsSpan().Fill(2.5f); // the released pages come back on write, as fresh memory
            Assert.Equal(1.0, ResidentFraction(again));
            Assert.All(again, v => Assert.Equal(2.5f, v));
            CpuBufferPool.Return(again);
        }
        finally
        {
            CpuBufferPool.MaxResidentBytes = budget;
        }
    }

    [Fact]
    public void TheNewestWaitingArraysStayResidentWithinTheBudget()
    {
        long budget = CpuBufferPool.MaxResidentBytes;
        CpuBufferPool.MaxResidentBytes = 3L * Length * sizeof(float); // room for three arrays of Length
        var arrays = Enumerable.Range(0, 4).Select(_ => CpuBufferPool.Rent<float>(Length)).ToArray();
        try
        {
            foreach (var array in arrays) Array.Fill(array, 1f);
            CpuBufferPool.Return(arrays[0]);
            CpuBufferPool.Return(arrays[1]);
            CpuBufferPool.Return(arrays[2]);
            Assert.All(arrays[..3], array => Assert.Equal(1.0, ResidentFraction(array)));

            // A fourth pushes the oldest out of the budget: it waits released, the three newest resident.
            CpuBufferPool.Return(arrays[3]);
            Assert.Equal(0.0, ResidentFraction(arrays[0]));
            Assert.All(arrays[1..], array => Assert.Equal(1.0, ResidentFraction(array)));

            // Renting takes the newest (arrays[3]) out; returning it again keeps the budget's count right.
            var again = CpuBufferPool.Rent<float>(Length);
            Assert.Same(arrays[3], again);
            CpuBufferPool.Return(again);
            Assert.All(arrays[1..], array => Assert.Equal(1.0, ResidentFraction(array)));
        }
        finally
        {
            for (int i = 0; i < arrays.Length; i++) CpuBufferPool.Rent<float>(Length); // take them back out of the pool
            CpuBufferPool.MaxResidentBytes = budget;
        }
    }

    // The fraction of the whole pages inside the array's elements that are resident now.
    private static unsafe double ResidentFraction(float[] array)
    {
        const nuint page = 4096;
        fixed (float* elements = array)
        {
            nuint start = ((nuint)elements + page - 1) & ~(page - 1);
            nuint end = ((nuint)elements + (nuint)array.Length * sizeof(float)) & ~(page - 1);
            int pages = (int)((end - start) / page);
            var vector = new byte[pages];
            fixed (byte* v = vector)
                Assert.Equal(0, Mincore((void*)start, end - start, v));
            return vector.Count(b => (b & 1) != 0) / (double)pages;
        }
    }

    [LibraryImport("libc", EntryPoint = "mincore")]
    private static unsafe partial int Mincore(void* address, nuint length, byte* vector);
}

/// <summary>The pool is shared by every test; this one runs alone so no other test rents or evicts its array meanwhile.</summary>
[CollectionDefinition(nameof(CpuBufferPoolTests), DisableParallelization = true)]
public sealed class CpuBufferPoolTestsCollection;
