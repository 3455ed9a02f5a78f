namespace ScratchDetect.Cli.Tests;

[Collection(CliCollection.Name)]
public class GradCheckCommandTests
{
    [Fact]
    public void OneOpPrintsARowPerConfigurationAndSucceeds()
    {
        var (exitCode, output, _) = CliRunner.Run("gradcheck", "--op", "matmul");
        Assert.Equal(0, exitCode);
        // The catalog has three matmul configurations; each gets a row that ends in "pass".
        Assert.Equal(3, output.Split('\n').Count(line => line.StartsWith("matmul") && line.TrimEnd().EndsWith("pass")));
        Assert.Contains("all 3 checks passed", output);
    }
}
