using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>
/// AdamW against torch.optim.AdamW 1.13 (the "adamw/" cases of tools/parity/optim.py's fixture): ten training steps of
/// a 3 -> 2 linear model with two parameter groups under warm-up and step decay, replayed step by
/// step on every device; its state dict against torch's, and an exact resume from it.
/// </summary>
public class AdamWParityTests
{
    private static Dictionary<string, Tensor> Fixture => OptimParityProblem.Fixture;
    private const int Steps = OptimParityProblem.Steps;

    private static readonly Dictionary<string, (double Beta1, double Beta2, double Eps)> Cases = new()
    {
        ["default"] = (0.9, 0.999, 1e-8),
        ["betas"] = (0.8, 0.99, 1e-6),
    };

    // Float64: AdamW's step is lr·m̂/(√v̂ + ε), whose size is ~lr whatever the gradient, so rounding
    // differences (torch fuses alpha·b + a where we round the product first; bias corrections in a
    // different order) stay near 1e-16 relative per step (the first difference, at step 5-6, is
    // 1.4e-17); 1e-12 over all ten steps leaves room. A wrong rule (weight decay on the gradient as in
    // Adam, no bias correction: a first step 3.2x too long, ε inside the square root) changes updates
    // of ~1e-3..1e-2 by a large fraction of themselves, far above either tolerance.
    // Float32: one ulp per operation (6e-8 relative; the first differences are one or two ulps of
    // 2e-3..1e-2 biases, 4.7e-10 and 1.9e-9, at steps 1-2), so 1e-6.
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

    private static (Linear Model, AdamW Optimizer, Tensor X, Tensor Y) Make(string name, string suffix, Device device)
    {
        var (beta1, beta2, eps) = Cases[name];
        var (model, x, y) = OptimParityProblem.Make(suffix, device);
        var optimizer = new AdamW([new ParameterGroup([model.Weight], 0.01, weightDecay: 0.05), new ParameterGroup([model.Bias!], 0.02)], beta1, beta2, eps);
        return (model, optimizer, x, y);
    }

    [Theory, OnCpu(nameof(CaseNames)), OnCuda(nameof(CaseNames))]
    public void MatchesPyTorch(string name, string suffix, DeviceKind kind)
    {
        double tolerance = suffix == "" ? 1e-12 : 1e-6;
        var (model, optimizer, x, y) = Make(name, suffix, TestDevices.Of(kind));
        var schedule = OptimParityProblem.Schedule();
        for (int step = 0; step < Steps; step++)
        {
            OptimParityProblem.TrainStep(model, optimizer, x, y, schedule, step);
            TensorAssert.Close(Fixture[$"adamw/{name}{suffix}/{step}/weight"], model.Weight, tolerance, tolerance, $"{name}{suffix} step {step} weight");
            TensorAssert.Close(Fixture[$"adamw/{name}{suffix}/{step}/bias"], model.Bias!, tolerance, tolerance, $"{name}{suffix} step {step} bias");
        }
        // The state under torch's names: exp_avg and exp_avg_sq within the same tolerance (exp_avg_sq is
        // ~g², so relative), step exactly.
        var state = optimizer.StateDict();
        var expected = Fixture.Keys.Where(k => k.StartsWith($"adamw/{name}{suffix}/state.", StringComparison.Ordinal)).Select(k => k[$"adamw/{name}{suffix}/".Length..]).Order();
        Assert.Equal(expected, state.Keys.Order());
        foreach (var (key, value) in state)
            TensorAssert.Close(Fixture[$"adamw/{name}{suffix}/{key}"].To(value.DType), value, key.EndsWith("step") ? 0 : tolerance, tolerance, $"{name}{suffix} {key}");
    }

    /// <summary>
    /// A second optimizer loaded from the first's state after five steps continues with exactly the
    /// same updates (tolerance 0): what `train --resume` relies on.
    /// </summary>
    [Theory, OnCpu, OnCuda]
    public void ResumesExactlyFromItsStateDict(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var (model, optimizer, x, y) = Make("betas", "_f32", device);
        var (resumed, resumedOptimizer, _, _) = Make("betas", "_f32", device);
        var schedule = OptimParityProblem.Schedule();
        for (int step = 0; step < 5; step++) OptimParityProblem.TrainStep(model, optimizer, x, y, schedule, step);
        resumed.LoadStateDict(model.StateDict());
        resumedOptimizer.LoadStateDict(optimizer.StateDict());
        for (int step = 5; step < Steps; step++)
        {
            OptimParityProblem.TrainStep(model, optimizer, x, y, schedule, step);
            OptimParityProblem.TrainStep(resumed, resumedOptimizer, x, y, schedule, step);
            Assert.Equal(model.Weight.ToArray<float>(), resumed.Weight.ToArray<float>());
            Assert.Equal(model.Bias!.ToArray<float>(), resumed.Bias!.ToArray<float>());
        }
    }

    [Fact]
    public void EveryFixtureCaseIsReplayed()
    {
        var fixtureCases = Fixture.Keys.Where(k => k.StartsWith("adamw/", StringComparison.Ordinal) && k.EndsWith("/0/weight")).Select(k => k["adamw/".Length..^"/0/weight".Length]).Order();
        Assert.Equal(Cases.Keys.SelectMany(n => new[] { n, n + "_f32" }).Order(), fixtureCases);
    }

    [Fact]
    public void RefusesAStateThatDoesNotFit()
    {
        var (_, optimizer, _, _) = Make("default", "", Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor> { ["state.0.exp_avg"] = Tensor.Zeros([3, 3], DType.Float64) }));
        Assert.Contains("state.0.exp_avg has shape [3, 3] but its parameter [2, 3]", error.Message);
        Assert.Contains("state.0 lacks one of exp_avg, exp_avg_sq and step", error.Message);
        error = Assert.Throws<ArgumentException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor> { ["state.7.step"] = Tensor.Scalar(1) }));
        Assert.Contains("unexpected key state.7.step", error.Message);
    }
}
