using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ScratchDetect.Engine.Cuda.Kernels;

namespace ScratchDetect.Engine.Cuda.Tests;

/// <summary>
/// Every kernel compiles to PTX for the H200 (sm_90) without a GPU: ILGPU's PTX backend runs on
/// any machine. This catches what the CPU accelerator forgives (a math function without a PTX
/// intrinsic, a managed allocation, an exception) before the code ever meets a GPU.
/// </summary>
public class KernelCompileTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var method in AllKernels()) data.Add($"{method.DeclaringType!.Name}.{method.Name}");
        return data;
    }

    private static IEnumerable<MethodInfo> AllKernels() => typeof(DeviceKernels).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
        .Where(m => m.GetCustomAttribute<DeviceKernelAttribute>() is not null);

    [Fact]
    public void The_catalog_holds_every_kernel_family() =>
        Assert.True(AllKernels().Select(m => m.DeclaringType).Distinct().Count() >= 7, "expected the elementwise, reduction, softmax, loss, resample, RoI, box and sort kernels");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_ptx_for_sm_90(string name)
    {
        var method = AllKernels().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        bool grouped = method.GetCustomAttribute<DeviceKernelAttribute>()!.Grouped;
        using var context = KernelContext.Create();
        var architecture = CudaArchitecture.SM_90;
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, nvvmAPI: null!);
        var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
        Assert.Contains(".entry", compiled.PTXAssembly);
        Assert.Contains(".target sm_", compiled.PTXAssembly);
    }
}
