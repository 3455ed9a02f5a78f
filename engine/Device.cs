namespace ScratchDetect.Engine;

/// <summary>The kinds of device a tensor can live on.</summary>
public enum DeviceKind
{
    /// <summary>Main memory, computed by the CPU backend.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU, computed by the CUDA backend.</summary>
    Cuda,
}

/// <summary>A device: a kind and, for GPUs, an ordinal.</summary>
/// <param name="Kind">CPU or CUDA.</param>
/// <param name="Index">GPU ordinal; 0 for the CPU.</param>
public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static Device Cpu => new(DeviceKind.Cpu);

    /// <summary>The GPU with the given ordinal.</summary>
    public static Device Cuda(int index = 0) => new(DeviceKind.Cuda, index);

    /// <summary>"cpu" or "cuda:N", as PyTorch writes devices.</summary>
    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Index}";
}
