using ScratchDetect.Engine;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Testing;

/// <summary>
/// One family of PyTorch parity cases, as written by tools/parity/&lt;family&gt;.py: per case the
/// inputs (in0, in1, ...), PyTorch's output (out), the cotangent fed to backward (gout) and
/// PyTorch's input gradients (grad0, ...). <see cref="Check"/> replays a case on our engine.
/// </summary>
internal sealed class ParityFixture
{
    private readonly Dictionary<string, Tensor> tensors;
    private readonly string family;

    private ParityFixture(string family, Dictionary<string, Tensor> tensors)
    {
        this.family = family;
        this.tensors = tensors;
    }

    /// <summary>Loads tests/fixtures/parity/&lt;family&gt;.safetensors.</summary>
    public static ParityFixture Load(string family) =>
        new(family, SafeTensors.Load(Path.Combine(RepoPaths.Fixtures, "parity", family + ".safetensors")));

    /// <summary>The names of the cases in the file.</summary>
    public IReadOnlyList<string> CaseNames => tensors.Keys.Where(k => k.EndsWith("/out")).Select(k => k[..^4]).ToList();

    /// <summary>
    /// Runs <paramref name="function"/> on the case's inputs, put on <paramref name="device"/>, and
    /// compares the output and, where the fixture has them, the input gradients with PyTorch's on
    /// the host. The output and the gradients must stay on the device.
    /// </summary>
    public void Check(string name, Func<Tensor[], Tensor> function, double atol, double rtol, Device device)
    {
        var inputs = new List<Tensor>();
        for (int i = 0; tensors.TryGetValue($"{name}/in{i}", out var input); i++)
        {
            var onDevice = input.To(device);
            inputs.Add(tensors.ContainsKey($"{name}/grad{i}") ? onDevice.Detach().RequireGrad() : onDevice);
        }
        if (inputs.Count == 0) throw new ArgumentException($"{family}: no case named '{name}'");

        var output = function(inputs.ToArray());
        AssertOn(device, output, $"{family}/{name} output");
        TensorAssert.Close(tensors[$"{name}/out"], output, atol, rtol, $"{family}/{name} output");
        if (!tensors.TryGetValue($"{name}/gout", out var cotangent)) return;

        output.Backward(cotangent.To(device));
        for (int i = 0; i < inputs.Count; i++)
            if (tensors.TryGetValue($"{name}/grad{i}", out var expected))
            {
                if (inputs[i].Grad is { } grad) AssertOn(device, grad, $"{family}/{name} gradient of input {i}");
                TensorAssert.Close(expected, inputs[i].Grad ?? inputs[i].ZerosLike(), atol, rtol, $"{family}/{name} gradient of input {i}");
            }
    }

    private static void AssertOn(Device device, Tensor tensor, string what)
    {
        if (tensor.Device != device) throw new Xunit.Sdk.XunitException($"{what} is on {tensor.Device}, but the inputs were on {device}");
    }
}
