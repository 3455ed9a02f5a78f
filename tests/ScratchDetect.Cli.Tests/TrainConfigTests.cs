using ScratchDetect.Cli.Training;

namespace ScratchDetect.Cli.Tests;

public sealed class TrainConfigTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static TrainableModel Frcnn => TrainableModels.Find("fasterrcnn_resnet50_fpn")!;

    /// <summary>
    /// torchvision's references/detection recipe for fasterrcnn_resnet50_fpn: lr 0.02 for 8 GPUs x 2
    /// images, momentum 0.9, weight decay 1e-4, 26 epochs, decay x0.1 at 16 and 22, warm-up 1000
    /// iterations, images 800..1333; with a batch of 4 the rate is 0.02 x 4 / 16 = 0.005.
    /// </summary>
    [Fact]
    public void DefaultsAreTheReferenceRecipeScaledToTheBatch()
    {
        var resolved = new TrainConfig { Data = "d", Out = "o", BatchSize = 4 }.Resolve(Frcnn);
        Assert.Equal(0.005, resolved.Lr!.Value, 15);
        Assert.Equal((0.9, 1e-4, 26, 1000, 0.1, 800, 1333), (resolved.Momentum, resolved.WeightDecay, resolved.Epochs, resolved.WarmupIters, resolved.LrGamma, resolved.MinSize, resolved.MaxSize));
        Assert.Equal([16, 22], resolved.LrSteps!);
        Assert.Equal("trainval", resolved.Split);
    }

    [Fact]
    public void CommandLineBeatsTheConfigFileWhichBeatsTheRecipe()
    {
        string path = temp.File("run.json");
        File.WriteAllText(path, """{ "model": "fasterrcnn_resnet50_fpn", "data": "voc", "out": "run", "batch-size": 8, "lr": 0.1, "lr-steps": [3, 4] }""");
        var resolved = new TrainConfig { Lr = 0.01 }.Over(TrainConfig.Read(path)).Resolve(Frcnn);
        Assert.Equal(0.01, resolved.Lr);
        Assert.Equal(8, resolved.BatchSize);
        Assert.Equal([3, 4], resolved.LrSteps!);
        Assert.Equal(26, resolved.Epochs);

        // The resolved configuration written to RUN_DIR reads back as the same settings.
        Assert.Equal(resolved.ToJson(), TrainConfig.Read(WriteJson(resolved.ToJson())).ToJson());
    }

    [Fact]
    public void UnknownKeysAndBadValuesAreNamed()
    {
        var unknown = Assert.Throws<TrainConfigException>(() => TrainConfig.Read(WriteJson("""{ "batchsize": 4 }""")));
        Assert.Contains("batchsize", unknown.Message);
        var wrongType = Assert.Throws<TrainConfigException>(() => TrainConfig.Read(WriteJson("""{ "epochs": "many" }""")));
        Assert.Contains("epochs", wrongType.Message);
        var negative = Assert.Throws<TrainConfigException>(() => new TrainConfig { Data = "d", Out = "o", Lr = -1 }.Resolve(Frcnn));
        Assert.Contains("--lr must be positive", negative.Message);
        var device = Assert.Throws<TrainConfigException>(() => new TrainConfig { Data = "d", Out = "o", Device = "cuda" }.Resolve(Frcnn));
        Assert.Contains("'cuda'", device.Message);
        var optimizer = Assert.Throws<TrainConfigException>(() => new TrainConfig { Data = "d", Out = "o", Optimizer = "adam" }.Resolve(Frcnn));
        Assert.Contains("--optimizer 'adam' is not known (known: sgd, adamw)", optimizer.Message);
    }

    /// <summary>
    /// The optimizer comes from the recipe unless given: torchvision's SGD for Faster R-CNN, AdamW for
    /// ssd_tiny (the demo's model) at 0.006 per 32 images, so 0.006 x 16 / 32 = 0.003 for its batch of 16.
    /// </summary>
    [Fact]
    public void TheOptimizerIsTheRecipesUnlessGiven()
    {
        Assert.Equal("sgd", new TrainConfig { Data = "d", Out = "o" }.Resolve(Frcnn).Optimizer);
        var tiny = new TrainConfig { Data = "d", Out = "o" }.Resolve(TrainableModels.Find("ssd_tiny")!);
        Assert.Equal(("adamw", 16, 0.01), (tiny.Optimizer, tiny.BatchSize, tiny.WeightDecay));
        Assert.Equal(0.003, tiny.Lr!.Value, 15);
        Assert.Equal("sgd", new TrainConfig { Data = "d", Out = "o", Optimizer = "sgd" }.Resolve(TrainableModels.Find("ssd_tiny")!).Optimizer);
    }

    private string WriteJson(string text)
    {
        string path = temp.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, text);
        return path;
    }
}
