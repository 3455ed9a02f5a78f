using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>
/// The training problem tools/parity/optim.py gives every optimizer: a 3 -> 2 linear model from the
/// fixture's initial parameters, its batch (x, y), the MSE loss, ten steps under LinearLR warm-up
/// (0.1 over 4 steps) and MultiStepLR (milestones 6 and 8, gamma 0.1), as torch steps them.
/// </summary>
internal static class OptimParityProblem
{
    /// <summary>The fixture: data per dtype suffix ("" float64, "_f32" float32) and each case's steps.</summary>
    public static readonly Dictionary<string, Tensor> Fixture = SafeTensors.Load(Path.Combine(RepoPaths.Fixtures, "parity", "optim.safetensors"));

    /// <summary>Steps each case records.</summary>
    public const int Steps = 10;

    /// <summary>The model from the fixture's initial parameters and the batch, in the suffix's dtype, on <paramref name="device"/>.</summary>
    public static (Linear Model, Tensor X, Tensor Y) Make(string suffix, Device device)
    {
        var model = new Linear(3, 2, new Generator(0)).To(suffix == "" ? DType.Float64 : DType.Float32);
        model.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Fixture[$"data{suffix}/weight"], ["bias"] = Fixture[$"data{suffix}/bias"] });
        model.To(device);
        return (model, Fixture[$"data{suffix}/x"].To(device), Fixture[$"data{suffix}/y"].To(device));
    }

    /// <summary>The learning-rate schedule of the fixture's runs.</summary>
    public static ChainedSchedule Schedule() => new(new LinearWarmup(0.1, 4), new MultiStepLR([6, 8], gamma: 0.1));

    /// <summary>Step <paramref name="step"/>: the scheduled rate, the MSE loss's gradient, one optimizer step.</summary>
    public static void TrainStep(Linear model, Optimizer optimizer, Tensor x, Tensor y, ChainedSchedule schedule, int step)
    {
        optimizer.SetLearningRateFactor(schedule.Factor(step));
        optimizer.ZeroGrad();
        var error = model.Forward(x) - y;
        (error * error).Mean().Backward();
        optimizer.Step();
    }
}
