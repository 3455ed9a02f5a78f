using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The CPU backend: the readable reference implementation of every kernel in <see cref="IBackend"/>.
/// Kernels are split by family over the CpuBackend.*.cs files. Element types are handled by
/// generic methods that the JIT specialises per type; the dtype switch happens once per call,
/// never per element.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <summary>Work below this many elements runs on one thread: starting tasks costs more than it saves.</summary>
    internal const long ParallelThreshold = 1 << 15;

    /// <inheritdoc />
    public Device Device => Device.Cpu;

    internal static CpuStorage Wrap<T>(T[] data) => new(data, DTypeInfo.Of<T>());

    internal static T[] Data<T>(Storage storage) => ((CpuStorage)storage).As<T>();

    /// <summary>A kernel's output array (contents unspecified), from the pool: every kernel allocates its result here.</summary>
    internal static T[] NewArray<T>(long length) => CpuBufferPool.Rent<T>(length);

    /// <summary>A pooled output array of <paramref name="dtype"/>'s element type (contents unspecified).</summary>
    internal static Array NewArrayOf(DType dtype, long length) => dtype switch
    {
        DType.Float32 => NewArray<float>(length),
        DType.Float64 => NewArray<double>(length),
        DType.Int64 => NewArray<long>(length),
        DType.Bool => NewArray<bool>(length),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <inheritdoc />
    public Storage Zeros(DType dtype, long length)
    {
        var data = NewArrayOf(dtype, length);
        Array.Clear(data);
        return new CpuStorage(data, dtype);
    }

    /// <inheritdoc />
    public Storage FromArray(Array data)
    {
        var dtype = data switch
        {
            float[] => DType.Float32,
            double[] => DType.Float64,
            long[] => DType.Int64,
            bool[] => DType.Bool,
            _ => throw new ArgumentException($"cannot make a tensor from {data.GetType().Name}; use float[], double[], long[] or bool[]"),
        };
        var copy = NewArrayOf(dtype, data.LongLength);
        Array.Copy(data, copy, data.LongLength);
        return new CpuStorage(copy, dtype);
    }

    /// <inheritdoc />
    public Storage Create<T>(long length, Action<Span<T>> fill) where T : struct
    {
        var data = NewArray<T>(length);
        fill(data);
        return Wrap(data);
    }

    /// <inheritdoc />
    public Array ToArray(Storage storage) => (Array)((CpuStorage)storage).Data.Clone();

    /// <inheritdoc />
    public Storage Full(DType dtype, long length, double value) => dtype switch
    {
        DType.Float32 => Wrap(FullOf(length, (float)value)),
        DType.Float64 => Wrap(FullOf(length, value)),
        DType.Int64 => Wrap(FullOf(length, (long)value)),
        DType.Bool => Wrap(FullOf(length, value != 0)),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static T[] FullOf<T>(long length, T value)
    {
        var data = NewArray<T>(length);
        Array.Fill(data, value);
        return data;
    }

    /// <inheritdoc />
    public Storage Cast(Storage source, DType dtype)
    {
        if (source.DType == dtype) return new CpuStorage(CloneArray(source), dtype);
        // Every conversion goes through double: exact for all float32 and for int64 up to 2^53.
        double[] asDouble = source.DType switch
        {
            DType.Float32 => Array.ConvertAll(Data<float>(source), v => (double)v),
            DType.Float64 => Data<double>(source),
            DType.Int64 => Array.ConvertAll(Data<long>(source), v => (double)v),
            DType.Bool => Array.ConvertAll(Data<bool>(source), v => v ? 1.0 : 0.0),
            _ => throw new ArgumentOutOfRangeException(nameof(source)),
        };
        return dtype switch
        {
            DType.Float32 => Wrap(Array.ConvertAll(asDouble, v => (float)v)),
            DType.Float64 => Wrap(asDouble), // a fresh array: the source was not float64
            DType.Int64 => Wrap(Array.ConvertAll(asDouble, v => (long)v)),
            DType.Bool => Wrap(Array.ConvertAll(asDouble, v => v != 0)),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
    }

    private static Array CloneArray(Storage source)
    {
        var data = ((CpuStorage)source).Data;
        var copy = NewArrayOf(source.DType, data.LongLength);
        Array.Copy(data, copy, data.LongLength);
        return copy;
    }

    /// <inheritdoc />
    public Storage Arange(DType dtype, double start, double step, long count) => dtype switch
    {
        DType.Float32 => Wrap(Sequence(count, i => (float)(start + i * step))),
        DType.Float64 => Wrap(Sequence(count, i => start + i * step)),
        DType.Int64 => Wrap(Sequence(count, i => (long)(start + i * step))),
        _ => throw new ArgumentException($"arange: unsupported dtype {dtype.Name()}"),
    };

    private static T[] Sequence<T>(long count, Func<long, T> element)
    {
        var data = NewArray<T>(count);
        for (long i = 0; i < count; i++) data[i] = element(i);
        return data;
    }

    /// <inheritdoc />
    public void CopyInto(Storage source, Storage destination)
    {
        var src = ((CpuStorage)source).Data;
        var dst = ((CpuStorage)destination).Data;
        if (source.DType != destination.DType || src.Length != dst.Length)
            throw new ArgumentException($"copy: source {source.DType.Name()}[{src.Length}] does not fit destination {destination.DType.Name()}[{dst.Length}]");
        Array.Copy(src, dst, src.Length);
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) in chunks, in parallel when the total work is large.</summary>
    internal static void ParallelRange(long count, long workPerItem, Action<long, long> body)
    {
        long total = count * Math.Max(1, workPerItem);
        int chunks = total < ParallelThreshold ? 1 : (int)Math.Min(count, Environment.ProcessorCount * 4);
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }
        CpuWorkers.For(chunks, c => body(count * c / chunks, count * (c + 1) / chunks));
    }

    internal static bool IsVectorizable<T>() where T : struct => Vector<T>.IsSupported && Vector.IsHardwareAccelerated;
}
