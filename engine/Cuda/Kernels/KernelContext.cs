using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ScratchDetect.Engine.Cuda.Kernels;

/// <summary>The ILGPU context our kernels need: CUDA and CPU accelerators, with ILGPU.Algorithms' math intrinsics (exp, log, tanh, ...), which the PTX backend otherwise lacks.</summary>
public static class KernelContext
{
    /// <summary>A new context; the caller disposes it.</summary>
    public static Context Create() => Context.Create(builder => builder.Cuda().CPU().EnableAlgorithms());
}
