using ScratchDetect.Benchmarks;

// Benchmark programs. `dotnet run -c Release --project samples/ScratchDetect.Benchmarks -- [suite...]`
// runs the named suites (all when none is named) and prints one Markdown table.
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

var chosen = args.Length == 0 ? suites.Keys.ToArray() : args;
var rows = new List<BenchRow>();
foreach (var name in chosen)
{
    if (!suites.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"unknown suite '{name}'; known: {string.Join(", ", suites.Keys)}");
        return 2;
    }
    rows.AddRange(run());
}
Harness.Print(rows);
return 0;
