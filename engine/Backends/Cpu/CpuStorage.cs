namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>A storage in main memory: a CLR array of the dtype's element type, usually rented from <see cref="CpuBufferPool"/>.</summary>
public sealed class CpuStorage : Storage
{
    private readonly Array data;

    internal CpuStorage(Array data, DType dtype) : base(dtype, data.LongLength)
    {
        this.data = data;
    }

    /// <summary>The elements: float[], double[], long[] or bool[]. Throws once the storage was released.</summary>
    public Array Data
    {
        get
        {
            CheckAlive("cpu storage");
            return data;
        }
    }

    /// <inheritdoc />
    public override IBackend Backend => CpuBackend.Instance;

    /// <summary>The elements as a typed array; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] As<T>() => Data as T[] ?? throw new InvalidOperationException($"storage holds {DType.Name()}, not {typeof(T).Name}");

    /// <inheritdoc />
    protected override void ReturnBuffer() => CpuBufferPool.Return(data);
}
