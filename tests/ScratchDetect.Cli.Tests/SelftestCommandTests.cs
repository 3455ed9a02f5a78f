using ScratchDetect.Cli.Commands;
using ScratchDetect.Engine.Cuda;

namespace ScratchDetect.Cli.Tests;

[Collection(CliCollection.Name)]
public class SelftestCommandTests
{
    [Fact]
    public void Without_a_usable_gpu_selftest_exits_1_with_one_line_naming_what_is_missing()
    {
        if (CudaEnvironment.UnavailableReason() is null) return; // a GPU machine: the emulated test below and the GPU run cover it
        var (exitCode, output, error) = CliRunner.Run("selftest", "--device", "cuda");
        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("selftest: CUDA not available: ", line);
    }

    [Fact]
    public void Emulated_selftest_prints_a_passing_row_per_kernel()
    {
        var (exitCode, output, error) = CliRunner.Run("selftest", "--emulated");
        Assert.True(exitCode == 0, output + error);
        Assert.Contains("ILGPU CPU accelerator", output);
        foreach (var op in new[] { "cross_entropy", "roi_align", "roi_align backward", "scatter_add", "nms", "topk", "log_softmax" })
            Assert.Matches($@"(?m)^{op}\s.*\spass$", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.Contains(SelftestCommand.NotYetWired, output);
    }

    [Fact]
    public void An_unknown_device_is_a_usage_error()
    {
        var (exitCode, _, error) = CliRunner.Run("selftest", "--device", "tpu");
        UserError.Assert(exitCode, error, "unknown device 'tpu'");
    }
}
