using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Synthetic;

namespace ScratchDetect.Cli.Tests;

[Collection(CliCollection.Name)]
public sealed class DrawAndEvalTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// The tag of a box is filled with the class colour and carries its caption in white, in the
    /// shipped font: on a mid-grey image, the only near-white pixels can come from the glyphs. A
    /// caption of 10 glyphs at 13 px covers well over 30 pixels; the tag's fill must show too.
    /// </summary>
    [Fact]
    public void DrawsTheBoxAndItsCaption()
    {
        var grey = new RgbImage(160, 80, Enumerable.Repeat((byte)128, 160 * 80 * 3).ToArray());
        var drawn = DetectionDrawing.Draw(grey, [new DrawnBox(10, 40, 120, 75, 1, 0.9f)], ["circle"]);

        Assert.Equal("circle 0.90", DetectionDrawing.Caption(new DrawnBox(0, 0, 1, 1, 1, 0.9f), ["circle"]));
        var tag = DetectionDrawing.ColorOf(1);
        int white = 0, fill = 0;
        // The tag sits above the box: rows 40 - 17 = 23 .. 39.
        for (int y = 23; y < 40; y++)
            for (int x = 10; x < 120; x++)
            {
                int i = (y * grey.Width + x) * 3;
                var (r, g, b) = (drawn.Pixels[i], drawn.Pixels[i + 1], drawn.Pixels[i + 2]);
                if (r > 220 && g > 220 && b > 220) white++;
                if (r == tag.Red && g == tag.Green && b == tag.Blue) fill++;
            }
        Assert.True(white > 30, $"{white} white caption pixels in the tag");
        Assert.True(fill > 100, $"{fill} tag-coloured pixels");
        // The box outline: its left edge at x = 10 is drawn in the class colour, the inside stays grey.
        int edge = (60 * grey.Width + 10) * 3, inside = (60 * grey.Width + 60) * 3;
        Assert.Equal((tag.Red, tag.Green, tag.Blue), (drawn.Pixels[edge], drawn.Pixels[edge + 1], drawn.Pixels[edge + 2]));
        Assert.Equal((byte)128, drawn.Pixels[inside]);
        Assert.Equal((byte)128, grey.Pixels[edge]); // the input is left unchanged
    }

    /// <summary>
    /// `eval --model` runs the model and writes its detections; scoring that JSON with the precomputed
    /// mode (`--box-frame continuous`) gives the same table, and `detect --draw` writes a PNG per image.
    /// The model is an untrained lite Faster R-CNN (its near-uniform class scores, about 1/7, pass the
    /// 0.05 threshold, so there are detections to write and score).
    /// </summary>
    [Fact]
    public void EvalWithAModelAgreesWithEvalOfItsDetections()
    {
        string data = temp.File("shapes");
        ShapesDataset.Write(data, new ShapesOptions { Train = 1, Test = 3, MinSize = 64, MaxSize = 80, Seed = 2 });
        var model = TrainableModels.Find("fasterrcnn_resnet18_fpn_lite")!;
        string weights = temp.File("w.safetensors");
        model.Build(new ModelBuild(ShapesDataset.Classes.Count + 1, 64, 80, false, 1)).SaveStateDict(weights);
        string json = temp.File("dets.json");

        var ran = CliRunner.Run("eval", "--model", model.Name, "--weights", weights, "--data", data, "--split", "test", "--min-size", "64", "--max-size", "80", "--json", json);
        Assert.True(ran.ExitCode == 0, ran.Error);
        var scored = CliRunner.Run("eval", "--detections", json, "--box-frame", "continuous", "--data", data, "--split", "test");
        Assert.True(scored.ExitCode == 0, scored.Error);
        Assert.Equal(ran.Output, scored.Output);
        Assert.Contains("mean", ran.Output);

        string drawn = temp.File("drawn");
        var image = Path.Combine(data, "JPEGImages", "000002.jpg");
        var detect = CliRunner.Run("detect", "--model", model.Name, "--weights", weights, "--num-classes", "7", "--min-size", "64", "--max-size", "80",
            "--image", image, "--json", temp.File("d.json"), "--draw", drawn, "--labels", Path.Combine(data, "labels.txt"), "--score-threshold", "0.1");
        Assert.True(detect.ExitCode == 0, detect.Error);
        var png = ImageIO.ReadRgb(Path.Combine(drawn, "000002.png"));
        var original = ImageIO.ReadRgb(image);
        Assert.Equal((original.Width, original.Height), (png.Width, png.Height));
        Assert.NotEqual(original.Pixels, png.Pixels);
    }

    [Fact]
    public void EvalNeedsDetectionsOrAModel()
    {
        string data = temp.File("shapes");
        ShapesDataset.Write(data, new ShapesOptions { Train = 1, Test = 1, MinSize = 64, MaxSize = 64 });
        var (exit, _, error) = CliRunner.Run("eval", "--data", data, "--split", "test");
        Assert.Equal(2, exit);
        Assert.Contains("--detections", error);
    }
}
