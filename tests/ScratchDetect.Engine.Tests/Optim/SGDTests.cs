using ScratchDetect.Engine.NN;
using ScratchDetect.Engine.Optim;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>The SGD update rule on hand-computed examples (on every device), and its bookkeeping.</summary>
public class SGDTests
{
    private static Tensor Parameter(Device device, params double[] values) => Tensor.FromArray(values, [values.Length], device).RequireGrad();

    private static void SetGrad(Tensor parameter, params double[] values) => parameter.Grad = Tensor.FromArray(values, [values.Length], parameter.Device);

    /// <summary>Steps <paramref name="steps"/> times with gradient 1 on a parameter starting at 0; returns its values after each step.</summary>
    private static double[] UnitGradientTrajectory(Device device, int steps, double momentum, double dampening = 0, bool nesterov = false)
    {
        var p = Parameter(device, 0);
        var sgd = new SGD([p], learningRate: 1, momentum: momentum, dampening: dampening, nesterov: nesterov);
        var trajectory = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            SetGrad(p, 1);
            sgd.Step();
            trajectory[i] = p.Item();
        }
        return trajectory;
    }

    [Theory, OnCpu, OnCuda]
    public void PlainStepIsLearningRateTimesGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var p = Parameter(device, 1, -2);
        SetGrad(p, 0.5, 1);
        new SGD([p], learningRate: 0.1).Step();
        Assert.Equal(new[] { 0.95, -2.1 }, p.ToArray<double>().Select(v => Math.Round(v, 12))); // 1 - 0.05, -2 - 0.1
    }

    [Theory, OnCpu, OnCuda]
    public void WeightDecayIsAddedToTheGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var p = Parameter(device, 1);
        SetGrad(p, 0.5);
        new SGD([p], learningRate: 1, weightDecay: 0.1).Step();
        Assert.Equal(0.4, p.Item(), 12); // d = 0.5 + 0.1·1 = 0.6
    }

    [Theory, OnCpu, OnCuda]
    public void MomentumBufferStartsAsTheGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // b1 = 1, b2 = 0.9 + 1 = 1.9, b3 = 1.71 + 1 = 2.71; p = -(1), -(1 + 1.9), -(2.9 + 2.71)
        Assert.Equal([-1, -2.9, -5.61], UnitGradientTrajectory(device, 3, momentum: 0.9).Select(v => Math.Round(v, 12)));
    }

    [Theory, OnCpu, OnCuda]
    public void NesterovStepsAlongTheLookAhead(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // b1 = 1, d1 = 1 + 0.9·1 = 1.9; b2 = 1.9, d2 = 1 + 0.9·1.9 = 2.71
        Assert.Equal([-1.9, -4.61], UnitGradientTrajectory(device, 2, momentum: 0.9, nesterov: true).Select(v => Math.Round(v, 12)));
    }

    [Theory, OnCpu, OnCuda]
    public void DampeningSparesTheFirstStep(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // b1 = 1 (no dampening on the first step, as torch); b2 = 0.9·1 + 0.5·1 = 1.4
        Assert.Equal([-1, -2.4], UnitGradientTrajectory(device, 2, momentum: 0.9, dampening: 0.5).Select(v => Math.Round(v, 12)));
    }

    [Theory, OnCpu, OnCuda]
    public void GroupsHaveTheirOwnRatesAndDecay(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var weight = Parameter(device, 2);
        var norm = Parameter(device, 2);
        SetGrad(weight, 1);
        SetGrad(norm, 1);
        var sgd = new SGD([new ParameterGroup([weight], 0.1, weightDecay: 0.5), new ParameterGroup([norm], 0.2)]);
        sgd.Step();
        Assert.Equal(1.8, weight.Item(), 12); // 2 - 0.1·(1 + 0.5·2)
        Assert.Equal(1.8, norm.Item(), 12);   // 2 - 0.2·1

        sgd.SetLearningRateFactor(0.5);
        Assert.Equal([0.05, 0.1], sgd.Groups.Select(g => g.LearningRate));
        Assert.Equal([0.1, 0.2], sgd.Groups.Select(g => g.BaseLearningRate));
    }

    [Theory, OnCpu, OnCuda]
    public void ParametersWithoutGradientAreLeftAlone(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var frozen = Parameter(device, 3);
        var trained = Parameter(device, 3);
        var sgd = new SGD([frozen, trained], learningRate: 1, momentum: 0.9);
        SetGrad(trained, 1);
        sgd.Step();
        Assert.Equal(3.0, frozen.Item());

        // Its first real step starts its momentum buffer then: b = 2, not 0.9·(something) + 2.
        SetGrad(frozen, 2);
        SetGrad(trained, 1);
        sgd.Step();
        Assert.Equal(1.0, frozen.Item(), 12);
        Assert.Equal(3 - 1 - 1.9, trained.Item(), 12);
    }

    [Theory, OnCpu, OnCuda]
    public void UpdatesInPlaceSoStaleGraphsAreCaught(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var p = Parameter(device, 1, 2);
        var y = (p * p).Sum(); // saves p for its backward
        SetGrad(p, 1, 1);
        var sgd = new SGD([p], learningRate: 0.5);
        sgd.Step();
        Assert.Equal(new[] { 0.5, 1.5 }, p.ToArray<double>());
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("modified in place", error.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void ZeroGradForgetsGradients(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var p = Parameter(device, 1);
        SetGrad(p, 1);
        var sgd = new SGD([p], learningRate: 1);
        sgd.ZeroGrad();
        Assert.Null(p.Grad);
        sgd.Step();
        Assert.Equal(1.0, p.Item());
    }

    [Theory, OnCpu, OnCuda]
    public void RejectsInvalidSettings(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var p = Parameter(device, 1);
        Assert.Throws<ArgumentException>(() => new SGD([p], learningRate: 1, nesterov: true));
        Assert.Throws<ArgumentException>(() => new SGD([p], learningRate: 1, momentum: 0.9, dampening: 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([p], learningRate: -1));
        var twice = Assert.Throws<ArgumentException>(() => new SGD([new ParameterGroup([p], 1), new ParameterGroup([p], 1)]));
        Assert.Contains("appears twice", twice.Message);
        Assert.Throws<ArgumentException>(() => new SGD([p * 2], learningRate: 1));
    }

    [Theory, OnCpu, OnCuda]
    public void ResumingFromTheStateDictContinuesTheSameTrajectory(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Two steps of a run, then the state moves to a fresh optimizer over copies of the parameters;
        // both continue with the same gradients and must stay identical.
        var a = Parameter(device, 1, 2);
        var b = Parameter(device, -1);
        var original = new SGD([new ParameterGroup([a], 0.1), new ParameterGroup([b], 0.2, weightDecay: 0.01)], momentum: 0.9, nesterov: true);
        for (int i = 0; i < 2; i++)
        {
            SetGrad(a, 0.5 + i, -1);
            SetGrad(b, 2);
            original.Step();
        }
        Assert.Equal(["state.0.momentum_buffer", "state.1.momentum_buffer"], original.StateDict().Keys);

        var (a2, b2) = (Parameter(device, a.ToArray<double>()), Parameter(device, b.ToArray<double>()));
        var resumed = new SGD([new ParameterGroup([a2], 0.1), new ParameterGroup([b2], 0.2, weightDecay: 0.01)], momentum: 0.9, nesterov: true);
        resumed.LoadStateDict(original.StateDict());
        foreach (var (p, optimizer) in new[] { (a, original), (a2, resumed) })
        {
            SetGrad(p, 3, 0.25);
            optimizer.Groups[1].Parameters[0].Grad = Tensor.FromArray(new[] { -1.0 }, [1], device);
            optimizer.Step();
        }
        Assert.Equal(a.ToArray<double>(), a2.ToArray<double>());
        Assert.Equal(b.ToArray<double>(), b2.ToArray<double>());

        var wrong = new SGD([Parameter(device, 1, 2, 3)], learningRate: 1, momentum: 0.9);
        var error = Assert.Throws<ArgumentException>(() => wrong.LoadStateDict(original.StateDict()));
        Assert.Contains("state.0.momentum_buffer has shape [2]", error.Message);
        Assert.Contains("unexpected key state.1.momentum_buffer", error.Message);
    }

    private sealed class Norm : Layer
    {
        public Norm()
        {
            RegisterParameter("weight", Tensor.Ones([2]));
            RegisterParameter("bias", Tensor.Zeros([2]));
        }

        public override Tensor Forward(Tensor input) => input;
    }

    [Fact]
    public void SplitsNormalizationParametersAsTorchvision()
    {
        var g = new Generator(0);
        var norm = new Norm();
        var model = new Sequential(new Linear(2, 2, g), norm, new Sequential(new Linear(2, 2, g).Freeze(), new Norm()));
        var (normalization, other) = ParameterGroup.SplitNormalization(model, m => m is Norm);
        var names = model.NamedParameters().ToDictionary(p => p.Value, p => p.Key); // Tensor has reference equality
        Assert.Equal(["1.weight", "1.bias", "2.1.weight", "2.1.bias"], normalization.Select(p => names[p]));
        Assert.Equal(["0.weight", "0.bias"], other.Select(p => names[p])); // the frozen Linear is not trained
    }
}
