using System.Globalization;
using System.Text.RegularExpressions;

namespace ScratchDetect.Cli.Tests;

[Collection(CliCollection.Name)]
public sealed class SummaryCommandTests
{
    /// <summary>
    /// At 224x224 (min and max size 224, so no resizing, and 224 is already a multiple of 32) the
    /// ResNet-18 body costs what torchvision's model table states for resnet18: 1.814 GFLOPS, counted
    /// there as multiply-adds (torchvision's weights metadata "_ops"), i.e. 3.628 GFLOPs as 2 per
    /// multiply-add here. The body has no fc layer (0.5 M multiply-adds in the classifier, 0.03%), so
    /// a 1% tolerance covers it and rounding. The tree lists torchvision's module names with counts.
    /// </summary>
    [Fact]
    public void BackboneFlopsMatchTorchvisionsResNet18Figure()
    {
        var (exit, output, error) = CliRunner.Run("summary", "--model", "fasterrcnn_resnet18_fpn", "--input", "3x224x224", "--min-size", "224", "--max-size", "224");
        Assert.True(exit == 0, error);

        var body = Regex.Match(output, @"backbone\.body \(ResNet layer1\.\.4\)\s+([\d.]+)\s+[\d.]+\s+\[1, 64, 56, 56\]");
        Assert.True(body.Success, output);
        double gflops = double.Parse(body.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(gflops, 3.628 * 0.99, 3.628 * 1.01);
        // torchvision's resnet18 has 11,689,512 parameters; without fc (512 x 1000 + 1000) 11,176,512.
        Assert.Matches(@"\n  body\s+ResNet\s+11,176,512", output);
        Assert.Contains("roi_heads", output);
    }

    [Fact]
    public void BadInputShapeIsAUserError()
    {
        var (exit, _, error) = CliRunner.Run("summary", "--model", "fasterrcnn_resnet18_fpn", "--input", "600x800");
        UserError.Assert(exit, error, "3xHxW");
    }
}
