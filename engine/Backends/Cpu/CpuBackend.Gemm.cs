using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// Matrix products. float32 runs a packed, cache-blocked GEMM in the GotoBLAS style: B is packed
/// into panels of <see cref="NR"/> columns, A into panels of <see cref="MR"/> rows, and a register-blocked
/// micro-kernel keeps an MR x NR tile of C in vector registers while it walks the shared k axis
/// (MR broadcasts of A and two loads of B per 2·MR fused multiply-adds). NR is two vectors of the
/// widest vector unit the processor accelerates (AVX-512: 32 columns, else AVX2: 16); MR is 12 rows
/// on AVX-512, whose 32 registers hold the 24 accumulators (BLIS's SKX sgemm tile is the same shape),
/// and 6 on AVX2's 16. Transposed operands are
/// handled by the packing, so no transpose is ever materialised. float64 serves the
/// numerical gradient checks and float64 models with a simpler vectorised loop.
/// </summary>
public sealed partial class CpuBackend
{
    private static readonly bool Wide = Vector512.IsHardwareAccelerated;
    // Rows of C per micro-tile. On AVX-512, 12 rows ran 1.43x the 6-row kernel's GFLOP/s (145 against
    // 101 on one core, the packed operands in cache, loaded machine): half the loads of B per FMA.
    private static readonly int MR = Wide ? 12 : 6;
    private static readonly int NR = 2 * (Wide ? Vector512<float>.Count : Vector256<float>.Count); // columns of C per micro-tile: two vectors
    private const int KC = 256;         // depth of one packed block (A and B panels stay in L1/L2)
    private const int MC = 96;          // rows of C per task: a multiple of both micro-tile heights
    private const int MA = MC * 16;     // rows of A packed at once (1536: 1.5 MB at KC; a Winograd GEMM's 10,000+ tile rows would hold 10+ MB)
    private const int NC = 4096;        // columns of B packed at once
    private static readonly int NTile = NR * 8; // columns of C per parallel task

    /// <inheritdoc />
    public Storage Matmul(Storage a, long aBatchStride, bool transA, Storage b, long bBatchStride, bool transB, int batch, int m, int n, int k)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"matmul: operands have different dtypes ({a.DType.Name()} and {b.DType.Name()})");
        return a.DType switch
        {
            DType.Float32 => Wrap(BatchedGemm(Data<float>(a), aBatchStride, transA, Data<float>(b), bBatchStride, transB, batch, m, n, k)),
            DType.Float64 => Wrap(BatchedGemm(Data<double>(a), aBatchStride, transA, Data<double>(b), bBatchStride, transB, batch, m, n, k)),
            _ => throw new ArgumentException($"matmul: not defined for {a.DType.Name()} tensors"),
        };
    }

    private static T[] BatchedGemm<T>(T[] a, long aBatchStride, bool transA, T[] b, long bBatchStride, bool transB, int batch, int m, int n, int k)
    {
        var c = CpuBufferPool.RentZeroed<T>((long)batch * m * n);
        for (int i = 0; i < batch; i++)
            GemmAccumulate(a, i * aBatchStride, transA, b, i * bBatchStride, transB, c, (long)i * m * n, m, n, k);
        return c;
    }

    /// <summary>
    /// C[cOffset..] += op(A)·op(B) for float32 (the packed GEMM) or float64 (the plain loop); both
    /// accumulate into C, which lets convolutions sum products over a batch without a temporary.
    /// The epilogue of a fused convolution follows, tile by tile as each tile's last product is
    /// added, while it is still in cache: with <paramref name="residual"/> (an array laid out as C,
    /// the same offset and row stride) C becomes C + residual, then with <paramref name="relu"/>
    /// relu(C) (<see cref="ApplyEpilogue{T}"/>).
    /// C's rows are <paramref name="ldc"/> elements apart (0: n, a contiguous m x n matrix), so C can
    /// be a block of wider rows, such as a band of output rows in every channel of a convolution.
    /// </summary>
    internal static void GemmAccumulate<T>(T[] a, long aOffset, bool transA, T[] b, long bOffset, bool transB, T[] c, long cOffset, int m, int n, int k, bool relu = false, int ldc = 0, T[]? residual = null)
    {
        if (ldc == 0) ldc = n;
        if (ldc < n) throw new ArgumentException($"gemm: C's row stride {ldc} is shorter than its {n} columns");
        if (residual is not null && m > 0 && residual.Length < cOffset + (long)(m - 1) * ldc + n)
            throw new ArgumentException($"gemm: the residual has {residual.Length} elements, too few for C's {m} x {n} block at offset {cOffset} (row stride {ldc})");
        if (typeof(T) == typeof(float))
            GemmFloat((float[])(object)a, aOffset, transA, (float[])(object)b, bOffset, transB, (float[])(object)c, cOffset, m, n, k, new Epilogue<float>(relu, (float[]?)(object?)residual), ldc);
        else if (typeof(T) == typeof(double))
            GemmPlain((double[])(object)a, aOffset, transA, (double[])(object)b, bOffset, transB, (double[])(object)c, cOffset, m, n, k, new Epilogue<double>(relu, (double[]?)(object?)residual), ldc);
        else
            throw new ArgumentException($"matmul: not defined for {typeof(T).Name} elements");
    }

    /// <summary>What a GEMM does to each finished block of C: add <see cref="Residual"/> (laid out as C) when there is one, then relu when <see cref="Relu"/>.</summary>
    private readonly record struct Epilogue<T>(bool Relu, T[]? Residual)
    {
        /// <summary>Whether there is anything to do.</summary>
        public bool Any => Relu || Residual is not null;
    }

    /// <summary>
    /// The epilogue over rows [firstRow, firstRow + rows) and columns [firstColumn, firstColumn + columns)
    /// of the row-major matrix at <paramref name="offset"/> whose rows are <paramref name="ldc"/> apart:
    /// c = c + residual (at the same index) when there is a residual, then relu(c) when asked
    /// (<see cref="ReluInPlace"/>'s semantics), in one vectorised pass. The same values as the
    /// separate add and relu passes, since it is the same two operations on each element.
    /// </summary>
    private static void ApplyEpilogue<T>(T[] c, Epilogue<T> epilogue, long offset, int ldc, int firstRow, int rows, int firstColumn, int columns) where T : struct, IFloatingPointIeee754<T>
    {
        for (int r = firstRow; r < firstRow + rows; r++)
        {
            int start = (int)(offset + (long)r * ldc + firstColumn);
            if (epilogue.Residual is null) ReluInPlace(c.AsSpan(start, columns));
            else AddResidualInPlace(c.AsSpan(start, columns), epilogue.Residual.AsSpan(start, columns), epilogue.Relu);
        }
    }

    /// <summary>
    /// values[i] = values[i] + residual[i] (<see cref="AddInto{T}"/>), then relu of it when <paramref name="relu"/>
    /// (<see cref="ReluInPlace"/>'s semantics), vectorised: a residual block's shortcut add and ReLU in one pass.
    /// </summary>
    internal static void AddResidualInPlace<T>(Span<T> values, ReadOnlySpan<T> residual, bool relu) where T : struct, IFloatingPointIeee754<T>
    {
        if (residual.Length != values.Length)
            throw new ArgumentException($"residual add: {residual.Length} residual values for {values.Length} outputs");
        if (!relu)
        {
            AddInto<T>(values, residual);
            return;
        }
        int i = 0;
        if (IsVectorizable<T>())
        {
            int width = System.Numerics.Vector<T>.Count;
            for (; i <= values.Length - width; i += width)
                Relu(new System.Numerics.Vector<T>(values.Slice(i, width)) + new System.Numerics.Vector<T>(residual.Slice(i, width))).CopyTo(values.Slice(i, width));
        }
        for (; i < values.Length; i++)
        {
            T sum = values[i] + residual[i];
            values[i] = sum > T.Zero || T.IsNaN(sum) ? sum : T.Zero;
        }
    }

    /// <summary>
    /// C += op(A)·op(B) in float64 (gradient checks, float64 models): each row of C is built from
    /// vector axpys C[i, block] += A[i, p]·B[p, block] over column blocks that stay in L1. A
    /// transposed B is copied once into k rows of n so that those rows are contiguous.
    /// </summary>
    private static void GemmPlain(double[] a, long aOffset, bool transA, double[] b, long bOffset, bool transB, double[] c, long cOffset, int m, int n, int k, Epilogue<double> epilogue, int ldc)
    {
        if (k == 0)
        {
            if (epilogue.Any) ApplyEpilogue(c, epilogue, cOffset, ldc, 0, m, 0, n);
            return;
        }
        const int Block = 256;
        double[] rows = transB ? TransposeToRows(b, bOffset, n, k) : b;
        long rowsOffset = transB ? 0 : bOffset;
        ParallelRange(m, (long)n * k, (first, end) =>
        {
            for (long i = first; i < end; i++)
                for (int j0 = 0; j0 < n; j0 += Block)
                {
                    int width = Math.Min(Block, n - j0);
                    var target = c.AsSpan((int)(cOffset + i * ldc + j0), width);
                    for (int p = 0; p < k; p++)
                    {
                        double scale = a[aOffset + (transA ? (long)p * m + i : i * k + p)];
                        MultiplyAddInto(target, scale, rows.AsSpan((int)(rowsOffset + (long)p * n + j0), width));
                    }
                    if (epilogue.Any) ApplyEpilogue(c, epilogue, cOffset, ldc, (int)i, 1, j0, width);
                }
        });
    }

    /// <summary>The n x k matrix stored at <paramref name="offset"/> as a new k x n one.</summary>
    private static double[] TransposeToRows(double[] source, long offset, int n, int k)
    {
        var rows = new double[(long)k * n];
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                rows[(long)p * n + j] = source[offset + (long)j * k + p];
        return rows;
    }

    /// <summary>target[i] += scale · values[i] (the product rounded, then the sum: no fused multiply-add), vectorised.</summary>
    internal static void MultiplyAddInto<T>(Span<T> target, T scale, ReadOnlySpan<T> values) where T : struct, System.Numerics.INumber<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            var factor = new System.Numerics.Vector<T>(scale);
            int width = System.Numerics.Vector<T>.Count;
            for (; i <= target.Length - width; i += width)
                (new System.Numerics.Vector<T>(target.Slice(i, width)) + factor * new System.Numerics.Vector<T>(values.Slice(i, width))).CopyTo(target.Slice(i, width));
        }
        for (; i < target.Length; i++) target[i] += scale * values[i];
    }

    /// <summary>
    /// C += op(A)·op(B), packed and register-blocked. For each k block, A's rows are packed once per
    /// group of up to <see cref="MA"/> rows (by every core, panel by panel) and shared by every column
    /// block and task of the group; B is packed per column block and row group, except where the
    /// micro-kernel reads it in place (<see cref="ReadsBInPlace"/>). A small C with a long k
    /// (a weight gradient summed over a batch's pixels) goes to <see cref="GemmFloatLongK"/>. Each
    /// element of C still gets its k blocks' partial sums in the order of k, so neither the packing's
    /// granularity nor the path changes a bit of the result.
    /// </summary>
    private static unsafe void GemmFloat(float[] a, long aOffset, bool transA, float[] b, long bOffset, bool transB, float[] c, long cOffset, int m, int n, int k, Epilogue<float> epilogue, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (epilogue.Any) ApplyEpilogue(c, epilogue, cOffset, ldc, 0, m, 0, n);
            return;
        }
        // The packing and the micro-kernels read through raw pointers: check the operands' extents here, once.
        if (a.Length < aOffset + (long)m * k || b.Length < bOffset + (long)k * n)
            throw new ArgumentException($"gemm: operands of {a.Length - aOffset} and {b.Length - bOffset} elements past their offsets, too few for {m} x {k} and {k} x {n}");
        if (c.Length < cOffset + (long)(m - 1) * ldc + n)
            throw new ArgumentException($"gemm: C has {c.Length} elements, too few for its {m} x {n} block at offset {cOffset} (row stride {ldc})");
        if (k > KC && m <= MC && n <= NTile)
        {
            GemmFloatLongK(a, aOffset, transA, b, bOffset, transB, c, cOffset, m, n, k, epilogue, ldc);
            return;
        }
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            bool lastBlock = pc + kc == k;
            for (int ig = 0; ig < m; ig += MA)
            {
                int mg = Math.Min(MA, m - ig);
                var packedA = ArrayPool<float>.Shared.Rent((mg + MR - 1) / MR * MR * kc);
                PackA(a, aOffset, transA, m, k, ig, mg, pc, kc, packedA);
                bool inPlaceB = ReadsBInPlace(transB, mg);
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc);
                    // In place, only a last panel narrower than NR is packed (the kernel loads whole vectors), at index 0.
                    int fullPanels = inPlaceB ? nc / NR : 0, panelsB = (nc + NR - 1) / NR;
                    var packedB = ArrayPool<float>.Shared.Rent((panelsB - fullPanels) * NR * kc);
                    if (fullPanels < panelsB) PackB(b, bOffset, transB, n, k, jc + fullPanels * NR, nc - fullPanels * NR, pc, kc, packedB);

                    long work = (long)mg * nc * kc;
                    bool parallel = work >= ParallelThreshold * 8;
                    var (taskRows, taskColumns) = parallel ? TaskBlock(mg, nc, inPlaceB) : (MC, NTile);
                    int rowTasks = (mg + taskRows - 1) / taskRows, columnTasks = (nc + taskColumns - 1) / taskColumns;
                    int tasks = rowTasks * columnTasks;
                    void RunTask(int task)
                    {
                        int it = task / columnTasks * taskRows, mc = Math.Min(taskRows, mg - it); // rows [ig + it, ig + it + mc)
                        int jt = task % columnTasks * taskColumns, nt = Math.Min(taskColumns, nc - jt);
                        fixed (float* pa = packedA, pb = packedB, pbSource = b, pcC = c)
                        {
                            // Packed, A's micro-panel (MR x kc, 12 KiB at KC on AVX-512) stays in L1 while the task's B panels
                            // stream past it from L2 (the other way round, B's NR x kc panel, 32 KiB, shared L1's 48 KiB with A's
                            // stream). Read in place, B's panel is kc rows n apart, a page each: it stays in L1 for the task's
                            // few micro-panels of A instead (at most MC / MR), so its rows are fetched once.
                            int rowTiles = (mc + MR - 1) / MR, columnTiles = (nt + NR - 1) / NR;
                            for (int tile = 0; tile < rowTiles * columnTiles; tile++)
                            {
                                int ir = (inPlaceB ? tile % rowTiles : tile / columnTiles) * MR;
                                int jr = jt + (inPlaceB ? tile / rowTiles : tile % columnTiles) * NR;
                                bool inPlace = jr / NR < fullPanels;
                                // it and ir are multiples of MR, so the group's row it + ir starts panel (it + ir) / MR of kc·MR values.
                                float* tileA = pa + (long)(it + ir) * kc;
                                float* tileB = inPlace ? pbSource + bOffset + (long)pc * n + jc + jr : pb + (jr - fullPanels * NR) * kc;
                                int ldb = inPlace ? n : NR;
                                float* tileC = pcC + cOffset + (long)(ig + it + ir) * ldc + jc + jr;
                                int rows = Math.Min(MR, mc - ir), cols = Math.Min(NR, nc - jr);
                                MicroTile(kc, tileA, tileB, ldb, tileC, ldc, rows, cols);
                            }
                        }
                        // The task's block of C (at most MC x NTile) is complete after the last k block and still in cache.
                        if (epilogue.Any && lastBlock) ApplyEpilogue(c, epilogue, cOffset, ldc, ig + it, mc, jc + jt, nt);
                    }
                    if (!parallel) // CpuWorkers.For runs a single task on the caller too
                        for (int t = 0; t < tasks; t++) RunTask(t);
                    else
                        CpuWorkers.For(tasks, RunTask);
                    ArrayPool<float>.Shared.Return(packedB);
                }
                ArrayPool<float>.Shared.Return(packedA);
            }
        }
    }

    /// <summary>
    /// The block of C (rows, columns) that one parallel task of <see cref="GemmFloat"/> computes for
    /// a row group of <paramref name="rows"/> and a column block of <paramref name="columns"/>: at
    /// most MC x <see cref="NTile"/>, halved (columns first, down to one register tile) until there
    /// are <see cref="TasksPerCore"/> tasks for each core. A 256³ product had 3 tasks of 96 x 256
    /// for 2 cores, so one core did two and the other waited. Where B is read in place, only the
    /// columns split: a second row task would fetch B's panels from memory again
    /// (<see cref="ReadsBInPlace"/>). Every element still gets each k block's sum in one micro-kernel
    /// call, so the block's size changes no result.
    /// </summary>
    private static (int Rows, int Columns) TaskBlock(int rows, int columns, bool inPlaceB)
    {
        int taskRows = MC, taskColumns = NTile, wanted = TasksPerCore * Environment.ProcessorCount;
        int Tasks() => ((rows + taskRows - 1) / taskRows) * ((columns + taskColumns - 1) / taskColumns);
        while (Tasks() < wanted)
        {
            if (taskColumns > NR && columns > taskColumns / 2) taskColumns /= 2;
            else if (!inPlaceB && taskRows > MR && rows > taskRows / 2) taskRows /= 2;
            else break;
        }
        return (taskRows, taskColumns);
    }

    /// <summary>Parallel tasks a product is cut into per core, where it is large enough for that: with a few tasks per core, no core waits long for the last one.</summary>
    private const int TasksPerCore = 4;

    /// <summary>
    /// Whether the micro-kernel reads B's full-width panels where they are (rows n apart) instead
    /// of from a packed copy, for a row group of <paramref name="rows"/> rows: only a B that is not
    /// transposed (each k step's NR columns are contiguous already), and only when at most one row
    /// task reads each panel, so that a packed copy would be read by no more than MC / MR
    /// micro-tiles, one after the other while the panel is still in cache. There the copy costs more
    /// than it saves (the convolutions' k = 16..128 GEMMs with few output channels).
    /// </summary>
    private static bool ReadsBInPlace(bool transB, int rows) => !transB && rows <= MC;

    /// <summary>
    /// <see cref="GemmFloat"/> for a C of one task's size (at most MC x NTile) with more than one k
    /// block: the k loop goes inside, and the parallel tasks are blocks of C's register tiles, one per
    /// core, cut along whichever of C's axes has more tiles; each block packs its own rows of A and
    /// columns of B once per k block and runs its tiles on them. The blocked loop would run all k
    /// blocks on one core, one small step after another (the stem convolution's weight gradient: 16 x
    /// 27 over 147,456 pixels). A first version made every register tile a task that packed its own
    /// 12 x kc and 32 x kc slices: A was packed once per column tile and B once per row tile, and on
    /// the 1x1 weight gradients (64 x 128 over 22,528 pixels, both operands transposed while packed)
    /// the packing cost about as much as the products. Inside another parallel loop (those weight
    /// gradients run per block of output channels) there is one block. Each tile gets the same k
    /// blocks' sums in the same order either way, so the results are the same.
    /// </summary>
    private static unsafe void GemmFloatLongK(float[] a, long aOffset, bool transA, float[] b, long bOffset, bool transB, float[] c, long cOffset, int m, int n, int k, Epilogue<float> epilogue, int ldc)
    {
        int rowTiles = (m + MR - 1) / MR, columnTiles = (n + NR - 1) / NR;
        bool byRows = rowTiles >= columnTiles;
        int axisTiles = byRows ? rowTiles : columnTiles;
        int blocks = (long)m * n * k < ParallelThreshold * 8 ? 1 : Math.Min(axisTiles, CpuWorkers.Participants);
        void RunBlock(int block)
        {
            int firstTile = axisTiles * block / blocks, endTile = axisTiles * (block + 1) / blocks;
            int i0 = byRows ? firstTile * MR : 0, j0 = byRows ? 0 : firstTile * NR;
            int rows = byRows ? Math.Min(m, endTile * MR) - i0 : m, cols = byRows ? n : Math.Min(n, endTile * NR) - j0;
            int blockRowTiles = (rows + MR - 1) / MR, blockColumnTiles = (cols + NR - 1) / NR;
            var packedA = ArrayPool<float>.Shared.Rent(blockRowTiles * MR * KC);
            var packedB = ArrayPool<float>.Shared.Rent(blockColumnTiles * NR * KC);
            fixed (float* pa = packedA, pb = packedB, pcC = c)
            {
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackA(a, aOffset, transA, m, k, i0, rows, pc, kc, packedA);
                    PackB(b, bOffset, transB, n, k, j0, cols, pc, kc, packedB);
                    for (int ir = 0; ir < blockRowTiles; ir++)
                        for (int jr = 0; jr < blockColumnTiles; jr++)
                            MicroTile(kc, pa + (long)ir * MR * kc, pb + (long)jr * NR * kc, NR, pcC + cOffset + (long)(i0 + ir * MR) * ldc + j0 + jr * NR, ldc,
                                Math.Min(MR, rows - ir * MR), Math.Min(NR, cols - jr * NR));
                }
            }
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
            if (epilogue.Any) ApplyEpilogue(c, epilogue, cOffset, ldc, i0, rows, j0, cols);
        }
        CpuWorkers.For(blocks, RunBlock);
    }

    /// <summary>
    /// x = relu(x) in place with <see cref="UnaryOp.Relu"/>'s semantics (NaN stays NaN, -0 becomes
    /// +0), vectorised: the epilogue of fused convolutions.
    /// </summary>
    internal static void ReluInPlace<T>(Span<T> values) where T : struct, IFloatingPointIeee754<T> => ReluInto<T>(values, values);

    /// <summary>destination = relu(source) (<see cref="ReluInPlace"/>'s semantics), vectorised; the spans have one length and may be the same.</summary>
    internal static void ReluInto<T>(ReadOnlySpan<T> source, Span<T> destination) where T : struct, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            int width = System.Numerics.Vector<T>.Count;
            for (; i <= source.Length - width; i += width)
                Relu(new System.Numerics.Vector<T>(source.Slice(i, width))).CopyTo(destination.Slice(i, width));
        }
        for (; i < source.Length; i++)
            destination[i] = source[i] > T.Zero || T.IsNaN(source[i]) ? source[i] : T.Zero;
    }

    /// <summary>relu of each lane with <see cref="ReluInPlace"/>'s semantics (NaN stays NaN, -0 becomes +0).</summary>
    internal static System.Numerics.Vector<T> Relu<T>(System.Numerics.Vector<T> v) where T : struct, IFloatingPointIeee754<T>
    {
        var keep = System.Numerics.Vector.GreaterThan(v, System.Numerics.Vector<T>.Zero) | ~System.Numerics.Vector.Equals(v, v);
        return System.Numerics.Vector.ConditionalSelect(keep, v, System.Numerics.Vector<T>.Zero);
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as consecutive MR-row panels, each stored k-major (MR values per k step), zero-padded (<see cref="PackPanels"/>).</summary>
    private static void PackA(float[] a, long offset, bool trans, int m, int k, int ic, int mc, int pc, int kc, float[] packed) =>
        PackPanels(a, offset, trans, trans ? m : k, ic, mc, pc, kc, MR, packed);

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as consecutive NR-column panels, each stored k-major (NR values per k step), zero-padded (<see cref="PackPanels"/>).</summary>
    private static void PackB(float[] b, long offset, bool trans, int n, int k, int jc, int nc, int pc, int kc, float[] packed) =>
        PackPanels(b, offset, !trans, trans ? k : n, jc, nc, pc, kc, NR, packed);

    /// <summary>
    /// Packs lines [first, first + count) of an operand, k steps [pc, pc + kc), as consecutive panels
    /// of <paramref name="width"/> lines, each stored k-major (width values per k step) and zero-padded
    /// past the last line; panels in parallel. Line i's value at step p is at
    /// offset + p·stride + i when <paramref name="linesContiguous"/> (A transposed, B not: each k step's
    /// lines are one run, copied as such), else at offset + i·stride + p (A, Bᵀ: each line is a run
    /// along k, read line by line; read k step by k step instead, every value came from another line,
    /// and a weight gradient's packing of Bᵀ measured 5x slower, about half the GEMM's own time).
    /// Contiguous lines are copied k step by k step across all the chunk's panels, so each source
    /// row is read as one run. Raw pointers, because the span-sliced loops this replaces spent about
    /// 30% of a one-core 1024³ product packing (GemmFloat checks the operands' extents once).
    /// </summary>
    private static unsafe void PackPanels(float[] source, long offset, bool linesContiguous, long stride, int first, int count, int pc, int kc, int width, float[] packed)
    {
        int panels = (count + width - 1) / width;
        ParallelRange(panels, (long)kc * width, (firstPanel, endPanel) =>
        {
            fixed (float* src = source, dst = packed)
            {
                if (linesContiguous)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* row = src + offset + (pc + p) * stride;
                        for (long panel = firstPanel; panel < endPanel; panel++)
                        {
                            int line0 = first + (int)panel * width, lines = Math.Min(width, first + count - line0);
                            CopyLine(row + line0, dst + panel * width * kc + p * width, lines, width);
                        }
                    }
                    return;
                }
                for (long panel = firstPanel; panel < endPanel; panel++)
                {
                    float* target = dst + panel * width * kc;
                    int line0 = first + (int)panel * width, lines = Math.Min(width, first + count - line0);
                    int line = 0;
                    if (Sse.IsSupported)
                        for (; line + 4 <= lines; line += 4)
                            Transpose4Lines(src + offset + (line0 + line) * stride + pc, stride, kc, target + line, width);
                    for (; line < width; line++)
                    {
                        if (line >= lines)
                        {
                            for (int p = 0; p < kc; p++) target[p * width + line] = 0f;
                            continue;
                        }
                        float* run = src + offset + (line0 + line) * stride + pc;
                        for (int p = 0; p < kc; p++) target[p * width + line] = run[p];
                    }
                }
            }
        });
    }

    /// <summary>to[0..count) = from[0..count), then to[count..width) = 0: one k step of a panel whose lines are contiguous in the source.</summary>
    private static unsafe void CopyLine(float* from, float* to, int count, int width)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(from + i), to + i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= count; i += 4) Vector128.Store(Vector128.Load(from + i), to + i); // the 4 past 8 in A's 12-line panels
        for (; i < count; i++) to[i] = from[i];
        for (; i < width; i++) to[i] = 0f;
    }

    /// <summary>
    /// target[p·width + r] = line r's value p for the 4 lines starting at <paramref name="r0"/>,
    /// <paramref name="stride"/> apart, and kc steps p: 4 x 4 blocks transposed in SSE registers
    /// (each store writes the 4 lines' values of one k step), the last kc mod 4 steps one by one.
    /// The packing of lines that run along k (A, Bᵀ).
    /// </summary>
    private static unsafe void Transpose4Lines(float* r0, long stride, int kc, float* target, int width)
    {
        float* r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            var l0 = Sse.LoadVector128(r0 + p); var l1 = Sse.LoadVector128(r1 + p);
            var l2 = Sse.LoadVector128(r2 + p); var l3 = Sse.LoadVector128(r3 + p);
            var t0 = Sse.UnpackLow(l0, l1);  // a0 b0 a1 b1
            var t1 = Sse.UnpackLow(l2, l3);  // c0 d0 c1 d1
            var t2 = Sse.UnpackHigh(l0, l1); // a2 b2 a3 b3
            var t3 = Sse.UnpackHigh(l2, l3); // c2 d2 c3 d3
            float* t = target + p * width;
            Sse.Store(t, Sse.MoveLowToHigh(t0, t1));
            Sse.Store(t + width, Sse.MoveHighToLow(t1, t0));
            Sse.Store(t + 2 * width, Sse.MoveLowToHigh(t2, t3));
            Sse.Store(t + 3 * width, Sse.MoveHighToLow(t3, t2));
        }
        for (; p < kc; p++)
        {
            float* t = target + p * width;
            t[0] = r0[p]; t[1] = r1[p]; t[2] = r2[p]; t[3] = r3[p];
        }
    }

    /// <summary>
    /// C[0..rows, 0..cols] += A-panel · B-panel over kc steps: the register-tile kernel of this
    /// machine's vector width, straight into C for a whole MR x NR tile; an edge tile is computed
    /// whole into a zeroed scratch tile (A's and B's panels are zero-padded, so it reads nothing
    /// past them) and only its valid part added to C, element by element, as before. The edge path
    /// stays out of the kernels: inside them, without PGO's block weights (DOTNET_TieredPGO=0 or
    /// DOTNET_TieredCompilation=0) the JIT stored all 24 accumulators to the stack on every k step
    /// (JitDisasm) and SGEMM 1024 ran at 35-55 GFLOP/s against 165-180. The accumulators start at
    /// +0 and so are never -0, so 0 + accumulator in the scratch tile is the accumulator itself.
    /// </summary>
    private static unsafe void MicroTile(int kc, float* a, float* b, int ldb, float* c, int ldc, int rows, int cols)
    {
        if (rows == MR && cols == NR)
        {
            if (Wide) MicroKernel12(kc, a, b, ldb, c, ldc);
            else MicroKernel6(kc, a, b, ldb, c, ldc);
            return;
        }
        const int LargestTile = 12 * 32; // AVX-512's MR x NR; AVX2's 6 x 16 fits
        float* tile = stackalloc float[LargestTile];
        new Span<float>(tile, MR * NR).Clear();
        if (Wide) MicroKernel12(kc, a, b, ldb, tile, NR);
        else MicroKernel6(kc, a, b, ldb, tile, NR);
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
                c[(long)r * ldc + col] += tile[r * NR + col];
    }

    /// <summary>target[0..8) += value: a finished AVX2 accumulator into C.</summary>
    private static unsafe void AddTo(float* target, Vector256<float> value) => (Vector256.Load(target) + value).Store(target);

    /// <summary>target[0..16) += value: a finished AVX-512 accumulator into C.</summary>
    private static unsafe void AddTo(float* target, Vector512<float> value) => (Vector512.Load(target) + value).Store(target);

    // The micro-kernels' locals are the hardware vectors themselves, one kernel per register file:
    // with a struct wrapping the vector as its value type, the JIT (.NET 10) put a register move
    // after every second fused multiply-add (dotnet/runtime#107538), 6 extra instructions in the
    // 6-row kernel's 27; and 12 rows (24 accumulators) would spill AVX2's 16 registers.
    /// <summary>C[0..6, 0..2 vectors] += A-panel · B-panel over kc steps, with the 6 x (2 vectors) tile held in registers; B's k steps are <paramref name="ldb"/> apart (NR when packed).</summary>
    private static unsafe void MicroKernel6(int kc, float* a, float* b, int ldb, float* c, int ldc)
    {
        int width = Vector256<float>.Count;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += 6, b += ldb)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + width);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
        }

        AddTo(c, c00); AddTo(c + width, c01); c += ldc;
        AddTo(c, c10); AddTo(c + width, c11); c += ldc;
        AddTo(c, c20); AddTo(c + width, c21); c += ldc;
        AddTo(c, c30); AddTo(c + width, c31); c += ldc;
        AddTo(c, c40); AddTo(c + width, c41); c += ldc;
        AddTo(c, c50); AddTo(c + width, c51);
    }

    /// <summary>C[0..12, 0..2 vectors] += A-panel · B-panel over kc steps, with the 12 x (2 vectors) tile held in registers (AVX-512's 32 hold its 24 accumulators); B's k steps are <paramref name="ldb"/> apart (NR when packed).</summary>
    private static unsafe void MicroKernel12(int kc, float* a, float* b, int ldb, float* c, int ldc)
    {
        int width = Vector512<float>.Count;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        // C's tile comes from L3 at best (a 1024 x 1024 C is 4 MiB): fetch it while the FMAs run, not after.
        for (int r = 0; r < 12; r++)
        {
            Sse.Prefetch0(c + (long)r * ldc);
            Sse.Prefetch0(c + (long)r * ldc + width);
        }
        for (int p = 0; p < kc; p++, a += 12, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + width);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            var a8 = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
            var a9 = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
            var aA = Vector512.Create(a[10]);
            cA0 = Vector512.FusedMultiplyAdd(aA, b0, cA0); cA1 = Vector512.FusedMultiplyAdd(aA, b1, cA1);
            var aB = Vector512.Create(a[11]);
            cB0 = Vector512.FusedMultiplyAdd(aB, b0, cB0); cB1 = Vector512.FusedMultiplyAdd(aB, b1, cB1);
        }

        AddTo(c, c00); AddTo(c + width, c01); c += ldc;
        AddTo(c, c10); AddTo(c + width, c11); c += ldc;
        AddTo(c, c20); AddTo(c + width, c21); c += ldc;
        AddTo(c, c30); AddTo(c + width, c31); c += ldc;
        AddTo(c, c40); AddTo(c + width, c41); c += ldc;
        AddTo(c, c50); AddTo(c + width, c51); c += ldc;
        AddTo(c, c60); AddTo(c + width, c61); c += ldc;
        AddTo(c, c70); AddTo(c + width, c71); c += ldc;
        AddTo(c, c80); AddTo(c + width, c81); c += ldc;
        AddTo(c, c90); AddTo(c + width, c91); c += ldc;
        AddTo(c, cA0); AddTo(c + width, cA1); c += ldc;
        AddTo(c, cB0); AddTo(c + width, cB1);
    }
}
