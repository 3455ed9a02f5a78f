namespace ScratchDetect.Engine.Backends;

/// <summary>
/// The primitive kernels a device must provide. Tensor and autograd code call only these, never a
/// CPU or CUDA type, so a backend is swapped without touching ops, layers or models.
/// All storages are contiguous row-major. Axis-wise kernels describe the tensor as
/// (outer, size, inner): the axis being worked on has <c>size</c> elements, everything before it
/// multiplies to <c>outer</c>, everything after to <c>inner</c>.
/// This file holds the core families (memory, element-wise, reductions, matrix products, layout
/// and indexing); each further op family (convolution, pooling, RoI ops, ...) adds its kernels in
/// its own <c>IBackend.Family.cs</c> file.
/// </summary>
public partial interface IBackend
{
    /// <summary>The device this backend computes on.</summary>
    Device Device { get; }

    // ---- memory -------------------------------------------------------------------------------

    /// <summary>A new storage of <paramref name="length"/> zeros.</summary>
    Storage Zeros(DType dtype, long length);

    /// <summary>A new storage holding a copy of a host array (float[], double[], long[] or bool[]).</summary>
    Storage FromArray(Array data);

    /// <summary>
    /// A new storage of <paramref name="length"/> values that <paramref name="fill"/> writes (it must
    /// write every one): on the CPU straight into the storage, elsewhere into a host buffer that is
    /// then copied over, so a large input built on the host needs no second host copy.
    /// </summary>
    Storage Create<T>(long length, Action<Span<T>> fill) where T : struct;

    /// <summary>A host copy of the storage, as an array of the dtype's CLR type.</summary>
    Array ToArray(Storage storage);

    /// <summary>A new storage of <paramref name="length"/> copies of <paramref name="value"/>.</summary>
    Storage Full(DType dtype, long length, double value);

    /// <summary>A new storage with every element converted to <paramref name="dtype"/> (floats to integers truncate toward zero).</summary>
    Storage Cast(Storage source, DType dtype);

    /// <summary>start, start + step, ... (<paramref name="count"/> elements).</summary>
    Storage Arange(DType dtype, double start, double step, long count);

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> in place (same dtype and length); used by optimizers and state loading.</summary>
    void CopyInto(Storage source, Storage destination);

    // ---- element-wise -------------------------------------------------------------------------

    /// <summary>Applies <paramref name="op"/> to every element.</summary>
    Storage Unary(UnaryOp op, Storage x);

    /// <summary>
    /// The input gradient of an activation from its output gradient and its output y (cuDNN's
    /// cudnnActivationBackward): relu g·[y &gt; 0], sigmoid g·y·(1 - y), tanh g·(1 - y²).
    /// </summary>
    Storage ActivationBackward(UnaryOp activation, Storage gradOutput, Storage output);

    /// <summary>Clamps every element into [min, max]; pass infinities for a missing bound.</summary>
    Storage Clamp(Storage x, double min, double max);

    /// <summary>a op b with NumPy broadcasting of <paramref name="aShape"/> and <paramref name="bShape"/> to <paramref name="outShape"/>.</summary>
    Storage Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape);

    /// <summary>
    /// x op s (or s op x with <paramref name="scalarFirst"/>) for every element, the scalar taken in
    /// x's dtype: how a tensor meets a constant (x * 0.5, 1 - x) without a one-element tensor.
    /// </summary>
    Storage BinaryScalar(BinaryOp op, Storage x, double scalar, bool scalarFirst);

    /// <summary>a op b compared with broadcasting; the result is bool.</summary>
    Storage Compare(CompareOp op, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape);

    /// <summary>cond ? a : b with broadcasting of all three; cond is bool.</summary>
    Storage Where(Storage cond, int[] condShape, Storage a, int[] aShape, Storage b, int[] bShape, int[] outShape);

    // ---- reductions ---------------------------------------------------------------------------

    /// <summary>Reduces the middle axis of an (outer, size, inner) tensor, giving (outer, inner). ArgMax/ArgMin give int64.</summary>
    Storage Reduce(ReduceOp op, Storage x, int outer, int size, int inner);

    /// <summary>
    /// Reduces several axes of a tensor of <paramref name="shape"/> in one pass (Sum, Max or Min; the
    /// index reductions take one axis, <see cref="Reduce"/>), giving the kept axes in order:
    /// <paramref name="axes"/> are distinct and ascending, e.g. (0, 2, 3) of [N, C, H, W] gives [C], the
    /// conv bias gradient as one kernel rather than three. A sum over no elements is 0; a max or min
    /// over none is an error. Max and min propagate NaN.
    /// </summary>
    Storage ReduceAxes(ReduceOp op, Storage x, int[] shape, int[] axes);

    // ---- matrix products ----------------------------------------------------------------------

    /// <summary>
    /// Batched matrix product C[i] = op(A[i]) · op(B[i]) for i in 0..batch, with row-major
    /// operands: op(A) is m x k (A is stored k x m when <paramref name="transA"/>), op(B) is k x n
    /// (B stored n x k when <paramref name="transB"/>). A batch stride of 0 reuses one matrix for
    /// every batch item. Returns C as batch x m x n.
    /// </summary>
    Storage Matmul(Storage a, long aBatchStride, bool transA, Storage b, long bBatchStride, bool transB, int batch, int m, int n, int k);

    // ---- layout and indexing ------------------------------------------------------------------

    /// <summary>Reorders the axes: output axis i is input axis perm[i].</summary>
    Storage Permute(Storage x, int[] shape, int[] perm);

    /// <summary>Repeats a tensor along its broadcast axes (NumPy rules) to <paramref name="outShape"/>.</summary>
    Storage Expand(Storage x, int[] xShape, int[] outShape);

    /// <summary>Copies elements [start, start + length) of the middle axis of an (outer, size, inner) tensor.</summary>
    Storage Slice(Storage x, int outer, int size, int inner, int start, int length);

    /// <summary>Concatenates tensors along the middle axis: part p is (outer, sizes[p], inner).</summary>
    Storage Concat(IReadOnlyList<Storage> parts, int outer, int[] sizes, int inner);

    /// <summary>Picks entries of the middle axis of an (outer, size, inner) tensor by an int64 index vector; the result is (outer, index.Length, inner). Indices are checked.</summary>
    Storage IndexSelect(Storage x, int outer, int size, int inner, Storage index);

    /// <summary>The adjoint of <see cref="IndexSelect"/>: a zero (outer, size, inner) tensor into which the rows of <paramref name="source"/> are added at the indexed positions (repeats add up).</summary>
    Storage IndexAdd(Storage source, int outer, int size, int inner, Storage index);

    /// <summary>
    /// A copy of the (outer, size, inner) tensor <paramref name="x"/> with entry index[j] of the middle
    /// axis replaced by entry j of <paramref name="source"/> (outer, index.Length, inner), as torch's
    /// index_put_ / index_copy_; where an index repeats, the last write in index order wins (torch on
    /// CPU). Indices are checked.
    /// </summary>
    Storage IndexPut(Storage x, int outer, int size, int inner, Storage index, Storage source);

    /// <summary>out[..., j, ...] = x[..., index[..., j, ...], ...] along <paramref name="dim"/>; index has the output's shape, which may be smaller than x's in every axis.</summary>
    Storage Gather(Storage x, int[] xShape, int dim, Storage index, int[] indexShape);

    /// <summary>The adjoint of <see cref="Gather"/>: a zero tensor of <paramref name="outShape"/> into which source[..., j, ...] is added at position index[..., j, ...] along <paramref name="dim"/>.</summary>
    Storage ScatterAdd(Storage source, int[] indexShape, int dim, Storage index, int[] outShape);

    /// <summary>
    /// The coordinates of the true elements of a bool tensor of <paramref name="shape"/>, in row-major
    /// order, as an int64 [count, rank] storage (torch.nonzero). The count decides the result's
    /// shape, so it is returned to the host: the one inherent synchronisation of data-dependent selection.
    /// </summary>
    (Storage Positions, int Count) Nonzero(Storage mask, int[] shape);

    /// <summary>Sorts the middle axis of an (outer, size, inner) tensor, stably; returns the sorted values and their int64 source positions.</summary>
    (Storage Values, Storage Indices) Sort(Storage x, int outer, int size, int inner, bool descending);
}
