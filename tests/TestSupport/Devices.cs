using System.Reflection;
using ScratchDetect.Engine.Backends;
using Xunit.Sdk;

namespace ScratchDetect.Engine;

// Device-parameterised tests, as candle's test_device!: one test body takes a DeviceKind and is run
// once per device by stacking the data attributes: [Theory, OnCpu, OnCuda]. A theory that also has
// cases names their member, [Theory, OnCpu(nameof(Cases)), OnCuda(nameof(Cases))]: every row of
// the member is run once per device, with the DeviceKind as the last argument. The CUDA rows are
// reported as skipped, with the registry's reason, where no CUDA backend can be created.

/// <summary>Runs a device-parameterised theory on the CPU: alone, or crossed with the rows of a static member.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OnCpuAttribute : DataAttribute
{
    private readonly string? memberName;

    /// <summary>One row: the CPU.</summary>
    public OnCpuAttribute() { }

    /// <summary>Every row of the static member <paramref name="memberName"/> (as MemberData), with the CPU appended.</summary>
    public OnCpuAttribute(string memberName) => this.memberName = memberName;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => TestDevices.Rows(memberName, testMethod, DeviceKind.Cpu);
}

/// <summary>Runs a device-parameterised theory on CUDA device 0 (alone, or crossed with a member's rows), or reports its rows skipped and why.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OnCudaAttribute : DataAttribute
{
    private readonly string? memberName;

    /// <summary>One row: cuda:0.</summary>
    public OnCudaAttribute() : this(null) { }

    /// <summary>Every row of the static member <paramref name="memberName"/> (as MemberData), with cuda:0 appended.</summary>
    public OnCudaAttribute(string? memberName)
    {
        this.memberName = memberName;
        if (!BackendRegistry.IsAvailable(Engine.Device.Cuda(0), out var reason)) Skip = $"cuda:0 is not available: {reason}";
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => TestDevices.Rows(memberName, testMethod, DeviceKind.Cuda);
}

/// <summary>A fact about the not-available path, skipped where a CUDA backend exists.</summary>
internal sealed class WithoutCudaFactAttribute : Xunit.FactAttribute
{
    public WithoutCudaFactAttribute()
    {
        if (BackendRegistry.IsAvailable(Engine.Device.Cuda(0), out _)) Skip = "a CUDA backend is available here, so its absence cannot be tested";
    }
}

/// <summary>Turns the data rows of <see cref="OnCpuAttribute"/> and <see cref="OnCudaAttribute"/> into devices, and puts test inputs there.</summary>
internal static class TestDevices
{
    public static Device Of(DeviceKind kind) => kind == DeviceKind.Cpu ? Device.Cpu : Device.Cuda(0);

    /// <summary>
    /// <paramref name="tensor"/> on <paramref name="device"/> as a leaf of its own, for a test's
    /// inputs: the tensor itself when it is already there (no copy on the CPU), and a leaf that
    /// requires grad where the host tensor did (To(device) alone would give a non-leaf).
    /// </summary>
    public static Tensor Put(Tensor tensor, Device device)
    {
        if (tensor.Device == device) return tensor;
        var moved = tensor.Detach().To(device);
        return tensor.RequiresGrad ? moved.RequireGrad() : moved;
    }

    /// <summary>The rows of a device attribute: the device alone, or each row of the member with the device appended.</summary>
    internal static IEnumerable<object[]> Rows(string? memberName, MethodInfo testMethod, DeviceKind kind) =>
        memberName is null ? [[kind]] : new MemberDataAttribute(memberName).GetData(testMethod).Select(row => (object[])[.. row, kind]);
}
