using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>
/// The fused SGD update (<see cref="Tensor.SgdStep"/>, one backend pass) against the same formula
/// written as element-wise tensor ops (what SGD.Step ran before the fused pass, and what the torch
/// parity tests in <see cref="SGDParityTests"/> check): bitwise, since both round every operation to
/// the dtype in the same order, at every length 0..70 (the vector loop, its tail and the scalar
/// remainder), in float32 and float64, over three steps (the first one starts the momentum buffer),
/// without momentum, with momentum and weight decay, with dampening, and with Nesterov.
/// </summary>
public class SgdStepKernelTests
{
    public static TheoryData<DType, double, double, double, bool> Cases()
    {
        var data = new TheoryData<DType, double, double, double, bool>();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            data.Add(dtype, 0.0, 0.0, 0.0, false);  // plain: p - g·lr
            data.Add(dtype, 0.9, 0.0, 0.05, false); // momentum and weight decay, as the detectors train
            data.Add(dtype, 0.9, 0.3, 0.0, false);  // dampening
            data.Add(dtype, 0.8, 0.0, 0.01, true);  // Nesterov
        }
        return data;
    }

    [Theory, OnCpu(nameof(Cases)), OnCuda(nameof(Cases))]
    public void FusedStepEqualsTheFormulaAsTensorOps(DType dtype, double momentum, double dampening, double weightDecay, bool nesterov, DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        const double lr = 0.003;
        using var _ = GradMode.NoGrad();
        for (int n = 0; n <= 70; n++)
        {
            var g = new Generator((ulong)n);
            var fused = Tensor.Normal([n], 0, 1, g).To(dtype).To(device);
            var reference = fused.Clone();
            Tensor? buffer = momentum != 0 ? fused.ZerosLike() : null, referenceBuffer = null;
            for (int step = 1; step <= 3; step++)
            {
                var gradient = (Tensor.Normal([n], 0, 1, g) * Math.Pow(10, step - 2)).To(dtype).To(device);
                Tensor.SgdStep(fused, gradient, buffer, new SgdCoefficients(lr, weightDecay, momentum, dampening, nesterov, FirstStep: step == 1));

                var direction = weightDecay != 0 ? gradient + reference * weightDecay : gradient;
                if (momentum != 0)
                {
                    referenceBuffer = referenceBuffer is null ? direction : referenceBuffer * momentum + direction * (1 - dampening);
                    direction = nesterov ? direction + referenceBuffer * momentum : referenceBuffer;
                }
                reference = reference - direction * lr;
                TensorAssert.Close(reference, fused, 0, 0, $"{dtype.Name()} n={n} step {step} parameter");
                if (buffer is not null) TensorAssert.Close(referenceBuffer!, buffer, 0, 0, $"{dtype.Name()} n={n} step {step} momentum buffer");
            }
        }
    }

    [Fact]
    public void ShapesThatDoNotFitAreRefused()
    {
        using var _ = GradMode.NoGrad();
        var p = Tensor.Zeros([4]);
        var coefficients = new SgdCoefficients(0.1, 0, 0.9, 0, false, true);
        Assert.Contains("gradient", Assert.Throws<ArgumentException>(() => Tensor.SgdStep(p, Tensor.Zeros([5]), p.ZerosLike(), coefficients)).Message);
        Assert.Contains("momentum buffer", Assert.Throws<ArgumentException>(() => Tensor.SgdStep(p, p.ZerosLike(), Tensor.Zeros([3]), coefficients)).Message);
        // A buffer without momentum (or momentum without a buffer) is a caller's mistake, not a step to guess at.
        Assert.Contains("momentum", Assert.Throws<ArgumentException>(() => Tensor.SgdStep(p, p.ZerosLike(), null, coefficients)).Message);
    }
}
