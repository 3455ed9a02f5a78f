using ScratchDetect.Engine.NN;

namespace ScratchDetect.Models.Tests;

public class DetectorRegistryTests
{
    private const string Name = "fasterrcnn_resnet50_fpn";

    /// <summary>
    /// A state dict saved from a BatchNorm2d model (trained from scratch; has num_batches_tracked)
    /// and one from a FrozenBatchNorm2d model (torchvision's COCO checkpoints; has none) both load
    /// exactly, into a model with the matching normalisation. The source has another seed than the
    /// registry's model, so equal weights show they were loaded.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsStateDictsOfEitherBatchNorm(bool frozen)
    {
        var source = FasterRcnn.ResNet50Fpn(pretrainedBackbone: frozen, seed: 7);
        var detector = DetectorRegistry.FromStateDict(Name, new DetectorSettings(), source.StateDict());

        Assert.False(detector.Training);
        var bn1 = detector.NamedModules().Single(m => m.Key == "backbone.body.bn1").Value;
        Assert.IsType(frozen ? typeof(FrozenBatchNorm2d) : typeof(BatchNorm2d), bn1);
        var name = "roi_heads.box_predictor.cls_score.weight";
        Assert.Equal(source.StateDict()[name].ToArray<float>(), detector.StateDict()[name].ToArray<float>());
    }

    [Fact]
    public void SettingsReachTheModel()
    {
        var state = FasterRcnn.ResNet50Fpn(numClasses: 5).StateDict();
        var detector = DetectorRegistry.FromStateDict(Name, new DetectorSettings(NumClasses: 5, MinSize: 320, MaxSize: 533, ScoreThreshold: 0.3), state);

        var model = Assert.IsType<FasterRcnn>(detector);
        Assert.Equal(5, model.NumClasses);
        Assert.Equal([320], model.Transform.MinSizes);
        Assert.Equal(533, model.Transform.MaxSize);
        Assert.Equal(0.3, model.RoiHeads.Options.ScoreThresh);
    }

    [Fact]
    public void UnknownNameListsTheKnownOnes()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => DetectorRegistry.FromStateDict("ssd512", new DetectorSettings(), new Dictionary<string, Engine.Tensor>()));
        Assert.Contains("'ssd512'", error.Message);
        Assert.Contains(Name, error.Message);
    }
}
