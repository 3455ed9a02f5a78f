namespace ScratchDetect.Engine.Tests;

/// <summary>Hand-computed values and argument rules of interpolate (PyTorch parity is in InterpolateParityTests).</summary>
public class InterpolateTests
{
    [Theory, OnCpu, OnCuda]
    public void InterpolateNeedsExactlyOneOfSizeAndScale(DeviceKind kind)
    {
        var x = Tensor.Zeros([1, 1, 4, 4], device: TestDevices.Of(kind));
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x));
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x, size: 2, scaleFactor: (2, 2)));
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x, size: 2, recomputeScaleFactor: true));
    }

    [Theory, OnCpu, OnCuda]
    public void NearestWithAScaleFactorUsesItsReciprocal(DeviceKind kind)
    {
        // Width 10, scale 0.3: 3 outputs. With step 1/0.3 = 3.333: sources floor(0, 3.33, 6.67) = 0, 3, 6.
        // Recomputed from the sizes the step is 10/3 = 3.333 too; with scale 0.35 (floor(3.5) = 3 outputs)
        // the step is 2.857: sources 0, 2, 5, but from the sizes it is 10/3: 0, 3, 6.
        var x = Tensor.Arange(10, DType.Float32, TestDevices.Of(kind)).Reshape(1, 1, 1, 10);
        Assert.Equal([0f, 3f, 6f], Tensor.Interpolate(x, scaleFactor: (1, 0.3)).ToArray<float>());
        Assert.Equal([0f, 2f, 5f], Tensor.Interpolate(x, scaleFactor: (1, 0.35)).ToArray<float>());
        Assert.Equal([0f, 3f, 6f], Tensor.Interpolate(x, scaleFactor: (1, 0.35), recomputeScaleFactor: true).ToArray<float>());
    }

    [Theory, OnCpu, OnCuda]
    public void BilinearBlendsTheTwoNearestCentres(DeviceKind kind)
    {
        // Width 2 -> 4: sources (dst + 0.5)·0.5 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (last pixel, no right neighbour).
        // Values [0, 8]: 0, 0.75·0 + 0.25·8 = 2, 6, 8.
        var x = Tensor.FromArray(new float[] { 0, 8 }, [1, 1, 1, 2], TestDevices.Of(kind));
        Assert.Equal([0f, 2f, 6f, 8f], Tensor.Interpolate(x, size: (1, 4), mode: InterpolateMode.Bilinear).ToArray<float>());
    }
}
