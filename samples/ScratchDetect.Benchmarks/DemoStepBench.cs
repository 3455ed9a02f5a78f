using ScratchDetect.Engine;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;
using ScratchDetect.Models;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// "demo-step": one training iteration of the demo's model (ssd_tiny, <see cref="SsdConfig.Tiny"/>, 96 px,
/// batch 16, AdamW) on 16 random images of 96..128 px with one or two boxes each, phase by phase,
/// against tools/demo/torch_small_ssd.py (its layer-for-layer PyTorch copy through torchvision's SSD
/// class) on the same images and boxes, one run of each side in turn. The phases: the forward pass
/// (resize, backbone, heads), the forward pass and the loss (matching, hard-negative mining), those
/// and the backward pass, the AdamW step alone, and the whole iteration (zeroed gradients, forward,
/// loss, backward, step), whose images/s is what the demo's training runs at less the loader
/// (the loader's rows: <see cref="LoaderBench"/>).
/// </summary>
public static class DemoStepBench
{
    private const int Warmup = 3, Runs = 9, BatchSize = 16, Classes = 7;

    public static IEnumerable<BenchRow> Run()
    {
        // The images and boxes, made here and handed to PyTorch as literals so both sides see the same batch.
        var random = new Random(0);
        var sizes = Enumerable.Range(0, BatchSize).Select(_ => (H: random.Next(96, 129), W: random.Next(96, 129))).ToArray();
        var boxes = sizes.Select(s => Enumerable.Range(0, 1 + random.Next(2)).Select(_ =>
        {
            float w = (float)(s.W * (0.3 + 0.5 * random.NextDouble())), h = (float)(s.H * (0.3 + 0.5 * random.NextDouble()));
            float x = (float)((s.W - w) * random.NextDouble()), y = (float)((s.H - h) * random.NextDouble());
            return (Box: new[] { x, y, x + w, y + h }, Label: 1 + random.Next(Classes - 1));
        }).ToArray()).ToArray();
        var g = new Generator(0);
        var images = sizes.Select(s => Tensor.Uniform([3, s.H, s.W], 0, 1, g)).ToArray();
        var targets = boxes.Select(b => new DetectionTarget(
            Tensor.FromArray(b.SelectMany(o => o.Box).ToArray(), b.Length, 4), Tensor.FromArray(b.Select(o => (long)o.Label).ToArray(), b.Length))).ToArray();

        string Floats(IEnumerable<float> values) => string.Join(", ", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        string setup = $$"""
            import sys
            sys.path.insert(0, {{System.Text.Json.JsonSerializer.Serialize(Path.Combine(Harness.RepoRoot(), "tools", "demo"))}})
            from torch_small_ssd import Backbone, SSD, DefaultBoxGenerator
            torch.manual_seed(0)
            sizes = [{{string.Join(", ", sizes.Select(s => $"({s.H}, {s.W})"))}}]
            images = [torch.rand(3, h, w) for h, w in sizes]
            targets = [{{string.Join(", ", boxes.Select(b => $"{{\"boxes\": torch.tensor([{Floats(b.SelectMany(o => o.Box))}]).reshape(-1, 4), \"labels\": torch.tensor([{string.Join(", ", b.Select(o => o.Label))}])}}"))}}]
            backbone = Backbone("16 M 32 M 64 64 C 128 128 M 128", 128, 1, [(32, 64), (32, 64)], True, True)
            model = SSD(backbone, DefaultBoxGenerator([[2], [2, 3], [2, 3], [2]], scales=[0.2, 0.35, 0.55, 0.75, 0.95], steps=None, clip=True),
                        (96, 96), {{Classes}}, image_mean=[0.48235, 0.45882, 0.40784], image_std=[1 / 255.0] * 3).train()
            opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=0.003, weight_decay=0.01)
            def forward():
                batch, _ = model.transform(images, None)
                features = list(model.backbone(batch.tensors).values())
                return model.head(features)
            def losses():
                l = model(images, targets)
                return l["bbox_regression"] + l["classification"]
            def backward():
                opt.zero_grad(); losses().backward()
            def step():
                opt.zero_grad(); losses().backward(); opt.step()
            step()
            """;
        using var torch = new TorchSession(setup, ["forward()", "losses()", "backward()", "opt.step()", "step()"]);

        var model = new Ssd(SsdConfig.Tiny(Classes), seed: 0);
        model.Train();
        var optimizer = new AdamW(model.Parameters().Where(p => p.RequiresGrad), learningRate: 0.003, weightDecay: 0.01);
        Tensor Losses() => model.Losses(images, targets, g).Values.Aggregate((a, b) => a + b);
        void Backward()
        {
            optimizer.ZeroGrad();
            Losses().Backward();
        }
        Backward();
        optimizer.Step();
        var phases = new (string Name, Action Ours)[]
        {
            ("forward (resize, backbone, heads)", () => { var (batch, _) = model.Transform.Apply(images, null); model.Forward(batch.Tensors); }),
            ("forward + loss (matching, mining)", () => Losses()),
            ("forward + loss + backward", Backward),
            ("AdamW step alone", optimizer.Step),
            ("whole iteration", () => { Backward(); optimizer.Step(); }),
        };
        for (int i = 0; i < phases.Length; i++)
        {
            var (ours, reference) = Harness.AlternatingMedianMs(phases[i].Ours, torch, i, Warmup, Runs);
            string throughput = i == phases.Length - 1 ? $"{BatchSize / (ours / 1000):F0} images/s, torch {BatchSize / (reference / 1000):F0}" : "";
            yield return new BenchRow($"ssd_tiny (demo) {phases[i].Name}, batch {BatchSize} at 96 px", ours, reference, "PyTorch 1.13 CPU", throughput);
        }
    }
}
