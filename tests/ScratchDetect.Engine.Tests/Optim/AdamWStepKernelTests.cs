using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>
/// The fused AdamW update (<see cref="Tensor.AdamWStep"/>, one backend pass) against the same formula
/// written as element-wise tensor ops (what AdamW.Step ran before the fused pass, and what the torch
/// parity tests in <see cref="AdamWParityTests"/> check): bitwise, since both round every operation
/// to the dtype in the same order, at every length 0..70 (the vector loop, its tail and the scalar
/// remainder), in float32 and float64, with and without weight decay, over three steps.
/// </summary>
public class AdamWStepKernelTests
{
    public static TheoryData<DType, double> Cases() => new()
    {
        { DType.Float32, 0.0 }, { DType.Float32, 0.05 }, { DType.Float64, 0.0 }, { DType.Float64, 0.05 },
    };

    [Theory, OnCpu(nameof(Cases)), OnCuda(nameof(Cases))]
    public void FusedStepEqualsTheFormulaAsTensorOps(DType dtype, double weightDecay, DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        const double lr = 0.003, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        using var _ = GradMode.NoGrad();
        for (int n = 0; n <= 70; n++)
        {
            var g = new Generator((ulong)n);
            var fused = Tensor.Normal([n], 0, 1, g).To(dtype).To(device);
            var reference = fused.Clone();
            Tensor expAvg = fused.ZerosLike(), expAvgSq = fused.ZerosLike(), m = fused.ZerosLike(), v = fused.ZerosLike();
            for (int step = 1; step <= 3; step++)
            {
                // Gradients of mixed scale, zeros included, so tiny second moments meet ε.
                var gradient = (Tensor.Normal([n], 0, 1, g) * Math.Pow(10, step - 2)).To(dtype).To(device);
                if (n > 0) gradient = Tensor.Where(Tensor.Arange(n, device: device).Lt(1), gradient.ZerosLike(), gradient);
                double stepSize = lr / (1 - Math.Pow(beta1, step)), correction = Math.Sqrt(1 - Math.Pow(beta2, step));
                Tensor.AdamWStep(fused, gradient, expAvg, expAvgSq, new AdamWCoefficients(1 - lr * weightDecay, beta1, beta2, stepSize, correction, eps));

                var decayed = reference * (1 - lr * weightDecay);
                m = m * beta1 + gradient * (1 - beta1);
                v = v * beta2 + gradient * gradient * (1 - beta2);
                reference = decayed - m / (v.Sqrt() / correction + eps) * stepSize;
                TensorAssert.Close(reference, fused, 0, 0, $"{dtype.Name()} n={n} step {step} parameter");
                TensorAssert.Close(m, expAvg, 0, 0, $"{dtype.Name()} n={n} step {step} exp_avg");
                TensorAssert.Close(v, expAvgSq, 0, 0, $"{dtype.Name()} n={n} step {step} exp_avg_sq");
            }
        }
    }

    [Fact]
    public void ShapesThatDoNotFitAreRefused()
    {
        using var _ = GradMode.NoGrad();
        var p = Tensor.Zeros([4]);
        var error = Assert.Throws<ArgumentException>(() => Tensor.AdamWStep(p, Tensor.Zeros([5]), p.ZerosLike(), p.ZerosLike(), new AdamWCoefficients(1, 0.9, 0.999, 1e-3, 1, 1e-8)));
        Assert.Contains("gradient", error.Message);
    }
}
