namespace ScratchDetect.Engine;

/// <summary>Element types a tensor can hold.</summary>
public enum DType
{
    /// <summary>32-bit float: the working precision of the models.</summary>
    Float32,
    /// <summary>64-bit float: used by the numerical gradient checks.</summary>
    Float64,
    /// <summary>64-bit integer: labels and indices, as in PyTorch.</summary>
    Int64,
    /// <summary>Boolean: the result of comparisons, masks for <c>Where</c> and <c>MaskedSelect</c>.</summary>
    Bool,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>True for the floating-point types, the only ones that can carry gradients.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>The lower-case name PyTorch uses (float32, int64, ...).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The CLR element type backing a CPU storage of this dtype.</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int64 => typeof(long),
        DType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The dtype whose CLR element type is <typeparamref name="T"/>.</summary>
    public static DType Of<T>() =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(long) ? DType.Int64 :
        typeof(T) == typeof(bool) ? DType.Bool :
        throw new NotSupportedException($"no dtype holds elements of type {typeof(T).Name}");
}
