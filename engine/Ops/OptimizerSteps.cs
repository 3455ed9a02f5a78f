using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// Optimizer updates fused into one backend pass per parameter (the optimizers in Optim/ call them):
// in place, outside autograd, each changed tensor counted as modified in place.
public sealed partial class Tensor
{
    /// <summary>
    /// One AdamW step (see <see cref="IBackend.AdamWStep"/>) on <paramref name="parameter"/> and its
    /// moments, in place, from <paramref name="gradient"/>: the same values as the formula's
    /// element-wise tensor ops, bit for bit, in one pass.
    /// </summary>
    internal static void AdamWStep(Tensor parameter, Tensor gradient, Tensor expAvg, Tensor expAvgSq, AdamWCoefficients coefficients)
    {
        const string op = "adamw step";
        foreach (var (name, t) in new[] { ("gradient", gradient), ("exp_avg", expAvg), ("exp_avg_sq", expAvgSq) })
            if (!t.shape.SequenceEqual(parameter.shape) || t.DType != parameter.DType)
                throw new ArgumentException($"{op}: {name} {t.DType.Name()} {Shapes.Format(t.shape)} does not fit the parameter {parameter.DType.Name()} {Shapes.Format(parameter.shape)}");
        CheckSameDevice(op, ("parameter", parameter), ("gradient", gradient), ("exp_avg", expAvg), ("exp_avg_sq", expAvgSq));
        if (GradMode.IsEnabled)
            throw new InvalidOperationException($"{op}: modifies {Shapes.Format(parameter.shape)} in place, so it runs inside GradMode.NoGrad()");
        parameter.Backend.AdamWStep(parameter.Storage, gradient.Storage, expAvg.Storage, expAvgSq.Storage, coefficients);
        parameter.Version++;
        expAvg.Version++;
        expAvgSq.Version++;
    }

    /// <summary>
    /// One SGD step (see <see cref="IBackend.SgdStep"/>) on <paramref name="parameter"/> and its
    /// momentum buffer (null without momentum), in place, from <paramref name="gradient"/>: the same
    /// values as the formula's element-wise tensor ops, bit for bit, in one pass.
    /// </summary>
    internal static void SgdStep(Tensor parameter, Tensor gradient, Tensor? momentumBuffer, SgdCoefficients coefficients)
    {
        const string op = "sgd step";
        foreach (var (name, t) in new[] { ("gradient", gradient), ("momentum buffer", momentumBuffer) })
            if (t is not null && (!t.shape.SequenceEqual(parameter.shape) || t.DType != parameter.DType))
                throw new ArgumentException($"{op}: {name} {t.DType.Name()} {Shapes.Format(t.shape)} does not fit the parameter {parameter.DType.Name()} {Shapes.Format(parameter.shape)}");
        CheckSameDevice(op, ("parameter", parameter), ("gradient", gradient), ("momentum buffer", momentumBuffer));
        if (GradMode.IsEnabled)
            throw new InvalidOperationException($"{op}: modifies {Shapes.Format(parameter.shape)} in place, so it runs inside GradMode.NoGrad()");
        parameter.Backend.SgdStep(parameter.Storage, gradient.Storage, momentumBuffer?.Storage, coefficients);
        parameter.Version++;
        if (momentumBuffer is not null) momentumBuffer.Version++;
    }
}
