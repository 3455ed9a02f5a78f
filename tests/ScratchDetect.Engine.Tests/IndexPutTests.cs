using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// index_put along an axis (x[index] = source, out of place) on every device. Expected values are
/// worked out by hand next to each case: the indexed entries are replaced, the others copied, and
/// where an index repeats the last write wins, as torch's index_put_ on CPU.
/// </summary>
public class IndexPutTests
{
    [Theory, OnCpu, OnCuda]
    public void ReplacesTheIndexedEntriesAndTheLastRepeatWins(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var x = Tensor.FromArray(new long[] { 10, 11, 12, 13, 14 }, [5], device);
        var index = Tensor.FromArray(new long[] { 3, 0, 3 }, [3], device);
        var source = Tensor.FromArray(new long[] { 7, 8, 9 }, [3], device);
        var y = x.IndexPut(0, index, source);
        Assert.Equal(device, y.Device);
        // Position 0 gets 8; position 3 gets 7 and then 9; 1, 2 and 4 keep their values.
        Assert.Equal([8L, 11, 12, 9, 14], y.To(Device.Cpu).ToArray<long>());
        Assert.Equal([10L, 11, 12, 13, 14], x.To(Device.Cpu).ToArray<long>()); // out of place
    }

    [Theory, OnCpu, OnCuda]
    public void PutsWholeSlicesAlongAnInnerAxis(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // x is [2, 3, 2] of zeros; along axis 1, slice 2 takes source[:, 0, :] and slice 0 takes source[:, 1, :].
        var x = Tensor.Zeros([2, 3, 2], DType.Float32, device);
        var source = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f }, [2, 2, 2], device);
        var y = x.IndexPut(1, Tensor.FromArray(new long[] { 2, 0 }, [2], device), source);
        Assert.Equal([2, 3, 2], y.Shape);
        Assert.Equal([3f, 4f, 0f, 0f, 1f, 2f, 7f, 8f, 0f, 0f, 5f, 6f], y.To(Device.Cpu).ToArray<float>());
    }

    [Theory, OnCpu, OnCuda]
    public void BadArgumentsAreRefusedByName(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var x = Tensor.Zeros([4], DType.Float32, device);
        var one = Tensor.Ones([1], DType.Float32, device);
        var outOfRange = Assert.Throws<IndexOutOfRangeException>(() => x.IndexPut(0, Tensor.FromArray(new long[] { 4 }, [1], device), one));
        Assert.Contains("index_put: index 4", outOfRange.Message);
        var wrongDType = Assert.Throws<ArgumentException>(() => x.IndexPut(0, Tensor.FromArray(new long[] { 1 }, [1], device), Tensor.Ones([1], DType.Int64, device)));
        Assert.Contains("index_put", wrongDType.Message);
        var wrongShape = Assert.Throws<ArgumentException>(() => x.IndexPut(0, Tensor.FromArray(new long[] { 1 }, [1], device), Tensor.Ones([2], DType.Float32, device)));
        Assert.Contains("index_put: source [2] must be [1]", wrongShape.Message);
        var differentiable = Assert.Throws<ArgumentException>(() => x.Detach().RequireGrad().IndexPut(0, Tensor.FromArray(new long[] { 1 }, [1], device), one));
        Assert.Contains("index_put: not differentiable", differentiable.Message);
    }
}
