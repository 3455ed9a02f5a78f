using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>
/// SGD and the learning-rate schedules against torch.optim.SGD, LinearLR and MultiStepLR 1.13
/// (fixture from tools/parity/optim.py): ten training steps of a 3 -> 2 linear model with two
/// parameter groups, replayed step by step on every device.
/// </summary>
public class SGDParityTests
{
    private static Dictionary<string, Tensor> Fixture => OptimParityProblem.Fixture;

    private static readonly Dictionary<string, (double Momentum, double Dampening, bool Nesterov)> Cases = new()
    {
        ["momentum"] = (0.9, 0, false),
        ["nesterov"] = (0.9, 0, true),
        ["dampening"] = (0.9, 0.5, false),
        ["plain"] = (0, 0, false),
    };

    // Float64: the only differences from PyTorch are rounding-order ones in the MSE gradient and in
    // the learning rate (torch multiplies chained ratios, we use the closed form), ~1e-16 relative per
    // operation (measured max difference 1.7e-16 over all steps); 1e-12 leaves room for other CPUs.
    // A wrong update rule (weight decay after momentum, dampening on the first step, the other
    // Nesterov form) moves these O(1) parameters by ≥ 1e-6.
    // Float32: each operation rounds at ~6e-8 relative and momentum (1/(1-0.9) = 10) carries rounding
    // differences forward; measured max difference 6e-8 (one ulp of the values), so 1e-6.
    public static TheoryData<string, string> CaseNames()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Cases.Keys)
        {
            data.Add(name, "");
            data.Add(name, "_f32");
        }
        return data;
    }

    [Theory, OnCpu(nameof(CaseNames)), OnCuda(nameof(CaseNames))]
    public void MatchesPyTorch(string name, string suffix, DeviceKind kind)
    {
        double tolerance = suffix == "" ? 1e-12 : 1e-6;
        var (momentum, dampening, nesterov) = Cases[name];
        var (model, x, y) = OptimParityProblem.Make(suffix, TestDevices.Of(kind));
        var optimizer = new SGD([new ParameterGroup([model.Weight], 0.1, weightDecay: 1e-4), new ParameterGroup([model.Bias!], 0.2)], momentum, dampening, nesterov);
        var schedule = OptimParityProblem.Schedule();

        for (int step = 0; step < OptimParityProblem.Steps; step++)
        {
            string at = $"{name}{suffix} step {step}";
            OptimParityProblem.TrainStep(model, optimizer, x, y, schedule, step);
            // The rate the step used (Step leaves it as the schedule set it).
            TensorAssert.Close(Fixture[$"{name}{suffix}/{step}/lr"], Tensor.Scalar(optimizer.Groups[0].LearningRate, DType.Float64), 0, 1e-12, $"{at} learning rate");
            TensorAssert.Close(Fixture[$"{name}{suffix}/{step}/weight"], model.Weight, tolerance, tolerance, $"{at} weight");
            TensorAssert.Close(Fixture[$"{name}{suffix}/{step}/bias"], model.Bias!, tolerance, tolerance, $"{at} bias");
        }
    }

    [Fact]
    public void EveryFixtureCaseIsReplayed()
    {
        var fixtureCases = Fixture.Keys.Where(k => k.EndsWith("/0/lr") && !k.StartsWith("adamw/", StringComparison.Ordinal)).Select(k => k[..^"/0/lr".Length]).Order();
        Assert.Equal(Cases.Keys.SelectMany(n => new[] { n, n + "_f32" }).Order(), fixtureCases);
    }
}
