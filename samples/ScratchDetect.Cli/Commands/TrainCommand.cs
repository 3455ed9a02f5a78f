using System.CommandLine;
using ScratchDetect.Cli.Support;
using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Loading;
using ScratchDetect.Data.Voc;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;
using ScratchDetect.Models;

namespace ScratchDetect.Cli.Commands;

/// <summary>
/// `scratchdetect train --model M --data ROOT --out RUN_DIR [...]`: trains a detector on a VOC-format
/// split with torchvision's detection recipe, writing RUN_DIR/config.json (every setting, resolved),
/// metrics.csv, checkpoint.safetensors and model.safetensors. Exit status: 0 when the epochs (or
/// --stop-after) are done, 1 when a loss became NaN or infinite, 2 for unusable input, 130 when
/// stopped by Ctrl-C (after a checkpoint).
/// </summary>
internal static class TrainCommand
{
    /// <summary>Exit status of a run stopped because a loss was not finite.</summary>
    public const int ExitDiverged = 1;

    /// <summary>Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int ExitInterrupted = 130;

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"Detector to train: {string.Join(", ", TrainableModels.All.Select(m => $"{m.Name} ({m.Description})"))}" };
        var data = new Option<string?>("--data") { Description = "VOC-format dataset folder (Annotations/, JPEGImages/, ImageSets/Main/), or a VOCdevkit folder with --year" };
        var year = new Option<string?>("--year") { Description = "When the dataset folder is a VOCdevkit folder: the VOC{year} sub-folder to use, such as 2007 or 2012" };
        var labels = new Option<string?>("--labels") { Description = "Class list, one name per line (default: labels.txt in the dataset, else the 20 VOC classes)" };
        var split = new Option<string?>("--split") { Description = "ImageSets/Main split to train on (default: trainval)" };
        var valSplit = new Option<string?>("--val-split") { Description = "ImageSets/Main split to evaluate on, VOC07 and VOC12 mAP (default: none)" };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: the model's recipe; Faster R-CNN 26)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per iteration (default: the model's recipe; Faster R-CNN 2)" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: the model's recipe, scaled to the batch size; Faster R-CNN 0.02 per 16 images)" };
        var optimizerName = new Option<string?>("--optimizer") { Description = "sgd (with --momentum, torchvision's recipe) or adamw (torch.optim.AdamW, betas 0.9/0.999; --weight-decay is its decoupled decay) (default: the model's recipe; Faster R-CNN sgd, ssd_tiny adamw)" };
        var momentum = new Option<double?>("--momentum") { Description = "SGD momentum (default: the model's recipe; Faster R-CNN 0.9)" };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "L2 weight decay (default: the model's recipe; Faster R-CNN 1e-4)" };
        var warmupIters = new Option<int?>("--warmup-iters") { Description = "Iterations of linear warm-up from lr/1000 in epoch 0, at most the epoch's iterations - 1 (default: the model's recipe; Faster R-CNN 1000)" };
        var lrSteps = new Option<int[]?>("--lr-steps") { Description = "Epochs at which the learning rate is multiplied by --lr-gamma (default: the model's recipe; Faster R-CNN 16 22)", AllowMultipleArgumentsPerToken = true };
        var lrGamma = new Option<double?>("--lr-gamma") { Description = "Learning-rate factor at each --lr-steps epoch (default: the model's recipe; Faster R-CNN 0.1)" };
        var workers = new Option<int?>("--workers") { Description = "Threads loading and augmenting images (default: min(4, cores))" };
        var seed = new Option<int?>("--seed") { Description = "Seed of the weights, the order, the augmentation and the samplers (default: 0)" };
        var minSize = new Option<int?>("--min-size") { Description = "Shorter image side after resizing, in pixels (default: the model's)" };
        var maxSize = new Option<int?>("--max-size") { Description = "Upper bound on the longer image side after resizing, in pixels (default: the model's)" };
        var output = new Option<string?>("--out") { Description = "Run folder to write: config.json, metrics.csv, plots, checkpoint.safetensors, model.safetensors" };
        var backboneWeights = new Option<string?>("--backbone-weights") { Description = "ImageNet classifier weights for the backbone under torchvision's key names, safetensors or a PyTorch .pth" };
        var weights = new Option<string?>("--weights") { Description = "Whole-detector weights to start from under torchvision's key names, safetensors or a PyTorch .pth" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder exactly where its checkpoint left off; options given here override its config.json" };
        var config = new Option<string?>("--config") { Description = "JSON file with any of these options (names without the dashes); options given here override it" };
        var evalEvery = new Option<int?>("--eval-every") { Description = "Evaluate every N iterations; 0 after each epoch (default: 0)" };
        var evalImages = new Option<int?>("--eval-images") { Description = "Evaluate on the first N images of --val-split only; 0 all of them (default: 0)" };
        var printEvery = new Option<int?>("--print-every") { Description = "Off a terminal, print a progress line every N iterations (default: 20)" };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after N iterations of this invocation, with a checkpoint (resume later with --resume)" };
        var device = new Option<string?>("--device") { Description = "Device to train on: cpu, the only one so far (default: cpu)" };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first unusable sample instead of skipping it" };

        var command = new Command("train", "Train a detector on a VOC-format dataset with torchvision's detection recipe; checkpoints, metrics and exact resume. " +
            "Exit status 1 when a loss becomes NaN or infinite, 130 when stopped by Ctrl-C (after a checkpoint).");
        foreach (var option in new Option[] { model, data, year, labels, split, valSplit, epochs, batchSize, lr, optimizerName, momentum, weightDecay, warmupIters, lrSteps, lrGamma,
                     workers, seed, minSize, maxSize, output, backboneWeights, weights, resume, config, evalEvery, evalImages, printEvery, stopAfter, device, strict })
            command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var given = new TrainConfig
            {
                Model = parseResult.GetValue(model), Data = parseResult.GetValue(data), Year = parseResult.GetValue(year), Labels = parseResult.GetValue(labels),
                Split = parseResult.GetValue(split), ValSplit = parseResult.GetValue(valSplit), Epochs = parseResult.GetValue(epochs),
                BatchSize = parseResult.GetValue(batchSize), Lr = parseResult.GetValue(lr), Optimizer = parseResult.GetValue(optimizerName), Momentum = parseResult.GetValue(momentum),
                WeightDecay = parseResult.GetValue(weightDecay), WarmupIters = parseResult.GetValue(warmupIters), LrSteps = parseResult.GetResult(lrSteps) is null ? null : parseResult.GetValue(lrSteps),
                LrGamma = parseResult.GetValue(lrGamma), Workers = parseResult.GetValue(workers), Seed = parseResult.GetValue(seed),
                MinSize = parseResult.GetValue(minSize), MaxSize = parseResult.GetValue(maxSize), Out = parseResult.GetValue(output),
                BackboneWeights = parseResult.GetValue(backboneWeights), Weights = parseResult.GetValue(weights),
                EvalEvery = parseResult.GetValue(evalEvery), EvalImages = parseResult.GetValue(evalImages), PrintEvery = parseResult.GetValue(printEvery),
                StopAfter = parseResult.GetValue(stopAfter), Device = parseResult.GetValue(device),
                Strict = parseResult.GetResult(strict) is null ? null : parseResult.GetValue(strict),
            };
            return Run(given, parseResult.GetValue(config), parseResult.GetValue(resume), Console.Out);
        });
        return command;
    }

    /// <summary>
    /// Runs `train` with the options given on the command line, a --config file and/or a run to
    /// resume. Unusable input throws (<see cref="TrainConfigException"/>, <see cref="UserErrorException"/>
    /// or the data and file-format exceptions), which the top-level handler reports with exit status 2.
    /// </summary>
    public static int Run(TrainConfig given, string? configPath, string? resumeDirectory, TextWriter output)
    {
        TrainConfig settings;
        Checkpoint? checkpoint = null;
        if (resumeDirectory is not null)
        {
            if (configPath is not null) throw new TrainConfigException("--resume takes the run's own config.json; give changed options directly instead of --config");
            var stored = TrainConfig.Read(UserPaths.InputFile(Path.Combine(resumeDirectory, TrainConfig.FileName), "--resume")) with { StopAfter = null };
            if (given.Out is not null && Path.GetFullPath(given.Out) != Path.GetFullPath(resumeDirectory))
                throw new TrainConfigException($"--out '{given.Out}' differs from --resume '{resumeDirectory}': a resumed run continues in its own folder");
            checkpoint = Checkpoint.Load(UserPaths.InputFile(Path.Combine(resumeDirectory, Checkpoint.FileName), "--resume"));
            settings = given.Over(stored) with { Out = resumeDirectory };
        }
        else
        {
            settings = configPath is null ? given : given.Over(TrainConfig.Read(UserPaths.InputFile(configPath, "--config")));
        }
        if (settings.Model is null) throw new TrainConfigException($"--model is required (one of {string.Join(", ", TrainableModels.Names)})");
        var model = TrainableModels.Find(settings.Model) ?? throw new TrainConfigException($"unknown model '{settings.Model}' (trainable: {string.Join(", ", TrainableModels.Names)})");
        if (checkpoint is not null && checkpoint.Model != model.Name)
            throw new TrainConfigException($"the checkpoint in '{resumeDirectory}' is of {checkpoint.Model}, not {model.Name}");
        settings = settings.Resolve(model).WithFullPaths();
        if (resumeDirectory is null && File.Exists(Path.Combine(settings.Out!, Checkpoint.FileName)))
            throw new TrainConfigException($"'{settings.Out}' already holds a run (checkpoint.safetensors): continue it with --resume {settings.Out}, or choose another --out");
        if (File.Exists(settings.Out)) throw new TrainConfigException($"--out '{settings.Out}' is a file; give a folder for the run");
        // Weight files are checked before the dataset is read and the model built, so a typo fails at once.
        if (checkpoint is null && settings.Weights is not null) UserPaths.InputFile(settings.Weights, "--weights");
        if (checkpoint is null && settings.BackboneWeights is not null) UserPaths.InputFile(settings.BackboneWeights, "--backbone-weights");
        return Train(settings, model, checkpoint, output);
    }

    private static int Train(TrainConfig settings, TrainableModel model, Checkpoint? checkpoint, TextWriter output)
    {
        string runDirectory = settings.Out!;
        var dataset = DatasetArguments.Open(settings.Data!, settings.Year, settings.Labels);
        var trainingSet = new VocTrainingSet(dataset, settings.Split!, model.Augmentation(true), keepDifficult: false, failFast: settings.Strict!.Value);
        IReadOnlyList<string>? validation = null;
        if (settings.ValSplit is not null)
        {
            validation = dataset.ReadSplit(settings.ValSplit);
            if (settings.EvalImages > 0) validation = validation.Take(settings.EvalImages.Value).ToArray();
        }
        if (trainingSet.Count < settings.BatchSize)
            throw new UserErrorException($"split '{settings.Split}' of '{dataset.Root}' has {trainingSet.Count} images, fewer than one batch of {settings.BatchSize}");

        var build = new ModelBuild(dataset.Classes.Count + 1, settings.MinSize!.Value, settings.MaxSize!.Value, settings.BackboneWeights is not null, (ulong)settings.Seed!.Value);
        var detector = model.Build(build);
        if (checkpoint is null) LoadInitialWeights(settings, model, detector);

        var parameters = detector.Parameters().Where(p => p.RequiresGrad).ToArray();
        Optimizer optimizer = settings.Optimizer == "adamw"
            ? new AdamW(parameters, settings.Lr!.Value, weightDecay: settings.WeightDecay!.Value)
            : new SGD(parameters, settings.Lr!.Value, settings.Momentum!.Value, weightDecay: settings.WeightDecay!.Value);
        var loader = trainingSet.CreateLoader(new LoaderOptions { BatchSize = settings.BatchSize!.Value, Seed = settings.Seed.Value, Workers = settings.Workers!.Value, DropLast = true });
        var schedule = new WarmupThenMultiStep(new LinearWarmup(1.0 / 1000, Math.Min(settings.WarmupIters!.Value, loader.BatchCount - 1)), new MultiStepLR(settings.LrSteps!, settings.LrGamma!.Value));
        var trainer = new Trainer(detector, optimizer, schedule, loader, new Generator((ulong)settings.Seed.Value), settings.Epochs!.Value);

        Directory.CreateDirectory(runDirectory);
        var metrics = new RunMetrics(runDirectory);
        if (checkpoint is not null)
        {
            try
            {
                detector.LoadStateDict(checkpoint.ModelState);
                optimizer.LoadStateDict(checkpoint.OptimizerState);
                trainer.Restore(checkpoint.Position, Generator.FromState(checkpoint.GeneratorState));
            }
            catch (Exception e) when (e is StateDictMismatchException or ArgumentException)
            {
                throw new UserErrorException($"the checkpoint in '{runDirectory}' does not fit this configuration: {e.Message}", e);
            }
            metrics.ResumeAt(trainer.Iteration);
        }
        AtomicFile.WriteAllText(Path.Combine(runDirectory, TrainConfig.FileName), (settings with { StopAfter = null }).ToJson() + "\n");
        output.WriteLine($"{model.Name}: {parameters.Sum(p => p.Numel):N0} trainable parameters, {dataset.Classes.Count} classes, {trainingSet.Count} images in '{settings.Split}'; run folder {runDirectory}");

        var stopAfter = settings.StopAfter is { } n ? new StopAfterHook(n) : null;
        bool interrupted = false;
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            if (interrupted) return; // a second Ctrl-C ends the process at once
            interrupted = true;
            e.Cancel = true;
            Console.Error.WriteLine("stopping after this iteration (Ctrl-C again to quit without a checkpoint)");
        }
        Console.CancelKeyPress += OnCancel;
        try
        {
            // The hooks' lines (evaluation tables, checkpoints, warnings) go through the progress
            // display, which prints them above a terminal's live bar.
            var outcome = ConsoleProgress.Run(output, progress =>
            {
                var log = progress.Writer;
                trainer.Hooks.Add(new MetricsHook(metrics));
                trainer.Hooks.Add(new ProgressHook(progress, settings.PrintEvery!.Value));
                trainer.Hooks.Add(new DataProblemsHook(trainingSet, log));
                if (validation is not null) trainer.Hooks.Add(new EvalHook(dataset, validation, settings.EvalEvery!.Value, metrics, log));
                if (stopAfter is not null) trainer.Hooks.Add(stopAfter);
                trainer.Hooks.Add(new PlotHook(metrics, runDirectory, settings.PrintEvery!.Value));
                trainer.Hooks.Add(new CheckpointHook(model.Name, runDirectory, log));
                return trainer.Run(() => interrupted || stopAfter?.Reached == true);
            });
            output.WriteLine(outcome == TrainingOutcome.Completed
                ? $"done: {trainer.Epochs} epochs; weights in {Path.Combine(runDirectory, Checkpoint.WeightsFileName)}"
                : $"stopped at epoch {trainer.Position.Epoch}, batch {trainer.Position.Batch}; continue with --resume {runDirectory}");
            return interrupted ? ExitInterrupted : 0;
        }
        catch (NonFiniteLossException e)
        {
            // Not a user error: the input was usable and the run found a problem, so exit 1 (as documented).
            bool kept = File.Exists(Path.Combine(runDirectory, Checkpoint.FileName));
            Console.Error.WriteLine($"error: training diverged at {e.Message}. " +
                (kept ? $"The last good checkpoint, {Path.Combine(runDirectory, Checkpoint.FileName)}, is kept. " : "No checkpoint had been written yet. ") +
                "Common causes: a learning rate too high for the batch size (try a lower --lr or a longer --warmup-iters), or a bad box in those images.");
            return ExitDiverged;
        }
        catch (DatasetException e)
        {
            throw new UserErrorException($"unusable sample (--strict): {e.Message}", e);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }

    /// <summary>Loads --weights or --backbone-weights when given; weights that do not fit are a user error naming the file.</summary>
    private static void LoadInitialWeights(TrainConfig settings, TrainableModel model, Detector detector)
    {
        if (settings.Weights is { } weights)
        {
            var result = detector.LoadStateDict(WeightFiles.Load(weights, "--weights"), strict: false);
            if (!result.IsExactMatch) throw new UserErrorException($"--weights '{weights}' does not fit {model.Name}:\n{result.Describe(WeightFiles.KeysShown)}");
        }
        else if (settings.BackboneWeights is { } backboneWeights)
        {
            var backbone = model.LoadBackbone(detector, WeightFiles.Load(backboneWeights, "--backbone-weights"));
            if (backbone.MissingKeys.Count > 0 || backbone.ShapeMismatches.Count > 0 || backbone.DTypeMismatches.Count > 0)
                throw new UserErrorException($"--backbone-weights '{backboneWeights}' does not fit the backbone of {model.Name}:\n{backbone.Describe(WeightFiles.KeysShown)}");
        }
    }
}
