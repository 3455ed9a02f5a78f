using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// A binary element-wise operator as a struct: the generic row kernel is specialised by the JIT for
/// each operator, so there is no delegate call per element (the dotnet/runtime TensorPrimitives
/// pattern). Operators without a vector form say so and run the scalar path.
/// </summary>
internal interface IBinaryOperator<T> where T : struct
{
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T a, T b);
    static abstract Vector<T> Invoke(Vector<T> a, Vector<T> b);
}

internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a + b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => a + b;
}

internal readonly struct SubOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a - b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => a - b;
}

internal readonly struct MulOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a * b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => a * b;
}

internal readonly struct DivOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    // Integer division has no hardware vector form; floats do.
    public static bool Vectorizable => typeof(T) != typeof(long);
    public static T Invoke(T a, T b) => a / b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => a / b;
}

internal readonly struct MaximumOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    public static bool Vectorizable => true;
    // PyTorch's maximum propagates NaN; T.MaxNumber would not.
    public static T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : (a > b ? a : b);
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) =>
        Vector.ConditionalSelect(Vector.Equals(a, a) & Vector.Equals(b, b), Vector.Max(a, b), a + b);
}

internal readonly struct MinimumOperator<T> : IBinaryOperator<T> where T : struct, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : (a < b ? a : b);
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) =>
        Vector.ConditionalSelect(Vector.Equals(a, a) & Vector.Equals(b, b), Vector.Min(a, b), a + b);
}

internal readonly struct PowOperator<T> : IBinaryOperator<T> where T : struct, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => false;
    public static T Invoke(T a, T b) => T.Pow(a, b);
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => throw new NotSupportedException("pow has no vector form");
}
