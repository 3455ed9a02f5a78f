using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ScratchDetect.Cli.Support;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Synthetic;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Cli.Commands;

/// <summary>What the demo generates and how it trains; <see cref="Default"/> is what `demo` runs.</summary>
/// <param name="Shapes">The make-shapes dataset (printed as make-shapes options).</param>
/// <param name="Model">The trainable model (see <see cref="TrainableModels"/>).</param>
/// <param name="InputSize">The SSD's square input side (train's and detect's --min-size).</param>
/// <param name="Epochs">Epochs over the train split; the iterations are Epochs x (Train / BatchSize), a fixed count, so a seed gives the same run.</param>
/// <param name="BatchSize">Images per iteration.</param>
/// <param name="Optimizer">train's --optimizer.</param>
/// <param name="Lr">Learning rate of the batch.</param>
/// <param name="WeightDecay">train's --weight-decay (AdamW's decoupled decay).</param>
/// <param name="WarmupIters">Linear warm-up iterations.</param>
/// <param name="EvalEveryEpochs">Epochs between evaluations on the held-out split (the last epoch is always evaluated).</param>
/// <param name="DrawnImages">Test images written with their detections drawn.</param>
internal sealed record DemoSettings(ShapesOptions Shapes, string Model, int InputSize, int Epochs, int BatchSize, string Optimizer, double Lr, double WeightDecay, int WarmupIters, int EvalEveryEpochs, int DrawnImages)
{
    /// <summary>
    /// The demo's settings, sized for about ten minutes on two cores: 96..128 px images with one or
    /// two shapes whose radius is 0.2..0.45 of the shorter side (large objects, which the 96 px
    /// network's default boxes cover), the tiny SSD (batch norm throughout, photometric distortion and
    /// mirroring only) at 96 px, 18 epochs of batches of 16 (36,000 images seen) with AdamW at lr 0.003
    /// and weight decay 0.01, the rate divided by 10 after 80% of the epochs (rounded up: after epoch 15),
    /// evaluated every 3 epochs and at the end. The PyTorch calibration of this model
    /// (tools/demo/torch_small_ssd.py --opt adamw) chose them: with SGD the best recipe reached mAP 0.09
    /// after 10,000 images (lr 0.01 per 16 made the loss jump to 20..180); AdamW reached 0.42 after
    /// 10,000 images. One drop after 80% (--sched step80) beat drops after 60% and 80% (step60) on both
    /// seeds tried over 30,000 images (0.836 against 0.820 on seed 0's data, 0.773 against 0.743 on
    /// seed 1's). 30,000 images left seed 1 below 0.8 (0.773; our engine 0.766); over 36,000, step80
    /// reached 0.803 on seed 1's data (our engine's demo: 0.796, so no margin) and 0.830 on seed 2's (lr 0.005 instead: 0.506 against 0.637 after
    /// 20,000 on seed 1's, so not tried further). 36,000 is what our engine trains in 6 to 8 minutes
    /// (74..101 images/s on the quiet machine, whose speed moves that much), which leaves the
    /// evaluations, the data and a margin for the rest of the 10; 42,000 reached 0.838 against 0.827 on
    /// seed 0's held-out images but took 9.6 minutes at 74 images/s. The held-out
    /// split has 500 images: on 200, the PyTorch copy trained on seed 1's 2000 images with this
    /// recipe scored 0.803 on images 2001..2200 and 0.833 on 4001..4200 (two runs, same data and
    /// recipe), a spread larger than the demo's margin; 500 cost about 1.5 s more per evaluation.
    /// </summary>
    public static DemoSettings Default { get; } = new(
        new ShapesOptions { Train = 2000, Test = 500, MinSize = 96, MaxSize = 128, MinObjects = 1, MaxObjects = 2, MinObjectScale = 0.2, MaxObjectScale = 0.45 },
        "ssd_tiny", InputSize: 96, Epochs: 18, BatchSize: 16, Optimizer: "adamw", Lr: 0.003, WeightDecay: 0.01, WarmupIters: 50, EvalEveryEpochs: 3, DrawnImages: 4);

    /// <summary>The epoch at which the learning rate drops by 10: after 80% of them (none for one epoch).</summary>
    public int[] LrSteps => Epochs < 2 ? [] : [.. new[] { (int)Math.Ceiling(Epochs * 0.8) }.Where(e => e < Epochs)];

    /// <summary>train's --eval-every: <see cref="EvalEveryEpochs"/> epochs in iterations (the loader drops the last partial batch).</summary>
    public int EvalEveryIterations => EvalEveryEpochs * (Shapes.Train / BatchSize);
}

/// <summary>
/// `scratchdetect demo [--out DIR]`: the README's first command. In a new folder it generates a
/// synthetic shapes dataset, trains a small SSD on it from scratch on the CPU, evaluates it on the
/// held-out split and draws a few detections, through the same code as `make-shapes`, `train`
/// and `detect`, and prints where everything went and the VOC07 mAP@0.5. It never writes into a
/// folder that already holds something.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The folder the demo writes when --out is not given.</summary>
    public const string DefaultFolder = "scratchdetect-demo";

    public static Command Create()
    {
        var defaults = DemoSettings.Default;
        var output = new Option<string>("--out") { Description = $"New or empty folder for everything the demo writes (default ./{DefaultFolder})", DefaultValueFactory = _ => DefaultFolder };
        var trainImages = new Option<int>("--train-images") { Description = $"Generated training images (default {defaults.Shapes.Train})", DefaultValueFactory = _ => defaults.Shapes.Train };
        var testImages = new Option<int>("--test-images") { Description = $"Generated held-out images, evaluated every few epochs and at the end (default {defaults.Shapes.Test})", DefaultValueFactory = _ => defaults.Shapes.Test };
        var epochs = new Option<int>("--epochs") { Description = $"Epochs over the training images (default {defaults.Epochs}); the learning rate drops by 10 after 80% of them", DefaultValueFactory = _ => defaults.Epochs };
        var seed = new Option<int>("--seed") { Description = "Seeds the data, the weights and the training order; the same seed gives the same run (default 0)", DefaultValueFactory = _ => 0 };

        var command = new Command("demo", "Generate shapes data, train a small SSD on it from scratch on the CPU, evaluate it and draw detections (about ten minutes on two cores).");
        foreach (var option in new Option[] { output, trainImages, testImages, epochs, seed }) command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            int train = parseResult.GetValue(trainImages), test = parseResult.GetValue(testImages), epochCount = parseResult.GetValue(epochs);
            if (train < defaults.BatchSize) throw new UserErrorException($"demo: --train-images {train} is fewer than one batch of {defaults.BatchSize}");
            if (test < 1) throw new UserErrorException($"demo: --test-images {test}: the demo needs at least one held-out image");
            if (epochCount < 1) throw new UserErrorException($"demo: --epochs {epochCount} must be at least 1");
            var settings = defaults with
            {
                Shapes = defaults.Shapes with { Train = train, Test = test, Seed = parseResult.GetValue(seed) },
                Epochs = epochCount,
            };
            return Run(parseResult.GetValue(output)!, settings, Console.Out);
        });
        return command;
    }

    /// <summary>Runs the demo into <paramref name="folder"/>, which must be new or empty; returns the exit status.</summary>
    public static int Run(string folder, DemoSettings settings, TextWriter output)
    {
        var watch = Stopwatch.StartNew();
        string root = Path.GetFullPath(folder);
        if (File.Exists(root)) throw new UserErrorException($"demo: --out '{folder}' is a file; give a new folder");
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new UserErrorException($"demo: '{root}' already holds files and the demo never writes over anything; remove it or give --out NEW_FOLDER");
        string data = Path.Combine(root, "shapes"), run = Path.Combine(root, "run"), drawn = Path.Combine(root, "detections");

        output.WriteLine($"[1/3] data: make-shapes --out {data} {MakeShapesCommand.Describe(settings.Shapes)}");
        MakeShapesCommand.Write(data, settings.Shapes, force: false, output);

        var config = new TrainConfig
        {
            Model = settings.Model, Data = data, Split = "train", ValSplit = "test", Epochs = settings.Epochs, BatchSize = settings.BatchSize,
            Optimizer = settings.Optimizer, Lr = settings.Lr, WeightDecay = settings.WeightDecay, WarmupIters = settings.WarmupIters, LrSteps = settings.LrSteps, Seed = settings.Shapes.Seed, Out = run, PrintEvery = 10,
            EvalEvery = settings.EvalEveryIterations,
            MinSize = settings.InputSize,
        };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[2/3] training: train --model {config.Model} --min-size {config.MinSize} --data {data} --split train --val-split test --epochs {config.Epochs} --batch-size {config.BatchSize} --optimizer {config.Optimizer} --lr {config.Lr} --weight-decay {config.WeightDecay} --warmup-iters {config.WarmupIters}{(settings.LrSteps.Length > 0 ? " --lr-steps " + string.Join(' ', settings.LrSteps) : "")} --eval-every {config.EvalEvery} --seed {config.Seed} --out {run}"));
        int status = TrainCommand.Run(config, configPath: null, resumeDirectory: null, output);
        if (status != 0) return status;

        var testIds = File.ReadAllLines(Path.Combine(data, "ImageSets", "Main", "test.txt")).Where(id => id.Length > 0).ToArray();
        // Images with objects: every tenth image is empty, which makes a dull picture.
        var shown = testIds.Where((_, i) => (settings.Shapes.Train + i) % 10 != 9).Take(settings.DrawnImages).Select(id => Path.Combine(data, "JPEGImages", id + ".jpg")).ToArray();
        string weights = Path.Combine(run, Checkpoint.WeightsFileName), detections = Path.Combine(root, "detections.json");
        output.WriteLine($"[3/3] drawing: detect --model {settings.Model} --min-size {settings.InputSize} --weights {weights} --num-classes {ShapesDataset.Classes.Count + 1} --labels {Path.Combine(data, VocClasses.LabelsFileName)} --score-threshold 0.3 --draw {drawn} --json {detections} --image ...");
        string[] detect =
        [
            "detect", "--model", settings.Model, "--min-size", settings.InputSize.ToString(CultureInfo.InvariantCulture), "--weights", weights, "--num-classes", (ShapesDataset.Classes.Count + 1).ToString(CultureInfo.InvariantCulture),
            "--labels", Path.Combine(data, VocClasses.LabelsFileName), "--score-threshold", "0.3", "--draw", drawn, "--json", detections, "--image", .. shown,
        ];
        status = CommandCatalog.Run(detect);
        if (status != 0) return status;

        var final = RunMetrics.Read(run).Evaluations.LastOrDefault()
            ?? throw new InvalidOperationException("demo: the training run recorded no evaluation");
        output.WriteLine();
        output.WriteLine($"data:        {data}");
        output.WriteLine($"run:         {run} (config.json, metrics.csv, losses.png/svg, map.png/svg, model.safetensors)");
        output.WriteLine($"detections:  {drawn} ({shown.Length} images drawn), {detections}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"VOC07 mAP@0.5 on the {settings.Shapes.Test} held-out images: {final.Voc07:F3} (VOC12: {final.Voc12:F3}); {watch.Elapsed.TotalMinutes:F1} min in all"));
        return 0;
    }
}
