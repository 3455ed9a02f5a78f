using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

/// <summary>
/// An n-dimensional array with an element type, a device and, when it takes part in gradient
/// computation, a link to the op that made it. Tensors are contiguous and row-major; their
/// storage is never changed by an op (ops return new tensors) except by the explicitly in-place
/// <see cref="CopyFrom"/>, which optimizers and weight loading use.
/// Ops are grouped by family in the Ops/ folder, each with its forward and backward together.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly int[] shape;
    private bool requiresGrad;

    /// <summary>Wraps a freshly computed storage, taking over the reference it was born with.</summary>
    internal Tensor(Storage storage, int[] shape)
    {
        if (Shapes.Numel(shape) != storage.Length)
            throw new ArgumentException($"shape {Shapes.Format(shape)} holds {Shapes.Numel(shape)} elements but the storage has {storage.Length}");
        storage.CheckAlive("tensor");
        this.storage = storage;
        this.shape = shape;
    }

    /// <summary>A second tensor over <paramref name="storage"/> (reshape, detach): it adds its own reference.</summary>
    internal static Tensor Sharing(Storage storage, int[] shape)
    {
        storage.Retain();
        return new Tensor(storage, shape);
    }

    private Storage storage;

    internal Storage Storage
    {
        get
        {
            if (storageReleased)
                throw new ObjectDisposedException(nameof(Tensor), $"this {DType.Name()} {Shapes.Format(shape)} tensor was disposed; it must not be used afterwards");
            return storage;
        }
    }

    internal IBackend Backend => Storage.Backend;

    /// <summary>The length of each axis.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>The shape as an array the caller may keep or modify.</summary>
    public int[] ShapeCopy() => (int[])shape.Clone();

    /// <summary>Number of axes.</summary>
    public int Rank => shape.Length;

    /// <summary>Number of elements.</summary>
    public long Numel => storage.Length;

    /// <summary>Element type.</summary>
    public DType DType => storage.DType;

    /// <summary>The device holding the elements.</summary>
    public Device Device => storage.Backend.Device;

    /// <summary>Length of axis <paramref name="axis"/> (negative counts from the end).</summary>
    public int Size(int axis) => shape[Shapes.NormalizeAxis("size", axis, Rank)];

    /// <summary>The gradient accumulated by <see cref="Backward"/> (leaves only), or null.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The op that produced this tensor; null for leaves.</summary>
    internal GradNode? GradFn { get; private set; }

    /// <summary>True for tensors not produced by a recorded op: inputs, parameters, detached values.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>Incremented by every in-place change, so backward can tell that a saved value was overwritten.</summary>
    internal int Version { get; private set; }

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves of floating-point type; ops set it on
    /// their outputs when any input requires a gradient.
    /// </summary>
    public bool RequiresGrad
    {
        get => requiresGrad;
        set
        {
            if (!IsLeaf)
                throw new InvalidOperationException($"requires_grad can only be changed on leaf tensors; this one was made by '{GradFn!.Op}' (use Detach())");
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"only floating-point tensors can require gradients, not {DType.Name()} {Shapes.Format(shape)}");
            requiresGrad = value;
        }
    }

    /// <summary>Returns this tensor after setting <see cref="RequiresGrad"/>; handy when building leaves.</summary>
    public Tensor RequireGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    // ---- creation -----------------------------------------------------------------------------
    // Every creation takes a device (default: the CPU) and asks BackendRegistry for its backend;
    // ops then run on their inputs' backend, so nothing above IBackend names a device type.

    /// <summary>A CPU tensor holding a copy of <paramref name="data"/> (float[], double[], long[] or bool[]) with the given shape.</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : struct => FromArray(data, shape, Device.Cpu);

    /// <summary>A tensor on <paramref name="device"/> holding a copy of <paramref name="data"/> (float[], double[], long[] or bool[]) with the given shape.</summary>
    public static Tensor FromArray<T>(T[] data, int[] shape, Device device) where T : struct
    {
        if (Shapes.Numel(shape) != data.LongLength)
            throw new ArgumentException($"from_array: {data.LongLength} values cannot fill shape {Shapes.Format(shape)}");
        return new Tensor(BackendRegistry.For(device).FromArray(data), (int[])shape.Clone());
    }

    /// <summary>
    /// A tensor on <paramref name="device"/> (default: the CPU) whose values <paramref name="fill"/>
    /// writes, in row-major order; it must write every element. On the CPU it writes straight into
    /// the tensor's storage, so building a large input (a decoded photo, say) costs one full-size
    /// array, not the two that filling an array and <see cref="FromArray{T}(T[], int[], Device)"/> take.
    /// </summary>
    public static Tensor Create<T>(int[] shape, Action<Span<T>> fill, Device device = default) where T : struct
    {
        _ = DTypeInfo.Of<T>(); // refuses element types no tensor holds, before anything is written
        return new Tensor(BackendRegistry.For(device).Create(Shapes.Numel(shape), fill), (int[])shape.Clone());
    }

    /// <summary>A 0-dimensional tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device device = default) => Full([], value, dtype, device);

    /// <summary>A tensor of zeros on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32, Device device = default) =>
        new(BackendRegistry.For(device).Zeros(dtype, Shapes.Numel(shape)), (int[])shape.Clone());

    /// <summary>A tensor of ones on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor Ones(int[] shape, DType dtype = DType.Float32, Device device = default) => Full(shape, 1, dtype, device);

    /// <summary>A tensor filled with <paramref name="value"/> on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Device device = default) =>
        new(BackendRegistry.For(device).Full(dtype, Shapes.Numel(shape), value), (int[])shape.Clone());

    /// <summary>0, 1, ..., count-1 on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor Arange(long count, DType dtype = DType.Int64, Device device = default) => Arange(0, count, 1, dtype, device);

    /// <summary>start, start+step, ... up to but excluding end, as torch.arange, on <paramref name="device"/> (default: the CPU).</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Int64, Device device = default)
    {
        if (step == 0) throw new ArgumentException("arange: step must not be zero");
        long count = Math.Max(0, (long)Math.Ceiling((end - start) / step));
        return new Tensor(BackendRegistry.For(device).Arange(dtype, start, step, count), [(int)count]);
    }

    /// <summary>Zeros with this tensor's shape, dtype and device.</summary>
    public Tensor ZerosLike() => new(Backend.Zeros(DType, Numel), ShapeCopy());

    /// <summary>Ones with this tensor's shape, dtype and device.</summary>
    public Tensor OnesLike() => FullLike(1);

    /// <summary><paramref name="value"/> everywhere, with this tensor's shape, dtype and device.</summary>
    public Tensor FullLike(double value) => new(Backend.Full(DType, Numel, value), ShapeCopy());

    /// <summary>A 0-dimensional tensor of this tensor's dtype and device.</summary>
    internal Tensor ScalarLike(double value) => new(Backend.Full(DType, 1, value), []);

    // ---- reading values -----------------------------------------------------------------------

    /// <summary>A host copy of the elements, row-major; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] ToArray<T>() => Backend.ToArray(Storage) as T[]
        ?? throw new InvalidOperationException($"to_array: the tensor holds {DType.Name()}, not {typeof(T).Name}");

    /// <summary>The single element of a one-element tensor, converted to double.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"item: the tensor has {Numel} elements {Shapes.Format(shape)}, not 1");
        return Backend.ToArray(Backend.Cast(Storage, DType.Float64)) is double[] d ? d[0] : throw new InvalidOperationException("item: cast failed");
    }

    /// <summary>Up to 8 elements and the shape, for debugging.</summary>
    public override string ToString()
    {
        var values = Backend.ToArray(Numel <= 8 ? Storage : Backend.Slice(Storage, 1, (int)Numel, 1, 0, 8));
        var shown = string.Join(", ", values.Cast<object>().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
        return $"tensor([{shown}{(Numel > 8 ? ", ..." : "")}], shape={Shapes.Format(shape)}, dtype={DType.Name()}{(RequiresGrad ? ", requires_grad" : "")})";
    }

    // ---- conversion and copies ----------------------------------------------------------------

    /// <summary>The same values with no autograd history; shares the storage, as torch's detach does.</summary>
    public Tensor Detach() => Sharing(Storage, shape);

    /// <summary>A copy with its own storage; gradients flow through it unchanged.</summary>
    public Tensor Clone() => Record("clone", new Tensor(Backend.Cast(Storage, DType), ShapeCopy()), [this], saves: [], g => [g]);

    /// <summary>The values converted to <paramref name="dtype"/>; differentiable between floating-point types.</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var result = new Tensor(Backend.Cast(Storage, dtype), ShapeCopy());
        var source = DType;
        return dtype.IsFloatingPoint() ? Record("to", result, [this], saves: [], g => [g.To(source)]) : result;
    }

    /// <summary>
    /// This tensor's values on <paramref name="device"/> (this tensor itself when it is already
    /// there), as torch's <c>tensor.to(device)</c>; differentiable for floating-point tensors (the
    /// gradient goes back to the source device). Throws a <see cref="DeviceUnavailableException"/>
    /// naming what is missing when the device cannot compute here.
    /// </summary>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        var target = BackendRegistry.For(device);
        // Staged through a host array: a backend-to-backend copy (cudaMemcpy) can replace this later
        // without changing the callers.
        var result = new Tensor(target.FromArray(Backend.ToArray(Storage)), ShapeCopy());
        var source = Device;
        return DType.IsFloatingPoint() ? Record("to", result, [this], saves: [], g => [g.To(source)]) : result;
    }

    /// <summary>
    /// Overwrites this tensor's elements with <paramref name="source"/>'s (same shape and dtype), in
    /// place. Counts as a modification: a backward pass that saved the old values will refuse to run.
    /// </summary>
    public void CopyFrom(Tensor source)
    {
        if (!source.shape.SequenceEqual(shape) || source.DType != DType)
            throw new ArgumentException($"copy_: cannot copy {source.DType.Name()} {Shapes.Format(source.shape)} into {DType.Name()} {Shapes.Format(shape)}");
        CheckSameDevice("copy_", ("source", source), ("destination", this));
        if (GradMode.IsEnabled && RequiresGrad && IsLeaf)
            throw new InvalidOperationException($"copy_: a leaf tensor that requires grad {Shapes.Format(shape)} can only be modified in place inside GradMode.NoGrad()");
        Backend.CopyInto(source.Storage, Storage);
        Version++;
    }

    /// <summary>
    /// Makes this tensor hold <paramref name="source"/>'s storage (values and dtype; same shape), keeping its
    /// identity, as PyTorch's <c>param.data = ...</c>: how <c>Module.To(dtype)</c> converts parameters
    /// that layers hold in fields. Drops <see cref="Grad"/>, which would have the old dtype, and counts
    /// as an in-place modification.
    /// </summary>
    internal void ReplaceData(Tensor source)
    {
        if (!source.shape.SequenceEqual(shape))
            throw new ArgumentException($"replace_data: cannot give {Shapes.Format(shape)} the values of {Shapes.Format(source.shape)}");
        if (!IsLeaf)
            throw new InvalidOperationException($"replace_data: only leaf tensors can change their data; this one was made by '{GradFn!.Op}'");
        var previous = Storage;
        source.Storage.Retain();
        storage = source.Storage;
        previous.Release();
        Grad = null;
        Version++;
    }

    // ---- lifetime -----------------------------------------------------------------------------
    // A tensor holds one reference to its storage. Dispose() says "I am done with this tensor": the
    // reference is dropped at once, or, while autograd nodes whose backward reads the tensor have
    // saved it, when the last of them is released. (A node does not hold the inputs its backward
    // does not read: those go at once, as in PyTorch.) When no tensor and no node holds a storage any
    // more, its buffer goes back to the backend's pool. Disposing is optional (an undisposed tensor
    // is collected by the GC), but layers and ops dispose their intermediates, which is what keeps
    // a forward pass's memory at its live set and lets a steady-state step reuse buffers.

    private int graphHolds;
    private bool disposeRequested, storageReleased;

    /// <summary>
    /// Releases this tensor's storage reference (now, or after the backward pass that still needs it).
    /// Other tensors sharing the storage (reshapes, detached copies) keep it alive. Using this tensor
    /// after the release throws an <see cref="ObjectDisposedException"/>. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (disposeRequested) return;
        disposeRequested = true;
        if (Volatile.Read(ref graphHolds) == 0) ReleaseStorage();
    }

    /// <summary>
    /// <paramref name="next"/> applied to this tensor, after which this tensor is disposed (unless
    /// <paramref name="next"/> returned it): for chaining layers whose intermediate results nobody
    /// else keeps, <c>conv.Forward(x).Then(bn.Forward).Then(t =&gt; t.Relu())</c>. Safe in training:
    /// autograd keeps what its backward pass needs.
    /// </summary>
    public Tensor Then(Func<Tensor, Tensor> next)
    {
        var result = next(this);
        if (!ReferenceEquals(result, this)) Dispose();
        return result;
    }

    /// <summary>Whether <see cref="Dispose"/> has been called (the storage may still be held for backward).</summary>
    public bool IsDisposed => disposeRequested;

    /// <summary>An autograd node saved this tensor (its backward reads it): a Dispose() waits until the node lets go.</summary>
    internal void HoldForGraph() => Interlocked.Increment(ref graphHolds);

    /// <summary>An autograd node no longer needs this tensor.</summary>
    internal void ReleaseFromGraph()
    {
        if (Interlocked.Decrement(ref graphHolds) == 0 && disposeRequested) ReleaseStorage();
    }

    private void ReleaseStorage()
    {
        if (storageReleased) return;
        storageReleased = true;
        storage.Release();
    }
}
