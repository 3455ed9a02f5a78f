using Xunit.Sdk;

namespace ScratchDetect.Engine.Tests;

/// <summary>The shared test helpers fail where they must: DetectionAssert on an empty reference, and the device rows cross every case with the device.</summary>
public class TestSupportTests
{
    private static (Tensor Boxes, Tensor Labels, Tensor Scores) Detections(params (float X, long Label, float Score)[] items) =>
        (Tensor.FromArray(items.SelectMany(d => new[] { d.X, 0, d.X + 10, 10 }).ToArray(), [items.Length, 4]),
         Tensor.FromArray(items.Select(d => d.Label).ToArray(), [items.Length]),
         Tensor.FromArray(items.Select(d => d.Score).ToArray(), [items.Length]));

    [Fact]
    public void DetectionAssertFailsOnAnEmptyReference()
    {
        // Two empty lists agree trivially; a parity test built on them would prove nothing.
        var error = Assert.Throws<XunitException>(() => DetectionAssert.Match(Detections(), Detections(), "empty"));
        Assert.Contains("no detections", error.Message);
    }

    [Fact]
    public void DetectionAssertFailsOnAMovedBoxAndPassesOnTheSame()
    {
        var reference = Detections((0, 1, 0.9f), (20, 2, 0.5f));
        DetectionAssert.Match(reference, Detections((0, 1, 0.9f), (20, 2, 0.5f)), "same");
        // 0.05 px is five times the box tolerance.
        Assert.Throws<XunitException>(() => DetectionAssert.Match(reference, Detections((0, 1, 0.9f), (20.05f, 2, 0.5f)), "moved"));
    }

    public static TheoryData<string, int> TwoCases() => new() { { "a", 1 }, { "b", 2 } };

    [Fact]
    public void DeviceRowsAppendTheDeviceToEveryCase()
    {
        var method = typeof(TestSupportTests).GetMethod(nameof(DeviceRowsAppendTheDeviceToEveryCase))!;
        var rows = new OnCpuAttribute(nameof(TwoCases)).GetData(method).ToList();
        Assert.Equal([["a", 1, DeviceKind.Cpu], ["b", 2, DeviceKind.Cpu]], rows);
        Assert.Equal([[DeviceKind.Cuda]], new OnCudaAttribute().GetData(method));
    }
}
