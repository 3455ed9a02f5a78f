using System.Runtime.Intrinsics;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The few vector operations the GEMM micro-kernel needs, over float lanes of one width. The
/// micro-kernel is written once against this interface; the JIT compiles a separate copy for
/// each implementing struct, so <see cref="V512"/> gives AVX-512 code and <see cref="V256"/> AVX2
/// code with no call or wrapper left at run time.
/// </summary>
internal interface ISimdFloat<TSelf> where TSelf : struct, ISimdFloat<TSelf>
{
    static abstract int Count { get; }
    static abstract unsafe TSelf Load(float* source);
    static abstract TSelf Broadcast(float value);
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf addend);
    static abstract unsafe void AddTo(float* target, TSelf value);
    static abstract unsafe void Store(float* target, TSelf value);
}

/// <summary>8 float lanes (AVX2).</summary>
internal readonly struct V256(Vector256<float> value) : ISimdFloat<V256>
{
    private readonly Vector256<float> value = value;

    public static int Count => Vector256<float>.Count;
    public static unsafe V256 Load(float* source) => new(Vector256.Load(source));
    public static V256 Broadcast(float value) => new(Vector256.Create(value));
    public static V256 MultiplyAdd(V256 a, V256 b, V256 addend) => new(Vector256.FusedMultiplyAdd(a.value, b.value, addend.value));
    public static unsafe void AddTo(float* target, V256 value) => (Vector256.Load(target) + value.value).Store(target);
    public static unsafe void Store(float* target, V256 value) => value.value.Store(target);
}

/// <summary>16 float lanes (AVX-512).</summary>
internal readonly struct V512(Vector512<float> value) : ISimdFloat<V512>
{
    private readonly Vector512<float> value = value;

    public static int Count => Vector512<float>.Count;
    public static unsafe V512 Load(float* source) => new(Vector512.Load(source));
    public static V512 Broadcast(float value) => new(Vector512.Create(value));
    public static V512 MultiplyAdd(V512 a, V512 b, V512 addend) => new(Vector512.FusedMultiplyAdd(a.value, b.value, addend.value));
    public static unsafe void AddTo(float* target, V512 value) => (Vector512.Load(target) + value.value).Store(target);
    public static unsafe void Store(float* target, V512 value) => value.value.Store(target);
}
