using ScratchDetect.Engine;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Backends.Cpu;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// Every distinct convolution of ResNet50 (torchvision's, at 224x224, batch 2) and of SSD300's
/// VGG16 (at 300x300, batch 1, with the dilated conv6 and conv7), each pass on its own: forward,
/// backward data (input gradient) and backward filter (weight gradient), against PyTorch 1.13 on the
/// CPU in the same run (torch.set_num_threads to our core count; F.conv2d, and for the backward
/// passes torch.nn.grad.conv2d_input / conv2d_weight, which call the same backward kernels autograd
/// does), one run of each side in turn (Harness.AlternatingMedianMs). GFLOP/s count the direct algorithm's 2·N·O·C·kh·kw·OutH·OutW multiply-adds, so a fast
/// algorithm (Winograd) can exceed the FMA peak.
/// </summary>
public static class ConvBench
{
    /// <summary>One convolution: square input Size x Size, square kernel.</summary>
    private sealed record Shape(string Net, string Where, int Batch, int InChannels, int Size, int OutChannels, int Kernel, int Stride, int Padding, int Dilation = 1)
    {
        public Conv2dGeometry Geometry => new(Batch, InChannels, Size, Size, OutChannels, new Size2d(Kernel, Kernel),
            new Size2d(Stride, Stride), new Size2d(Padding, Padding), new Size2d(Dilation, Dilation), 1);

        public string Name => $"{Net} {Where}: {Kernel}x{Kernel}{(Stride > 1 ? $"/{Stride}" : "")}{(Dilation > 1 ? $" dilation {Dilation}" : "")} {InChannels}->{OutChannels} @{Size}x{Size}, batch {Batch}";

        public double Gflop => 2.0 * Batch * OutChannels * InChannels * Kernel * Kernel * Geometry.OutH * Geometry.OutW / 1e9;
    }

    private static Shape R(string where, int c, int size, int o, int k, int stride = 1, int pad = 0) => new("ResNet50", where, 2, c, size, o, k, stride, pad);

    private static Shape V(string where, int c, int size, int o, int k = 3, int pad = 1, int dilation = 1) => new("SSD300-VGG16", where, 1, c, size, o, k, 1, pad, dilation);

    /// <summary>The distinct shapes, in network order (a shape used by several layers appears once).</summary>
    private static readonly Shape[] ResNet50 =
    [
        R("stem", 3, 224, 64, 7, 2, 3),
        R("layer1 conv1 (first block)", 64, 56, 64, 1),
        R("layer1 conv2", 64, 56, 64, 3, 1, 1),
        R("layer1 conv3 / downsample", 64, 56, 256, 1),
        R("layer1 conv1", 256, 56, 64, 1),
        R("layer2 conv1 (first block)", 256, 56, 128, 1),
        R("layer2 conv2 (first block)", 128, 56, 128, 3, 2, 1),
        R("layer2 conv3", 128, 28, 512, 1),
        R("layer2 downsample", 256, 56, 512, 1, 2),
        R("layer2 conv1", 512, 28, 128, 1),
        R("layer2 conv2", 128, 28, 128, 3, 1, 1),
        R("layer3 conv1 (first block)", 512, 28, 256, 1),
        R("layer3 conv2 (first block)", 256, 28, 256, 3, 2, 1),
        R("layer3 conv3", 256, 14, 1024, 1),
        R("layer3 downsample", 512, 28, 1024, 1, 2),
        R("layer3 conv1", 1024, 14, 256, 1),
        R("layer3 conv2", 256, 14, 256, 3, 1, 1),
        R("layer4 conv1 (first block)", 1024, 14, 512, 1),
        R("layer4 conv2 (first block)", 512, 14, 512, 3, 2, 1),
        R("layer4 conv3", 512, 7, 2048, 1),
        R("layer4 downsample", 1024, 14, 2048, 1, 2),
        R("layer4 conv1", 2048, 7, 512, 1),
        R("layer4 conv2", 512, 7, 512, 3, 1, 1),
    ];

    /// <summary>VGG16's convolutions at SSD300's sizes (ceil-mode pooling gives 38 after 75), then conv6 and conv7.</summary>
    private static readonly Shape[] Vgg16 =
    [
        V("conv1_1", 3, 300, 64),
        V("conv1_2", 64, 300, 64),
        V("conv2_1", 64, 150, 128),
        V("conv2_2", 128, 150, 128),
        V("conv3_1", 128, 75, 256),
        V("conv3_2/3", 256, 75, 256),
        V("conv4_1", 256, 38, 512),
        V("conv4_2/3", 512, 38, 512),
        V("conv5_x", 512, 19, 512),
        V("conv6", 512, 19, 1024, 3, 6, 6),
        V("conv7", 1024, 19, 1024, 1, 0),
    ];

    private const int Warmup = 2, Runs = 7;

    /// <summary>ResNet50's shapes.</summary>
    public static IEnumerable<BenchRow> RunResNet50() => Run(ResNet50);

    /// <summary>SSD300-VGG16's shapes.</summary>
    public static IEnumerable<BenchRow> RunVgg16() => Run(Vgg16);

    /// <summary>ResNet50's shapes, forward pass only.</summary>
    public static IEnumerable<BenchRow> RunResNet50Forward() => Run(ResNet50, forwardOnly: true);

    /// <summary>SSD300-VGG16's shapes, forward pass only.</summary>
    public static IEnumerable<BenchRow> RunVgg16Forward() => Run(Vgg16, forwardOnly: true);

    /// <summary>Both networks.</summary>
    public static IEnumerable<BenchRow> RunAll() => Run([.. ResNet50, .. Vgg16]);

    private static IEnumerable<BenchRow> Run(Shape[] shapes, bool forwardOnly = false)
    {
        var (setup, statements) = PyTorchStatements(shapes);
        using var torch = new TorchSession(setup, statements);
        var backend = CpuBackend.Instance;
        for (int i = 0; i < shapes.Length; i++)
        {
            var shape = shapes[i];
            var geometry = shape.Geometry;
            var g = new Generator((ulong)i);
            var x = backend.FromArray(Tensor.Normal([geometry.Batch * geometry.InChannels * shape.Size * shape.Size], 0, 1, g).ToArray<float>());
            var w = backend.FromArray(Tensor.Normal([geometry.OutChannels * geometry.InChannels * shape.Kernel * shape.Kernel], 0, 0.05, g).ToArray<float>());
            var dy = backend.FromArray(Tensor.Normal([geometry.Batch * geometry.OutChannels * geometry.OutH * geometry.OutW], 0, 1, g).ToArray<float>());
            var passes = new Action[]
            {
                () => backend.Conv2d(x, w, null, geometry),
                () => backend.Conv2dBackwardData(dy, w, geometry),
                () => backend.Conv2dBackwardFilter(dy, x, geometry),
            };
            for (int pass = 0; pass < (forwardOnly ? 1 : Passes.Length); pass++)
            {
                var (ours, reference) = Harness.AlternatingMedianMs(passes[pass], torch, i * Passes.Length + pass, Warmup, Runs);
                yield return new($"conv {shape.Name}, {Passes[pass]}", ours, reference, "PyTorch 1.13 CPU",
                    $"{shape.Gflop / ours * 1e3:F1} GFLOP/s; torch {shape.Gflop / reference * 1e3:F1}");
            }
        }
    }

    private static readonly string[] Passes = ["forward", "backward data", "backward filter"];

    /// <summary>PyTorch's setup and statements, three per shape in the order of <see cref="Passes"/>.</summary>
    private static (string Setup, List<string> Statements) PyTorchStatements(Shape[] shapes)
    {
        var setup = new System.Text.StringBuilder("from torch.nn.grad import conv2d_input, conv2d_weight\n");
        var statements = new List<string>();
        for (int i = 0; i < shapes.Length; i++)
        {
            var s = shapes[i];
            var geometry = s.Geometry;
            setup.AppendLine($"x{i} = torch.randn({s.Batch}, {s.InChannels}, {s.Size}, {s.Size}); w{i} = torch.randn({s.OutChannels}, {s.InChannels}, {s.Kernel}, {s.Kernel}) * 0.05");
            setup.AppendLine($"dy{i} = torch.randn({s.Batch}, {s.OutChannels}, {geometry.OutH}, {geometry.OutW})");
            string args = $"stride={s.Stride}, padding={s.Padding}, dilation={s.Dilation}";
            statements.AddRange([
                $"F.conv2d(x{i}, w{i}, {args})",
                $"conv2d_input(x{i}.shape, w{i}, dy{i}, {args})",
                $"conv2d_weight(x{i}, w{i}.shape, dy{i}, {args})"]);
        }
        return (setup.ToString(), statements);
    }
}
