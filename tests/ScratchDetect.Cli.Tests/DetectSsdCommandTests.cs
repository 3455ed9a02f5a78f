namespace ScratchDetect.Cli.Tests;

/// <summary>`detect --model ssd300_vgg16` end to end, with torchvision's and ssd.pytorch's weights (tools/ssd_reference.py).</summary>
[Collection(CliCollection.Name)]
public class DetectSsdCommandTests
{
    private const string Model = "ssd300_vgg16";

    /// <summary>The photo the script ran both references on for the CLI (astronaut, 256x256); the models' parity tests use others.</summary>
    private static readonly string Photo = Path.Combine(RepoPaths.Shared, "fixtures", "images", "optimized_q75.jpg");

    /// <summary>
    /// torchvision-named weights and the default score threshold (0.01, SSD's): torchvision's
    /// detections within <see cref="DetectionAssert"/>'s tolerances, which also covers decoding
    /// (the script decodes with PIL) and the [0, 1] scaling.
    /// </summary>
    [TorchFact]
    public void TorchvisionWeightsGiveTorchvisionsDetections() =>
        CheckDetections(SsdReference.TorchvisionWeightsPath, "tv_detect", []);

    /// <summary>
    /// ssd.pytorch-named weights (21 VOC classes), with the format told from the keys and given
    /// explicitly: the detections of ssd.pytorch's network through torchvision's postprocess.
    /// </summary>
    [TorchTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void SsdPytorchWeightsGiveThatNetworksDetections(bool explicitFormat) =>
        CheckDetections(SsdReference.SsdPytorchWeightsPath, "sp_detect", explicitFormat ? ["--num-classes", "21", "--weights-format", "ssd.pytorch"] : ["--num-classes", "21"]);

    private static void CheckDetections(string weights, string referenceName, string[] extra)
    {
        var reference = SsdReference.Load(referenceName);
        using var dir = new TempDir();
        string json = dir.File("detections.json");
        var (exitCode, output, error) = CliRunner.Run(["detect", "--model", Model, "--weights", weights, .. extra, "--image", Photo, "--json", json]);
        Assert.True(exitCode == 0, error);

        var result = DetectJson.ReadSingle(File.ReadAllText(json));
        Assert.Equal(reference["image0"].Size(2), result.Width);
        Assert.Equal(reference["image0"].Size(1), result.Height);
        DetectionAssert.Match(DetectionAssert.ReferenceDetections(reference, "image0"), result.Detections, $"detect {Model} {referenceName}");
        Assert.Contains($"{Photo} (256x256): {result.Detections.Labels.Size(0)} detections", output);
    }

    /// <summary>ssd.pytorch's weights read as torchvision's: every key is unexpected, and the error says which and that nothing fits.</summary>
    [TorchFact]
    public void WrongWeightsFormatIsAnErrorNamingTheKeys()
    {
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", SsdReference.SsdPytorchWeightsPath, "--num-classes", "21",
            "--weights-format", "torchvision", "--image", Photo);
        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("unexpected key(s): vgg.0.weight", error);
        Assert.Contains("missing key(s): backbone.", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void UnknownWeightsFormatIsRejected()
    {
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", "w.safetensors", "--weights-format", "caffe", "--image", Photo);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("caffe", error);
    }
}
