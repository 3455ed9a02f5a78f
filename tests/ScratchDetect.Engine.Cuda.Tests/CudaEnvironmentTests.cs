using ScratchDetect.Engine.Cuda.Dnn;
using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Tests;

public class CudaEnvironmentTests
{
    [Fact]
    public void No_gpu_is_reported_before_any_library_is_looked_for()
    {
        var looked = new List<string>();
        var reason = CudaEnvironment.UnavailableReason(() => 0, library => { looked.Add(library.DisplayName); return null; });
        Assert.Equal("CUDA not available: no NVIDIA GPU found (the driver's libcuda.so.1 reports none, or is not installed)", reason);
        Assert.Empty(looked);
    }

    [Fact]
    public void The_first_missing_library_is_the_one_line_reason()
    {
        var looked = new List<string>();
        var reason = CudaEnvironment.UnavailableReason(() => 1, library =>
        {
            looked.Add(library.DisplayName);
            return library == CudaLibrary.Cublas ? CudaLibraryResolver.MissingMessage(library, null) : null;
        });
        Assert.Equal(["CUDA runtime", "cuBLAS"], looked); // stops at the first failure
        Assert.StartsWith("CUDA not available: cuBLAS could not be loaded", reason);
        Assert.DoesNotContain('\n', reason!);
    }

    [Fact]
    public void With_a_gpu_and_every_library_cuda_is_available() =>
        Assert.Null(CudaEnvironment.UnavailableReason(() => 2, _ => null));

    [Fact]
    public void The_real_check_on_this_machine_is_either_available_or_one_line()
    {
        var reason = CudaEnvironment.UnavailableReason();
        if (reason is null) return; // a GPU machine with the libraries
        Assert.StartsWith("CUDA not available: ", reason);
        Assert.DoesNotContain('\n', reason);
    }

    [Fact]
    public void Convolution_algorithms_are_searched_once_per_shape_and_pass()
    {
        var cache = new ConvolutionAlgorithmCache();
        var a = new ConvolutionPlan(new Nchw(2, 3, 8, 8), new Nchw(4, 3, 3, 3), new Nchw(2, 4, 8, 8), 1, 1, 1, 1, 1, 1, 1);
        var b = a with { Input = new Nchw(2, 3, 9, 9), Output = new Nchw(2, 4, 9, 9) };
        int searches = 0;
        ConvolutionAlgorithm Search() => new(++searches, 1024 * searches);
        for (int step = 0; step < 3; step++)
        {
            Assert.Equal(new ConvolutionAlgorithm(1, 1024), cache.GetOrSearch(a, ConvolutionPass.Forward, Search));
            Assert.Equal(new ConvolutionAlgorithm(2, 2048), cache.GetOrSearch(a, ConvolutionPass.BackwardData, Search));
            Assert.Equal(new ConvolutionAlgorithm(3, 3072), cache.GetOrSearch(b, ConvolutionPass.Forward, Search));
        }
        Assert.Equal(3, cache.Searches);
    }
}
