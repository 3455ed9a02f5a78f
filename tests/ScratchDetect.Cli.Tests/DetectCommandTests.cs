using System.Text.Json;
using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Cli.Tests;

/// <summary>`detect` end to end against torchvision, and its answers to unusable inputs.</summary>
[Collection(CliCollection.Name)]
public class DetectCommandTests
{
    private const string Model = "fasterrcnn_resnet50_fpn";

    /// <summary>The photo tools/frcnn_reference.py ran torchvision on for detect.safetensors (astronaut, 256x256).</summary>
    private static readonly string Photo = Path.Combine(RepoPaths.Shared, "fixtures", "images", "optimized_q75.jpg");

    /// <summary>
    /// The same weights, photo and sizes (800 / 1333, as the script) as torchvision: the JSON must
    /// hold torchvision's detections within <see cref="DetectionAssert"/>'s rounding tolerances.
    /// This also covers decoding (the script decodes with PIL) and the [0, 1] scaling.
    /// </summary>
    [TorchFact]
    public void DetectionsMatchTorchvision()
    {
        var reference = FrcnnReference.Load("detect");
        using var dir = new TempDir();
        string json = dir.File("detections.json");
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", FrcnnReference.WeightsPath,
            "--min-size", "800", "--max-size", "1333", "--image", Photo, "--json", json);
        Assert.True(exitCode == 0, error);

        var result = DetectJson.ReadSingle(File.ReadAllText(json));
        Assert.Equal(Photo, result.Image);
        Assert.Equal(reference["image0"].Size(2), result.Width);
        Assert.Equal(reference["image0"].Size(1), result.Height);
        DetectionAssert.Match(DetectionAssert.ReferenceDetections(reference, "image0"), result.Detections, "detect optimized_q75.jpg");

        // With --json the summary goes to standard output.
        Assert.Contains($"{Photo} (256x256): {result.Detections.Labels.Size(0)} detections", output);
    }

    /// <summary>
    /// Without --json the JSON alone goes to standard output (so it can be piped) and the summary
    /// to standard error. A small size keeps this quick; the detections are not compared here.
    /// </summary>
    [TorchFact]
    public void WithoutJsonFileDetectionsGoToStandardOutputAndTheSummaryToStandardError()
    {
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", FrcnnReference.WeightsPath,
            "--min-size", "128", "--max-size", "128", "--score-threshold", "0.99", "--image", Photo);
        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var image = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal(Photo, image.GetProperty("image").GetString());
        // At the default threshold (0.05) these weights fill the 100 detections per image; 0.99 keeps a few.
        var scores = image.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("score").GetSingle()).ToArray();
        Assert.InRange(scores.Length, 1, 99);
        Assert.All(scores, score => Assert.True(score > 0.99f, $"score {score} at or below --score-threshold 0.99"));
        Assert.Contains($"{Photo} (256x256): {scores.Length} detections", error);
        // Progress, as plain lines (stdout is not a terminal here), goes with the summary to standard error.
        Assert.Contains($"loading {Model} weights {Path.GetFileName(FrcnnReference.WeightsPath)} ...", error);
        Assert.Contains("detecting 1/1: optimized_q75.jpg", error);
    }

    /// <summary>
    /// torchvision's 91-class weights with --num-classes 21: everything fits except the box
    /// predictor, whose four tensors the error names with both shapes.
    /// </summary>
    [TorchFact]
    public void WrongClassCountNamesTheBoxPredictorShapes()
    {
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", FrcnnReference.WeightsPath, "--num-classes", "21", "--image", Photo);
        Assert.Equal(2, exitCode);
        Assert.Contains("4 shape mismatch(es)", error);
        Assert.Contains("roi_heads.box_predictor.cls_score.weight (module [21, 1024], source [91, 1024])", error);
        Assert.Contains("roi_heads.box_predictor.bbox_pred.bias (module [84], source [364])", error);
        Assert.DoesNotContain("missing key", error);
        AssertNoStackTrace(error);
    }

    [Fact]
    public void WeightsWithOtherKeysAreAnErrorNamingThem()
    {
        using var dir = new TempDir();
        string weights = dir.File("other.safetensors");
        SafeTensors.Save(weights, new Dictionary<string, Tensor>
        {
            ["backbone.body.conv1.weight"] = Tensor.Zeros([2, 3]),
            ["classifier.weight"] = Tensor.Zeros([2]),
        });
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", Photo);
        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(weights, error);
        Assert.Contains("1 unexpected key(s): classifier.weight", error);
        Assert.Contains("1 shape mismatch(es): backbone.body.conv1.weight (module [64, 3, 7, 7], source [2, 3])", error);
        // Every other key of the model is missing: the first few are named, the rest counted.
        Assert.Matches(@"\d+ missing key\(s\): backbone\.body\.bn1\.weight, .*, \.\.\. and \d+ more", error);
        AssertNoStackTrace(error);
    }

    [Fact]
    public void MissingWeightsFileIsAnError()
    {
        using var dir = new TempDir();
        string weights = dir.File("absent.safetensors");
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", Photo);
        Assert.Equal(2, exitCode);
        Assert.Contains($"--weights '{weights}' does not exist", error);
        AssertNoStackTrace(error);
    }

    [Fact]
    public void UnknownModelIsAnErrorListingTheKnownOnes()
    {
        using var dir = new TempDir();
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", "yolo_v1", "--weights", dir.File("w.safetensors"), "--image", Photo);
        Assert.Equal(2, exitCode);
        Assert.Contains("unknown model 'yolo_v1'", error);
        Assert.Contains(Model, error);
        AssertNoStackTrace(error);
    }

    /// <summary>Images are checked before the weights are read, so an empty weights file is enough here.</summary>
    [Theory]
    [InlineData("garbage.jpg", "not an image")]
    [InlineData("absent.jpg", null)]
    public void UnreadableImageIsAnErrorNamingIt(string name, string? content)
    {
        using var dir = new TempDir();
        string weights = dir.File("w.safetensors");
        File.WriteAllBytes(weights, []);
        string image = dir.File(name);
        if (content is not null) File.WriteAllText(image, content);
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", Photo, image);
        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(name, error);
        AssertNoStackTrace(error);
    }

    /// <summary>A valid one-tensor weights file: the damage below is what makes each case unusable.</summary>
    private static byte[] SmallWeights() => SafeTensors.Serialize(new Dictionary<string, Tensor>
    {
        ["backbone.body.conv1.weight"] = Tensor.Zeros([4, 3]),
        ["rpn.head.conv.0.0.bias"] = Tensor.Zeros([4]),
    });

    private static byte[] WithHeader(string header, int dataBytes) => SafeTensorsBytes.WithHeader(header, dataBytes);

    public static TheoryData<string, string> DamagedWeights() => new()
    {
        { "empty", "the file is empty" },
        { "cut at 50%", "runs past the end" },
        { "cut inside the length", "too short for the 8-byte header length" },
        { "header length 2^40", "exceeds the format's limit" },
        { "invalid JSON", "not valid JSON" },
        { "offsets past the end", "run past the" },
        { "overlapping tensors", "overlap tensor 'a'" },
        { "unsupported dtype", "dtype F16 is not supported" },
    };

    /// <summary>
    /// Damaged weight files: each ends in one `error:` line naming the file and the broken rule,
    /// exit 2, no stack trace, and the file untouched.
    /// </summary>
    [Theory]
    [MemberData(nameof(DamagedWeights))]
    public void DamagedWeightsAreAUserErrorNamingTheFileAndTheRule(string damage, string rule)
    {
        var valid = SmallWeights();
        byte[] bytes = damage switch
        {
            "empty" => [],
            "cut at 50%" => valid[..(valid.Length / 2)],
            "cut inside the length" => valid[..5],
            "header length 2^40" => [.. BitConverter.GetBytes(1UL << 40), .. valid[8..]],
            "invalid JSON" => WithHeader("{\"a\": {\"dtype\": \"F32\",", 0),
            "offsets past the end" => WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
            "overlapping tensors" => WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
            _ => WithHeader("{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8),
        };
        using var dir = new TempDir();
        string weights = dir.File("damaged.safetensors");
        File.WriteAllBytes(weights, bytes);
        var before = FolderSnapshot.Of(dir.Path);
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", Photo, "--json", dir.File("out.json"));
        UserError.Assert(exitCode, error, weights);
        Assert.Contains(rule, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        before.AssertUnchanged(dir.Path);
    }

    [Fact]
    public void FoldersGivenAsFilesAreNamedAsFolders()
    {
        using var dir = new TempDir();
        string weights = dir.File("w.safetensors");
        File.WriteAllBytes(weights, SmallWeights());
        var (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", dir.Path);
        UserError.Assert(exitCode, error, $"--image '{dir.Path}' is a folder, not a file");
        (exitCode, _, error) = CliRunner.Run("detect", "--model", Model, "--weights", dir.Path, "--image", Photo);
        UserError.Assert(exitCode, error, $"--weights '{dir.Path}' is a folder, not a file");
    }

    /// <summary>
    /// Every unusable --json is found before the weights are read: the weights here are garbage,
    /// so an error about --json proves the check came first. Nothing the user had changes.
    /// </summary>
    [Fact]
    public void AnUnwritableJsonIsFoundBeforeAnyWork()
    {
        using var dir = new TempDir();
        string weights = dir.File("w.safetensors");
        File.WriteAllText(weights, "garbage");
        string image = dir.File("photo.jpg");
        File.Copy(Photo, image);
        string aFile = dir.File("a-file");
        File.WriteAllText(aFile, "not a folder");
        Directory.CreateDirectory(dir.File("a-folder"));
        var before = FolderSnapshot.Of(dir.Path);
        foreach (var (json, named) in new[]
        {
            (dir.File("missing/out.json"), "does not exist"),
            (dir.File("a-folder"), "is a folder"),
            (Path.Combine(aFile, "out.json"), "does not exist"),
            (image, "is also an input"),
            (weights, "is also an input"),
        })
        {
            var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", weights, "--image", image, "--json", json);
            UserError.Assert(exitCode, error, $"--json '{json}'");
            Assert.Contains(named, error);
            Assert.Empty(output);
        }
        before.AssertUnchanged(dir.Path);
    }

    /// <summary>
    /// A run that fails part-way (the second image's data is cut, though its headers parse) writes
    /// nothing: an earlier --json file keeps its bytes, and no temporary file is left beside it.
    /// Progress goes to the same stream as the summary, as plain lines when not on a terminal.
    /// </summary>
    [TorchFact]
    public void AFailureAfterTheWorkBeganLeavesAnEarlierJsonAsItWas()
    {
        using var dir = new TempDir();
        string json = dir.File("dets.json");
        File.WriteAllText(json, "[\"the results of yesterday\"]");
        string cut = dir.File("cut.jpg");
        var photo = File.ReadAllBytes(Photo);
        File.WriteAllBytes(cut, photo[..(photo.Length * 2 / 3)]);
        var before = FolderSnapshot.Of(dir.Path);
        var (exitCode, output, error) = CliRunner.Run("detect", "--model", Model, "--weights", FrcnnReference.WeightsPath,
            "--min-size", "128", "--max-size", "128", "--image", Photo, cut, "--json", json);
        UserError.Assert(exitCode, error, cut);
        Assert.Contains("truncated", error);
        before.AssertUnchanged(dir.Path);
        Assert.Contains($"loading {Model} weights {Path.GetFileName(FrcnnReference.WeightsPath)} ...", output);
        Assert.Contains("detecting 1/2: optimized_q75.jpg", output);
        Assert.Contains("detecting 2/2: cut.jpg", output);
        Assert.Contains($"{Photo} (256x256): ", output);
    }

    /// <summary>System.CommandLine's handler for uncaught exceptions prints "   at Frame(...)" lines.</summary>
    private static void AssertNoStackTrace(string error) => Assert.DoesNotContain("   at ", error);
}
