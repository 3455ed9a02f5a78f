using ILGPU.Runtime;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Tests;

// Each kernel against the CPU backend through the public Tensor ops, on the same inputs.
[Collection(KernelCollection.Name)]
public class ElementwiseKernelTests(CpuAcceleratorFixture gpu)
{
    /// <summary>37 values (not a multiple of any group or vector width) with the special cases in front.</summary>
    private static Tensor Values(double low, double high, int seed = 1)
    {
        float[] specials = [0f, -0f, float.NaN, 1e-30f, -1e-30f, 3f, -3f];
        var random = Tensor.Uniform([30], low, high, new Generator((ulong)seed)).ToArray<float>();
        return Tensor.FromArray([.. specials, .. random], 37);
    }

    public static TheoryData<UnaryOp> UnaryOps() => [UnaryOp.Neg, UnaryOp.Exp, UnaryOp.Log, UnaryOp.Sqrt, UnaryOp.Abs, UnaryOp.Relu, UnaryOp.Sigmoid, UnaryOp.Tanh, UnaryOp.Sign, UnaryOp.Floor];

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Unary_matches_the_cpu(UnaryOp op)
    {
        var x = op is UnaryOp.Log or UnaryOp.Sqrt ? Values(0, 50).Abs() : Values(-20, 20);
        var expected = op switch
        {
            UnaryOp.Neg => x.Neg(), UnaryOp.Exp => x.Exp(), UnaryOp.Log => x.Log(), UnaryOp.Sqrt => x.Sqrt(), UnaryOp.Abs => x.Abs(),
            UnaryOp.Relu => x.Relu(), UnaryOp.Sigmoid => x.Sigmoid(), UnaryOp.Tanh => x.Tanh(), UnaryOp.Sign => x.Sign(), _ => x.Floor(),
        };
        using var input = gpu.Upload(x);
        using var output = gpu.Kernels.Unary(op, input.View);
        // Tolerance: ILGPU's CPU math and .NET's MathF may differ by an ulp or two in the transcendental functions (2e-6 relative); the rest is exact.
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(output, 37), 1e-30, 2e-6, $"unary {op}");
    }

    [Fact]
    public void Clamp_keeps_nan_and_clips_both_sides()
    {
        var x = Values(-5, 5);
        using var input = gpu.Upload(x);
        using var output = gpu.Kernels.Clamp(input.View, -1.5f, 2f);
        Assert.Equal(x.Clamp(-1.5, 2).ToArray<float>(), CpuAcceleratorFixture.Download(output, 37).ToArray<float>()); // exact: a choice, no arithmetic
    }

    public static TheoryData<int[], int[]> BroadcastShapes() => new()
    {
        { [37], [37] },
        { [3, 1, 5], [4, 1] },
        { [1], [2, 3, 7] },
        { [2, 1, 3, 1], [1, 5, 1, 4] },
        { [], [3, 2] },
    };

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Binary_ops_broadcast_like_the_cpu(int[] aShape, int[] bShape)
    {
        var generator = new Generator(5);
        var a = Tensor.Uniform(aShape, 0.5, 3, generator);
        var b = Tensor.Uniform(bShape, -2, 2, generator);
        var outShape = Shapes.Broadcast("test", aShape, bShape);
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        foreach (var (op, expected) in new[] { (BinaryOp.Add, a + b), (BinaryOp.Sub, a - b), (BinaryOp.Mul, a * b), (BinaryOp.Div, a / b),
                     (BinaryOp.Pow, Tensor.Pow(a, b)), (BinaryOp.Maximum, Tensor.Maximum(a, b)), (BinaryOp.Minimum, Tensor.Minimum(a, b)) })
        {
            using var y = gpu.Kernels.Binary(op, da.View, aShape, db.View, bShape, outShape);
            // Tolerance: exact IEEE arithmetic for + - * / max min; pow goes through exp/log (2e-6 relative).
            TensorAssert.Close(expected, CpuAcceleratorFixture.Download(y, outShape), 0, op == BinaryOp.Pow ? 2e-6 : 0, $"{op} {Shapes.Format(aShape)} with {Shapes.Format(bShape)}");
        }
    }

    [Fact]
    public void Maximum_and_minimum_propagate_nan()
    {
        float[] a = [1, float.NaN, 3, float.NaN], b = [float.NaN, 2, 1, float.NaN];
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        using var max = gpu.Kernels.Binary(BinaryOp.Maximum, da.View, [4], db.View, [4], [4]);
        var expected = Tensor.Maximum(Tensor.FromArray(a, 4), Tensor.FromArray(b, 4));
        TensorAssert.Close(expected, CpuAcceleratorFixture.Download(max, 4), 0, 0, "maximum with NaN");
    }

    [Fact]
    public void Comparisons_broadcast_like_the_cpu()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, float.NaN, 4, 2, 0 }, 2, 3);
        var b = Tensor.FromArray(new float[] { 2, 2, 1 }, 3);
        using var da = gpu.Upload(a);
        using var db = gpu.Upload(b);
        foreach (var (op, expected) in new[] { (CompareOp.Eq, a.Eq(b)), (CompareOp.Ne, a.Ne(b)), (CompareOp.Lt, a.Lt(b)), (CompareOp.Le, a.Le(b)), (CompareOp.Gt, a.Gt(b)), (CompareOp.Ge, a.Ge(b)) })
        {
            using var y = gpu.Kernels.Compare(op, da.View, [2, 3], db.View, [3], [2, 3]);
            var actual = y.View.SubView(0, 6).GetAsArray1D().Select(v => v != 0).ToArray();
            Assert.Equal(expected.ToArray<bool>(), actual);
        }
    }
}
