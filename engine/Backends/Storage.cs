namespace ScratchDetect.Engine.Backends;

/// <summary>
/// A flat, contiguous block of elements owned by one backend. Tensors are always contiguous and
/// row-major in this engine: a tensor is a shape over a storage, and ops that would be strided
/// views in PyTorch (transpose, narrow) produce new storages. That keeps every kernel simple and
/// makes a backend swap touch nothing above <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// A storage is reference counted (PyTorch's StorageImpl; DESIGN.md lesson 10): it is born with one
/// reference, held by the tensor that wraps it; every further tensor sharing it (reshape, detach)
/// and every autograd node saving it adds one. When the last one lets go, the backend takes the
/// buffer back into its pool and the storage is marked released; a released storage can no longer
/// be read, so a use after release fails loudly instead of reading a recycled buffer. A storage
/// nobody releases is simply collected by the GC.
/// <see cref="Length"/> is the logical element count; the backend's buffer may be larger.
/// </remarks>
public abstract class Storage
{
    private int references = 1;

    /// <summary>Creates the storage header, holding one reference for its creator.</summary>
    protected Storage(DType dtype, long length)
    {
        DType = dtype;
        Length = length;
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements (the logical length; the buffer behind it may be longer).</summary>
    public long Length { get; }

    /// <summary>The backend that owns this storage and runs kernels on it.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>True once the last reference has been released and the buffer went back to the pool.</summary>
    public bool IsReleased => Volatile.Read(ref references) <= 0;

    /// <summary>Adds a reference (a tensor sharing the storage, a graph node saving it).</summary>
    internal void Retain()
    {
        if (Interlocked.Increment(ref references) <= 1)
            throw new ObjectDisposedException(nameof(Storage), $"a released {DType.Name()}[{Length}] storage cannot be shared again");
    }

    /// <summary>Drops a reference; the last one hands the buffer back to the backend's pool.</summary>
    internal void Release()
    {
        int left = Interlocked.Decrement(ref references);
        if (left == 0) ReturnBuffer();
        else if (left < 0) throw new InvalidOperationException($"a {DType.Name()}[{Length}] storage was released more often than it was retained");
    }

    /// <summary>Gives the buffer back to the backend's pool; called once, when the last reference is released.</summary>
    protected abstract void ReturnBuffer();

    /// <summary>Throws naming <paramref name="op"/> when the storage has been released.</summary>
    public void CheckAlive(string op)
    {
        if (IsReleased)
            throw new ObjectDisposedException(nameof(Storage), $"{op}: this {DType.Name()}[{Length}] storage was released (its tensor was disposed); a tensor must not be used after Dispose()");
    }
}
