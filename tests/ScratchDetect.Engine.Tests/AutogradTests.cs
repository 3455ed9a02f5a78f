using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Tests;

/// <summary>The semantics of the autograd engine itself, each against a hand-derived value.</summary>
public class AutogradTests
{
    private static Tensor Vector(params double[] values) => Tensor.FromArray(values, values.Length);

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var x = Vector(1, 2, 3).RequireGrad();
        (x * x).Sum().Backward(); // d/dx = 2x = [2, 4, 6]
        (x * 3).Sum().Backward(); // adds 3 each
        Assert.Equal(new[] { 5.0, 7.0, 9.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void SharedSubexpressionReceivesBothPaths()
    {
        var x = Vector(2).RequireGrad();
        var y = x * x;           // y = 4
        (y * y + y).Sum().Backward(); // d/dx (x^4 + x^2) = 4x^3 + 2x = 32 + 4
        Assert.Equal(36.0, x.Grad!.Item());
    }

    [Fact]
    public void BroadcastGradientIsSummedToTheInputShape()
    {
        var a = Tensor.Ones([2, 3], DType.Float64).RequireGrad();
        var b = Tensor.Ones([3], DType.Float64).RequireGrad();
        (a * b).Sum().Backward(); // b is used twice per column: its gradient is 2 per element
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, b.Grad!.ToArray<double>());
        Assert.Equal([2, 3], a.Grad!.Shape);
    }

    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        var x = Vector(1).RequireGrad();
        Tensor y;
        using (GradMode.NoGrad()) y = x * 2;
        Assert.False(y.RequiresGrad);
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void DetachStopsGradients()
    {
        var x = Vector(3).RequireGrad();
        var y = x.Detach() * x; // only the second factor carries gradient: d/dx = 3
        y.Sum().Backward();
        Assert.Equal(3.0, x.Grad!.Item());
    }

    [Fact]
    public void NonScalarBackwardNeedsAGradient()
    {
        var x = Vector(1, 2).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Backward());
        Assert.Contains("[2]", e.Message);
        (x * 2).Backward(Vector(1, 10));
        Assert.Equal(new[] { 2.0, 20.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void SecondBackwardWithoutRetainGraphIsRefused()
    {
        var x = Vector(1).RequireGrad();
        var loss = (x * x).Sum();
        loss.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Fact]
    public void RetainGraphAllowsASecondBackward()
    {
        var x = Vector(1).RequireGrad();
        var loss = (x * x).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal(4.0, x.Grad!.Item()); // 2x twice
    }

    [Fact]
    public void InPlaceChangeOfASavedTensorIsDetected()
    {
        var w = Vector(1, 2).RequireGrad();
        var x = Vector(3, 4);
        var loss = (w * x).Sum(); // mul saved x
        x.CopyFrom(Vector(0, 0));
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("modified in place", e.Message);
        Assert.Contains("mul", e.Message);
    }

    [Fact]
    public void IntegerTensorsCannotRequireGrad()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.FromArray(new long[] { 1 }, 1).RequireGrad());
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void ShapeErrorsNameTheOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([2, 3]) + Tensor.Ones([4]));
        Assert.Contains("add", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => Tensor.Matmul(Tensor.Ones([2, 3]), Tensor.Ones([4, 5])));
        Assert.Contains("matmul", m.Message);
    }

    [Fact]
    public void DtypeMismatchIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([2]) * Tensor.Ones([2], DType.Float64));
        Assert.Contains("float32", e.Message);
        Assert.Contains("float64", e.Message);
    }
}
