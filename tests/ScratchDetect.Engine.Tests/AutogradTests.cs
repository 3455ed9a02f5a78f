using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Tests;

/// <summary>The semantics of the autograd engine itself, each against a hand-derived value, on every device.</summary>
public class AutogradTests
{
    private static Tensor Vector(DeviceKind kind, params double[] values) => Tensor.FromArray(values, [values.Length], TestDevices.Of(kind));

    [Theory, OnCpu, OnCuda]
    public void GradientsAccumulateAcrossBackwardCalls(DeviceKind kind)
    {
        var x = Vector(kind, 1, 2, 3).RequireGrad();
        (x * x).Sum().Backward(); // d/dx = 2x = [2, 4, 6]
        (x * 3).Sum().Backward(); // adds 3 each
        Assert.Equal(new[] { 5.0, 7.0, 9.0 }, x.Grad!.ToArray<double>());
    }

    [Theory, OnCpu, OnCuda]
    public void SharedSubexpressionReceivesBothPaths(DeviceKind kind)
    {
        var x = Vector(kind, 2).RequireGrad();
        var y = x * x;           // y = 4
        (y * y + y).Sum().Backward(); // d/dx (x^4 + x^2) = 4x^3 + 2x = 32 + 4
        Assert.Equal(36.0, x.Grad!.Item());
    }

    [Theory, OnCpu, OnCuda]
    public void BroadcastGradientIsSummedToTheInputShape(DeviceKind kind)
    {
        var a = Tensor.Ones([2, 3], DType.Float64, TestDevices.Of(kind)).RequireGrad();
        var b = Tensor.Ones([3], DType.Float64, TestDevices.Of(kind)).RequireGrad();
        (a * b).Sum().Backward(); // b is used twice per column: its gradient is 2 per element
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, b.Grad!.ToArray<double>());
        Assert.Equal([2, 3], a.Grad!.Shape);
    }

    [Theory, OnCpu, OnCuda]
    public void NoGradScopeRecordsNothing(DeviceKind kind)
    {
        var x = Vector(kind, 1).RequireGrad();
        Tensor y;
        using (GradMode.NoGrad()) y = x * 2;
        Assert.False(y.RequiresGrad);
        Assert.True(GradMode.IsEnabled);
    }

    [Theory, OnCpu, OnCuda]
    public void DetachStopsGradients(DeviceKind kind)
    {
        var x = Vector(kind, 3).RequireGrad();
        var y = x.Detach() * x; // only the second factor carries gradient: d/dx = 3
        y.Sum().Backward();
        Assert.Equal(3.0, x.Grad!.Item());
    }

    [Theory, OnCpu, OnCuda]
    public void NonScalarBackwardNeedsAGradient(DeviceKind kind)
    {
        var x = Vector(kind, 1, 2).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Backward());
        Assert.Contains("[2]", e.Message);
        (x * 2).Backward(Vector(kind, 1, 10));
        Assert.Equal(new[] { 2.0, 20.0 }, x.Grad!.ToArray<double>());
    }

    [Theory, OnCpu, OnCuda]
    public void SecondBackwardWithoutRetainGraphIsRefused(DeviceKind kind)
    {
        var x = Vector(kind, 1).RequireGrad();
        var loss = (x * x).Sum();
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void RetainGraphAllowsASecondBackward(DeviceKind kind)
    {
        var x = Vector(kind, 1).RequireGrad();
        var loss = (x * x).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal(4.0, x.Grad!.Item()); // 2x twice
    }

    [Theory, OnCpu, OnCuda]
    public void InPlaceChangeOfASavedTensorIsDetected(DeviceKind kind)
    {
        var w = Vector(kind, 1, 2).RequireGrad();
        var x = Vector(kind, 3, 4);
        var loss = (w * x).Sum(); // mul saved x
        x.CopyFrom(Vector(kind, 0, 0));
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("modified in place", e.Message);
        Assert.Contains("mul", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void IntegerTensorsCannotRequireGrad(DeviceKind kind)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.FromArray(new long[] { 1 }, [1], TestDevices.Of(kind)).RequireGrad());
        Assert.Contains("int64", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void ShapeErrorsNameTheOpAndShapes(DeviceKind kind)
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([2, 3], device: TestDevices.Of(kind)) + Tensor.Ones([4], device: TestDevices.Of(kind)));
        Assert.Contains("add", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => Tensor.Matmul(Tensor.Ones([2, 3], device: TestDevices.Of(kind)), Tensor.Ones([4, 5], device: TestDevices.Of(kind))));
        Assert.Contains("matmul", m.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void DtypeMismatchIsAnError(DeviceKind kind)
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([2], device: TestDevices.Of(kind)) * Tensor.Ones([2], DType.Float64, TestDevices.Of(kind)));
        Assert.Contains("float32", e.Message);
        Assert.Contains("float64", e.Message);
    }
}
