using ScratchDetect.Engine.Backends;
using Xunit.Sdk;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Every element-wise, comparison and reduction kernel of the backend (every op of
/// <see cref="UnaryOp"/>, <see cref="BinaryOp"/>, <see cref="CompareOp"/> and <see cref="ReduceOp"/>
/// in every dtype the backend accepts, the scalar forms, clamp, where and activation backward) at
/// every length 0..256, so that every vector width's main loop, its tail and the scalar remainder
/// run, on every device. One table row per kernel and dtype; each row's reference is a plain
/// scalar loop written here in float64 and rounded once to the output dtype.
/// </summary>
/// <remarks>
/// Tolerances, in units in the last place of the output dtype:
/// - 0 (bitwise, NaN matching NaN) for everything that is one IEEE operation per element (+, -,
///   ×, ÷, √, negation, abs, floor, sign, max, min, clamp, selections, comparisons, integers):
///   float64 has more than twice float32's precision plus two bits, so rounding the float64 result
///   of one such operation to float32 gives exactly the float32 operation's result.
/// - 2 ulp for exp, log, log2, tanh and pow: the kernels call .NET's Math/MathF functions, which
///   defer to the C library, whose documented worst case for these on x86-64 is 1-2 ulp; the
///   reference itself is within 0.5 ulp.
/// - 4 ulp for sigmoid: its exp (2 ulp) plus up to three roundings (1 + e, the quotient and the
///   reference's own), none of them cancelling since 1 + e^-|x| lies in [1, 2].
/// - Activation backward composes two or three roundings with a cancellation (1 - y²) that can
///   magnify a float32 rounding of y² a hundredfold, so its reference rounds every step as the
///   kernel does (round(round(g·y)·round(1 - y))) and matches bitwise.
/// - Sums reorder n additions (vector lanes, then the remainder): any order is within γ_n·Σ|x| of
///   the exact sum, γ_n = n·u/(1 - n·u) with u = 2^-53 (Higham, Accuracy and Stability, 3.1), so
///   the kernel and the sequential reference are within 2·γ_n·Σ|x| in float64. float32 sums
///   accumulate in float64 and round once; two such sums may round to neighbouring floats: plus
///   one float32 ulp. Integer sums are exact.
/// </remarks>
public class ElementwiseKernelTests
{
    private const int MaxLength = 256;
    private const int Exact = 0, Transcendental = 2, SigmoidUlps = 4;

    private static readonly DType[] Numeric = [DType.Float32, DType.Float64, DType.Int64];
    private static readonly DType[] Floating = [DType.Float32, DType.Float64];

    /// <summary>Where a row's operands come from (per operand).</summary>
    private enum Domain
    {
        /// <summary>[-4, 4] in steps of 0.001 (int64: ×1000), with exact zeros and, for a second operand, ties with the first.</summary>
        General,
        /// <summary>As General, with zeros replaced by 0.5: divisors.</summary>
        NonZero,
        /// <summary>[0.5, 4.5]: logarithms, square roots, pow bases.</summary>
        Positive,
        /// <summary>[-1, 1]: tanh outputs.</summary>
        Unit,
        /// <summary>[0, 1]: sigmoid outputs.</summary>
        UnitPositive,
    }

    /// <summary>Per kernel row: the check at one length on one backend.</summary>
    private static readonly Dictionary<string, Action<IBackend, int>> Table = BuildTable();

    public static TheoryData<string> Kernels() => new(Table.Keys);

    [Theory, OnCpu(nameof(Kernels)), OnCuda(nameof(Kernels))]
    public void KernelMatchesItsScalarReferenceAtEveryLength(string kernel, DeviceKind kind)
    {
        var backend = BackendRegistry.For(TestDevices.Of(kind));
        for (int n = 0; n <= MaxLength; n++) Table[kernel](backend, n);
    }

    /// <summary>
    /// The table is complete: every op and dtype the CPU backend accepts (probed on one element;
    /// the rest refuse with an ArgumentException) has its row, so a new op or dtype cannot go untested.
    /// </summary>
    [Fact]
    public void EveryKernelTheBackendAcceptsHasARow()
    {
        var backend = BackendRegistry.For(Device.Cpu);
        var accepted = new List<string>();
        void Probe(string name, Action call)
        {
            try
            {
                call();
                accepted.Add(name);
            }
            catch (ArgumentException) { }
        }
        Storage One(DType dtype) => backend.Full(dtype, 1, 1);
        foreach (var dtype in Enum.GetValues<DType>())
        {
            foreach (var op in Enum.GetValues<UnaryOp>()) Probe(UnaryName(op, dtype), () => backend.Unary(op, One(dtype)));
            foreach (var op in Enum.GetValues<BinaryOp>())
            {
                Probe(BinaryName(op, dtype), () => backend.Binary(op, One(dtype), [1], One(dtype), [1], [1]));
                foreach (bool scalarFirst in new[] { false, true })
                    Probe(ScalarName(op, dtype, scalarFirst), () => backend.BinaryScalar(op, One(dtype), 1, scalarFirst));
            }
            foreach (var op in Enum.GetValues<CompareOp>()) Probe(CompareName(op, dtype), () => backend.Compare(op, One(dtype), [1], One(dtype), [1], [1]));
            foreach (var op in Enum.GetValues<ReduceOp>())
                foreach (var (layout, _) in ReductionLayouts(1))
                    Probe(ReduceName(op, dtype, layout), () => backend.Reduce(op, One(dtype), 1, 1, 1));
            foreach (var activation in Enum.GetValues<UnaryOp>())
                Probe(ActivationName(activation, dtype), () => backend.ActivationBackward(activation, One(dtype), One(dtype)));
            Probe(ClampName(dtype), () => backend.Clamp(One(dtype), 0, 1));
            Probe(WhereName(dtype), () => backend.Where(backend.Full(DType.Bool, 1, 1), [1], One(dtype), [1], One(dtype), [1], [1]));
        }
        Assert.Empty(accepted.Except(Table.Keys));
        // And every row is a kernel the backend accepts (no row tests a refusal by accident).
        Assert.Empty(Table.Keys.Except(accepted));
    }

    private static string UnaryName(UnaryOp op, DType dtype) => $"unary {op} {dtype.Name()}";
    private static string BinaryName(BinaryOp op, DType dtype) => $"binary {op} {dtype.Name()}";
    private static string ScalarName(BinaryOp op, DType dtype, bool scalarFirst) => $"binary {op} {dtype.Name()} with a scalar {(scalarFirst ? "first" : "second")}";
    private static string CompareName(CompareOp op, DType dtype) => $"compare {op} {dtype.Name()}";
    private static string ReduceName(ReduceOp op, DType dtype, string layout) => $"reduce {op} {dtype.Name()} {layout}";
    private static string ActivationName(UnaryOp activation, DType dtype) => $"activation backward {activation} {dtype.Name()}";
    private static string ClampName(DType dtype) => $"clamp {dtype.Name()}";
    private static string WhereName(DType dtype) => $"where {dtype.Name()}";

    private static Dictionary<string, Action<IBackend, int>> BuildTable()
    {
        var table = new Dictionary<string, Action<IBackend, int>>();
        void Add(string name, Action<IBackend, int> check) => table.Add(name, check);

        foreach (var dtype in Floating)
        {
            var round = RoundingTo(dtype);
            // One IEEE operation per element, or the C library's transcendental functions.
            (UnaryOp Op, Domain Domain, Func<double, double> Reference, int Ulps)[] unary =
            [
                (UnaryOp.Neg, Domain.General, v => -v, Exact),
                (UnaryOp.Exp, Domain.General, Math.Exp, Transcendental),
                (UnaryOp.Log, Domain.Positive, Math.Log, Transcendental),
                (UnaryOp.Log2, Domain.Positive, Math.Log2, Transcendental),
                (UnaryOp.Sqrt, Domain.Positive, Math.Sqrt, Exact),
                (UnaryOp.Abs, Domain.General, Math.Abs, Exact),
                (UnaryOp.Relu, Domain.General, v => v > 0 ? v : 0, Exact),
                (UnaryOp.Sigmoid, Domain.General, v => 1 / (1 + Math.Exp(-v)), SigmoidUlps),
                (UnaryOp.Tanh, Domain.General, Math.Tanh, Transcendental),
                (UnaryOp.Sign, Domain.General, v => Math.Sign(v), Exact),
                (UnaryOp.Floor, Domain.General, Math.Floor, Exact),
            ];
            foreach (var (op, domain, reference, ulps) in unary)
                Add(UnaryName(op, dtype), Elementwise(dtype, dtype, [domain], (b, x) => b.Unary(op, x[0]), x => reference(x[0]), ulps));

            Add(BinaryName(BinaryOp.Pow, dtype), Elementwise(dtype, dtype, [Domain.Positive, Domain.General],
                (b, x) => Binary(b, BinaryOp.Pow, x), x => Math.Pow(x[0], x[1]), Transcendental));
            Add(ScalarName(BinaryOp.Pow, dtype, false), Elementwise(dtype, dtype, [Domain.Positive], (b, x) => b.BinaryScalar(BinaryOp.Pow, x[0], 1.5, false), x => Math.Pow(x[0], 1.5), Transcendental));
            Add(ScalarName(BinaryOp.Pow, dtype, true), Elementwise(dtype, dtype, [Domain.General], (b, x) => b.BinaryScalar(BinaryOp.Pow, x[0], 1.5, true), x => Math.Pow(1.5, x[0]), Transcendental));

            // Activation backward from the output y: every step rounded as the kernel rounds it (see the remarks).
            Add(ActivationName(UnaryOp.Relu, dtype), Elementwise(dtype, dtype, [Domain.General, Domain.General],
                (b, x) => b.ActivationBackward(UnaryOp.Relu, x[0], x[1]), x => x[1] > 0 ? x[0] : 0, Exact));
            Add(ActivationName(UnaryOp.Sigmoid, dtype), Elementwise(dtype, dtype, [Domain.General, Domain.UnitPositive],
                (b, x) => b.ActivationBackward(UnaryOp.Sigmoid, x[0], x[1]), x => round(x[0] * x[1]) * round(1 - x[1]), Exact));
            Add(ActivationName(UnaryOp.Tanh, dtype), Elementwise(dtype, dtype, [Domain.General, Domain.Unit],
                (b, x) => b.ActivationBackward(UnaryOp.Tanh, x[0], x[1]), x => x[0] * round(1 - round(x[1] * x[1])), Exact));
        }

        foreach (var dtype in Numeric)
        {
            bool integer = dtype == DType.Int64;
            // The scalar is taken in the tensor's dtype, so integer rows use an integer one.
            double s = integer ? 3 : 0.75;
            (BinaryOp Op, Domain Right, Func<double, double, double> Reference)[] binary =
            [
                (BinaryOp.Add, Domain.General, (p, q) => p + q),
                (BinaryOp.Sub, Domain.General, (p, q) => p - q),
                (BinaryOp.Mul, Domain.General, (p, q) => p * q),
                // Integer division truncates toward zero, as C# and the kernel do.
                (BinaryOp.Div, Domain.NonZero, (p, q) => integer ? Math.Truncate(p / q) : p / q),
                (BinaryOp.Maximum, Domain.General, Math.Max),
                (BinaryOp.Minimum, Domain.General, Math.Min),
            ];
            foreach (var (op, right, reference) in binary)
            {
                Add(BinaryName(op, dtype), Elementwise(dtype, dtype, [Domain.General, right],
                    (b, x) => Binary(b, op, x), x => reference(x[0], x[1]), Exact));
                Add(ScalarName(op, dtype, false), Elementwise(dtype, dtype, [Domain.General], (b, x) => b.BinaryScalar(op, x[0], s, false), x => reference(x[0], s), Exact));
                // s ÷ x needs x ≠ 0 (an integer division by zero throws).
                Add(ScalarName(op, dtype, true), Elementwise(dtype, dtype, [right], (b, x) => b.BinaryScalar(op, x[0], s, true), x => reference(s, x[0]), Exact));
            }

            (CompareOp Op, Func<double, double, bool> Reference)[] comparisons =
            [
                (CompareOp.Eq, (p, q) => p == q), (CompareOp.Ne, (p, q) => p != q), (CompareOp.Lt, (p, q) => p < q),
                (CompareOp.Le, (p, q) => p <= q), (CompareOp.Gt, (p, q) => p > q), (CompareOp.Ge, (p, q) => p >= q),
            ];
            foreach (var (op, reference) in comparisons)
                Add(CompareName(op, dtype), Elementwise(dtype, DType.Bool, [Domain.General, Domain.General],
                    (b, x) => Compare(b, op, x), x => reference(x[0], x[1]) ? 1 : 0, Exact));

            // Clamp bounds in the dtype: -1.5..2.25 for floats, -1500..2250 for the ×1000 integers.
            double low = integer ? -1500 : -1.5, high = integer ? 2250 : 2.25;
            Add(ClampName(dtype), Elementwise(dtype, dtype, [Domain.General], (b, x) => b.Clamp(x[0], low, high), x => Math.Clamp(x[0], low, high), Exact));

            foreach (var (layout, shape) in ReductionLayouts(0))
            {
                Add(ReduceName(ReduceOp.Sum, dtype, layout), Reduction(dtype, layout, ReduceOp.Sum, values => values.Sum(), SumTolerance(dtype)));
                Add(ReduceName(ReduceOp.Max, dtype, layout), Reduction(dtype, layout, ReduceOp.Max, values => values.Max(), Exactly));
                Add(ReduceName(ReduceOp.Min, dtype, layout), Reduction(dtype, layout, ReduceOp.Min, values => values.Min(), Exactly));
                // The first extreme wins ties, as in PyTorch.
                Add(ReduceName(ReduceOp.ArgMax, dtype, layout), Reduction(dtype, layout, ReduceOp.ArgMax, values => Array.IndexOf(values, values.Max()), Exactly));
                Add(ReduceName(ReduceOp.ArgMin, dtype, layout), Reduction(dtype, layout, ReduceOp.ArgMin, values => Array.IndexOf(values, values.Min()), Exactly));
            }
        }

        // Where: a bool condition and two operands of the dtype.
        foreach (var dtype in Enum.GetValues<DType>())
            Add(WhereName(dtype), Elementwise(dtype, [(Domain.General, DType.Bool), (Domain.General, dtype), (Domain.General, dtype)],
                (b, x) => b.Where(x[0], Shape(x[0]), x[1], Shape(x[1]), x[2], Shape(x[2]), Shape(x[0])), x => x[0] != 0 ? x[1] : x[2], Exact));

        // The bool kernels (comparison of bools included).
        Add(UnaryName(UnaryOp.Not, DType.Bool), Elementwise(DType.Bool, DType.Bool, [Domain.General], (b, x) => b.Unary(UnaryOp.Not, x[0]), x => x[0] == 0 ? 1 : 0, Exact));
        Add(BinaryName(BinaryOp.And, DType.Bool), Elementwise(DType.Bool, DType.Bool, [Domain.General, Domain.General],
            (b, x) => Binary(b, BinaryOp.And, x), x => x[0] != 0 && x[1] != 0 ? 1 : 0, Exact));
        Add(BinaryName(BinaryOp.Or, DType.Bool), Elementwise(DType.Bool, DType.Bool, [Domain.General, Domain.General],
            (b, x) => Binary(b, BinaryOp.Or, x), x => x[0] != 0 || x[1] != 0 ? 1 : 0, Exact));
        foreach (var (op, reference) in new (CompareOp, Func<double, double, bool>)[] { (CompareOp.Eq, (p, q) => p == q), (CompareOp.Ne, (p, q) => p != q) })
            Add(CompareName(op, DType.Bool), Elementwise(DType.Bool, DType.Bool, [Domain.General, Domain.General],
                (b, x) => Compare(b, op, x), x => reference(x[0], x[1]) ? 1 : 0, Exact));

        // The integer unary kernels.
        foreach (var (op, reference) in new (UnaryOp, Func<double, double>)[] { (UnaryOp.Neg, v => -v), (UnaryOp.Abs, Math.Abs), (UnaryOp.Relu, v => Math.Max(v, 0)), (UnaryOp.Sign, v => Math.Sign(v)) })
            Add(UnaryName(op, DType.Int64), Elementwise(DType.Int64, DType.Int64, [Domain.General], (b, x) => b.Unary(op, x[0]), x => reference(x[0]), Exact));
        return table;
    }

    /// <summary>
    /// Reduction layouts (outer, size, inner) for axis length n: the axis contiguous (inner 1, the
    /// lane-parallel sum over n), and the axis outermost with n contiguous columns (inner n, the
    /// vectorised row accumulation).
    /// </summary>
    private static IEnumerable<(string Name, (int Outer, int Size, int Inner) Shape)> ReductionLayouts(int n) =>
        [("over (2, n, 1)", (2, n, 1)), ("over (2, 3, n)", (2, 3, n))];

    // ---- row builders -------------------------------------------------------------------------

    /// <summary>A row whose operands all have the kernel's input dtype.</summary>
    private static Action<IBackend, int> Elementwise(DType inputType, DType outputType, Domain[] domains,
        Func<IBackend, Storage[], Storage> kernel, Func<double[], double> reference, int ulps) =>
        Elementwise(outputType, domains.Select(d => (d, inputType)).ToArray(), kernel, reference, ulps);

    /// <summary>
    /// An element-wise row: operands from their domains in their dtypes, the kernel's output
    /// compared element by element with the reference (computed in float64 on the stored operand
    /// values and rounded once to <paramref name="outputType"/>) within <paramref name="ulps"/>.
    /// </summary>
    private static Action<IBackend, int> Elementwise(DType outputType, (Domain Domain, DType DType)[] operandTypes,
        Func<IBackend, Storage[], Storage> kernel, Func<double[], double> reference, int ulps) => (backend, n) =>
    {
        var operands = Operands(operandTypes, n);
        var values = operands.Select(AsDoubles).ToArray();
        var actual = AsDoubles(backend.ToArray(kernel(backend, operands.Select(backend.FromArray).ToArray())));
        if (actual.Length != n) throw new XunitException($"length {n}: the kernel returned {actual.Length} elements");
        var round = RoundingTo(outputType);
        for (int i = 0; i < n; i++)
        {
            var at = values.Select(v => v[i]).ToArray();
            double expected = round(reference(at));
            long distance = UlpDistance(expected, actual[i], outputType);
            if (distance > ulps)
                throw new XunitException($"length {n}, element {i} of ({string.Join(", ", at)}): {actual[i]:R}, expected {expected:R} ({distance} ulp apart, {ulps} allowed)");
        }
    };

    /// <summary>A reduction row: over each layout's axis, the kernel's result against the reference over the same values.</summary>
    private static Action<IBackend, int> Reduction(DType dtype, string layoutName, ReduceOp op, Func<double[], double> reference,
        Func<double[], double, double> tolerance) => (backend, n) =>
    {
        var (outer, size, inner) = ReductionLayouts(n).Single(l => l.Name == layoutName).Shape;
        var x = Operands([(Domain.General, dtype)], outer * size * inner)[0];
        if (size == 0 && op != ReduceOp.Sum)
        {
            // An empty axis has no extreme: the kernel refuses, naming the op.
            var error = Assert.Throws<ArgumentException>(() => backend.Reduce(op, backend.FromArray(x), outer, size, inner));
            Assert.Contains(op.ToString().ToLowerInvariant(), error.Message);
            return;
        }
        var values = AsDoubles(x);
        var actual = AsDoubles(backend.ToArray(backend.Reduce(op, backend.FromArray(x), outer, size, inner)));
        if (actual.Length != outer * inner) throw new XunitException($"length {n}: {actual.Length} results, expected {outer * inner}");
        var round = RoundingTo(op is ReduceOp.ArgMax or ReduceOp.ArgMin ? DType.Int64 : dtype);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var axis = Enumerable.Range(0, size).Select(j => values[(o * size + j) * inner + i]).ToArray();
                double expected = round(reference(axis)), allowed = tolerance(axis, expected);
                double got = actual[o * inner + i];
                if (!(Math.Abs(got - expected) <= allowed))
                    throw new XunitException($"length {n}, output ({o}, {i}): {got:R}, expected {expected:R} (allowed {allowed:G3})");
            }
    };

    private static double Exactly(double[] values, double expected) => 0;

    /// <summary>The sum's allowance (see the remarks): 2·γ_n·Σ|x| in float64, plus one float32 ulp of the result for float32; integers exact.</summary>
    private static Func<double[], double, double> SumTolerance(DType dtype) => (values, expected) =>
    {
        double u = Math.Pow(2, -53), gamma = values.Length * u / (1 - values.Length * u);
        double reorders = 2 * gamma * values.Sum(Math.Abs);
        float magnitude = Math.Abs((float)expected);
        return dtype switch
        {
            DType.Float64 => reorders,
            DType.Float32 => reorders + (MathF.BitIncrement(magnitude) - magnitude),
            _ => 0,
        };
    };

    // ---- operands and comparison ----------------------------------------------------------------

    /// <summary>
    /// A row's operands at length <paramref name="n"/>, as host arrays of their dtypes' element
    /// types, seeded by the length. A General or NonZero operand after the first equals the first
    /// at every fifth element, so comparisons and extremes see ties.
    /// </summary>
    private static Array[] Operands((Domain Domain, DType DType)[] operands, int n)
    {
        var g = new Generator((ulong)n + 17);
        var values = new double[operands.Length][];
        for (int k = 0; k < operands.Length; k++)
        {
            var domain = operands[k].Domain;
            values[k] = new double[n];
            for (int i = 0; i < n; i++)
            {
                double v = domain switch
                {
                    Domain.General => i % 7 == 3 ? 0 : Math.Round(g.NextDouble() * 8 - 4, 3),
                    Domain.NonZero => Math.Round(g.NextDouble() * 8 - 4, 3),
                    Domain.Positive => Math.Round(g.NextDouble() * 4 + 0.5, 3),
                    Domain.Unit => Math.Round(g.NextDouble() * 2 - 1, 3),
                    _ => Math.Round(g.NextDouble(), 3),
                };
                if (k > 0 && i % 5 == 0 && domain is Domain.General or Domain.NonZero) v = values[0][i];
                values[k][i] = domain == Domain.NonZero && v == 0 ? 0.5 : v;
            }
        }
        return values.Select((v, k) => ToDType(v, operands[k].DType)).ToArray();
    }

    /// <summary>The values in the dtype: rounded to float32, as integers ×1000, or as bools (positive is true).</summary>
    private static Array ToDType(double[] values, DType dtype) => dtype switch
    {
        DType.Float32 => values.Select(v => (float)v).ToArray(),
        DType.Float64 => values,
        DType.Int64 => values.Select(v => (long)Math.Round(v * 1000)).ToArray(),
        _ => values.Select(v => v > 0).ToArray(),
    };

    private static int[] Shape(Storage storage) => [checked((int)storage.Length)];

    private static Storage Binary(IBackend backend, BinaryOp op, Storage[] x) => backend.Binary(op, x[0], Shape(x[0]), x[1], Shape(x[1]), Shape(x[0]));

    private static Storage Compare(IBackend backend, CompareOp op, Storage[] x) => backend.Compare(op, x[0], Shape(x[0]), x[1], Shape(x[1]), Shape(x[0]));

    private static double[] AsDoubles(Array values) => values switch
    {
        float[] f => f.Select(v => (double)v).ToArray(),
        double[] d => d,
        long[] l => l.Select(v => (double)v).ToArray(),
        bool[] b => b.Select(v => v ? 1.0 : 0.0).ToArray(),
        _ => throw new ArgumentException(values.GetType().Name),
    };

    /// <summary>Rounds a float64 value to the dtype's nearest value (the identity for float64; exact for the small integers used here).</summary>
    private static Func<double, double> RoundingTo(DType dtype) => dtype switch
    {
        DType.Float32 => v => (float)v,
        _ => v => v,
    };

    /// <summary>How many representable values of the dtype lie between the two (0 for equal values and for NaN against NaN).</summary>
    private static long UlpDistance(double expected, double actual, DType dtype)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual)) return double.IsNaN(expected) && double.IsNaN(actual) ? 0 : long.MaxValue;
        if (dtype != DType.Float32 && dtype != DType.Float64) return expected == actual ? 0 : long.MaxValue;
        // Ordered integer images of the bit patterns: adjacent floats differ by one, and ±0 coincide.
        static long Ordered(long bits, long signBit) => bits < 0 ? signBit - bits : bits;
        return dtype == DType.Float32
            ? Math.Abs(Ordered(BitConverter.SingleToInt32Bits((float)expected), int.MinValue) - Ordered(BitConverter.SingleToInt32Bits((float)actual), int.MinValue))
            : Math.Abs(Ordered(BitConverter.DoubleToInt64Bits(expected), long.MinValue) - Ordered(BitConverter.DoubleToInt64Bits(actual), long.MinValue));
    }
}

