using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests;

/// <summary>Devices: creation on a device, moving tensors and modules, the backend registry, and the one-message failure for a device that is not there.</summary>
public class DeviceTests
{
    [Fact]
    public void CreationPutsTensorsOnTheRequestedDevice()
    {
        Assert.Equal(Device.Cpu, Tensor.Zeros([2, 3]).Device);
        Assert.Equal(Device.Cpu, Tensor.FromArray(new[] { 1f, 2f }, [2], Device.Cpu).Device);
        Assert.Equal(Device.Cpu, Tensor.Arange(4, device: Device.Cpu).Device);
        Assert.Equal(Device.Cpu, Tensor.Full([1], 3, device: Device.Cpu).Device);
    }

    [Fact]
    public void ToTheSameDeviceIsTheTensorItself()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        Assert.Same(x, x.To(Device.Cpu));
    }

    [WithoutCudaFact]
    public void CudaWithoutABackendFailsWithOneMessageNamingWhatIsMissing()
    {
        var error = Assert.Throws<DeviceUnavailableException>(() => Tensor.Zeros([2], device: Device.Cuda(0)));
        Assert.StartsWith("device cuda:0 is not available: ", error.Message);
        // Either the driver library is missing or the build has no CUDA kernels: the message says which.
        Assert.True(error.Message.Contains("libcuda.so.1") || error.Message.Contains("nvcuda.dll"), error.Message);
        Assert.DoesNotContain("\n", error.Message);
        Assert.Equal(Device.Cuda(0), error.Device);
    }

    [WithoutCudaFact]
    public void MovingATensorToAMissingDeviceFailsTheSameWay()
    {
        Assert.Throws<DeviceUnavailableException>(() => Tensor.Ones([2]).To(Device.Cuda(0)));
    }

    [WithoutCudaFact]
    public void ModuleToAMissingDeviceMovesNothing()
    {
        var layer = new Linear(3, 2, new Generator(1));
        Assert.Throws<DeviceUnavailableException>(() => layer.To(Device.Cuda(0)));
        Assert.All(layer.Parameters(), p => Assert.Equal(Device.Cpu, p.Device));
    }

    [Fact]
    public void ModuleToItsOwnDeviceKeepsTheTensorObjects()
    {
        var layer = new Linear(3, 2, new Generator(1));
        var weight = layer.Weight;
        Assert.Same(layer, layer.To(Device.Cpu));
        Assert.Same(weight, layer.Weight);
        Assert.Equal(Device.Cpu, layer.Weight.Device);
    }

    [Theory, OnCpu, OnCuda]
    public void OpsRunOnTheirInputsDeviceAndRefuseAnother(DeviceKind kind)
    {
        // Only two devices can disagree; with one device the check is exercised through the message of a mixed pair below.
        var device = TestDevices.Of(kind);
        var x = Tensor.Arange(4, DType.Float32, device);
        Assert.Equal(device, (x + x).Device);
        Assert.Equal(device, x.IndexSelect(0, Tensor.Arange(2, device: device)).Device);
        if (BackendRegistry.AvailableDevices().Count < 2) return;
        var other = BackendRegistry.AvailableDevices().First(d => d != device);
        var error = Assert.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.Arange(2, device: other)));
        Assert.Contains("index_select", error.Message);
        Assert.Contains(other.ToString(), error.Message);
    }

    [Fact]
    public void ThereIsOneCpuDevice()
    {
        Assert.Equal(Device.Cpu, BackendRegistry.AvailableDevices()[0]);
        var error = Assert.Throws<DeviceUnavailableException>(() => BackendRegistry.For(new Device(DeviceKind.Cpu, 1)));
        Assert.Contains("index 0", error.Message);
    }
}
