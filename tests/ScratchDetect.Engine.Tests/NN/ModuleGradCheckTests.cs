using ScratchDetect.Engine.Diagnostics;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests.NN;

/// <summary>The module gradcheck helper really checks parameters, and catches a wrong parameter gradient.</summary>
public class ModuleGradCheckTests
{
    /// <summary>y = x·s with a deliberately wrong gradient for the parameter s (2x instead of x).</summary>
    private sealed class WrongScale : Layer
    {
        public WrongScale() => Scale = RegisterParameter("scale", Tensor.Ones([3]));

        public Tensor Scale { get; }

        public override Tensor Forward(Tensor input) =>
            Tensor.Record("wrong_scale", (input.Detach() * Scale.Detach()).Detach(), [input, Scale], saves: [input, Scale], g => [g * Scale, g * input * 2]);
    }

    private static Tensor Input(Generator g) => Tensor.Uniform([2, 3], -1, 1, g, DType.Float64).RequireGrad();

    [Fact]
    public void ParametersAreCheckedInputsInFloat64()
    {
        var check = ModuleGradCheck.ForLayer("nn.Linear", "test", g => new Linear(3, 2, g), Input);
        var inputs = check.MakeInputs(new Generator(0));
        Assert.Equal([[2, 3], [2, 3], [2]], inputs.Select(t => t.Shape.ToArray()));
        Assert.All(inputs, t => Assert.Equal(DType.Float64, t.DType));
        Assert.True(check.Run().Passed);
    }

    [Fact]
    public void EachRunUsesTheModuleMadeWithItsOwnTensors()
    {
        // The catalog's cases are shared and tests run them concurrently: a run whose inputs were
        // made first must still see its own module after another run made its inputs.
        var check = ModuleGradCheck.ForLayer("nn.Linear", "interleaved", g => new Linear(3, 2, g), Input);
        var first = check.MakeInputs(new Generator(0));
        var second = check.MakeInputs(new Generator(1));
        // The linear op on the first run's tensors: its input, then the layer's weight and bias.
        var expected = Tensor.Linear(first[0], first[1], first[2]);
        Assert.Equal(expected.ToArray<double>(), check.Function(first).ToArray<double>());
        Assert.NotEqual(expected.ToArray<double>(), check.Function(second).ToArray<double>());
    }

    [Fact]
    public void FrozenParametersAreLeftOut()
    {
        var check = ModuleGradCheck.ForLayer("nn.Linear", "frozen", g => new Linear(3, 2, g).Freeze(), Input);
        Assert.Single(check.MakeInputs(new Generator(0)));
    }

    [Fact]
    public void AWrongParameterGradientFails()
    {
        var result = ModuleGradCheck.ForLayer("wrong_scale", "test", _ => new WrongScale(), Input).Run();
        Assert.False(result.Passed);
        Assert.StartsWith("input 1 ", result.Worst); // the parameter, not the input (whose gradient is right)
    }
}
