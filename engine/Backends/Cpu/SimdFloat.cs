using System.Runtime.Intrinsics;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The few vector operations the GEMM micro-kernel needs, over float lanes of one width
/// (<typeparamref name="TVector"/>: Vector512 or Vector256 of float). The micro-kernel is written
/// once against this interface; the JIT compiles a separate copy for each implementing struct, so
/// <see cref="V512"/> gives AVX-512 code and <see cref="V256"/> AVX2 code with no call or wrapper
/// left at run time. The kernel's values are the hardware vectors themselves: with a struct
/// wrapping the vector as its value type, the JIT (.NET 10) put a register move after every second
/// fused multiply-add (the second product of each broadcast wrote into the broadcast's register;
/// dotnet/runtime#107538), 6 extra instructions in the kernel's 27.
/// </summary>
internal interface ISimdFloat<TVector> where TVector : struct
{
    static abstract int Count { get; }
    static abstract unsafe TVector Load(float* source);
    static abstract TVector Broadcast(float value);
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector addend);
    static abstract unsafe void AddTo(float* target, TVector value);
    static abstract unsafe void Store(float* target, TVector value);
}

/// <summary>8 float lanes (AVX2).</summary>
internal readonly struct V256 : ISimdFloat<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static unsafe Vector256<float> Load(float* source) => Vector256.Load(source);
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) => Vector256.FusedMultiplyAdd(a, b, addend);
    public static unsafe void AddTo(float* target, Vector256<float> value) => (Vector256.Load(target) + value).Store(target);
    public static unsafe void Store(float* target, Vector256<float> value) => value.Store(target);
}

/// <summary>16 float lanes (AVX-512).</summary>
internal readonly struct V512 : ISimdFloat<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static unsafe Vector512<float> Load(float* source) => Vector512.Load(source);
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) => Vector512.FusedMultiplyAdd(a, b, addend);
    public static unsafe void AddTo(float* target, Vector512<float> value) => (Vector512.Load(target) + value).Store(target);
    public static unsafe void Store(float* target, Vector512<float> value) => value.Store(target);
}
