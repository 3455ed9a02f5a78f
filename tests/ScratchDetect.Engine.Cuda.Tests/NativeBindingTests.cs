using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Tests;

public class NativeBindingTests
{
    [Fact]
    public void Candidates_try_every_folder_of_the_variable_with_each_name_then_the_bare_names()
    {
        var folders = string.Join(Path.PathSeparator, "/opt/a", " /opt/b ", "");
        var candidates = CudaLibraryResolver.Candidates(CudaLibrary.Cublas, folders);
        string[] names = OperatingSystem.IsWindows() ? ["cublas64_13.dll", "cublas64_12.dll"] : ["libcublas.so.13", "libcublas.so.12"];
        Assert.Equal(
            [Path.Combine("/opt/a", names[0]), Path.Combine("/opt/a", names[1]), Path.Combine("/opt/b", names[0]), Path.Combine("/opt/b", names[1]), names[0], names[1]],
            candidates);
        Assert.Equal(names, CudaLibraryResolver.Candidates(CudaLibrary.Cublas, null));
    }

    [Fact]
    public void Resolve_takes_the_first_candidate_that_loads_and_stops_there()
    {
        var tried = new List<string>();
        var handle = CudaLibraryResolver.Resolve(CudaLibrary.Cudnn, "/site/nvidia/cudnn/lib", path =>
        {
            tried.Add(path);
            return path == CudaLibrary.Cudnn.FileNames[0] ? 42 : IntPtr.Zero; // the folder copy is missing, the system one loads
        });
        Assert.Equal(42, handle);
        Assert.Equal([Path.Combine("/site/nvidia/cudnn/lib", CudaLibrary.Cudnn.FileNames[0]), CudaLibrary.Cudnn.FileNames[0]], tried);
    }

    [Fact]
    public void A_missing_library_is_one_line_naming_it_the_files_tried_and_the_variable()
    {
        var error = Assert.Throws<CudaUnavailableException>(() => CudaLibraryResolver.Resolve(CudaLibrary.Cublas, "/nowhere", _ => IntPtr.Zero));
        Assert.Same(CudaLibrary.Cublas, error.Library);
        Assert.DoesNotContain('\n', error.Message);
        Assert.StartsWith("CUDA not available: cuBLAS could not be loaded", error.Message);
        foreach (var name in CudaLibrary.Cublas.FileNames) Assert.Contains(name, error.Message);
        Assert.Contains($"{CudaLibraryResolver.FolderVariable}=/nowhere", error.Message);
    }

    [Theory]
    [InlineData("runtime", 2, "cudaErrorMemoryAllocation")]
    [InlineData("runtime", 100, "cudaErrorNoDevice")]
    [InlineData("runtime", 12345, "cudaError 12345")]
    [InlineData("cublas", 7, "CUBLAS_STATUS_INVALID_VALUE")]
    [InlineData("cublas", 13, "CUBLAS_STATUS_EXECUTION_FAILED")]
    [InlineData("cudnn", 2000, "CUDNN_STATUS_BAD_PARAM")]
    [InlineData("cudnn", 3007, "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH")]
    [InlineData("cudnn", 1001, "CUDNN_STATUS_NOT_INITIALIZED")]
    [InlineData("cudnn", 3999, "CUDNN_STATUS_NOT_SUPPORTED (detail 999)")]
    [InlineData("cudnn", 9, "cudnnStatus 9")]
    public void Failure_statuses_become_exceptions_naming_the_call_and_the_status(string library, int status, string expectedName)
    {
        Action<int, string> check = library switch
        {
            "runtime" => CudaStatus.CheckRuntime,
            "cublas" => CudaStatus.CheckCublas,
            _ => CudaStatus.CheckCudnn,
        };
        var error = Assert.Throws<CudaCallException>(() => check(status, "someCall"));
        Assert.Equal($"someCall failed: {expectedName} ({status})", error.Message);
        Assert.Equal(expectedName, error.StatusName);
        check(0, "someCall"); // success passes silently
    }

    [Fact]
    public void The_algorithm_performance_struct_has_cudnns_layout()
    {
        // cudnnConvolutionFwdAlgoPerf_t: int algo, int status, float time, (4 bytes padding) size_t memory,
        // int determinism, int mathType, int reserved[3], (4 bytes padding) = 48 bytes, memory at offset 16.
        Assert.Equal(48, Unsafe.SizeOf<CudnnAlgorithmPerformance>());
        Assert.Equal(16, (int)Marshal.OffsetOf<CudnnAlgorithmPerformance>(nameof(CudnnAlgorithmPerformance.Memory)));
    }

    [Fact]
    public void Every_binding_is_a_library_import_of_one_of_the_three_libraries()
    {
        var assembly = typeof(CudaLibraryResolver).Assembly;
        var imports = assembly.GetTypes()
            .Where(t => t.Namespace == typeof(CudaLibraryResolver).Namespace)
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Select(m => m.GetCustomAttribute<LibraryImportAttribute>())
            .OfType<LibraryImportAttribute>()
            .ToList();
        Assert.True(imports.Count >= 50, $"expected the cuBLAS, cuDNN and runtime entry points, found {imports.Count}");
        Assert.All(imports, i => Assert.Contains(i.LibraryName, CudaLibrary.All.Select(l => l.ImportName)));
        Assert.Contains(imports, i => i.EntryPoint == "cublasSgemmStridedBatched");
        Assert.Contains(imports, i => i.EntryPoint == "cudnnFindConvolutionBackwardFilterAlgorithmEx");
        Assert.Contains(imports, i => i.EntryPoint == "cudnnBatchNormalizationBackward");
    }
}

public class MissingLibraryTests
{
    [Fact]
    public void Calling_a_binding_without_its_library_throws_the_one_line_message()
    {
        var environment = Environment.GetEnvironmentVariable(CudaLibraryResolver.FolderVariable);
        try
        {
            CudaLibraryResolver.Load(CudaLibrary.Cublas);
            return; // this machine has cuBLAS: the GPU run covers the loaded path
        }
        catch (CudaUnavailableException)
        {
        }
        // The [LibraryImport] name "cublas" goes through the resolver, which names what is missing.
        var error = Assert.Throws<CudaUnavailableException>(() => new Blas.CublasGemm(IntPtr.Zero).Dispose());
        Assert.Equal(CudaLibraryResolver.MissingMessage(CudaLibrary.Cublas, environment), error.Message);
    }
}
