using System.Collections.Concurrent;
using ScratchDetect.Engine.Backends.Cpu;
using ScratchDetect.Engine.Backends.Cuda;

namespace ScratchDetect.Engine.Backends;

/// <summary>
/// Finds the backend that computes on a device: the one place that maps a <see cref="Device"/> to
/// its <see cref="IBackend"/>. Tensor creation (<see cref="Tensor.Zeros"/>, <see cref="Tensor.FromArray{T}(T[], int[], Device)"/>,
/// ...) and <see cref="Tensor.To(Device)"/> ask here; ops then follow their inputs' backend.
/// </summary>
public static class BackendRegistry
{
    private static readonly ConcurrentDictionary<int, IBackend> CudaBackends = new();

    /// <summary>The backend of <paramref name="device"/>, or a <see cref="DeviceUnavailableException"/> saying in one sentence why there is none.</summary>
    public static IBackend For(Device device)
    {
        if (TryGet(device, out var backend, out var reason)) return backend;
        throw new DeviceUnavailableException(device, reason);
    }

    /// <summary>Whether <paramref name="device"/> can compute here; when not, <paramref name="reason"/> says what is missing.</summary>
    public static bool IsAvailable(Device device, out string reason) => TryGet(device, out _, out reason);

    /// <summary>The CPU and every CUDA device whose backend can be created here, in that order (for tests that run once per device).</summary>
    public static IReadOnlyList<Device> AvailableDevices()
    {
        var devices = new List<Device> { Device.Cpu };
        for (int index = 0; IsAvailable(Device.Cuda(index), out _); index++) devices.Add(Device.Cuda(index));
        return devices;
    }

    private static bool TryGet(Device device, out IBackend backend, out string reason)
    {
        reason = "";
        switch (device.Kind)
        {
            case DeviceKind.Cpu when device.Index == 0:
                backend = CpuBackend.Instance;
                return true;
            case DeviceKind.Cpu:
                reason = $"there is one CPU device, cpu (index 0), not index {device.Index}";
                break;
            case DeviceKind.Cuda when device.Index < 0:
                reason = $"a CUDA device index must be 0 or more, not {device.Index}";
                break;
            case DeviceKind.Cuda:
                if (CudaBackends.TryGetValue(device.Index, out var cached))
                {
                    backend = cached;
                    return true;
                }
                if (CudaBackendEntry.TryCreate(device.Index, out var created, out reason))
                {
                    backend = CudaBackends.GetOrAdd(device.Index, created);
                    return true;
                }
                break;
            default:
                reason = $"unknown device kind {device.Kind}";
                break;
        }
        backend = null!;
        return false;
    }
}

/// <summary>A tensor was asked for on a device that this machine or build cannot compute on; the message says what is missing.</summary>
public sealed class DeviceUnavailableException(Device device, string reason)
    : InvalidOperationException($"device {device} is not available: {reason}")
{
    /// <summary>The device that was asked for.</summary>
    public Device Device { get; } = device;
}
