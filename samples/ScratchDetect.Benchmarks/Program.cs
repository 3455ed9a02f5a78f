using System.Diagnostics;
using System.Text.Json;
using ScratchDetect.Benchmarks;

// Benchmark programs. `dotnet run -c Release --project samples/ScratchDetect.Benchmarks -- [suite...]`
// runs the named suites (all when none is named; each in a process of its own when there are several)
// and prints one Markdown table.
// Each suite is a static class with a Run() returning rows; register it in Suites below.
var suites = new Dictionary<string, Func<IEnumerable<BenchRow>>>(StringComparer.OrdinalIgnoreCase)
{
    ["conv"] = ConvBench.RunAll,
    ["conv-resnet50"] = ConvBench.RunResNet50,
    ["conv-vgg16"] = ConvBench.RunVgg16,
    ["conv-resnet50-forward"] = ConvBench.RunResNet50Forward,
    ["conv-vgg16-forward"] = ConvBench.RunVgg16Forward,
    ["demo-step"] = DemoStepBench.Run,
    ["detector"] = DetectorBench.Run,
    ["epilogue"] = EpilogueBench.Run,
    ["gemm"] = GemmBench.Run,
    ["jpeg"] = JpegDecodeBench.Run,
    ["loader"] = LoaderBench.Run,
    ["norm"] = NormBench.Run,
    ["ssd"] = SsdBench.Run,
    ["roi"] = RoiBench.Run,
    ["interpolate"] = InterpolateBench.Run,
};

// `--rows-json FILE SUITE` is how the program calls itself for one suite (see RunSuiteInOwnProcess).
if (args is ["--rows-json", var rowsFile, var onlySuite])
{
    if (!suites.TryGetValue(onlySuite, out var runOne)) return 2;
    File.WriteAllText(rowsFile, JsonSerializer.Serialize(runOne().ToList()));
    return 0;
}

var chosen = args.Length == 0 ? suites.Keys.ToArray() : args;
if (chosen.FirstOrDefault(name => !suites.ContainsKey(name)) is { } unknown)
{
    Console.Error.WriteLine($"unknown suite '{unknown}'; known: {string.Join(", ", suites.Keys)}");
    return 2;
}
var rows = new List<BenchRow>();
foreach (var name in chosen)
{
    if (chosen.Length == 1) rows.AddRange(suites[name]());
    else if (RunSuiteInOwnProcess(name) is { } suiteRows) rows.AddRange(suiteRows);
    else return 1;
}
Harness.Print(rows);
return 0;

// With several suites, each runs in a process of its own, as each suite's PyTorch side does, so a
// row's peak memory does not hold what an earlier suite left in this process (the buffer pool's
// arrays, the heap the GC keeps committed): the SSD300 rows after the Faster R-CNN ones read 1.17 GB
// for detect at batch 1, against 0.59 GB in a fresh process. Null if the child failed.
static List<BenchRow>? RunSuiteInOwnProcess(string suite)
{
    string rowsFile = Path.GetTempFileName();
    try
    {
        // Run as `dotnet ScratchDetect.Benchmarks.dll` or as the apphost.
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(BenchRow).Assembly.Location);
        foreach (var arg in new[] { "--rows-json", rowsFile, suite }) start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            Console.Error.WriteLine($"suite '{suite}' failed (exit {child.ExitCode})");
            return null;
        }
        return JsonSerializer.Deserialize<List<BenchRow>>(File.ReadAllText(rowsFile))!;
    }
    finally
    {
        File.Delete(rowsFile);
    }
}
