using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Cuda.Blas;
using ScratchDetect.Engine.Cuda.Dnn;
using ScratchDetect.Engine.Cuda.Kernels;
using ScratchDetect.Engine.Cuda.Memory;

namespace ScratchDetect.Engine.Cuda.Diagnostics;

/// <summary>
/// The cuBLAS and cuDNN half of the selftest, on a real GPU only: each wrapper
/// (<see cref="CublasGemm"/>, <see cref="CudnnOps"/>) runs on device copies of the inputs and is
/// compared with the CPU backend (forward through the Tensor ops, backward through autograd).
/// Convolutions may use TF32 as PyTorch does by default, so their tolerances are TF32's
/// (10-bit mantissa: ~1e-3 relative on sums of products); GEMM is full float32.
/// </summary>
public static class LibrarySelftest
{
    private sealed record Case(string Op, string Configuration, double Atol, double Rtol, Func<Tensor> Cpu, Func<Tensor> Device);

    /// <summary>Runs every library comparison on <paramref name="accelerator"/>'s default stream.</summary>
    public static IReadOnlyList<SelftestRow> Run(CudaAccelerator accelerator)
    {
        var stream = ((CudaStream)accelerator.DefaultStream).StreamPtr;
        using var memory = new AcceleratorDeviceMemory(accelerator);
        using var allocator = new CachingAllocator(memory);
        var rows = new List<SelftestRow>();
        CublasGemm? blas = null;
        CudnnOps? dnn = null;
        try
        {
            blas = new CublasGemm(stream);
            dnn = new CudnnOps(stream, allocator) { SearchWorkspaceLimit = 256L << 20 };
            var kernels = new DeviceKernels(accelerator);
            foreach (var check in Cases(accelerator, blas, dnn, kernels))
                rows.Add(KernelSelftest.Compare(check.Op, check.Configuration, check.Atol, check.Rtol, check.Cpu, check.Device));
        }
        catch (Exception e)
        {
            rows.Add(new SelftestRow("cublas/cudnn", "handles", double.NaN, 0, 0, false, e.Message.Split('\n')[0]));
        }
        finally
        {
            dnn?.Dispose();
            blas?.Dispose();
        }
        return rows;
    }

    private static IEnumerable<Case> Cases(CudaAccelerator accelerator, CublasGemm blas, CudnnOps dnn, DeviceKernels kernels)
    {
        var generator = new Generator(99);
        var buffers = new List<MemoryBuffer1D<float, Stride1D.Dense>>();
        MemoryBuffer1D<float, Stride1D.Dense> Dev(Tensor t)
        {
            var b = accelerator.Allocate1D(t.To(DType.Float32).ToArray<float>());
            buffers.Add(b);
            return b;
        }
        MemoryBuffer1D<float, Stride1D.Dense> Zeros(params int[] shape)
        {
            var b = accelerator.Allocate1D<float>(Math.Max(Shapes.Numel(shape), 1));
            b.MemSetToZero();
            buffers.Add(b);
            return b;
        }
        Tensor Host(MemoryBuffer1D<float, Stride1D.Dense> b, params int[] shape) =>
            Tensor.FromArray(b.View.SubView(0, Shapes.Numel(shape)).GetAsArray1D(), shape);

        // ---- GEMM: batched with a transposed operand, and a shared weight (stride 0) as a linear layer.
        var a = Tensor.Uniform([3, 33, 17], -1, 1, generator);
        var bt = Tensor.Uniform([3, 29, 17], -1, 1, generator);
        yield return new("matmul", "3 x (33x17 · (29x17)ᵀ)", 1e-5, 1e-5, () => Tensor.Matmul(a, bt.Transpose(1, 2)), () =>
        {
            var da = Dev(a);
            var db = Dev(bt);
            var dc = Zeros(3, 33, 29);
            blas.Matmul(da.NativePtr, 33 * 17, false, db.NativePtr, 29 * 17, true, dc.NativePtr, 3, 33, 29, 17);
            return Host(dc, 3, 33, 29);
        });
        var features = Tensor.Uniform([65, 257], -1, 1, generator);
        var weight = Tensor.Uniform([31, 257], -1, 1, generator);
        yield return new("linear", "[65, 257] · [31, 257]ᵀ", 1e-5, 1e-5, () => Tensor.Matmul(features, weight.Transpose(0, 1)), () =>
        {
            var dx = Dev(features);
            var dw = Dev(weight);
            var dy = Zeros(65, 31);
            blas.Matmul(dx.NativePtr, 0, false, dw.NativePtr, 0, true, dy.NativePtr, 1, 65, 31, 257);
            return Host(dy, 65, 31);
        });

        // ---- convolution: grouped, strided and dilated, with bias, forward and both adjoints.
        var x = Tensor.Uniform([2, 4, 11, 13], -1, 1, generator);
        var w = Tensor.Uniform([6, 2, 3, 3], -1, 1, generator);
        var bias = Tensor.Uniform([6], -1, 1, generator);
        var stride = new Size2d(2, 1);
        var padding = new Size2d(1, 2);
        var dilation = new Size2d(1, 2);
        var geometry = new Conv2dGeometry(2, 4, 11, 13, 6, new Size2d(3, 3), stride, padding, dilation, 2);
        var plan = ConvolutionPlan.From(geometry);
        int[] outShape = [2, 6, plan.Output.H, plan.Output.W];
        var gradOut = Tensor.Uniform(outShape, -1, 1, generator);
        var (xLeaf, wLeaf, bLeaf) = (x.Detach().RequireGrad(), w.Detach().RequireGrad(), bias.Detach().RequireGrad());
        var convolved = Tensor.Conv2d(xLeaf, wLeaf, bLeaf, stride, padding, dilation, groups: 2);
        (convolved * gradOut).Sum().Backward();
        const double tf32 = 2e-3; // TF32 inputs keep 10 mantissa bits; sums of 18 products of values in [-1, 1]
        yield return new("conv2d", "3x3 groups 2 stride (2,1) dilation (1,2) + bias", tf32, tf32, () => convolved.Detach(), () =>
        {
            var dy = Zeros(outShape);
            dnn.ConvolutionForward(plan, Dev(x).NativePtr, Dev(w).NativePtr, Dev(bias).NativePtr, dy.NativePtr);
            return Host(dy, outShape);
        });
        yield return new("conv2d backward data", "same", tf32, tf32, () => xLeaf.Grad!, () =>
        {
            var dx = Zeros(2, 4, 11, 13);
            dnn.ConvolutionBackwardData(plan, Dev(w).NativePtr, Dev(gradOut).NativePtr, dx.NativePtr);
            return Host(dx, 2, 4, 11, 13);
        });
        yield return new("conv2d backward filter", "same, and bias", tf32 * 10, tf32, () => Tensor.Cat([wLeaf.Grad!.Reshape(-1), bLeaf.Grad!], 0), () =>
        {
            var dw = Zeros(6, 2, 3, 3);
            var db = Zeros(6);
            dnn.ConvolutionBackwardFilter(plan, Dev(x).NativePtr, Dev(gradOut).NativePtr, dw.NativePtr, db.NativePtr);
            return Tensor.Cat([Host(dw, 6, 2, 3, 3).Reshape(-1), Host(db, 6)], 0);
        });

        // ---- ceil-mode max pooling (SSD's pool3 shape rule) through the -inf padding plan.
        var poolInput = Tensor.Uniform([2, 3, 9, 9], -1, 1, generator);
        var pool = new Pool2dGeometry(2, 3, 9, 9, new Size2d(2, 2), new Size2d(2, 2), new Size2d(0, 0), new Size2d(1, 1), true);
        var poolPlan = MaxPoolingPlan.From(pool);
        int[] pooledShape = [2, 3, poolPlan.Output.H, poolPlan.Output.W];
        var poolGrad = Tensor.Uniform(pooledShape, -1, 1, generator);
        var poolLeaf = poolInput.Detach().RequireGrad();
        var pooled = Tensor.MaxPool2d(poolLeaf, new Size2d(2, 2), new Size2d(2, 2), ceilMode: true);
        (pooled * poolGrad).Sum().Backward();
        int paddedH = 9 + poolPlan.ExtraBottom, paddedW = 9 + poolPlan.ExtraRight;
        yield return new("max_pool2d", "2x2/2 ceil mode 9x9 -> 5x5", 0, 0, () => pooled.Detach(), () =>
        {
            using var padded = kernels.PadForCeilPooling(Dev(poolInput).View, 6, 9, 9, poolPlan.ExtraBottom, poolPlan.ExtraRight);
            var dy = Zeros(pooledShape);
            dnn.MaxPoolForward(poolPlan, padded.NativePtr, dy.NativePtr);
            return Host(dy, pooledShape);
        });
        yield return new("max_pool2d backward", "same", 0, 0, () => poolLeaf.Grad!, () =>
        {
            using var padded = kernels.PadForCeilPooling(Dev(poolInput).View, 6, 9, 9, poolPlan.ExtraBottom, poolPlan.ExtraRight);
            var y = Zeros(pooledShape);
            dnn.MaxPoolForward(poolPlan, padded.NativePtr, y.NativePtr);
            var dx = Zeros(2, 3, paddedH, paddedW);
            dnn.MaxPoolBackward(poolPlan, padded.NativePtr, y.NativePtr, Dev(poolGrad).NativePtr, dx.NativePtr);
            return Host(dx, 2, 3, paddedH, paddedW).Narrow(2, 0, 9).Narrow(3, 0, 9);
        });

        // ---- batch norm: training forward with running statistics, inference, backward.
        var bnInput = Tensor.Uniform([4, 5, 6, 7], -2, 3, generator);
        var gamma = Tensor.Uniform([5], 0.5, 1.5, generator);
        var beta = Tensor.Uniform([5], -1, 1, generator);
        var bnGrad = Tensor.Uniform([4, 5, 6, 7], -1, 1, generator);
        var (runningMean, runningVar) = (Tensor.Zeros([5]), Tensor.Ones([5]));
        var (bnLeaf, gammaLeaf, betaLeaf) = (bnInput.Detach().RequireGrad(), gamma.Detach().RequireGrad(), beta.Detach().RequireGrad());
        var normalized = Tensor.BatchNorm(bnLeaf, runningMean, runningVar, gammaLeaf, betaLeaf, training: true, momentum: 0.1, eps: 1e-5);
        (normalized * bnGrad).Sum().Backward();
        var shape = new Nchw(4, 5, 6, 7);
        var deviceRunning = (Mean: Zeros(5), Var: Dev(Tensor.Ones([5])));
        var saved = (Mean: Zeros(5), InvStd: Zeros(5));
        yield return new("batch_norm train", "[4, 5, 6, 7] output and running stats", 1e-5, 1e-5,
            () => Tensor.Cat([normalized.Detach().Reshape(-1), runningMean, runningVar], 0), () =>
            {
                var dy = Zeros(4, 5, 6, 7);
                dnn.BatchNormTraining(shape, Dev(bnInput).NativePtr, dy.NativePtr, Dev(gamma).NativePtr, Dev(beta).NativePtr, 0.1,
                    deviceRunning.Mean.NativePtr, deviceRunning.Var.NativePtr, 1e-5, saved.Mean.NativePtr, saved.InvStd.NativePtr);
                return Tensor.Cat([Host(dy, 4, 5, 6, 7).Reshape(-1), Host(deviceRunning.Mean, 5), Host(deviceRunning.Var, 5)], 0);
            });
        yield return new("batch_norm backward", "dx, dweight, dbias", 1e-4, 1e-4,
            () => Tensor.Cat([bnLeaf.Grad!.Reshape(-1), gammaLeaf.Grad!, betaLeaf.Grad!], 0), () =>
            {
                var dx = Zeros(4, 5, 6, 7);
                var (dGamma, dBeta) = (Zeros(5), Zeros(5));
                dnn.BatchNormBackward(shape, Dev(bnInput).NativePtr, Dev(bnGrad).NativePtr, dx.NativePtr, Dev(gamma).NativePtr, dGamma.NativePtr, dBeta.NativePtr,
                    1e-5, saved.Mean.NativePtr, saved.InvStd.NativePtr);
                return Tensor.Cat([Host(dx, 4, 5, 6, 7).Reshape(-1), Host(dGamma, 5), Host(dBeta, 5)], 0);
            });
        yield return new("batch_norm eval", "running statistics", 1e-5, 1e-5,
            () => Tensor.BatchNorm(bnInput, runningMean, runningVar, gamma, beta, training: false, eps: 1e-5), () =>
            {
                var dy = Zeros(4, 5, 6, 7);
                dnn.BatchNormInference(shape, Dev(bnInput).NativePtr, dy.NativePtr, Dev(gamma).NativePtr, Dev(beta).NativePtr,
                    Dev(runningMean).NativePtr, Dev(runningVar).NativePtr, 1e-5);
                return Host(dy, 4, 5, 6, 7);
            });

        // ---- cuDNN softmax over classes of [rows, classes] (as [rows, classes, 1, 1]), and its backward.
        var logits = Tensor.Uniform([9, 21], -6, 6, generator);
        var softGrad = Tensor.Uniform([9, 21], -1, 1, generator);
        var logitsLeaf = logits.Detach().RequireGrad();
        var logProbabilities = Tensor.LogSoftmax(logitsLeaf, 1);
        (logProbabilities * softGrad).Sum().Backward();
        yield return new("cudnn log_softmax", "[9, 21] forward and backward", 1e-5, 1e-5,
            () => Tensor.Cat([logProbabilities.Detach().Reshape(-1), logitsLeaf.Grad!.Reshape(-1)], 0), () =>
            {
                var y = Zeros(9, 21);
                var dx = Zeros(9, 21);
                var softmaxShape = new Nchw(9, 21, 1, 1);
                dnn.SoftmaxForward(softmaxShape, Dev(logits).NativePtr, y.NativePtr, log: true);
                dnn.SoftmaxBackward(softmaxShape, y.NativePtr, Dev(softGrad).NativePtr, dx.NativePtr, log: true);
                return Tensor.Cat([Host(y, 9, 21).Reshape(-1), Host(dx, 9, 21).Reshape(-1)], 0);
            });

        foreach (var b in buffers) b.Dispose();
    }
}
