namespace ScratchDetect.Engine.Backends;

/// <summary>
/// A flat, contiguous block of elements owned by one backend. Tensors are always contiguous and
/// row-major in this engine: a tensor is a shape over a storage, and ops that would be strided
/// views in PyTorch (transpose, narrow) produce new storages. That keeps every kernel simple and
/// makes a backend swap touch nothing above <see cref="IBackend"/>.
/// </summary>
public abstract class Storage
{
    /// <summary>Creates the storage header.</summary>
    protected Storage(DType dtype, long length)
    {
        DType = dtype;
        Length = length;
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>The backend that owns this storage and runs kernels on it.</summary>
    public abstract IBackend Backend { get; }
}
