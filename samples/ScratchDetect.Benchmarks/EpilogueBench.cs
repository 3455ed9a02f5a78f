using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Fused convolution epilogues at inference (under NoGrad): a convolution followed by a
/// FrozenBatchNorm2d and a ReLU (ResNet50's blocks at 224x224, batch 2), or by a bias and a ReLU
/// (SSD300-VGG16), run layer by layer and as one <see cref="Conv2d.Forward(Tensor, Layer?, bool, Tensor?)"/>
/// (norm folded into the weights, bias and ReLU in the convolution's output pass), each next to
/// PyTorch's conv → frozen batch norm (torchvision's x·scale + shift) → relu in the same run, one
/// run of each of the three in turn (Harness.AlternatingMediansMs).
/// </summary>
public static class EpilogueBench
{
    private sealed record Layers(string Name, int Batch, int InChannels, int Size, int OutChannels, int Kernel, bool Norm, bool Relu)
    {
        public int Padding => Kernel / 2;
    }

    private static readonly Layers[] Shapes =
    [
        new("ResNet50 layer1 conv2 + bn2 + relu: 3x3 64->64 @56x56, batch 2", 2, 64, 56, 64, 3, true, true),
        new("ResNet50 layer1 conv3 + bn3: 1x1 64->256 @56x56, batch 2", 2, 64, 56, 256, 1, true, false),
        new("ResNet50 layer3 conv1 + bn1 + relu: 1x1 1024->256 @14x14, batch 2", 2, 1024, 14, 256, 1, true, true),
        new("ResNet50 layer3 conv2 + bn2 + relu: 3x3 256->256 @14x14, batch 2", 2, 256, 14, 256, 3, true, true),
        new("SSD300-VGG16 conv3_2 + bias + relu: 3x3 256->256 @75x75, batch 1", 1, 256, 75, 256, 3, false, true),
    ];

    private const int Warmup = 2, Runs = 15;

    public static IEnumerable<BenchRow> Run()
    {
        var setup = new System.Text.StringBuilder("torch.set_grad_enabled(False)\n");
        var statements = new List<string>();
        for (int i = 0; i < Shapes.Length; i++)
        {
            var s = Shapes[i];
            setup.AppendLine($"x{i} = torch.randn({s.Batch}, {s.InChannels}, {s.Size}, {s.Size}); w{i} = torch.randn({s.OutChannels}, {s.InChannels}, {s.Kernel}, {s.Kernel}) * 0.05");
            setup.AppendLine($"b{i} = torch.randn({s.OutChannels}) if {(s.Norm ? "False" : "True")} else None");
            setup.AppendLine($"scale{i} = torch.rand(1, {s.OutChannels}, 1, 1) + 0.5; shift{i} = torch.randn(1, {s.OutChannels}, 1, 1)");
            string conv = $"F.conv2d(x{i}, w{i}, b{i}, padding={s.Padding})";
            string normed = s.Norm ? $"{conv} * scale{i} + shift{i}" : conv;
            statements.Add(s.Relu ? $"torch.relu({normed})" : normed);
        }
        using var torch = new TorchSession(setup.ToString(), statements);
        for (int i = 0; i < Shapes.Length; i++)
        {
            var s = Shapes[i];
            var g = new Generator((ulong)i);
            var conv = new Conv2d(s.InChannels, s.OutChannels, s.Kernel, g, padding: s.Padding, bias: !s.Norm);
            FrozenBatchNorm2d? norm = null;
            if (s.Norm)
            {
                norm = new FrozenBatchNorm2d(s.OutChannels);
                using var _ = GradMode.NoGrad();
                norm.Weight.CopyFrom(Tensor.Uniform([s.OutChannels], 0.5, 1.5, g));
                norm.Bias.CopyFrom(Tensor.Normal([s.OutChannels], 0, 1, g));
            }
            var x = Tensor.Normal([s.Batch, s.InChannels, s.Size, s.Size], 0, 1, g);
            void LayerByLayer()
            {
                using var _ = GradMode.NoGrad();
                var y = conv.Forward(x);
                if (norm is not null) y = y.Then(norm.Forward);
                if (s.Relu) y = y.Then(t => t.Relu());
                y.Dispose();
            }
            void Fused()
            {
                using var _ = GradMode.NoGrad();
                conv.Forward(x, norm, s.Relu).Dispose();
            }
            var (ours, reference) = Harness.AlternatingMediansMs([LayerByLayer, Fused], torch, i, Warmup, Runs);
            yield return new BenchRow($"{s.Name}, layer by layer", ours[0], reference, "PyTorch 1.13 CPU");
            yield return new BenchRow($"{s.Name}, fused", ours[1], reference, "PyTorch 1.13 CPU", $"fused / layer by layer {ours[1] / ours[0]:F2}");
        }
    }
}
