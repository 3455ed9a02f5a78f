namespace ScratchDetect.Engine.Cuda.Native;

/// <summary>A CUDA library call returned a failure status; the message names the call and the status.</summary>
public sealed class CudaCallException : Exception
{
    /// <summary>Creates the exception for <paramref name="call"/> failing with <paramref name="statusName"/> (numeric <paramref name="status"/>).</summary>
    public CudaCallException(string call, int status, string statusName)
        : base($"{call} failed: {statusName} ({status})")
    {
        Call = call;
        Status = status;
        StatusName = statusName;
    }

    /// <summary>The entry point that failed, e.g. "cublasSgemm_v2".</summary>
    public string Call { get; }

    /// <summary>The numeric status code.</summary>
    public int Status { get; }

    /// <summary>The status as the library's header names it, e.g. "CUBLAS_STATUS_INVALID_VALUE".</summary>
    public string StatusName { get; }
}

/// <summary>
/// Status codes of the three libraries, by the names their headers give them (cuda_runtime_api.h /
/// driver_types.h, cublas_api.h, cudnn_graph.h of cuDNN 9), and the check every binding call goes through.
/// </summary>
public static class CudaStatus
{
    private static readonly Dictionary<int, string> RuntimeNames = new()
    {
        [0] = "cudaSuccess", [1] = "cudaErrorInvalidValue", [2] = "cudaErrorMemoryAllocation",
        [3] = "cudaErrorInitializationError", [4] = "cudaErrorCudartUnloading", [35] = "cudaErrorInsufficientDriver",
        [17] = "cudaErrorInvalidDevicePointer", [34] = "cudaErrorStubLibrary", [46] = "cudaErrorDevicesUnavailable",
        [100] = "cudaErrorNoDevice", [101] = "cudaErrorInvalidDevice", [209] = "cudaErrorNoKernelImageForDevice",
        [400] = "cudaErrorInvalidResourceHandle", [700] = "cudaErrorIllegalAddress", [701] = "cudaErrorLaunchOutOfResources",
        [719] = "cudaErrorLaunchFailure", [801] = "cudaErrorNotSupported", [999] = "cudaErrorUnknown",
    };

    private static readonly Dictionary<int, string> CublasNames = new()
    {
        [0] = "CUBLAS_STATUS_SUCCESS", [1] = "CUBLAS_STATUS_NOT_INITIALIZED", [3] = "CUBLAS_STATUS_ALLOC_FAILED",
        [7] = "CUBLAS_STATUS_INVALID_VALUE", [8] = "CUBLAS_STATUS_ARCH_MISMATCH", [11] = "CUBLAS_STATUS_MAPPING_ERROR",
        [13] = "CUBLAS_STATUS_EXECUTION_FAILED", [14] = "CUBLAS_STATUS_INTERNAL_ERROR", [15] = "CUBLAS_STATUS_NOT_SUPPORTED",
        [16] = "CUBLAS_STATUS_LICENSE_ERROR",
    };

    // cuDNN 9 codes are hierarchical: the thousands name the category, the rest the detail.
    private static readonly Dictionary<int, string> CudnnNames = new()
    {
        [0] = "CUDNN_STATUS_SUCCESS",
        [1001] = "CUDNN_STATUS_NOT_INITIALIZED",
        [1002] = "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
        [1003] = "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH",
        [1004] = "CUDNN_STATUS_DEPRECATED",
        [1005] = "CUDNN_STATUS_LICENSE_ERROR",
        [1006] = "CUDNN_STATUS_RUNTIME_IN_PROGRESS",
        [1007] = "CUDNN_STATUS_RUNTIME_FP_OVERFLOW",
        [1008] = "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED",
        [2000] = "CUDNN_STATUS_BAD_PARAM",
        [2001] = "CUDNN_STATUS_INVALID_VALUE",
        [2002] = "CUDNN_STATUS_BAD_PARAM_NULL_POINTER",
        [2003] = "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER",
        [2004] = "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED",
        [2005] = "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND",
        [2006] = "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT",
        [2007] = "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH",
        [2008] = "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH",
        [2009] = "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES",
        [2010] = "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE",
        [2011] = "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH",
        [2012] = "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE",
        [3000] = "CUDNN_STATUS_NOT_SUPPORTED",
        [3001] = "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN",
        [3002] = "CUDNN_STATUS_NOT_SUPPORTED_SHAPE",
        [3003] = "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE",
        [3004] = "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT",
        [3005] = "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
        [3006] = "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART",
        [3007] = "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
        [3008] = "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
        [3009] = "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
        [3010] = "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT",
        [3011] = "CUDNN_STATUS_NOT_SUPPORTED_PADDING",
        [3012] = "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM",
        [3013] = "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API",
        [3014] = "CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE",
        [4000] = "CUDNN_STATUS_INTERNAL_ERROR",
        [4001] = "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED",
        [4002] = "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE",
        [4003] = "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
        [4004] = "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
        [4005] = "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM",
        [4006] = "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED",
        [5000] = "CUDNN_STATUS_EXECUTION_FAILED",
        [5001] = "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER",
        [5002] = "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS",
        [5003] = "CUDNN_STATUS_EXECUTION_FAILED_CUDART",
        [5004] = "CUDNN_STATUS_EXECUTION_FAILED_CURAND",
    };

    private static readonly string[] CudnnCategories = ["CUDNN_STATUS_SUCCESS", "a CUDNN_STATUS_NOT_INITIALIZED-class status", "CUDNN_STATUS_BAD_PARAM",
        "CUDNN_STATUS_NOT_SUPPORTED", "CUDNN_STATUS_INTERNAL_ERROR", "CUDNN_STATUS_EXECUTION_FAILED"];

    /// <summary>The header name of a CUDA runtime error code (cudaError_t).</summary>
    public static string RuntimeName(int status) => RuntimeNames.TryGetValue(status, out var name) ? name : $"cudaError {status}";

    /// <summary>The header name of a cuBLAS status (cublasStatus_t).</summary>
    public static string CublasName(int status) => CublasNames.TryGetValue(status, out var name) ? name : $"cublasStatus {status}";

    /// <summary>The header name of a cuDNN 9 status (cudnnStatus_t); an unlisted detail code is named by its category.</summary>
    public static string CudnnName(int status)
    {
        if (CudnnNames.TryGetValue(status, out var name)) return name;
        int category = status / 1000;
        return category is > 0 and < 6 ? $"{CudnnCategories[category]} (detail {status % 1000})" : $"cudnnStatus {status}";
    }

    /// <summary>Throws <see cref="CudaCallException"/> naming <paramref name="call"/> unless the CUDA runtime status is cudaSuccess.</summary>
    public static void CheckRuntime(int status, string call) { if (status != 0) throw new CudaCallException(call, status, RuntimeName(status)); }

    /// <summary>Throws <see cref="CudaCallException"/> naming <paramref name="call"/> unless the cuBLAS status is CUBLAS_STATUS_SUCCESS.</summary>
    public static void CheckCublas(int status, string call) { if (status != 0) throw new CudaCallException(call, status, CublasName(status)); }

    /// <summary>Throws <see cref="CudaCallException"/> naming <paramref name="call"/> unless the cuDNN status is CUDNN_STATUS_SUCCESS.</summary>
    public static void CheckCudnn(int status, string call) { if (status != 0) throw new CudaCallException(call, status, CudnnName(status)); }
}
