using System.Reflection;
using ScratchDetect.Engine.Backends;
using Xunit.Sdk;

namespace ScratchDetect.Engine;

// Device-parameterised tests, as candle's test_device!: one test body takes a DeviceKind and is run
// once per device by stacking the data attributes: [Theory, OnCpu, OnCuda]. The CUDA row is
// reported as skipped, with the registry's reason, where no CUDA backend can be created.

/// <summary>Runs a device-parameterised theory on the CPU.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OnCpuAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DeviceKind.Cpu]];
}

/// <summary>Runs a device-parameterised theory on CUDA device 0, or reports it skipped and why.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OnCudaAttribute : DataAttribute
{
    public OnCudaAttribute()
    {
        if (!BackendRegistry.IsAvailable(Engine.Device.Cuda(0), out var reason)) Skip = $"cuda:0 is not available: {reason}";
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DeviceKind.Cuda]];
}

/// <summary>A fact about the not-available path, skipped where a CUDA backend exists.</summary>
internal sealed class WithoutCudaFactAttribute : Xunit.FactAttribute
{
    public WithoutCudaFactAttribute()
    {
        if (BackendRegistry.IsAvailable(Engine.Device.Cuda(0), out _)) Skip = "a CUDA backend is available here, so its absence cannot be tested";
    }
}

/// <summary>Turns the data rows of <see cref="OnCpuAttribute"/> and <see cref="OnCudaAttribute"/> into devices.</summary>
internal static class TestDevices
{
    public static Device Of(DeviceKind kind) => kind == DeviceKind.Cpu ? Device.Cpu : Device.Cuda(0);
}
