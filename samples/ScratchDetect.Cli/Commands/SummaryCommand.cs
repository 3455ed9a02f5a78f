using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ScratchDetect.Cli.Support;
using ScratchDetect.Cli.Training;
using ScratchDetect.Engine;
using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect summary --model M [--input 3x600x800] [--depth 3]`, for learners (torchinfo's
/// summary for a detector): the module tree with parameter counts, then one forward pass of a
/// random image in evaluation mode, stage by stage (transform, backbone body, FPN, RPN, RoI heads,
/// postprocess) with each stage's output shapes, a FLOP estimate and its time.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Detector to summarise: {string.Join(", ", TrainableModels.Names)}", Required = true };
        var input = new Option<string>("--input") { Description = "Image size as 3xHxW, in pixels, before the model's own resizing", DefaultValueFactory = _ => "3x600x800" };
        var depth = new Option<int>("--depth") { Description = "Levels of the module tree to show", DefaultValueFactory = _ => 3 };
        var numClasses = new Option<int>("--num-classes") { Description = "Classes including the background", DefaultValueFactory = _ => 91 };
        var minSize = new Option<int?>("--min-size") { Description = "Shorter image side after resizing, in pixels (default: the model's)" };
        var maxSize = new Option<int?>("--max-size") { Description = "Upper bound on the longer image side after resizing, in pixels (default: the model's)" };
        var command = new Command("summary", "Show a detector's module tree, parameter counts, and each stage's output shapes, FLOPs and time for one image.");
        foreach (var option in new Option[] { model, input, depth, numClasses, minSize, maxSize }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            string name = parseResult.GetValue(model)!;
            if (TrainableModels.Find(name) is not { } entry)
                throw new UserErrorException($"unknown model '{name}' (known: {string.Join(", ", TrainableModels.Names)})");
            var shape = Regex.Match(parseResult.GetValue(input)!, @"^3x(\d+)x(\d+)$");
            if (!shape.Success || int.Parse(shape.Groups[1].Value) < 1 || int.Parse(shape.Groups[2].Value) < 1)
                throw new UserErrorException($"--input '{parseResult.GetValue(input)}' is not 3xHxW, such as 3x600x800");
            if (parseResult.GetValue(numClasses) < 2) throw new UserErrorException($"--num-classes {parseResult.GetValue(numClasses)} must count the background and at least one class");
            var detector = entry.Build(new ModelBuild(parseResult.GetValue(numClasses), parseResult.GetValue(minSize) ?? entry.Recipe.MinSize,
                parseResult.GetValue(maxSize) ?? entry.Recipe.MaxSize, false, 0));
            Console.WriteLine($"{name}: {detector.GetType().Name}");
            Console.WriteLine();
            Console.WriteLine(ModuleTree(detector, parseResult.GetValue(depth)));
            Console.WriteLine();
            var image = Tensor.Uniform([3, int.Parse(shape.Groups[1].Value), int.Parse(shape.Groups[2].Value)], 0, 1, new Generator(0));
            Console.WriteLine(detector switch
            {
                FasterRcnn frcnn => Stages(frcnn, image),
                Ssd ssd => Stages(ssd, image),
                _ => $"(a stage-by-stage pass is not written for {detector.GetType().Name} yet)",
            });
            return 0;
        });
        return command;
    }

    /// <summary>Each module down to <paramref name="depth"/> levels: its type, parameters (all and trainable, its subtree included).</summary>
    public static string ModuleTree(Module model, int depth)
    {
        var rows = new List<(string Name, string Type, long Parameters, long Trainable)>();
        void Walk(string name, Module module, int level)
        {
            var parameters = module.Parameters().ToArray();
            rows.Add(((level == 0 ? "(model)" : new string(' ', 2 * (level - 1)) + name), module.GetType().Name,
                parameters.Sum(p => p.Numel), parameters.Where(p => p.RequiresGrad).Sum(p => p.Numel)));
            if (level < depth)
                foreach (var (child, sub) in module.NamedChildren()) Walk(child, sub, level + 1);
        }
        Walk("", model, 0);
        int width = Math.Max(10, rows.Max(r => r.Name.Length));
        int typeWidth = Math.Max(6, rows.Max(r => r.Type.Length));
        var lines = new List<string> { $"{"module".PadRight(width)}  {"type".PadRight(typeWidth)}  {"parameters",12}  {"trainable",12}" };
        lines.Add(new string('-', lines[0].Length));
        lines.AddRange(rows.Select(r => $"{r.Name.PadRight(width)}  {r.Type.PadRight(typeWidth)}  {r.Parameters,12:N0}  {r.Trainable,12:N0}"));
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>
    /// One forward pass of Faster R-CNN split at torchvision's stages. FLOPs count the convolutions and
    /// linear layers (2 per multiply-add; normalisation, pooling, RoIAlign and NMS are left out): a
    /// convolution's multiply-adds are its weight count times its output positions, and every
    /// convolution of a ResNet stage or an FPN level outputs at that stage's or level's resolution.
    /// One warm-up pass runs first, so the times leave out the JIT's first compilation.
    /// </summary>
    private static string Stages(FasterRcnn model, Tensor image)
    {
        using var noGrad = GradMode.NoGrad();
        var rows = new StageRows(model, image);

        var (batch, _) = model.Transform.Apply([image], null, training: false);
        rows.Add("transform (resize, normalise, batch)", Shape(batch.Tensors), 0);

        var body = model.Backbone.Body;
        var stages = body.Forward(batch.Tensors);
        double stem = Weights(body, "conv1") * Positions(stages[0]) * 4; // conv1 outputs at twice layer1's resolution (before the max pool)
        double bodyFlops = stem + Enumerable.Range(0, 4).Sum(s => Weights(body, $"layer{s + 1}") * Positions(stages[s]));
        rows.Add("backbone.body (ResNet layer1..4)", string.Join(" ", stages.Select(Shape)), 2 * bodyFlops);

        var features = model.Backbone.Fpn.Forward(stages);
        double fpnFlops = Enumerable.Range(0, 4).Sum(l => (Weights(model.Backbone.Fpn, $"inner_blocks.{l}") + Weights(model.Backbone.Fpn, $"layer_blocks.{l}")) * Positions(features[l]));
        rows.Add("backbone.fpn (levels 0..3, pool)", string.Join(" ", features.Select(Shape)), 2 * fpnFlops);

        var (proposals, _) = model.Rpn.Forward(batch, features, null, null);
        double rpnFlops = Weights(model.Rpn, "head") * features.Sum(Positions);
        rows.Add("rpn (head, anchors, top-n, NMS)", $"{proposals[0].Size(0)} proposals", 2 * rpnFlops);

        var detections = model.RoiHeads.Detect(features[..^1], proposals, batch.ImageSizes);
        double roiFlops = (double)proposals.Sum(p => p.Size(0)) * (Weights(model.RoiHeads, "box_head") + Weights(model.RoiHeads, "box_predictor"));
        rows.Add("roi_heads (RoIAlign 7x7, box head, predictor, NMS)", $"{detections[0].Boxes.Size(0)} detections", 2 * roiFlops);

        GeneralizedRcnnTransform.ResizeBoxes(detections[0].Boxes, batch.ImageSizes[0], (image.Size(1), image.Size(2)));
        rows.Add("postprocess (boxes to the input's pixels)", Shape(detections[0].Boxes), 0);
        return Table(image, rows.Rows);
    }

    /// <summary>
    /// One forward pass of SSD split at its stages: transform, the VGG base (features, L2Norm, conv5,
    /// pool5, conv6, conv7), the extra blocks, the two heads, and the postprocess. FLOPs count the
    /// convolutions as in the Faster R-CNN pass: a convolution's weight count times its output
    /// positions, with each layer's output resolution taken from the map it runs at (base layers at
    /// the resolution after the pools before them).
    /// </summary>
    private static string Stages(Ssd model, Tensor image)
    {
        using var noGrad = GradMode.NoGrad();
        var rows = new StageRows(model, image);

        var (batch, _) = model.Transform.Apply([image], null);
        rows.Add($"transform (resize to {model.Config.ImageSize}x{model.Config.ImageSize}, normalise)", Shape(batch.Tensors), 0);

        var vgg = model.Backbone.ForwardVgg(batch.Tensors);
        rows.Add("backbone VGG (features, L2Norm, conv5..conv7)", string.Join(" ", vgg.Select(Shape)), 2 * VggFlops(model, batch.Tensors));

        var extras = model.Backbone.ForwardExtras(vgg[^1]);
        var extraFlops = Enumerable.Range(0, extras.Count).Sum(j => Weights(model.Backbone, $"extra.{j + 1}") * Positions(extras[j]));
        // The 1x1 convolution of each block runs at the block's input resolution.
        extraFlops += Enumerable.Range(0, extras.Count).Sum(j => Weights(model.Backbone, $"extra.{j + 1}.0") * (Positions(j == 0 ? vgg[^1] : extras[j - 1]) - Positions(extras[j])));
        rows.Add($"backbone extras ({extras.Count} blocks)", string.Join(" ", extras.Select(Shape)), 2 * extraFlops);

        var sources = vgg.Concat(extras).ToList();
        var (regression, logits) = model.Head.Forward(sources);
        double headFlops = Enumerable.Range(0, sources.Count).Sum(k =>
            (Weights(model.Head, $"classification_head.module_list.{k}") + Weights(model.Head, $"regression_head.module_list.{k}")) * Positions(sources[k]));
        rows.Add("head (class logits and box codes)", $"{Shape(logits)} {Shape(regression)}", 2 * headFlops);

        var defaultBoxes = model.Config.DefaultBoxes.Generate(sources.Select(x => (x.Size(2), x.Size(3))).ToList(), (batch.Tensors.Size(2), batch.Tensors.Size(3)), regression.DType);
        var detection = model.Postprocess(regression.Squeeze(0), Tensor.Softmax(logits, -1).Squeeze(0), defaultBoxes, batch.ImageSizes[0]);
        GeneralizedRcnnTransform.ResizeBoxes(detection.Boxes, batch.ImageSizes[0], (image.Size(1), image.Size(2)));
        rows.Add($"postprocess ({defaultBoxes.Size(0)} default boxes, softmax, NMS)", $"{detection.Boxes.Size(0)} detections", 0);
        return Table(image, rows.Rows);
    }

    /// <summary>
    /// Multiply-adds of the VGG base and conv6/conv7: each convolution's weights times the positions
    /// of its output, which halve (rounding as the pool does) after each pool of the base.
    /// </summary>
    private static double VggFlops(Ssd model, Tensor input)
    {
        // Base convolutions in order, then conv6 and conv7 (batch-norm weights are rank 1).
        var convs = model.Backbone.NamedParameters()
            .Where(p => (p.Key.StartsWith("features.", StringComparison.Ordinal) || p.Key.StartsWith("extra.0.", StringComparison.Ordinal)) && p.Key.EndsWith(".weight", StringComparison.Ordinal) && p.Value.Rank == 4)
            .Select(p => (double)p.Value.Numel).ToArray();
        int h = input.Size(2), w = input.Size(3), conv = 0;
        double flops = 0;
        foreach (var token in model.Config.Base.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (token is "M" or "C")
            {
                (h, w) = token == "C" ? ((h + 1) / 2, (w + 1) / 2) : (h / 2, w / 2);
                continue;
            }
            flops += convs[conv++] * h * w;
        }
        // pool5 keeps the size; conv6 and conv7 run at it.
        for (; conv < convs.Length; conv++) flops += convs[conv] * h * w;
        return flops * input.Size(0);
    }

    /// <summary>
    /// The rows of a stage table, each timed from the one before. Made after one warm-up pass of the
    /// model in evaluation mode, so the times leave out the JIT's first compilation.
    /// </summary>
    private sealed class StageRows
    {
        private readonly Stopwatch watch;

        public StageRows(Detector model, Tensor image)
        {
            model.Eval();
            model.Detect([image]); // warm-up
            watch = Stopwatch.StartNew();
        }

        public List<(string Stage, string Output, double Flops, double Milliseconds)> Rows { get; } = [];

        /// <summary>A row for the stage that has just run: the time since the previous row.</summary>
        public void Add(string stage, string output, double flops)
        {
            Rows.Add((stage, output, flops, watch.Elapsed.TotalMilliseconds));
            watch.Restart();
        }
    }

    /// <summary>The stage table both passes print.</summary>
    private static string Table(Tensor image, List<(string Stage, string Output, double Flops, double Milliseconds)> rows)
    {
        int width = rows.Max(r => r.Stage.Length);
        var lines = new List<string> { $"one image {Shape(image)}, evaluation mode, after one warm-up pass:", "" };
        lines.Add($"{"stage".PadRight(width)}  {"GFLOPs",8}  {"ms",9}  output");
        lines.Add(new string('-', width + 40));
        lines.AddRange(rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Stage.PadRight(width)}  {r.Flops / 1e9,8:F2}  {r.Milliseconds,9:F1}  {r.Output}")));
        lines.Add(new string('-', width + 40));
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{"total".PadRight(width)}  {rows.Sum(r => r.Flops) / 1e9,8:F2}  {rows.Sum(r => r.Milliseconds),9:F1}"));
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Weights of the convolutions and linear layers (rank-4 and rank-2 "weight" parameters) under <paramref name="prefix"/>.</summary>
    private static double Weights(Module module, string prefix) => module.NamedParameters()
        .Where(p => (p.Key == prefix + ".weight" || p.Key.StartsWith(prefix + ".", StringComparison.Ordinal)) && p.Key.EndsWith("weight", StringComparison.Ordinal) && p.Value.Rank is 2 or 4)
        .Sum(p => (double)p.Value.Numel);

    /// <summary>Output positions of a feature map [N, C, H, W]: N x H x W.</summary>
    private static double Positions(Tensor map) => (double)map.Size(0) * map.Size(2) * map.Size(3);

    private static string Shape(Tensor tensor) => Shapes.Format(tensor.Shape);
}
