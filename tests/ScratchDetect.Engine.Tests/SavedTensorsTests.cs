using ScratchDetect.Engine.Autograd;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Diagnostics;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Autograd keeps only what each backward formula reads (PyTorch's save_for_backward): every op
/// declares the tensors its closure reads, and every other tensor of the graph gives its storage
/// back as soon as it is disposed. A closure that read an undeclared tensor would meet a released
/// storage and throw an <see cref="ObjectDisposedException"/>; one that read a recycled buffer
/// instead would give a different gradient. Both are caught by comparing, bit for bit, the
/// gradients of a graph whose every tensor was disposed before backward with those of the same
/// graph left alone.
/// </summary>
public class SavedTensorsTests
{
    /// <summary>
    /// Record sites the gradcheck catalog reaches only inside compositions or not at all: the fused
    /// conv + ReLU, log2, index_add, clone, a dtype conversion and the tensor-scalar operators.
    /// </summary>
    private static IEnumerable<GradCheckCase> ExtraCases()
    {
        static Tensor Leaf(Generator g, double low, double high, params int[] shape) => Tensor.Uniform(shape, low, high, g, DType.Float64).RequireGrad();
        yield return new("conv2d_relu", "3x3 padding 1 with bias", x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1, activation: ConvActivation.Relu),
            g => [Leaf(g, -1, 1, 2, 2, 5, 5), Leaf(g, -1, 1, 3, 2, 3, 3), Leaf(g, -1, 1, 3)]);
        yield return new("log2", "[2,3] in [0.5, 3)", x => x[0].Log2(), g => [Leaf(g, 0.5, 3, 2, 3)]);
        yield return new("index_add", "axis 0, repeated indices", x => x[0].IndexAdd(0, Tensor.FromArray(new long[] { 2, 0, 2 }, [3], x[0].Device), x[1]),
            g => [Leaf(g, -1, 1, 3, 2), Leaf(g, -1, 1, 3, 2)]);
        yield return new("clone", "[2,3]", x => x[0].Clone(), g => [Leaf(g, -1, 1, 2, 3)]);
        yield return new("to", "float64 -> float32", x => x[0].To(DType.Float32), g => [Leaf(g, -1, 1, 2, 3)]);
        // Every tensor-scalar operator once: x + s, s + x, x - s, s - x, s * x, x * s, x / s, s / x (the divisor stays in (1, 1.25]).
        yield return new("scalar operators", "all eight", x => 2.0 / (1.0 + (3.0 - 2.0 * (x[0] + 1 - 0.5)) * 0.25 / 4.0),
            g => [Leaf(g, -1, 1, 2, 3)]);
    }

    private static IReadOnlyList<GradCheckCase> Cases { get; } = [.. GradCheckCatalog.All, .. ExtraCases()];

    /// <summary>Every gradcheck case, and the extras above, by name.</summary>
    public static TheoryData<string> CaseNames() => new(Cases.Select(c => c.ToString()));

    [Theory, OnCpu(nameof(CaseNames)), OnCuda(nameof(CaseNames))]
    public void DisposingEveryTensorBeforeBackwardKeepsTheGradients(string name, DeviceKind kind)
    {
        var check = Cases.Single(c => c.ToString() == name);
        int inputCount = check.MakeInputs(new Generator(0)).Length;
        // Every non-empty subset of the inputs that require grad: ops save some tensors only when
        // the gradient that reads them is wanted (mul saves b only when a requires grad).
        var differentiable = Enumerable.Range(0, inputCount).Where(i => check.MakeInputs(new Generator(0))[i].RequiresGrad).ToArray();
        for (int subset = 1; subset < 1 << differentiable.Length; subset++)
        {
            var wanted = differentiable.Where((_, bit) => (subset >> bit & 1) == 1).ToHashSet();
            var kept = Gradients(check, wanted, TestDevices.Of(kind), disposeGraph: false);
            var disposed = Gradients(check, wanted, TestDevices.Of(kind), disposeGraph: true);
            foreach (int i in wanted)
                AssertBitwiseEqual(kept[i], disposed[i], $"{check}: the gradient of input {i} (inputs with grad: {string.Join(", ", wanted)}) with the graph's tensors disposed before backward");
        }
    }

    /// <summary>
    /// Runs the case with only <paramref name="wanted"/> requiring grad, backpropagates a seeded
    /// cotangent and returns those inputs' gradients.
    /// </summary>
    private static Dictionary<int, Tensor> Gradients(GradCheckCase check, HashSet<int> wanted, Device device, bool disposeGraph)
    {
        var inputs = check.MakeInputs(new Generator(0));
        using (GradMode.NoGrad())
            foreach (var input in inputs)
                if (input.Device != device) input.ReplaceData(input.To(device));
        for (int i = 0; i < inputs.Length; i++)
            if (!wanted.Contains(i)) inputs[i].RequiresGrad = false;
        var output = check.Function(inputs);
        var cotangent = Tensor.Uniform(output.ShapeCopy(), -1, 1, new Generator(1), output.DType).To(device);
        var loss = (output * cotangent).Sum();
        if (disposeGraph) DisposeEveryTensorBehind(loss);
        loss.Backward();
        return wanted.ToDictionary(i => i, i => inputs[i].Grad!);
    }

    private static void AssertBitwiseEqual(Tensor expected, Tensor actual, string what)
    {
        var (e, a) = (expected.To(DType.Float64).ToArray<double>(), actual.To(DType.Float64).ToArray<double>());
        Assert.True(e.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(a.Select(BitConverter.DoubleToInt64Bits)), $"{what}: not bit-identical to the run without disposal");
    }

    /// <summary>Disposes every tensor the graph of <paramref name="root"/> reaches through its ops' inputs: the leaves and every intermediate.</summary>
    private static void DisposeEveryTensorBehind(Tensor root)
    {
        var reached = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Tensor>([root]);
        while (stack.TryPop(out var tensor))
            foreach (var input in tensor.GradFn?.Inputs ?? [])
                if (reached.Add(input)) stack.Push(input);
        foreach (var tensor in reached) tensor.Dispose();
    }

    [Fact]
    public void ConvFrozenBatchNormReluKeepsOnlyWhatBackwardReads()
    {
        // A ResNet layer in training, as Conv2d.Forward(input, norm, relu) runs it when a gradient
        // flows: conv, then FrozenBatchNorm2d, then ReLU, each intermediate disposed once used.
        // Backward reads the convolution's input (for the weight gradient), the norm's scale (for
        // the input gradient) and the ReLU's output; the conv and norm outputs are read by nobody,
        // so, as in PyTorch, their storages go back at once.
        (Tensor Input, Conv2d Conv, FrozenBatchNorm2d Norm) Make()
        {
            var g = new Generator(7);
            var conv = new Conv2d(3, 4, 3, g, padding: 1);
            var norm = new FrozenBatchNorm2d(4);
            using (GradMode.NoGrad())
            {
                norm.Weight.CopyFrom(Tensor.Uniform([4], 0.5, 2, g));
                norm.RunningVar.CopyFrom(Tensor.Uniform([4], 0.5, 2, g));
                norm.RunningMean.CopyFrom(Tensor.Uniform([4], -0.5, 0.5, g));
            }
            return (Tensor.Uniform([2, 3, 6, 6], -1, 1, g).RequireGrad(), conv, norm);
        }

        var (input, conv, norm) = Make();
        var inputStorage = input.Storage;
        var convolved = conv.Forward(input);
        var convolvedStorage = convolved.Storage;
        var normalized = convolved.Then(norm.Forward);
        Assert.True(convolvedStorage.IsReleased, "the convolution's output is read by no backward, so disposing it must free it");
        var normalizedStorage = normalized.Storage;
        var activated = normalized.Then(t => t.Relu());
        Assert.True(normalizedStorage.IsReleased, "the norm's output is read by no backward (ReLU's reads its own output)");
        var activatedStorage = activated.Storage;
        var loss = activated.Then(t => t.Sum());
        input.Dispose();
        Assert.False(activatedStorage.IsReleased, "ReLU's backward reads its output");
        Assert.False(inputStorage.IsReleased, "the weight gradient reads the convolution's input");
        loss.Backward();
        Assert.True(activatedStorage.IsReleased && inputStorage.IsReleased, "backward lets go of the saved tensors");

        // The same gradients as without any disposal.
        var (keptInput, keptConv, keptNorm) = Make();
        keptNorm.Forward(keptConv.Forward(keptInput)).Relu().Sum().Backward();
        AssertBitwiseEqual(keptInput.Grad!, input.Grad!, "input gradient");
        AssertBitwiseEqual(keptConv.Weight.Grad!, conv.Weight.Grad!, "weight gradient");
        AssertBitwiseEqual(keptConv.Bias!.Grad!, conv.Bias!.Grad!, "bias gradient");
    }

    [Fact]
    public void InPlaceChangeOfAnInputBackwardDoesNotReadIsAllowed()
    {
        // As in PyTorch, only saved tensors are version-checked: a + b reads neither, so changing b
        // afterwards cannot make its gradient wrong (d(a + b)/da = 1 whatever b holds).
        var a = Tensor.FromArray(new[] { 1.0, 2.0 }, 2).RequireGrad();
        var b = Tensor.FromArray(new[] { 3.0, 4.0 }, 2);
        var loss = (a + b).Sum();
        b.CopyFrom(Tensor.FromArray(new[] { 0.0, 0.0 }, 2));
        loss.Backward();
        Assert.Equal(new[] { 1.0, 1.0 }, a.Grad!.ToArray<double>());
    }
}
