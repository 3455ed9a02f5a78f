using ILGPU;
using ILGPU.Runtime;
using ScratchDetect.Engine.Cuda.Memory;

namespace ScratchDetect.Engine.Cuda.Tests;

[Collection(KernelCollection.Name)]
public class AcceleratorDeviceMemoryTests(CpuAcceleratorFixture gpu)
{
    [Fact]
    public void Cached_blocks_are_real_accelerator_memory_that_kernels_write_and_steady_use_allocates_nothing()
    {
        using var memory = new AcceleratorDeviceMemory(gpu.Accelerator);
        using var allocator = new CachingAllocator(memory);
        var stream = (IntPtr)1;
        for (int step = 0; step < 3; step++)
        {
            var block = allocator.Allocate(37 * sizeof(float), stream);
            var view = memory.View<float>(block, 37);
            view.CopyFromCPU(Enumerable.Range(0, 37).Select(i => (float)i).ToArray());
            using var doubled = gpu.Kernels.Unary(Engine.Backends.UnaryOp.Exp, view);
            Assert.Equal(MathF.Exp(36), doubled.View.SubView(36, 1).GetAsArray1D()[0], 5);
            allocator.Free(block);
        }
        Assert.Equal(1, allocator.DeviceAllocations);
    }

    [Fact]
    public void A_view_larger_than_its_block_is_refused()
    {
        using var memory = new AcceleratorDeviceMemory(gpu.Accelerator);
        using var allocator = new CachingAllocator(memory);
        var block = allocator.Allocate(10, 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => memory.View<double>(block, 65)); // 520 bytes > the 512-byte block
        Assert.Contains("does not fit the 512-byte block", error.Message);
        allocator.Free(block);
    }
}
