namespace ScratchDetect.Engine.Cuda.Kernels;

/// <summary>
/// Marks a static method as an ILGPU kernel entry point, so the catalog test can compile every
/// kernel to PTX without a GPU. <see cref="Grouped"/> kernels are launched with an explicit
/// group size and use shared memory and barriers; the others are launched one thread per element.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class DeviceKernelAttribute(bool grouped = false) : Attribute
{
    /// <summary>Whether the kernel is explicitly grouped (takes no index parameter).</summary>
    public bool Grouped { get; } = grouped;
}
