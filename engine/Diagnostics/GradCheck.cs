using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.Diagnostics;

/// <summary>The outcome of one gradient check.</summary>
/// <param name="MaxAbsError">Largest |analytic - numeric| over all checked elements.</param>
/// <param name="MaxRelError">Largest |analytic - numeric| / max(|numeric|, 1e-3) (the floor keeps near-zero gradients from dominating).</param>
/// <param name="Passed">Whether every element was within tolerance.</param>
/// <param name="Worst">Where the largest violation was (input and element), for the report.</param>
public sealed record GradCheckResult(double MaxAbsError, double MaxRelError, bool Passed, string Worst);

/// <summary>
/// Central-difference gradient checking in float64, as torch.autograd.gradcheck. Instead of the
/// full Jacobian it checks one vector-Jacobian product: with a fixed random cotangent v, the
/// scalar L = Σ v·f(x) is differentiated by backward and by (L(x+ε) - L(x-ε)) / 2ε for every input
/// element. A wrong gradient anywhere shows up unless it is orthogonal to a random v, which
/// happens with probability zero.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks the gradients of <paramref name="function"/> with respect to every float64 input that
    /// requires grad. An element passes when |analytic - numeric| &lt;= atol + rtol·|numeric|.
    /// </summary>
    public static GradCheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, ulong seed = 0)
    {
        foreach (var input in inputs.Where(t => t.RequiresGrad))
            if (input.DType != DType.Float64)
                throw new ArgumentException($"gradcheck: inputs that require grad must be float64, not {input.DType.Name()} {Shapes.Format(input.Shape)}");

        var probe = function(inputs);
        var cotangent = Tensor.Normal(probe.ShapeCopy(), 0, 1, new Generator(seed), probe.DType);
        double Objective() { using var _ = GradMode.NoGrad(); return (function(inputs) * cotangent).Sum().Item(); }

        foreach (var input in inputs) input.Grad = null;
        (function(inputs) * cotangent).Sum().Backward();

        double maxAbs = 0, maxRel = 0;
        bool passed = true;
        string worst = "none";
        double worstExcess = double.NegativeInfinity;
        for (int i = 0; i < inputs.Length; i++)
        {
            var input = inputs[i];
            if (!input.RequiresGrad) continue;
            var analytic = input.Grad?.ToArray<double>() ?? new double[input.Numel];
            var values = input.ToArray<double>();
            for (int e = 0; e < values.Length; e++)
            {
                double original = values[e];
                double plus = Perturbed(input, values, e, original + eps, Objective);
                double minus = Perturbed(input, values, e, original - eps, Objective);
                values[e] = original;
                double numeric = (plus - minus) / (2 * eps);
                double abs = Math.Abs(analytic[e] - numeric);
                double rel = abs / Math.Max(Math.Abs(numeric), 1e-3);
                maxAbs = Math.Max(maxAbs, abs);
                maxRel = Math.Max(maxRel, rel);
                double excess = abs - (atol + rtol * Math.Abs(numeric));
                if (excess > 0 || double.IsNaN(abs)) passed = false;
                if (excess > worstExcess || double.IsNaN(abs))
                {
                    worstExcess = double.IsNaN(abs) ? double.PositiveInfinity : excess;
                    worst = $"input {i} element {e}: analytic {analytic[e]:G6}, numeric {numeric:G6}";
                }
            }
            using var _ = GradMode.NoGrad();
            input.CopyFrom(Tensor.FromArray(values, input.ShapeCopy(), input.Device));
        }
        return new GradCheckResult(maxAbs, maxRel, passed, worst);
    }

    private static double Perturbed(Tensor input, double[] values, int element, double value, Func<double> objective)
    {
        values[element] = value;
        using (GradMode.NoGrad()) input.CopyFrom(Tensor.FromArray(values, input.ShapeCopy(), input.Device));
        return objective();
    }
}
