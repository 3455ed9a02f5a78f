namespace ScratchDetect.Engine.Tests;

/// <summary>Error messages of batch norm (PyTorch parity is in BatchNormParityTests).</summary>
public class BatchNormTests
{
    [Theory, OnCpu, OnCuda]
    public void BatchNormTrainingNeedsMoreThanOneValuePerChannel(DeviceKind kind)
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([1, 3], device: TestDevices.Of(kind)), null, null, training: true));
        Assert.Contains("more than 1 value per channel", e.Message);
        Assert.Contains("[1, 3]", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void BatchNormRejectsStatisticsOfTheWrongLength(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([2, 3, 2, 2], device: device), Tensor.Zeros([4], device: device), Tensor.Ones([4], device: device)));
        Assert.Contains("running_mean [4] must be [3]", e.Message);
    }
}
