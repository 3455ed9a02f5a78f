namespace ScratchDetect.Engine;

/// <summary>
/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64). Every random op
/// takes one explicitly so that runs repeat exactly; there is no hidden global state.
/// </summary>
public sealed class Generator
{
    private ulong s0, s1, s2, s3;

    /// <summary>A generator whose sequence is fixed by <paramref name="seed"/>.</summary>
    public Generator(ulong seed)
    {
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    /// <summary>
    /// The generator's whole state (the four xoshiro256** words), for checkpoints: a generator
    /// restored with <see cref="FromState"/> continues the sequence exactly where this one is.
    /// </summary>
    public ulong[] SaveState() => [s0, s1, s2, s3];

    /// <summary>A generator that continues from a state saved by <see cref="SaveState"/>.</summary>
    /// <exception cref="ArgumentException">Not four words, or all zero (a state xoshiro never reaches).</exception>
    public static Generator FromState(IReadOnlyList<ulong> state)
    {
        if (state.Count != 4) throw new ArgumentException($"generator state: expected 4 words, got {state.Count}", nameof(state));
        if (state.All(w => w == 0)) throw new ArgumentException("generator state: all four words are zero, which xoshiro256** never reaches", nameof(state));
        var generator = new Generator(0);
        (generator.s0, generator.s1, generator.s2, generator.s3) = (state[0], state[1], state[2], state[3]);
        return generator;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound), without modulo bias.</summary>
    public long NextInt64(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), $"bound must be positive, not {bound}");
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (long)(r % (ulong)bound);
    }

    /// <summary>Standard normal sample (Box-Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // in (0, 1], so the log is finite
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

public sealed partial class Tensor
{
    /// <summary>Uniform values in [low, high).</summary>
    public static Tensor Uniform(int[] shape, double low, double high, Generator generator, DType dtype = DType.Float32) =>
        Sampled(shape, dtype, () => low + (high - low) * generator.NextDouble());

    /// <summary>Normal values with the given mean and standard deviation.</summary>
    public static Tensor Normal(int[] shape, double mean, double std, Generator generator, DType dtype = DType.Float32) =>
        Sampled(shape, dtype, () => mean + std * generator.NextGaussian());

    /// <summary>
    /// A tensor of <paramref name="sample"/>'s values in row-major order, each drawn in double and
    /// rounded once to <paramref name="dtype"/> (as To(dtype) rounds). Float32 ones are written
    /// straight into the storage: initialising a large model then leaves no double-sized copies
    /// for the GC, which would keep their memory committed long after.
    /// </summary>
    private static Tensor Sampled(int[] shape, DType dtype, Func<double> sample)
    {
        if (dtype == DType.Float32)
            return Create<float>(shape, values =>
            {
                for (int i = 0; i < values.Length; i++) values[i] = (float)sample();
            });
        return Create<double>(shape, values =>
        {
            for (int i = 0; i < values.Length; i++) values[i] = sample();
        }).Then(doubles => doubles.To(dtype));
    }

    /// <summary>Uniform integers in [low, high).</summary>
    public static Tensor RandInt(int[] shape, long low, long high, Generator generator)
    {
        var values = new long[Shapes.Numel(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = low + generator.NextInt64(high - low);
        return FromArray(values, shape);
    }

    /// <summary>A random permutation of 0..n-1 (Fisher-Yates), as torch.randperm.</summary>
    public static Tensor Randperm(int n, Generator generator)
    {
        var values = new long[n];
        for (int i = 0; i < n; i++) values[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)generator.NextInt64(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
        return FromArray(values, n);
    }
}
