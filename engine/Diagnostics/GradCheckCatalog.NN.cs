using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Diagnostics;

public static partial class GradCheckCatalog
{
    private static IEnumerable<GradCheckCase> NNCases()
    {
        yield return ModuleGradCheck.ForLayer("nn.Linear", "[2,3,5] -> 4, input and parameters",
            g => new Linear(5, 4, g), g => Leaf(g, -1, 1, 2, 3, 5));
        yield return ModuleGradCheck.ForLayer("nn.Linear", "no bias, parameters only",
            g => new Linear(3, 2, g, bias: false), g => Tensor.Uniform([4, 3], -1, 1, g, DType.Float64));
        yield return ModuleGradCheck.ForLayer("nn.ReLU", "away from 0", _ => new ReLU(), g => AwayFromZero(g, 2, 3, 4));
        yield return ModuleGradCheck.ForLayer("nn.Sequential", "Linear-ReLU-Linear, away from the ReLU kink", ReluMlp, g => Leaf(g, -0.1, 0.1, 5, 3));
    }

    /// <summary>
    /// Linear(3,4)-ReLU-Linear(4,2) with first-layer biases of magnitude ≥ 0.6 and mixed signs. With
    /// inputs |x| &lt; 0.1 and weights |w| ≤ 1/√3 (PyTorch's default bound), |x·w| ≤ 3·0.1/√3 ≈ 0.17,
    /// so every pre-activation stays ≥ 0.4 from the kink while the check moves values by ε = 1e-6;
    /// two of the four units are active and two are not.
    /// </summary>
    private static Sequential ReluMlp(Generator g)
    {
        var first = new Linear(3, 4, g);
        using (GradMode.NoGrad()) first.Bias!.CopyFrom(Tensor.FromArray(new float[] { 0.7f, -0.6f, 0.9f, -0.8f }, [4], first.Bias.Device));
        return new Sequential(first, new ReLU(), new Linear(4, 2, g));
    }
}
