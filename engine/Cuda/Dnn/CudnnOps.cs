using ScratchDetect.Engine.Cuda.Memory;
using ScratchDetect.Engine.Cuda.Native;

namespace ScratchDetect.Engine.Cuda.Dnn;

/// <summary>
/// A cuDNN handle bound to one stream, running the engine's convolution, pooling, batch-norm and
/// softmax primitives on float32 NCHW device pointers. Convolution algorithms are searched once
/// per shape (<see cref="ConvolutionAlgorithmCache"/>); workspaces come from the caching allocator.
/// TF32 convolutions are allowed by default, as PyTorch's torch.backends.cudnn.allow_tf32 = True.
/// Descriptors are created per call and destroyed at once: they are host-side structs, cheap next
/// to the kernels they describe.
/// </summary>
public sealed unsafe class CudnnOps : IDisposable
{
    private IntPtr handle;
    private readonly IntPtr stream;
    private readonly CachingAllocator allocator;
    private readonly bool allowTf32;

    /// <summary>The largest workspace an algorithm search may use, in bytes.</summary>
    public long SearchWorkspaceLimit { get; init; } = 1L << 30;

    /// <summary>The per-shape algorithm choices.</summary>
    public ConvolutionAlgorithmCache Algorithms { get; } = new();

    /// <summary>Creates the handle on <paramref name="stream"/>.</summary>
    public CudnnOps(IntPtr stream, CachingAllocator allocator, bool allowTf32 = true)
    {
        this.stream = stream;
        this.allocator = allocator;
        this.allowTf32 = allowTf32;
        CudaStatus.CheckCudnn(Cudnn.Create(out handle), "cudnnCreate");
        CudaStatus.CheckCudnn(Cudnn.SetStream(handle, stream), "cudnnSetStream");
    }

    // ---- descriptors ----------------------------------------------------------------------------

    private sealed class Descriptors : IDisposable
    {
        private readonly List<(IntPtr Descriptor, Func<IntPtr, int> Destroy, string Name)> owned = [];

        public IntPtr Tensor(Nchw d)
        {
            CudaStatus.CheckCudnn(Cudnn.CreateTensorDescriptor(out var descriptor), "cudnnCreateTensorDescriptor");
            owned.Add((descriptor, Cudnn.DestroyTensorDescriptor, "cudnnDestroyTensorDescriptor"));
            CudaStatus.CheckCudnn(Cudnn.SetTensor4dDescriptor(descriptor, Cudnn.Nchw, CudnnDataType.Float, d.N, d.C, d.H, d.W), "cudnnSetTensor4dDescriptor");
            return descriptor;
        }

        public IntPtr Filter(Nchw d)
        {
            CudaStatus.CheckCudnn(Cudnn.CreateFilterDescriptor(out var descriptor), "cudnnCreateFilterDescriptor");
            owned.Add((descriptor, Cudnn.DestroyFilterDescriptor, "cudnnDestroyFilterDescriptor"));
            CudaStatus.CheckCudnn(Cudnn.SetFilter4dDescriptor(descriptor, CudnnDataType.Float, Cudnn.Nchw, d.N, d.C, d.H, d.W), "cudnnSetFilter4dDescriptor");
            return descriptor;
        }

        public IntPtr Convolution(ConvolutionPlan p, bool allowTf32)
        {
            CudaStatus.CheckCudnn(Cudnn.CreateConvolutionDescriptor(out var descriptor), "cudnnCreateConvolutionDescriptor");
            owned.Add((descriptor, Cudnn.DestroyConvolutionDescriptor, "cudnnDestroyConvolutionDescriptor"));
            CudaStatus.CheckCudnn(Cudnn.SetConvolution2dDescriptor(descriptor, p.PadH, p.PadW, p.StrideH, p.StrideW, p.DilationH, p.DilationW,
                CudnnConvolutionMode.CrossCorrelation, CudnnDataType.Float), "cudnnSetConvolution2dDescriptor");
            CudaStatus.CheckCudnn(Cudnn.SetConvolutionGroupCount(descriptor, p.Groups), "cudnnSetConvolutionGroupCount");
            CudaStatus.CheckCudnn(Cudnn.SetConvolutionMathType(descriptor, allowTf32 ? CudnnMathType.Default : CudnnMathType.Fma), "cudnnSetConvolutionMathType");
            return descriptor;
        }

        public IntPtr Pooling(MaxPoolingPlan p)
        {
            CudaStatus.CheckCudnn(Cudnn.CreatePoolingDescriptor(out var descriptor), "cudnnCreatePoolingDescriptor");
            owned.Add((descriptor, Cudnn.DestroyPoolingDescriptor, "cudnnDestroyPoolingDescriptor"));
            // NaN propagates, as torch's max pooling lets a NaN win.
            CudaStatus.CheckCudnn(Cudnn.SetPooling2dDescriptor(descriptor, CudnnPoolingMode.Max, 1, p.WindowH, p.WindowW, p.PadH, p.PadW, p.StrideH, p.StrideW), "cudnnSetPooling2dDescriptor");
            return descriptor;
        }

        public void Dispose()
        {
            foreach (var (descriptor, destroy, name) in owned) CudaStatus.CheckCudnn(destroy(descriptor), name);
            owned.Clear();
        }
    }

    // ---- convolution ------------------------------------------------------------------------------

    private ConvolutionAlgorithm Choose(ConvolutionPlan plan, ConvolutionPass pass, Func<IntPtr, nuint, (int Count, CudnnAlgorithmPerformance[] Results)> find) =>
        Algorithms.GetOrSearch(plan, pass, () =>
        {
            var workspace = allocator.Allocate(SearchWorkspaceLimit, stream);
            try
            {
                var (count, results) = find(workspace.Pointer, (nuint)workspace.Size);
                // Results come sorted by time; take the fastest that ran and fits the limit.
                for (int i = 0; i < count; i++)
                    if (results[i].Status == 0 && (long)results[i].Memory <= SearchWorkspaceLimit)
                        return new ConvolutionAlgorithm(results[i].Algorithm, (long)results[i].Memory);
                throw new CudaCallException($"cudnnFind{pass}AlgorithmEx", 3000, $"CUDNN_STATUS_NOT_SUPPORTED: no algorithm for {plan}");
            }
            finally
            {
                allocator.Free(workspace);
            }
        });

    private const int RequestedAlgorithms = 8;

    /// <summary>y = conv(x, w) (+ bias per channel when <paramref name="bias"/> is not zero).</summary>
    public void ConvolutionForward(ConvolutionPlan plan, IntPtr x, IntPtr w, IntPtr bias, IntPtr y)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(plan.Input), wd = d.Filter(plan.Filter), cd = d.Convolution(plan, allowTf32), yd = d.Tensor(plan.Output);
        var algorithm = Choose(plan, ConvolutionPass.Forward, (ws, bytes) =>
        {
            var results = new CudnnAlgorithmPerformance[RequestedAlgorithms];
            int count;
            fixed (CudnnAlgorithmPerformance* r = results)
                CudaStatus.CheckCudnn(Cudnn.FindConvolutionForwardAlgorithmEx(handle, xd, x, wd, w, cd, yd, y, RequestedAlgorithms, out count, r, ws, bytes), "cudnnFindConvolutionForwardAlgorithmEx");
            return (count, results);
        });
        WithWorkspace(algorithm, (ws, bytes) =>
        {
            float alpha = 1, beta = 0;
            CudaStatus.CheckCudnn(Cudnn.ConvolutionForward(handle, &alpha, xd, x, wd, w, cd, algorithm.Algorithm, ws, bytes, &beta, yd, y), "cudnnConvolutionForward");
        });
        if (bias != IntPtr.Zero)
        {
            IntPtr bd = d.Tensor(new Nchw(1, plan.Output.C, 1, 1));
            float alpha = 1, beta = 1;
            CudaStatus.CheckCudnn(Cudnn.AddTensor(handle, &alpha, bd, bias, &beta, yd, y), "cudnnAddTensor");
        }
    }

    /// <summary>dx = the input gradient of the convolution, from dy.</summary>
    public void ConvolutionBackwardData(ConvolutionPlan plan, IntPtr w, IntPtr dy, IntPtr dx)
    {
        using var d = new Descriptors();
        IntPtr wd = d.Filter(plan.Filter), dyd = d.Tensor(plan.Output), cd = d.Convolution(plan, allowTf32), dxd = d.Tensor(plan.Input);
        var algorithm = Choose(plan, ConvolutionPass.BackwardData, (ws, bytes) =>
        {
            var results = new CudnnAlgorithmPerformance[RequestedAlgorithms];
            int count;
            fixed (CudnnAlgorithmPerformance* r = results)
                CudaStatus.CheckCudnn(Cudnn.FindConvolutionBackwardDataAlgorithmEx(handle, wd, w, dyd, dy, cd, dxd, dx, RequestedAlgorithms, out count, r, ws, bytes), "cudnnFindConvolutionBackwardDataAlgorithmEx");
            return (count, results);
        });
        WithWorkspace(algorithm, (ws, bytes) =>
        {
            float alpha = 1, beta = 0;
            CudaStatus.CheckCudnn(Cudnn.ConvolutionBackwardData(handle, &alpha, wd, w, dyd, dy, cd, algorithm.Algorithm, ws, bytes, &beta, dxd, dx), "cudnnConvolutionBackwardData");
        });
    }

    /// <summary>dw = the weight gradient, summed over the batch; db (when not zero) = dy summed over N, H, W.</summary>
    public void ConvolutionBackwardFilter(ConvolutionPlan plan, IntPtr x, IntPtr dy, IntPtr dw, IntPtr db)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(plan.Input), dyd = d.Tensor(plan.Output), cd = d.Convolution(plan, allowTf32), dwd = d.Filter(plan.Filter);
        var algorithm = Choose(plan, ConvolutionPass.BackwardFilter, (ws, bytes) =>
        {
            var results = new CudnnAlgorithmPerformance[RequestedAlgorithms];
            int count;
            fixed (CudnnAlgorithmPerformance* r = results)
                CudaStatus.CheckCudnn(Cudnn.FindConvolutionBackwardFilterAlgorithmEx(handle, xd, x, dyd, dy, cd, dwd, dw, RequestedAlgorithms, out count, r, ws, bytes), "cudnnFindConvolutionBackwardFilterAlgorithmEx");
            return (count, results);
        });
        WithWorkspace(algorithm, (ws, bytes) =>
        {
            float alpha = 1, beta = 0;
            CudaStatus.CheckCudnn(Cudnn.ConvolutionBackwardFilter(handle, &alpha, xd, x, dyd, dy, cd, algorithm.Algorithm, ws, bytes, &beta, dwd, dw), "cudnnConvolutionBackwardFilter");
        });
        if (db != IntPtr.Zero)
        {
            IntPtr bd = d.Tensor(new Nchw(1, plan.Output.C, 1, 1));
            float alpha = 1, beta = 0;
            CudaStatus.CheckCudnn(Cudnn.ConvolutionBackwardBias(handle, &alpha, dyd, dy, &beta, bd, db), "cudnnConvolutionBackwardBias");
        }
    }

    private void WithWorkspace(ConvolutionAlgorithm algorithm, Action<IntPtr, nuint> run)
    {
        if (algorithm.WorkspaceBytes == 0)
        {
            run(IntPtr.Zero, 0);
            return;
        }
        var workspace = allocator.Allocate(algorithm.WorkspaceBytes, stream);
        try
        {
            run(workspace.Pointer, (nuint)algorithm.WorkspaceBytes);
        }
        finally
        {
            allocator.Free(workspace); // freed to the stream's cache: later work on the stream is ordered after this call
        }
    }

    // ---- pooling ----------------------------------------------------------------------------------

    /// <summary>Max pooling of <paramref name="x"/>, already padded by the plan's extra rows and columns (-inf) when it has any.</summary>
    public void MaxPoolForward(MaxPoolingPlan plan, IntPtr x, IntPtr y)
    {
        using var d = new Descriptors();
        IntPtr pd = d.Pooling(plan), xd = d.Tensor(plan.Input with { H = plan.Input.H + plan.ExtraBottom, W = plan.Input.W + plan.ExtraRight }), yd = d.Tensor(plan.Output);
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.PoolingForward(handle, pd, &alpha, xd, x, &beta, yd, y), "cudnnPoolingForward");
    }

    /// <summary>The input gradient of <see cref="MaxPoolForward"/> (of the padded input), from x, y and dy.</summary>
    public void MaxPoolBackward(MaxPoolingPlan plan, IntPtr x, IntPtr y, IntPtr dy, IntPtr dx)
    {
        using var d = new Descriptors();
        IntPtr pd = d.Pooling(plan), xd = d.Tensor(plan.Input with { H = plan.Input.H + plan.ExtraBottom, W = plan.Input.W + plan.ExtraRight }), yd = d.Tensor(plan.Output);
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.PoolingBackward(handle, pd, &alpha, yd, y, yd, dy, xd, x, &beta, xd, dx), "cudnnPoolingBackward");
    }

    // ---- batch norm -------------------------------------------------------------------------------

    /// <summary>
    /// Training-mode batch norm of [N, C, H, W]: normalises with the batch statistics, updates the
    /// running mean and variance with <paramref name="momentum"/> (cuDNN's exponential average factor,
    /// PyTorch's momentum, with the unbiased variance, as PyTorch), and saves mean and 1/σ for backward.
    /// </summary>
    public void BatchNormTraining(Nchw shape, IntPtr x, IntPtr y, IntPtr scale, IntPtr bias, double momentum, IntPtr runningMean, IntPtr runningVariance, double eps, IntPtr saveMean, IntPtr saveInvStd)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(shape), pd = d.Tensor(new Nchw(1, shape.C, 1, 1));
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.BatchNormalizationForwardTraining(handle, CudnnBatchNormMode.Spatial, &alpha, &beta, xd, x, xd, y, pd, scale, bias,
            momentum, runningMean, runningVariance, eps, saveMean, saveInvStd), "cudnnBatchNormalizationForwardTraining");
    }

    /// <summary>Inference-mode batch norm with the running statistics.</summary>
    public void BatchNormInference(Nchw shape, IntPtr x, IntPtr y, IntPtr scale, IntPtr bias, IntPtr mean, IntPtr variance, double eps)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(shape), pd = d.Tensor(new Nchw(1, shape.C, 1, 1));
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.BatchNormalizationForwardInference(handle, CudnnBatchNormMode.Spatial, &alpha, &beta, xd, x, xd, y, pd, scale, bias, mean, variance, eps),
            "cudnnBatchNormalizationForwardInference");
    }

    /// <summary>The gradients of training-mode batch norm: dx, dscale and dbias, from the saved mean and 1/σ.</summary>
    public void BatchNormBackward(Nchw shape, IntPtr x, IntPtr dy, IntPtr dx, IntPtr scale, IntPtr dScale, IntPtr dBias, double eps, IntPtr savedMean, IntPtr savedInvStd)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(shape), pd = d.Tensor(new Nchw(1, shape.C, 1, 1));
        float one = 1, zero = 0;
        CudaStatus.CheckCudnn(Cudnn.BatchNormalizationBackward(handle, CudnnBatchNormMode.Spatial, &one, &zero, &one, &zero, xd, x, xd, dy, xd, dx, pd, scale, dScale, dBias,
            eps, savedMean, savedInvStd), "cudnnBatchNormalizationBackward");
    }

    // ---- softmax ----------------------------------------------------------------------------------

    /// <summary>(Log-)softmax over the channels of [N, C, H, W] (a [rows, classes] matrix is [rows, classes, 1, 1]).</summary>
    public void SoftmaxForward(Nchw shape, IntPtr x, IntPtr y, bool log)
    {
        using var d = new Descriptors();
        IntPtr xd = d.Tensor(shape);
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.SoftmaxForward(handle, log ? CudnnSoftmaxAlgorithm.Log : CudnnSoftmaxAlgorithm.Accurate, CudnnSoftmaxMode.Channel, &alpha, xd, x, &beta, xd, y), "cudnnSoftmaxForward");
    }

    /// <summary>The input gradient of <see cref="SoftmaxForward"/> from its output y and dy.</summary>
    public void SoftmaxBackward(Nchw shape, IntPtr y, IntPtr dy, IntPtr dx, bool log)
    {
        using var d = new Descriptors();
        IntPtr yd = d.Tensor(shape);
        float alpha = 1, beta = 0;
        CudaStatus.CheckCudnn(Cudnn.SoftmaxBackward(handle, log ? CudnnSoftmaxAlgorithm.Log : CudnnSoftmaxAlgorithm.Accurate, CudnnSoftmaxMode.Channel, &alpha, yd, y, yd, dy, &beta, yd, dx), "cudnnSoftmaxBackward");
    }

    /// <summary>Destroys the handle.</summary>
    public void Dispose()
    {
        if (handle == IntPtr.Zero) return;
        CudaStatus.CheckCudnn(Cudnn.Destroy(handle), "cudnnDestroy");
        handle = IntPtr.Zero;
    }
}
