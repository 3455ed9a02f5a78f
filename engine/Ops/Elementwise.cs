using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// Element-wise ops with NumPy broadcasting. Each op's gradient is written right under its forward.
// Gradients may be returned in the broadcast output shape: Record sums them down to each input.
public sealed partial class Tensor
{
    private static void CheckCompatible(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: dtypes differ ({a.DType.Name()} {Shapes.Format(a.shape)} and {b.DType.Name()} {Shapes.Format(b.shape)}); convert one with To()");
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: tensors are on different devices ({a.Device} and {b.Device}); move one with To(device)");
    }

    /// <summary>Every op's device rule: all operands on one device, or an error naming the op and each operand's device.</summary>
    private static void CheckSameDevice(string op, params (string Name, Tensor? Tensor)[] operands)
    {
        var present = operands.Where(o => o.Tensor is not null).ToArray();
        if (present.All(o => o.Tensor!.Device == present[0].Tensor!.Device)) return;
        throw new ArgumentException($"{op}: operands are on different devices ({string.Join(", ", present.Select(o => $"{o.Name} on {o.Tensor!.Device}"))}); move them to one device with To(device)");
    }

    private static Tensor BinaryForward(BinaryOp op, string name, Tensor a, Tensor b)
    {
        CheckCompatible(name, a, b);
        var outShape = Shapes.Broadcast(name, a.shape, b.shape);
        return new Tensor(a.Backend.Binary(op, a.Storage, a.shape, b.Storage, b.shape, outShape), outShape);
    }

    /// <summary>a + b, broadcast.</summary>
    public static Tensor Add(Tensor a, Tensor b) =>
        Record("add", BinaryForward(BinaryOp.Add, "add", a, b), [a, b], saves: [], g => [g, g]);

    /// <summary>a - b, broadcast.</summary>
    public static Tensor Sub(Tensor a, Tensor b) =>
        Record("sub", BinaryForward(BinaryOp.Sub, "sub", a, b), [a, b], saves: [], g => [g, b.requiresGrad ? -g : null]);

    /// <summary>a * b, broadcast.</summary>
    public static Tensor Mul(Tensor a, Tensor b) =>
        Record("mul", BinaryForward(BinaryOp.Mul, "mul", a, b), [a, b], saves: [b.requiresGrad ? a : null, a.requiresGrad ? b : null], g => [a.requiresGrad ? g * b : null, b.requiresGrad ? g * a : null]);

    /// <summary>a / b, broadcast.</summary>
    public static Tensor Div(Tensor a, Tensor b) =>
        Record("div", BinaryForward(BinaryOp.Div, "div", a, b), [a, b], saves: [b.requiresGrad ? a : null, b], g => [a.requiresGrad ? g / b : null, b.requiresGrad ? DivisorGradient(g, a, b) : null]);

    /// <summary>d(a / b)/db · g = -g·a / b², its temporaries disposed (they are full-size when b is broadcast, as a norm is).</summary>
    private static Tensor DivisorGradient(Tensor g, Tensor a, Tensor b)
    {
        using var numerator = g * a;
        using var squared = b * b;
        return (numerator / squared).Then(quotient => -quotient);
    }

    /// <summary>a ^ b, broadcast (floating point).</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var y = BinaryForward(BinaryOp.Pow, "pow", a, b);
        return Record("pow", y, [a, b], saves: [a, a.requiresGrad ? b : null, b.requiresGrad ? y : null], g => [a.requiresGrad ? g * b * Pow(a, b - 1) : null, b.requiresGrad ? g * y * a.Log() : null]);
    }

    /// <summary>x ^ exponent.</summary>
    public Tensor Pow(double exponent)
    {
        var x = this;
        var y = ScalarForward(BinaryOp.Pow, x, exponent, scalarFirst: false);
        return Record("pow", y, [x], saves: [x], g => [g * exponent * x.Pow(exponent - 1)]);
    }

    /// <summary>Element-wise max(a, b); NaN wins. On ties each side gets half the gradient, as in PyTorch.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Record("maximum", BinaryForward(BinaryOp.Maximum, "maximum", a, b), [a, b], saves: [a, b],
        g => SplitByComparison(g, a, b, CompareOp.Gt));

    /// <summary>Element-wise min(a, b); NaN wins. On ties each side gets half the gradient, as in PyTorch.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Record("minimum", BinaryForward(BinaryOp.Minimum, "minimum", a, b), [a, b], saves: [a, b],
        g => SplitByComparison(g, a, b, CompareOp.Lt));

    private static Tensor?[] SplitByComparison(Tensor g, Tensor a, Tensor b, CompareOp aWins)
    {
        var half = g * 0.5;
        var zero = g.ScalarLike(0);
        var tie = Compare(CompareOp.Eq, a, b);
        var aWinsMask = Compare(aWins, a, b);
        return [Where(tie, half, Where(aWinsMask, g, zero)), Where(tie, half, Where(aWinsMask, zero, g))];
    }

    /// <summary>cond ? a : b, broadcast over all three; gradients flow to the branch that was taken.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        CheckCompatible("where", a, b);
        CheckSameDevice("where", ("condition", condition), ("a", a));
        if (condition.DType != DType.Bool) throw new ArgumentException($"where: the condition must be bool, not {condition.DType.Name()}");
        var outShape = Shapes.Broadcast("where", Shapes.Broadcast("where", condition.shape, a.shape), b.shape);
        var y = new Tensor(a.Backend.Where(condition.Storage, condition.shape, a.Storage, a.shape, b.Storage, b.shape, outShape), outShape);
        return Record("where", y, [a, b], saves: [condition], g =>
        {
            var zero = g.ScalarLike(0);
            return [a.requiresGrad ? Where(condition, g, zero) : null, b.requiresGrad ? Where(condition, zero, g) : null];
        });
    }

    /// <summary>
    /// (x - mean[c]) / std[c] over the channel axis of a [..., C, H, W] image tensor, as torchvision's
    /// F.normalize, in one pass with the same rounding as its subtraction and division: a full-size
    /// photo gets one normalised copy and no centred intermediate. <paramref name="mean"/> and
    /// <paramref name="std"/> are constants [C] (their gradients are not computed).
    /// </summary>
    public Tensor NormalizeChannels(Tensor mean, Tensor std)
    {
        if (Rank < 3 || !DType.IsFloatingPoint())
            throw new ArgumentException($"normalize: expected a floating-point [..., C, H, W] image tensor, got {DType.Name()} {Shapes.Format(shape)}");
        int axis = Rank - 3;
        foreach (var (name, vector) in new[] { ("mean", mean), ("std", std) })
        {
            CheckCompatible("normalize", this, vector);
            if (vector.Rank != 1 || vector.shape[0] != shape[axis])
                throw new ArgumentException($"normalize: {name} {Shapes.Format(vector.shape)} must be [{shape[axis]}], one per channel of the image {Shapes.Format(shape)}");
            if (vector.requiresGrad)
                throw new ArgumentException($"normalize: {name} is a constant here; its gradient is not computed");
        }
        var (outer, channels, inner) = Shapes.AroundAxis(shape, axis);
        var y = new Tensor(Backend.ChannelNormalize(Storage, mean.Storage, std.Storage, outer, channels, inner), ShapeCopy());
        return Record("normalize", y, [this], saves: [std], g => [new Tensor(g.Backend.ChannelNormalize(g.Storage, null, std.Storage, outer, channels, inner), g.ShapeCopy())]);
    }

    /// <summary>x + a, -x, ... as operators; a scalar operand takes the tensor's dtype.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    /// <summary>a - b.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    /// <summary>a * b.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    /// <summary>a / b.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    // Tensor ⊙ constant: one backend call with the scalar as an argument, no scalar tensor.
    private static Tensor ScalarForward(BinaryOp op, Tensor x, double s, bool scalarFirst) =>
        new(x.Backend.BinaryScalar(op, x.Storage, s, scalarFirst), x.ShapeCopy());

    /// <summary>a + s.</summary>
    public static Tensor operator +(Tensor a, double s) => Record("add", ScalarForward(BinaryOp.Add, a, s, false), [a], saves: [], g => [g]);
    /// <summary>s + a.</summary>
    public static Tensor operator +(double s, Tensor a) => Record("add", ScalarForward(BinaryOp.Add, a, s, true), [a], saves: [], g => [g]);
    /// <summary>a - s.</summary>
    public static Tensor operator -(Tensor a, double s) => Record("sub", ScalarForward(BinaryOp.Sub, a, s, false), [a], saves: [], g => [g]);
    /// <summary>s - a.</summary>
    public static Tensor operator -(double s, Tensor a) => Record("sub", ScalarForward(BinaryOp.Sub, a, s, true), [a], saves: [], g => [-g]);
    /// <summary>a * s.</summary>
    public static Tensor operator *(Tensor a, double s) => Record("mul", ScalarForward(BinaryOp.Mul, a, s, false), [a], saves: [], g => [g * s]);
    /// <summary>s * a.</summary>
    public static Tensor operator *(double s, Tensor a) => Record("mul", ScalarForward(BinaryOp.Mul, a, s, true), [a], saves: [], g => [g * s]);
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, double s) => Record("div", ScalarForward(BinaryOp.Div, a, s, false), [a], saves: [], g => [g / s]);
    /// <summary>s / a.</summary>
    public static Tensor operator /(double s, Tensor a) => Record("div", ScalarForward(BinaryOp.Div, a, s, true), [a], saves: [a], g => [-g * s / (a * a)]);
    /// <summary>-a.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    private Tensor UnaryForward(UnaryOp op) => new(Backend.Unary(op, Storage), ShapeCopy());

    /// <summary>An activation's input gradient from its output gradient and output: one backend call (cuDNN's activation backward).</summary>
    private static Tensor ActivationBackward(UnaryOp activation, Tensor g, Tensor y) =>
        new(g.Backend.ActivationBackward(activation, g.Storage, y.Storage), g.ShapeCopy());

    /// <summary>-x.</summary>
    public Tensor Neg() => Record("neg", UnaryForward(UnaryOp.Neg), [this], saves: [], g => [-g]);

    /// <summary>e^x.</summary>
    public Tensor Exp()
    {
        var y = UnaryForward(UnaryOp.Exp);
        return Record("exp", y, [this], saves: [y], g => [g * y]);
    }

    /// <summary>Natural logarithm.</summary>
    public Tensor Log()
    {
        var x = this;
        return Record("log", UnaryForward(UnaryOp.Log), [x], saves: [x], g => [g / x]);
    }

    /// <summary>Base-2 logarithm.</summary>
    public Tensor Log2()
    {
        var x = this;
        return Record("log2", UnaryForward(UnaryOp.Log2), [x], saves: [x], g => [g / (x * Math.Log(2))]);
    }

    /// <summary>Square root.</summary>
    public Tensor Sqrt()
    {
        var y = UnaryForward(UnaryOp.Sqrt);
        return Record("sqrt", y, [this], saves: [y], g => [g / (y * 2)]);
    }

    /// <summary>|x|; the gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Abs()
    {
        var x = this;
        return Record("abs", UnaryForward(UnaryOp.Abs), [x], saves: [x], g => [g * x.Sign()]);
    }

    /// <summary>-1, 0 or 1 (not differentiable).</summary>
    public Tensor Sign() => UnaryForward(UnaryOp.Sign);

    /// <summary>Largest integer not above x (not differentiable).</summary>
    public Tensor Floor() => UnaryForward(UnaryOp.Floor);

    /// <summary>max(x, 0); the gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Relu()
    {
        var y = UnaryForward(UnaryOp.Relu);
        return Record("relu", y, [this], saves: [y], g => [ActivationBackward(UnaryOp.Relu, g, y)]);
    }

    /// <summary>1 / (1 + e^-x).</summary>
    public Tensor Sigmoid()
    {
        var y = UnaryForward(UnaryOp.Sigmoid);
        return Record("sigmoid", y, [this], saves: [y], g => [ActivationBackward(UnaryOp.Sigmoid, g, y)]);
    }

    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh()
    {
        var y = UnaryForward(UnaryOp.Tanh);
        return Record("tanh", y, [this], saves: [y], g => [ActivationBackward(UnaryOp.Tanh, g, y)]);
    }

    /// <summary>Clamps into [min, max] (either bound may be null); the gradient passes where min &lt;= x &lt;= max, as in PyTorch.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        var x = this;
        var y = new Tensor(Backend.Clamp(Storage, min ?? double.NegativeInfinity, max ?? double.PositiveInfinity), ShapeCopy());
        return Record("clamp", y, [x], saves: [x], g =>
        {
            var inside = (min is { } lo ? x.Ge(lo) : x.Eq(x)).And(max is { } hi ? x.Le(hi) : x.Eq(x));
            return [Where(inside, g, g.ScalarLike(0))];
        });
    }

    // ---- comparisons and logic (never differentiable) -----------------------------------------

    private static Tensor Compare(CompareOp op, Tensor a, Tensor b)
    {
        var name = op.ToString().ToLowerInvariant();
        CheckCompatible(name, a, b);
        var outShape = Shapes.Broadcast(name, a.shape, b.shape);
        return new Tensor(a.Backend.Compare(op, a.Storage, a.shape, b.Storage, b.shape, outShape), outShape);
    }

    /// <summary>x == other (bool).</summary>
    public Tensor Eq(Tensor other) => Compare(CompareOp.Eq, this, other);
    /// <summary>x != other (bool).</summary>
    public Tensor Ne(Tensor other) => Compare(CompareOp.Ne, this, other);
    /// <summary>x &lt; other (bool).</summary>
    public Tensor Lt(Tensor other) => Compare(CompareOp.Lt, this, other);
    /// <summary>x &lt;= other (bool).</summary>
    public Tensor Le(Tensor other) => Compare(CompareOp.Le, this, other);
    /// <summary>x &gt; other (bool).</summary>
    public Tensor Gt(Tensor other) => Compare(CompareOp.Gt, this, other);
    /// <summary>x &gt;= other (bool).</summary>
    public Tensor Ge(Tensor other) => Compare(CompareOp.Ge, this, other);
    /// <summary>x == s (bool).</summary>
    public Tensor Eq(double s) => Eq(ScalarLike(s));
    /// <summary>x != s (bool).</summary>
    public Tensor Ne(double s) => Ne(ScalarLike(s));
    /// <summary>x &lt; s (bool).</summary>
    public Tensor Lt(double s) => Lt(ScalarLike(s));
    /// <summary>x &lt;= s (bool).</summary>
    public Tensor Le(double s) => Le(ScalarLike(s));
    /// <summary>x &gt; s (bool).</summary>
    public Tensor Gt(double s) => Gt(ScalarLike(s));
    /// <summary>x &gt;= s (bool).</summary>
    public Tensor Ge(double s) => Ge(ScalarLike(s));

    /// <summary>Logical and of two bool tensors, broadcast.</summary>
    public Tensor And(Tensor other) => BinaryForward(BinaryOp.And, "and", this, other);
    /// <summary>Logical or of two bool tensors, broadcast.</summary>
    public Tensor Or(Tensor other) => BinaryForward(BinaryOp.Or, "or", this, other);
    /// <summary>Logical not of a bool tensor.</summary>
    public Tensor Not() => UnaryForward(UnaryOp.Not);
}
