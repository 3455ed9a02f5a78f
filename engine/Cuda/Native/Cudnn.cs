using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Cuda.Native;

/// <summary>cudnnDataType_t values the backend uses.</summary>
public enum CudnnDataType
{
    /// <summary>CUDNN_DATA_FLOAT</summary>
    Float = 0,
    /// <summary>CUDNN_DATA_DOUBLE</summary>
    Double = 1,
}

/// <summary>cudnnConvolutionMode_t: cross-correlation is what deep-learning "convolution" means.</summary>
public enum CudnnConvolutionMode
{
    /// <summary>CUDNN_CONVOLUTION: the kernel is flipped.</summary>
    Convolution = 0,
    /// <summary>CUDNN_CROSS_CORRELATION: as PyTorch's conv2d.</summary>
    CrossCorrelation = 1,
}

/// <summary>cudnnMathType_t.</summary>
public enum CudnnMathType
{
    /// <summary>CUDNN_DEFAULT_MATH: tensor cores (TF32 for float32 on Ampere and later) allowed, PyTorch's default for convolutions (torch.backends.cudnn.allow_tf32 = True).</summary>
    Default = 0,
    /// <summary>CUDNN_TENSOR_OP_MATH</summary>
    TensorOp = 1,
    /// <summary>CUDNN_FMA_MATH: plain float32 FMA, no TF32.</summary>
    Fma = 3,
}

/// <summary>cudnnPoolingMode_t.</summary>
public enum CudnnPoolingMode
{
    /// <summary>CUDNN_POOLING_MAX</summary>
    Max = 0,
    /// <summary>CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING</summary>
    AverageIncludePadding = 1,
    /// <summary>CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING</summary>
    AverageExcludePadding = 2,
    /// <summary>CUDNN_POOLING_MAX_DETERMINISTIC</summary>
    MaxDeterministic = 3,
}

/// <summary>cudnnActivationMode_t values the backend uses.</summary>
public enum CudnnActivationMode
{
    /// <summary>CUDNN_ACTIVATION_RELU</summary>
    Relu = 1,
    /// <summary>CUDNN_ACTIVATION_IDENTITY (only with the fused convolution)</summary>
    Identity = 5,
}

/// <summary>cudnnSoftmaxAlgorithm_t.</summary>
public enum CudnnSoftmaxAlgorithm
{
    /// <summary>CUDNN_SOFTMAX_ACCURATE: the maximum is subtracted first.</summary>
    Accurate = 1,
    /// <summary>CUDNN_SOFTMAX_LOG: log-softmax.</summary>
    Log = 2,
}

/// <summary>cudnnSoftmaxMode_t.</summary>
public enum CudnnSoftmaxMode
{
    /// <summary>CUDNN_SOFTMAX_MODE_INSTANCE: over C·H·W of each image.</summary>
    Instance = 0,
    /// <summary>CUDNN_SOFTMAX_MODE_CHANNEL: over C at every (n, h, w).</summary>
    Channel = 1,
}

/// <summary>cudnnBatchNormMode_t.</summary>
public enum CudnnBatchNormMode
{
    /// <summary>CUDNN_BATCHNORM_PER_ACTIVATION</summary>
    PerActivation = 0,
    /// <summary>CUDNN_BATCHNORM_SPATIAL: one mean and variance per channel, as BatchNorm2d.</summary>
    Spatial = 1,
}

/// <summary>
/// One result of a cudnnFind*Algorithm*Ex search: cudnnConvolutionFwdAlgoPerf_t (the backward-data
/// and backward-filter structs have the same layout): algo, status, time (ms), memory (bytes),
/// determinism, mathType, reserved[3]; 48 bytes on 64-bit.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct CudnnAlgorithmPerformance
{
    /// <summary>The algorithm's enum value.</summary>
    public int Algorithm;
    /// <summary>CUDNN_STATUS_SUCCESS when the algorithm ran.</summary>
    public int Status;
    /// <summary>Measured time in milliseconds.</summary>
    public float TimeMs;
    /// <summary>Workspace bytes it needs.</summary>
    public nuint Memory;
    /// <summary>cudnnDeterminism_t: 1 when deterministic.</summary>
    public int Determinism;
    /// <summary>cudnnMathType_t it used.</summary>
    public int MathType;
    private fixed int reserved[3];
}

/// <summary>
/// The cuDNN 9 entry points the backend uses (the legacy descriptor API of cudnn_ops.h and
/// cudnn_cnn.h, which libcudnn.so.9 exports and forwards to its sub-libraries), and nothing else.
/// Every call returns a cudnnStatus_t; pass it to <see cref="CudaStatus.CheckCudnn"/> with the
/// entry point's name. alpha and beta point to host floats (doubles for double data).
/// Tensors are NCHW (cudnnTensorFormat_t 0).
/// </summary>
internal static unsafe partial class Cudnn
{
    private const string Library = "cudnn";

    /// <summary>CUDNN_TENSOR_NCHW.</summary>
    internal const int Nchw = 0;

    static Cudnn() => CudaLibraryResolver.InstallImportResolver();

    [LibraryImport(Library, EntryPoint = "cudnnGetVersion")]
    internal static partial nuint GetVersion();

    [LibraryImport(Library, EntryPoint = "cudnnCreate")]
    internal static partial int Create(out IntPtr handle);

    [LibraryImport(Library, EntryPoint = "cudnnDestroy")]
    internal static partial int Destroy(IntPtr handle);

    [LibraryImport(Library, EntryPoint = "cudnnSetStream")]
    internal static partial int SetStream(IntPtr handle, IntPtr stream);

    // ---- tensor and filter descriptors ----------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnCreateTensorDescriptor")]
    internal static partial int CreateTensorDescriptor(out IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnSetTensor4dDescriptor")]
    internal static partial int SetTensor4dDescriptor(IntPtr descriptor, int format, CudnnDataType dataType, int n, int c, int h, int w);

    [LibraryImport(Library, EntryPoint = "cudnnDestroyTensorDescriptor")]
    internal static partial int DestroyTensorDescriptor(IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnCreateFilterDescriptor")]
    internal static partial int CreateFilterDescriptor(out IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnSetFilter4dDescriptor")]
    internal static partial int SetFilter4dDescriptor(IntPtr descriptor, CudnnDataType dataType, int format, int k, int c, int h, int w);

    [LibraryImport(Library, EntryPoint = "cudnnDestroyFilterDescriptor")]
    internal static partial int DestroyFilterDescriptor(IntPtr descriptor);

    // ---- convolution ----------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnCreateConvolutionDescriptor")]
    internal static partial int CreateConvolutionDescriptor(out IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnSetConvolution2dDescriptor")]
    internal static partial int SetConvolution2dDescriptor(IntPtr descriptor, int padH, int padW, int strideH, int strideW,
        int dilationH, int dilationW, CudnnConvolutionMode mode, CudnnDataType computeType);

    [LibraryImport(Library, EntryPoint = "cudnnSetConvolutionGroupCount")]
    internal static partial int SetConvolutionGroupCount(IntPtr descriptor, int groups);

    [LibraryImport(Library, EntryPoint = "cudnnSetConvolutionMathType")]
    internal static partial int SetConvolutionMathType(IntPtr descriptor, CudnnMathType mathType);

    [LibraryImport(Library, EntryPoint = "cudnnGetConvolution2dForwardOutputDim")]
    internal static partial int GetConvolution2dForwardOutputDim(IntPtr convolution, IntPtr input, IntPtr filter, out int n, out int c, out int h, out int w);

    [LibraryImport(Library, EntryPoint = "cudnnDestroyConvolutionDescriptor")]
    internal static partial int DestroyConvolutionDescriptor(IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnFindConvolutionForwardAlgorithmEx")]
    internal static partial int FindConvolutionForwardAlgorithmEx(IntPtr handle, IntPtr xDesc, IntPtr x, IntPtr wDesc, IntPtr w,
        IntPtr convDesc, IntPtr yDesc, IntPtr y, int requestedCount, out int returnedCount, CudnnAlgorithmPerformance* results,
        IntPtr workspace, nuint workspaceBytes);

    [LibraryImport(Library, EntryPoint = "cudnnFindConvolutionBackwardDataAlgorithmEx")]
    internal static partial int FindConvolutionBackwardDataAlgorithmEx(IntPtr handle, IntPtr wDesc, IntPtr w, IntPtr dyDesc, IntPtr dy,
        IntPtr convDesc, IntPtr dxDesc, IntPtr dx, int requestedCount, out int returnedCount, CudnnAlgorithmPerformance* results,
        IntPtr workspace, nuint workspaceBytes);

    [LibraryImport(Library, EntryPoint = "cudnnFindConvolutionBackwardFilterAlgorithmEx")]
    internal static partial int FindConvolutionBackwardFilterAlgorithmEx(IntPtr handle, IntPtr xDesc, IntPtr x, IntPtr dyDesc, IntPtr dy,
        IntPtr convDesc, IntPtr dwDesc, IntPtr dw, int requestedCount, out int returnedCount, CudnnAlgorithmPerformance* results,
        IntPtr workspace, nuint workspaceBytes);

    [LibraryImport(Library, EntryPoint = "cudnnConvolutionForward")]
    internal static partial int ConvolutionForward(IntPtr handle, void* alpha, IntPtr xDesc, IntPtr x, IntPtr wDesc, IntPtr w,
        IntPtr convDesc, int algorithm, IntPtr workspace, nuint workspaceBytes, void* beta, IntPtr yDesc, IntPtr y);

    [LibraryImport(Library, EntryPoint = "cudnnConvolutionBackwardData")]
    internal static partial int ConvolutionBackwardData(IntPtr handle, void* alpha, IntPtr wDesc, IntPtr w, IntPtr dyDesc, IntPtr dy,
        IntPtr convDesc, int algorithm, IntPtr workspace, nuint workspaceBytes, void* beta, IntPtr dxDesc, IntPtr dx);

    [LibraryImport(Library, EntryPoint = "cudnnConvolutionBackwardFilter")]
    internal static partial int ConvolutionBackwardFilter(IntPtr handle, void* alpha, IntPtr xDesc, IntPtr x, IntPtr dyDesc, IntPtr dy,
        IntPtr convDesc, int algorithm, IntPtr workspace, nuint workspaceBytes, void* beta, IntPtr dwDesc, IntPtr dw);

    [LibraryImport(Library, EntryPoint = "cudnnConvolutionBackwardBias")]
    internal static partial int ConvolutionBackwardBias(IntPtr handle, void* alpha, IntPtr dyDesc, IntPtr dy, void* beta, IntPtr dbDesc, IntPtr db);

    [LibraryImport(Library, EntryPoint = "cudnnConvolutionBiasActivationForward")]
    internal static partial int ConvolutionBiasActivationForward(IntPtr handle, void* alpha1, IntPtr xDesc, IntPtr x, IntPtr wDesc, IntPtr w,
        IntPtr convDesc, int algorithm, IntPtr workspace, nuint workspaceBytes, void* alpha2, IntPtr zDesc, IntPtr z,
        IntPtr biasDesc, IntPtr bias, IntPtr activationDesc, IntPtr yDesc, IntPtr y);

    [LibraryImport(Library, EntryPoint = "cudnnAddTensor")]
    internal static partial int AddTensor(IntPtr handle, void* alpha, IntPtr aDesc, IntPtr a, void* beta, IntPtr cDesc, IntPtr c);

    // ---- activation (for the fused convolution) -------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnCreateActivationDescriptor")]
    internal static partial int CreateActivationDescriptor(out IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnSetActivationDescriptor")]
    internal static partial int SetActivationDescriptor(IntPtr descriptor, CudnnActivationMode mode, int nanPropagation, double coefficient);

    [LibraryImport(Library, EntryPoint = "cudnnDestroyActivationDescriptor")]
    internal static partial int DestroyActivationDescriptor(IntPtr descriptor);

    // ---- pooling --------------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnCreatePoolingDescriptor")]
    internal static partial int CreatePoolingDescriptor(out IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnSetPooling2dDescriptor")]
    internal static partial int SetPooling2dDescriptor(IntPtr descriptor, CudnnPoolingMode mode, int nanPropagation,
        int windowH, int windowW, int padH, int padW, int strideH, int strideW);

    [LibraryImport(Library, EntryPoint = "cudnnDestroyPoolingDescriptor")]
    internal static partial int DestroyPoolingDescriptor(IntPtr descriptor);

    [LibraryImport(Library, EntryPoint = "cudnnPoolingForward")]
    internal static partial int PoolingForward(IntPtr handle, IntPtr poolingDesc, void* alpha, IntPtr xDesc, IntPtr x, void* beta, IntPtr yDesc, IntPtr y);

    [LibraryImport(Library, EntryPoint = "cudnnPoolingBackward")]
    internal static partial int PoolingBackward(IntPtr handle, IntPtr poolingDesc, void* alpha, IntPtr yDesc, IntPtr y, IntPtr dyDesc, IntPtr dy,
        IntPtr xDesc, IntPtr x, void* beta, IntPtr dxDesc, IntPtr dx);

    // ---- batch norm -----------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnDeriveBNTensorDescriptor")]
    internal static partial int DeriveBatchNormTensorDescriptor(IntPtr derivedDesc, IntPtr xDesc, CudnnBatchNormMode mode);

    [LibraryImport(Library, EntryPoint = "cudnnBatchNormalizationForwardTraining")]
    internal static partial int BatchNormalizationForwardTraining(IntPtr handle, CudnnBatchNormMode mode, void* alpha, void* beta,
        IntPtr xDesc, IntPtr x, IntPtr yDesc, IntPtr y, IntPtr scaleBiasMeanVarDesc, IntPtr scale, IntPtr bias,
        double exponentialAverageFactor, IntPtr runningMean, IntPtr runningVariance, double epsilon, IntPtr saveMean, IntPtr saveInvVariance);

    [LibraryImport(Library, EntryPoint = "cudnnBatchNormalizationForwardInference")]
    internal static partial int BatchNormalizationForwardInference(IntPtr handle, CudnnBatchNormMode mode, void* alpha, void* beta,
        IntPtr xDesc, IntPtr x, IntPtr yDesc, IntPtr y, IntPtr scaleBiasMeanVarDesc, IntPtr scale, IntPtr bias,
        IntPtr estimatedMean, IntPtr estimatedVariance, double epsilon);

    [LibraryImport(Library, EntryPoint = "cudnnBatchNormalizationBackward")]
    internal static partial int BatchNormalizationBackward(IntPtr handle, CudnnBatchNormMode mode, void* alphaDataDiff, void* betaDataDiff,
        void* alphaParamDiff, void* betaParamDiff, IntPtr xDesc, IntPtr x, IntPtr dyDesc, IntPtr dy, IntPtr dxDesc, IntPtr dx,
        IntPtr scaleBiasDiffDesc, IntPtr scale, IntPtr resultScaleDiff, IntPtr resultBiasDiff, double epsilon, IntPtr savedMean, IntPtr savedInvVariance);

    // ---- softmax --------------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cudnnSoftmaxForward")]
    internal static partial int SoftmaxForward(IntPtr handle, CudnnSoftmaxAlgorithm algorithm, CudnnSoftmaxMode mode, void* alpha,
        IntPtr xDesc, IntPtr x, void* beta, IntPtr yDesc, IntPtr y);

    [LibraryImport(Library, EntryPoint = "cudnnSoftmaxBackward")]
    internal static partial int SoftmaxBackward(IntPtr handle, CudnnSoftmaxAlgorithm algorithm, CudnnSoftmaxMode mode, void* alpha,
        IntPtr yDesc, IntPtr y, IntPtr dyDesc, IntPtr dy, void* beta, IntPtr dxDesc, IntPtr dx);
}
