using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests.NN;

/// <summary>
/// A PyTorch state_dict loads into the equivalent module tree and gives PyTorch's outputs and
/// gradients (fixtures from tools/parity/nn.py: torch.nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3))).
/// </summary>
public class StateDictParityTests
{
    private static string Fixture(string name) => Path.Combine(RepoPaths.Fixtures, "parity", name);

    // Float32 sums of at most 8 products of O(1) values: rounding ≲ 8·6e-8·|terms| ≈ 1e-6 worst
    // case, well inside 1e-5; a wrong weight layout or a missed bias is off by O(0.1).
    private const double Tolerance = 1e-5;

    private static Sequential Network() => new(new Linear(4, 8, new Generator(1)), new ReLU(), new Linear(8, 3, new Generator(2)));

    [Fact]
    public void KeysMatchPyTorchsNamesAndOrder()
    {
        var torchKeys = SafeTensors.Load(Fixture("nn_sequential_state_dict.safetensors")).Keys;
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], torchKeys);
        Assert.Equal(torchKeys, Network().StateDict().Keys);
    }

    [Theory, OnCpu, OnCuda]
    public void LoadedNetworkReproducesPyTorch(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var network = Network();
        Assert.True(network.LoadStateDict(Fixture("nn_sequential_state_dict.safetensors")).IsExactMatch);
        network.To(device);
        var io = SafeTensors.Load(Fixture("nn.safetensors"));

        var input = io["sequential/input"].To(device).Detach().RequireGrad();
        var output = network.Forward(input);
        TensorAssert.Close(io["sequential/output"], output, Tolerance, Tolerance, "output");

        output.Backward(io["sequential/gout"].To(device));
        TensorAssert.Close(io["sequential/grad_input"], input.Grad!, Tolerance, Tolerance, "input gradient");
        foreach (var (name, parameter) in network.NamedParameters())
            TensorAssert.Close(io[$"sequential/grad/{name}"], parameter.Grad!, Tolerance, Tolerance, $"gradient of {name}");
    }
}
