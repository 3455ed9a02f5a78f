namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>A storage in main memory: a CLR array of the dtype's element type.</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(Array data, DType dtype) : base(dtype, data.LongLength)
    {
        Data = data;
    }

    /// <summary>The elements: float[], double[], long[] or bool[].</summary>
    public Array Data { get; }

    /// <inheritdoc />
    public override IBackend Backend => CpuBackend.Instance;

    /// <summary>The elements as a typed array; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] As<T>() => Data as T[] ?? throw new InvalidOperationException($"storage holds {DType.Name()}, not {typeof(T).Name}");
}
