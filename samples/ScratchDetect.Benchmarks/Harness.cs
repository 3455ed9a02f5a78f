using System.Diagnostics;
using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>One row of a benchmark table: our median next to the reference's median.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="OursMs">Median wall time of our implementation, in milliseconds.</param>
/// <param name="ReferenceMs">Median wall time of the reference (PyTorch, djpeg, ...), or null when none ran.</param>
/// <param name="Reference">Name of the reference implementation.</param>
/// <param name="Extra">Free text such as a throughput ("12.3 MP/s").</param>
public sealed record BenchRow(string Name, double OursMs, double? ReferenceMs, string Reference, string Extra = "")
{
    /// <summary>Our time divided by the reference's: below 1 means we are faster.</summary>
    public double? Ratio => ReferenceMs is { } r && r > 0 ? OursMs / r : null;
}

/// <summary>Timing helpers: warm-up runs first, then the median of the measured runs.</summary>
public static class Harness
{
    /// <summary>
    /// Runs <paramref name="action"/> unmeasured at least <paramref name="warmup"/> times and for up
    /// to a second (50 runs at most), then returns the median of <paramref name="runs"/> timed runs in
    /// milliseconds. The time-based warm-up lets .NET's tiered JIT replace first-call code with its
    /// optimised tier: a method reaches it after 30 calls, and what users run is that code.
    /// </summary>
    public static double MedianMs(Action action, int warmup = 2, int runs = 7)
    {
        var warming = Stopwatch.StartNew();
        for (int done = 0; done < warmup || (done < 50 && warming.Elapsed < TimeSpan.FromSeconds(1)); done++) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }

    /// <summary>The folder holding ScratchDetect.sln, found above the benchmark binaries (the tools/ scripts and ../shared live next to it).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ScratchDetect.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("no ScratchDetect.sln above the benchmark binaries");
    }

    /// <summary>Runs an external command (for example djpeg or a PyTorch script) and returns its standard output; throws with its standard error on failure.</summary>
    public static string RunProcess(string fileName, string arguments) => RunProcess(new ProcessStartInfo(fileName, arguments));

    /// <summary>Runs <paramref name="psi"/> and returns its standard output; throws with its standard error on failure.</summary>
    public static string RunProcess(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        string fileName = psi.FileName, arguments = psi.Arguments;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {arguments} exited with {process.ExitCode}: {stderr}");
        return stdout;
    }

    /// <summary>
    /// /usr/bin/python3 on <paramref name="script"/>, for PyTorch's side of a row. Debian's OpenBLAS
    /// 0.3.21 runs its generic Prescott kernels on a CPU newer than its cpuid table (this machine's
    /// Xeon, family 6 model 207, is one): SGEMM 1024 at 33 GFLOP/s on 2 threads instead of 179. So
    /// where the CPU has AVX-512 and nobody chose a core type, OPENBLAS_CORETYPE=SkylakeX selects the
    /// newest AVX-512 kernels it has, and PyTorch's matrix products run at their real speed.
    /// </summary>
    public static ProcessStartInfo ReferencePython(string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", script);
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is null)
            psi.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        return psi;
    }

    /// <summary>
    /// Times PyTorch on the same work in the same run: /usr/bin/python3 runs <paramref name="setup"/>
    /// once, then each statement of <paramref name="statements"/> <paramref name="warmup"/> times
    /// unmeasured and <paramref name="runs"/> times measured, with torch limited to the same number of
    /// threads as we use. Returns one median per statement, in milliseconds.
    /// </summary>
    public static double[] TorchMedianMs(string setup, IReadOnlyList<string> statements, int warmup = 2, int runs = 7)
    {
        var script = new System.Text.StringBuilder();
        script.AppendLine("import time, statistics, torch, torch.nn.functional as F");
        script.AppendLine($"torch.set_num_threads({Environment.ProcessorCount})");
        script.AppendLine(setup);
        script.AppendLine("def median_ms(fn):");
        script.AppendLine($"    for _ in range({warmup}): fn()");
        script.AppendLine("    times = []");
        script.AppendLine($"    for _ in range({runs}):");
        script.AppendLine("        t = time.perf_counter(); fn(); times.append((time.perf_counter() - t) * 1000)");
        script.AppendLine("    return statistics.median(times)");
        foreach (var statement in statements)
            script.AppendLine($"print(median_ms(lambda: ({statement})))");
        string path = Path.Combine(Path.GetTempPath(), $"scratchdetect-bench-{Environment.ProcessId}.py");
        File.WriteAllText(path, script.ToString());
        try
        {
            return RunProcess(ReferencePython(path)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => double.Parse(line, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Times <paramref name="ours"/> and statement <paramref name="statement"/> of a running
    /// <see cref="TorchSession"/> in alternation, one run of each per round, and returns both medians
    /// in milliseconds. On a machine whose load changes from second to second, alternating gives
    /// both sides the same conditions, which timing one side after the other does not. Both warm
    /// up first (ours as in <see cref="MedianMs"/>).
    /// </summary>
    public static (double OursMs, double TorchMs) AlternatingMedianMs(Action ours, TorchSession torch, int statement, int warmup = 2, int runs = 7)
    {
        var (oursMs, torchMs) = AlternatingMediansMs([ours], torch, statement, warmup, runs);
        return (oursMs[0], torchMs);
    }

    /// <summary>
    /// The pause before each side's turn, so the other side's threads have stopped: OpenBLAS's
    /// worker threads keep spinning for about 2^28 cycles (0.1 s) after a product, and so, briefly,
    /// do OpenMP's and .NET's thread pools. Without it, our SGEMM 1024 right after PyTorch's ran at
    /// 107 GFLOP/s in the `gemm` suite against 165-174 in a process of its own. After the pause each
    /// side runs once untimed, then once timed, so neither pays for waking its parked threads (with
    /// the pause alone, our 256³ took 1.8 ms against 0.56).
    /// </summary>
    private const int SettleMs = 250;

    /// <summary>
    /// <see cref="AlternatingMedianMs"/> for several variants of ours (say, layer by layer and
    /// fused): each round runs every variant, then the PyTorch statement, each after a pause and an
    /// untimed run (<see cref="SettleMs"/>), so all see the same conditions. Returns one median per variant and PyTorch's.
    /// </summary>
    public static (double[] OursMs, double TorchMs) AlternatingMediansMs(IReadOnlyList<Action> ours, TorchSession torch, int statement, int warmup = 2, int runs = 7)
    {
        foreach (var variant in ours)
        {
            var warming = Stopwatch.StartNew();
            for (int done = 0; done < warmup || (done < 50 && warming.Elapsed < TimeSpan.FromSeconds(1)); done++) variant();
        }
        for (int i = 0; i < warmup; i++) torch.TimeMs(statement);
        var oursTimes = ours.Select(_ => new double[runs]).ToArray();
        var torchTimes = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            for (int v = 0; v < ours.Count; v++)
            {
                Thread.Sleep(SettleMs);
                ours[v](); // untimed: wakes our thread pool after the pause
                var sw = Stopwatch.StartNew();
                ours[v]();
                oursTimes[v][i] = sw.Elapsed.TotalMilliseconds;
            }
            Thread.Sleep(SettleMs);
            torch.TimeMs(statement); // untimed, likewise for PyTorch's threads
            torchTimes[i] = torch.TimeMs(statement);
        }
        foreach (var times in oursTimes) Array.Sort(times);
        Array.Sort(torchTimes);
        return (oursTimes.Select(times => times[runs / 2]).ToArray(), torchTimes[runs / 2]);
    }

    /// <summary>
    /// The SGD learning rate of the whole-model training-step rows (momentum 0.9 on both sides): small,
    /// so that the repeated steps of warm-up and timing leave the randomly initialised models, and
    /// so the work of each step, where they started.
    /// </summary>
    public const double TrainingStepLearningRate = 1e-5;

    /// <summary>"1 image" or "N images", for the whole-model rows' names.</summary>
    public static string Images(int count) => count == 1 ? "1 image" : $"{count} images";

    /// <summary>
    /// The target of every image in the whole-model training rows: two boxes, labels 1 and 2 (the
    /// PyTorch setups build the same dict).
    /// </summary>
    public static DetectionTarget TwoBoxTarget() =>
        new(Tensor.FromArray(new[] { 10f, 20, 200, 300, 150, 50, 400, 250 }, 2, 4), Tensor.FromArray(new long[] { 1, 2 }, 2));

    /// <summary>
    /// Puts <paramref name="trainer"/> in training mode and returns one SGD training step of it
    /// (momentum 0.9 at <see cref="TrainingStepLearningRate"/>, as PyTorch's side): gradients cleared,
    /// forward, backward of the summed losses, optimizer step, for the given images, each with
    /// <see cref="TwoBoxTarget"/>.
    /// </summary>
    public static Action<Tensor[]> SgdTrainingStep(Detector trainer)
    {
        trainer.Train();
        var sgd = new SGD(trainer.Parameters(), TrainingStepLearningRate, momentum: 0.9);
        var target = TwoBoxTarget();
        return images =>
        {
            sgd.ZeroGrad();
            var losses = trainer.Losses(images, Enumerable.Repeat(target, images.Length).ToArray(), new Generator(1));
            losses.Values.Aggregate((a, b) => a + b).Backward();
            sgd.Step();
        };
    }

    /// <summary>
    /// A whole-model row: <see cref="AlternatingMedianMs"/>, with the peak resident memory of each
    /// process while the row ran (warm-up included) in the notes. Both peaks count everything the
    /// process holds, its models and (ours) the buffer pool included, as a user would see it.
    /// </summary>
    public static BenchRow WholeModelRow(string name, Action ours, TorchSession torch, int statement, int warmup, int runs)
    {
        PeakMemory.Reset();
        torch.ResetPeakMemory();
        var (oursMs, torchMs) = AlternatingMedianMs(ours, torch, statement, warmup, runs);
        long oursPeak = PeakMemory.Bytes(), torchPeak = torch.PeakMemoryBytes();
        return new BenchRow(name, oursMs, torchMs, "torchvision 0.14 CPU",
            $"peak RSS {oursPeak / 1e9:F2} GB, torch {torchPeak / 1e9:F2} GB ({(double)oursPeak / torchPeak:F2}x)");
    }

    /// <summary>Prints rows as a Markdown table, ready to paste into the README.</summary>
    public static void Print(IEnumerable<BenchRow> rows)
    {
        Console.WriteLine("| benchmark | ours (ms) | reference | reference (ms) | ours / reference | notes |");
        Console.WriteLine("|---|---:|---|---:|---:|---|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Name} | {r.OursMs:F2} | {r.Reference} | {(r.ReferenceMs is { } m ? m.ToString("F2") : "-")} | {(r.Ratio is { } q ? q.ToString("F2") + "x" : "-")} | {r.Extra} |");
    }
}

/// <summary>
/// The peak resident memory of this process (Linux's VmHWM), which <see cref="Reset"/> brings back
/// to the current resident size (writing 5 to /proc/self/clear_refs), so one benchmark row's peak
/// can be read on its own.
/// </summary>
public static class PeakMemory
{
    /// <summary>Python code defining peak_reset() and peak_bytes(), the same two operations for a PyTorch process.</summary>
    public const string PythonHelpers = """
        def peak_reset():
            import gc; gc.collect()
            with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        def peak_bytes():
            with open('/proc/self/status') as f:
                return next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmHWM:'))
        """;

    /// <summary>
    /// Starts a new peak at the current resident size, after a full compacting collection, so that
    /// what earlier rows left to the GC is not counted in this one's (PyTorch's side runs gc.collect()
    /// first; its freed tensors went back to the allocator as they died).
    /// </summary>
    public static void Reset()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    /// <summary>The largest resident size since the last <see cref="Reset"/> (or the process start), in bytes.</summary>
    public static long Bytes()
    {
        // "VmHWM:\t 812345 kB": a tab, then spaces that shrink as the number grows (none from 10 GB on).
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}

/// <summary>
/// A PyTorch process (/usr/bin/python3, torch limited to our thread count) that keeps its setup
/// and times one statement per request, so runs can alternate with ours (see
/// <see cref="Harness.AlternatingMedianMs"/>).
/// </summary>
public sealed class TorchSession : IDisposable
{
    private readonly Process process;
    private readonly string scriptPath;

    /// <summary>Starts python, runs <paramref name="setup"/> and makes each of <paramref name="statements"/> callable by its index.</summary>
    public TorchSession(string setup, IReadOnlyList<string> statements)
    {
        var script = new System.Text.StringBuilder();
        script.AppendLine("import sys, time, torch, torch.nn.functional as F");
        script.AppendLine($"torch.set_num_threads({Environment.ProcessorCount})");
        script.AppendLine(setup);
        script.AppendLine(PeakMemory.PythonHelpers);
        script.AppendLine("statements = [" + string.Join(", ", statements.Select(s => $"lambda: ({s})")) + "]");
        script.AppendLine("print('ready', flush=True)");
        script.AppendLine("for line in sys.stdin:");
        script.AppendLine("    if line.strip() == 'peak_reset': peak_reset(); print(0, flush=True); continue");
        script.AppendLine("    if line.strip() == 'peak_bytes': print(peak_bytes(), flush=True); continue");
        script.AppendLine("    i = int(line)");
        script.AppendLine("    t = time.perf_counter(); statements[i](); print((time.perf_counter() - t) * 1000, flush=True)");
        scriptPath = Path.Combine(Path.GetTempPath(), $"scratchdetect-torch-session-{Environment.ProcessId}-{Guid.NewGuid():N}.py");
        File.WriteAllText(scriptPath, script.ToString());
        var psi = Harness.ReferencePython(scriptPath);
        psi.RedirectStandardInput = psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        process = Process.Start(psi) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        if (process.StandardOutput.ReadLine() != "ready")
            throw new InvalidOperationException($"the PyTorch session failed to start: {process.StandardError.ReadToEnd()}");
    }

    /// <summary>Runs statement <paramref name="statement"/> once and returns its wall time in milliseconds.</summary>
    public double TimeMs(int statement) => Request(statement.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Starts a new peak of the PyTorch process's resident memory (see <see cref="PeakMemory"/>).</summary>
    public void ResetPeakMemory() => Request("peak_reset");

    /// <summary>The PyTorch process's peak resident memory since <see cref="ResetPeakMemory"/>, in bytes.</summary>
    public long PeakMemoryBytes() => (long)Request("peak_bytes");

    private double Request(string command)
    {
        process.StandardInput.WriteLine(command);
        process.StandardInput.Flush();
        string? line = process.StandardOutput.ReadLine();
        return line is null
            ? throw new InvalidOperationException($"the PyTorch session stopped: {process.StandardError.ReadToEnd()}")
            : double.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Ends the python process and removes its script.</summary>
    public void Dispose()
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(10_000)) process.Kill();
        process.Dispose();
        File.Delete(scriptPath);
    }
}
