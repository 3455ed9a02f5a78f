namespace ScratchDetect.Engine.Tests;

/// <summary>Hand-computed values and error messages of pooling (PyTorch parity is in PoolingParityTests).</summary>
public class PoolingTests
{
    [Theory, OnCpu, OnCuda]
    public void PoolingPaddingMustBeAtMostHalfTheKernel(DeviceKind kind)
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.MaxPool2d(Tensor.Zeros([1, 1, 6, 6], device: TestDevices.Of(kind)), 3, padding: 2));
        Assert.Contains("max_pool2d", e.Message);
        Assert.Contains("half the kernel size", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void MaxPoolNaNWinsAndAllMinusInfinityPicksTheFirstTap(DeviceKind kind)
    {
        // Windows of 2: [1, NaN] -> NaN at 1; [-inf, -inf] -> -inf at its first tap 2 (as PyTorch: start at -inf, only > or NaN replaces).
        float inf = float.PositiveInfinity;
        var x = Tensor.FromArray(new[] { 1f, float.NaN, -inf, -inf }, [1, 1, 1, 4], TestDevices.Of(kind));
        var (values, indices) = Tensor.MaxPool2dWithIndices(x, (1, 2));
        var v = values.ToArray<float>();
        Assert.True(float.IsNaN(v[0]));
        Assert.Equal(-inf, v[1]);
        Assert.Equal([1L, 2L], indices.ToArray<long>());
    }
}
