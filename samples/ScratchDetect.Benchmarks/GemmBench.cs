using System.Diagnostics;
using System.Runtime.Intrinsics;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Float32 matrix products against torch.matmul (OpenBLAS) in the same run, one run of each in turn: square sizes 256..2048,
/// the transposed variants backward passes use, and the shapes convolutions and the box head
/// produce. Every row also gives the fraction of the machine's FMA peak, measured first in the same
/// run (see <see cref="FmaPeakGflops"/>), so a loaded machine shows as a lower peak.
/// </summary>
public static class GemmBench
{
    // (m, k, n, transA, transB): square sizes; 1024 with either operand transposed (the backward
    // passes of Linear and convolutions); a 3x3 conv of ResNet50's layer1 as im2col GEMM
    // (64 x 576 x 56*56), a 1x1 conv of layer3 (1024 x 256 x 14*14), the box head's fc6 (512 RoIs x 12544 x 1024).
    private static readonly (int M, int K, int N, bool TransA, bool TransB, string What)[] Shapes =
    [
        (256, 256, 256, false, false, "square 256"),
        (512, 512, 512, false, false, "square 512"),
        (1024, 1024, 1024, false, false, "square 1024"),
        (1536, 1536, 1536, false, false, "square 1536"),
        (2048, 2048, 2048, false, false, "square 2048"),
        (1024, 1024, 1024, true, false, "square 1024, Aᵀ·B"),
        (1024, 1024, 1024, false, true, "square 1024, A·Bᵀ"),
        (64, 576, 3136, false, false, "conv3x3 64ch @56x56"),
        (1024, 256, 196, false, false, "conv1x1 256->1024 @14x14"),
        (512, 12544, 1024, false, false, "fc6 512 RoIs"),
    ];

    public static IEnumerable<BenchRow> Run()
    {
        var (peak, peakMs) = FmaPeakGflops();
        var backend = CpuBackend.Instance;
        var g = new Generator(0);
        // Transposed operands are PyTorch views of the stored matrix, which BLAS reads with its transpose flags, as ours does.
        string setup = string.Join("\n", Shapes.Select((s, i) =>
            $"a{i} = torch.randn({(s.TransA ? $"{s.K}, {s.M}" : $"{s.M}, {s.K}")}){(s.TransA ? ".t()" : "")}; " +
            $"b{i} = torch.randn({(s.TransB ? $"{s.N}, {s.K}" : $"{s.K}, {s.N}")}){(s.TransB ? ".t()" : "")}"));
        using var session = new TorchSession(setup, Shapes.Select((_, i) => $"a{i} @ b{i}").ToArray());
        var times = Shapes.Select((s, i) =>
        {
            var a = backend.FromArray(Tensor.Uniform([s.M * s.K], -1, 1, g).ToArray<float>());
            var b = backend.FromArray(Tensor.Uniform([s.K * s.N], -1, 1, g).ToArray<float>());
            return Harness.AlternatingMedianMs(() => backend.Matmul(a, 0, s.TransA, b, 0, s.TransB, 1, s.M, s.N, s.K), session, i);
        }).ToArray();
        var ours = times.Select(t => t.OursMs).ToArray();
        var torch = times.Select(t => t.TorchMs).ToArray();
        yield return new BenchRow($"FMA peak, {Environment.ProcessorCount} threads of {(Vector512.IsHardwareAccelerated ? "AVX-512" : "AVX2")} FMAs", peakMs, null, "-", $"{peak:F1} GFLOP/s");
        for (int i = 0; i < Shapes.Length; i++)
        {
            var (m, k, n, _, _, what) = Shapes[i];
            double flop = 2.0 * m * k * n;
            double gflops = flop / (ours[i] * 1e6), torchGflops = flop / (torch[i] * 1e6);
            yield return new BenchRow($"matmul {m}x{k}x{n} ({what})", ours[i], torch[i], "torch.matmul",
                $"{gflops:F1} GFLOP/s = {gflops / peak:P0} of peak; torch {torchGflops:F1} GFLOP/s = {torchGflops / peak:P0}");
        }
    }

    /// <summary>
    /// The machine's float32 FMA throughput as we can reach it now: every core runs independent
    /// chains of fused multiply-adds on the widest accelerated vectors (12 chains hide the FMA
    /// latency), with no memory traffic. Best of five 0.1 s runs; returns GFLOP/s (2 per lane per
    /// FMA) and the median run's milliseconds.
    /// </summary>
    public static (double Gflops, double Ms) FmaPeakGflops()
    {
        const long iterations = 2_000_000;
        int threads = Environment.ProcessorCount, lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        var times = new double[5];
        for (int run = 0; run < times.Length; run++)
        {
            var sw = Stopwatch.StartNew();
            var sink = new float[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                sink[t] = Vector512.IsHardwareAccelerated ? FmaChains512(iterations) : FmaChains256(iterations));
            times[run] = sw.Elapsed.TotalMilliseconds;
        }
        double flop = 2.0 * 12 * lanes * iterations * threads;
        var sorted = times.Order().ToArray();
        return (flop / (sorted[0] * 1e6), sorted[times.Length / 2]);
    }

    private static float FmaChains512(long iterations)
    {
        {
            Vector512<float> a = Vector512.Create(0.999f), b = Vector512.Create(1e-7f);
            Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b);
                c3 = Vector512.FusedMultiplyAdd(c3, a, b); c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
                c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b); c8 = Vector512.FusedMultiplyAdd(c8, a, b);
                c9 = Vector512.FusedMultiplyAdd(c9, a, b); c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
    }

    private static float FmaChains256(long iterations)
    {
        {
            Vector256<float> a = Vector256.Create(0.999f), b = Vector256.Create(1e-7f);
            Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
                c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
                c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
                c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            }
            return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
    }
}
