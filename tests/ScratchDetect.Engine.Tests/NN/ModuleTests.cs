using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests.NN;

/// <summary>Registration, naming, state dicts, modes, dtype conversion and freezing of modules.</summary>
public class ModuleTests
{
    /// <summary>
    /// A small tree in the shape of a torchvision block: its own parameter and buffers (one int64,
    /// like num_batches_tracked), a Sequential child and a ModuleList child.
    /// </summary>
    private sealed class Toy : Module
    {
        public Toy(ulong seed)
        {
            var g = new Generator(seed);
            Head = RegisterModule("head", new Sequential(new Linear(3, 4, g), new ReLU(), new Linear(4, 2, g)));
            Scale = RegisterParameter("scale", Tensor.Ones([2]));
            RegisterBuffer("running_mean", Tensor.Zeros([2]));
            RegisterBuffer("num_batches_tracked", Tensor.Scalar(0, DType.Int64));
            Blocks = RegisterModule("blocks", new ModuleList<Linear>([new Linear(2, 2, g), new Linear(2, 2, g, bias: false)]));
        }

        public Sequential Head { get; }
        public Tensor Scale { get; }
        public ModuleList<Linear> Blocks { get; }

        public void SetRunningMean(Tensor value) => UpdateBuffer("running_mean", value);
    }

    // PyTorch's order: a module's own parameters (then, in state_dict, its own buffers) come before
    // its children's, whatever the order of the register calls; children in registration order.
    private static readonly string[] ExpectedParameterNames =
        ["scale", "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight"];

    private static readonly string[] ExpectedStateDictKeys =
        ["scale", "running_mean", "num_batches_tracked", "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight"];

    [Fact]
    public void NamesAreDottedInPyTorchOrder()
    {
        var toy = new Toy(1);
        Assert.Equal(ExpectedParameterNames, toy.NamedParameters().Select(p => p.Key));
        Assert.Equal(["running_mean", "num_batches_tracked"], toy.NamedBuffers().Select(b => b.Key));
        Assert.Equal(ExpectedStateDictKeys, toy.StateDict().Keys);
        Assert.Equal(["", "head", "head.0", "head.1", "head.2", "blocks", "blocks.0", "blocks.1"], toy.NamedModules().Select(m => m.Key));
        Assert.Equal(["head", "blocks"], toy.NamedChildren().Select(c => c.Key));
    }

    [Fact]
    public void StateDictHoldsTheModulesOwnTensors()
    {
        var toy = new Toy(1);
        var state = toy.StateDict();
        Assert.Same(toy.Scale, state["scale"]);
        Assert.Same(((Linear)toy.Head[2]).Weight, state["head.2.weight"]);
        Assert.Equal([2, 4], state["head.2.weight"].Shape);
        Assert.All(toy.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.False(state["running_mean"].RequiresGrad);
    }

    [Fact]
    public void SharedParametersAreListedOnce()
    {
        var shared = new Linear(2, 2, new Generator(0));
        var twice = new Sequential(shared, new ReLU(), shared);
        Assert.Equal(["0.weight", "0.bias"], twice.NamedParameters().Select(p => p.Key));
        // state_dict, like PyTorch's, lists the tensors under every name they have.
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], twice.StateDict().Keys);
    }

    [Fact]
    public void RegistrationRejectsBadNamesAndTensors()
    {
        var toy = new Toy(1);
        var duplicate = Assert.Throws<ArgumentException>(() => toy.RegisterBuffer("scale", Tensor.Zeros([1])));
        Assert.Contains("'scale' is already registered", duplicate.Message);
        Assert.Throws<ArgumentException>(() => toy.RegisterParameter("a.b", Tensor.Zeros([1])));
        Assert.Throws<ArgumentException>(() => toy.RegisterParameter("", Tensor.Zeros([1])));
        var integer = Assert.Throws<ArgumentException>(() => toy.RegisterParameter("count", Tensor.Zeros([1], DType.Int64)));
        Assert.Contains("int64", integer.Message);
        var made = Tensor.Ones([2]).RequireGrad() * 2;
        Assert.Throws<ArgumentException>(() => toy.RegisterParameter("made", made));
        Assert.Throws<ArgumentException>(() => toy.RegisterBuffer("made", made));
    }

    [Fact]
    public void UpdateBufferCopiesInPlace()
    {
        var toy = new Toy(1);
        var buffer = toy.StateDict()["running_mean"];
        toy.SetRunningMean(Tensor.FromArray(new float[] { 0.25f, -1 }, 2));
        Assert.Same(buffer, toy.StateDict()["running_mean"]);
        Assert.Equal(new float[] { 0.25f, -1 }, buffer.ToArray<float>());
    }

    [Fact]
    public void LoadStateDictCopiesValuesInPlace()
    {
        var source = new Toy(1);
        var target = new Toy(2);
        var weight = ((Linear)target.Head[0]).Weight;
        int versionBefore = weight.Version;
        Assert.NotEqual(((Linear)source.Head[0]).Weight.ToArray<float>(), weight.ToArray<float>());

        var result = target.LoadStateDict(source.StateDict());

        Assert.True(result.IsExactMatch, result.ToString());
        Assert.Same(weight, ((Linear)target.Head[0]).Weight);
        Assert.True(weight.Version > versionBefore, "an in-place load must bump the version so stale graphs are caught");
        foreach (var (key, value) in source.StateDict())
            Assert.Equal(value.To(DType.Float64).ToArray<double>(), target.StateDict()[key].To(DType.Float64).ToArray<double>());
    }

    [Fact]
    public void SaveAndLoadRoundTripThroughAFile()
    {
        using var folder = new TempDir();
        var path = folder.File("module.safetensors");
        var source = new Toy(1);
        source.SetRunningMean(Tensor.FromArray(new float[] { 3, 4 }, 2));
        source.SaveStateDict(path);
        var target = new Toy(2);
        Assert.True(target.LoadStateDict(path).IsExactMatch);
        Assert.Equal(new float[] { 3, 4 }, target.StateDict()["running_mean"].ToArray<float>());
        Assert.Equal(((Linear)source.Blocks[1]).Weight.ToArray<float>(), ((Linear)target.Blocks[1]).Weight.ToArray<float>());
        Assert.Equal(DType.Int64, target.StateDict()["num_batches_tracked"].DType);
    }

    /// <summary>A source with every kind of problem: a missing key, an extra key, a wrong shape and a wrong dtype.</summary>
    private static Dictionary<string, Tensor> FaultySource()
    {
        var state = new Toy(1).StateDict().ToDictionary(e => e.Key, e => e.Value.Detach());
        state.Remove("head.2.bias");
        state["head.3.weight"] = Tensor.Zeros([2, 2]);
        state["blocks.0.weight"] = Tensor.Zeros([3, 2]);
        state["num_batches_tracked"] = Tensor.Scalar(5, DType.Float32); // a float where the module counts in int64
        state["scale"] = Tensor.FromArray(new[] { 7.0, 8.0 }, 2);       // float64 into float32: converts, as torch's copy_
        return state;
    }

    [Fact]
    public void NonStrictLoadReportsEveryProblemAndLoadsTheRest()
    {
        var target = new Toy(2);
        var result = target.LoadStateDict(FaultySource(), strict: false);

        Assert.False(result.IsExactMatch);
        Assert.Equal(["head.2.bias"], result.MissingKeys);
        Assert.Equal(["head.3.weight"], result.UnexpectedKeys);
        Assert.Equal([new StateDictMismatch("blocks.0.weight", "[2, 2]", "[3, 2]")], result.ShapeMismatches);
        Assert.Equal([new StateDictMismatch("num_batches_tracked", "int64", "float32")], result.DTypeMismatches);
        Assert.Equal(new float[] { 7, 8 }, target.Scale.ToArray<float>());
        Assert.Equal(0.0, target.StateDict()["num_batches_tracked"].Item());
    }

    [Fact]
    public void DescribeNamesTheFirstKeysOfEachKindAndCountsTheRest()
    {
        var result = new StateDictLoadResult(["a", "b", "c"], ["x"], [new StateDictMismatch("w", "[2]", "[3]")], []);
        Assert.Equal("3 missing key(s): a, b, ... and 1 more\n1 unexpected key(s): x\n1 shape mismatch(es): w (module [2], source [3])", result.Describe(2));
        Assert.Equal("3 missing key(s): a, b, c\n1 unexpected key(s): x\n1 shape mismatch(es): w (module [2], source [3])", result.ToString());
    }

    [Fact]
    public void StrictLoadThrowsListingAllProblemsAndLoadsNothing()
    {
        var target = new Toy(2);
        var before = target.Scale.ToArray<float>();
        var error = Assert.Throws<StateDictMismatchException>(() => target.LoadStateDict(FaultySource()));
        foreach (var key in new[] { "head.2.bias", "head.3.weight", "blocks.0.weight", "num_batches_tracked" })
            Assert.Contains(key, error.Message);
        Assert.Contains("[3, 2]", error.Message);
        Assert.Equal(4, error.Result.MissingKeys.Count + error.Result.UnexpectedKeys.Count + error.Result.ShapeMismatches.Count + error.Result.DTypeMismatches.Count);
        Assert.Equal(before, target.Scale.ToArray<float>());
    }

    [Fact]
    public void FileLoadErrorsNameTheFile()
    {
        using var folder = new TempDir();
        var path = folder.File("faulty.safetensors");
        IO.SafeTensors.Save(path, FaultySource());
        var error = Assert.Throws<StateDictMismatchException>(() => new Toy(2).LoadStateDict(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("head.3.weight", error.Message);
    }

    [Fact]
    public void TrainAndEvalReachEveryDescendant()
    {
        var toy = new Toy(1);
        Assert.All(toy.NamedModules(), m => Assert.True(m.Value.Training));
        Assert.Same(toy, toy.Eval());
        Assert.All(toy.NamedModules(), m => Assert.False(m.Value.Training, m.Key));
        toy.Head.Train();
        Assert.True(toy.Head[1].Training);
        Assert.False(toy.Training);
        Assert.False(toy.Blocks[0].Training);
    }

    [Fact]
    public void ToFloat64ConvertsFloatingTensorsInPlace()
    {
        var toy = new Toy(1);
        var weight = ((Linear)toy.Head[0]).Weight;
        var valuesBefore = weight.To(DType.Float64).ToArray<double>();

        Assert.Same(toy, toy.To(DType.Float64));

        Assert.Same(weight, ((Linear)toy.Head[0]).Weight);
        Assert.Equal(DType.Float64, weight.DType);
        Assert.True(weight.RequiresGrad);
        Assert.Equal(valuesBefore, weight.ToArray<double>()); // float32 -> float64 is exact
        Assert.All(toy.NamedParameters(), p => Assert.Equal(DType.Float64, p.Value.DType));
        Assert.Equal(DType.Float64, toy.StateDict()["running_mean"].DType);
        Assert.Equal(DType.Int64, toy.StateDict()["num_batches_tracked"].DType);
        var output = toy.Head.Forward(Tensor.Ones([1, 3], DType.Float64));
        Assert.Equal(DType.Float64, output.DType);
        Assert.Throws<ArgumentException>(() => toy.To(DType.Int64));
    }

    [Theory, OnCpu, OnCuda]
    public void FrozenParametersGetNoGradient(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var net = new Sequential(new Linear(3, 2, new Generator(0)), new ReLU(), new Linear(2, 1, new Generator(1))).To(device);
        net[0].Freeze();
        var input = Tensor.Ones([4, 3], device: device).RequireGrad();
        net.Forward(input).Sum().Backward();

        Assert.All(net[0].Parameters(), p => Assert.False(p.RequiresGrad));
        Assert.All(net[0].Parameters(), p => Assert.Null(p.Grad));
        Assert.All(net[2].Parameters(), p => Assert.NotNull(p.Grad));
        Assert.NotNull(input.Grad); // gradients still flow through a frozen layer to what is below it

        net.Freeze(false);
        Assert.All(net.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Theory, OnCpu, OnCuda]
    public void LinearComputesAffineMapOnTheLastAxis(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var linear = new Linear(3, 2, new Generator(0)).To(device);
        linear.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3], device),
            ["bias"] = Tensor.FromArray(new float[] { 0.5f, -1 }, [2], device),
        });
        // [1, 0, -1]·[1, 2, 3] + 0.5 = -1.5 ; [1, 0, -1]·[4, 5, 6] - 1 = -3
        var output = linear.Forward(Tensor.FromArray(new float[] { 1, 0, -1, 0, 1, 0 }, [2, 1, 3], device));
        Assert.Equal([2, 1, 2], output.Shape);
        Assert.Equal(new float[] { -1.5f, -3, 2.5f, 4 }, output.ToArray<float>()); // second row: 2 + 0.5, 5 - 1
        Assert.Equal(["weight"], new Linear(3, 2, new Generator(0), bias: false).StateDict().Keys);
    }

    [Theory, OnCpu, OnCuda]
    public void SequentialNamesAndChainsItsLayers(DeviceKind kind)
    {
        var g = new Generator(0);
        var named = new Sequential([("fc6", (Layer)new Linear(4, 3, g)), ("relu", new ReLU()), ("fc7", new Linear(3, 2, g))]);
        Assert.Equal(["fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias"], named.StateDict().Keys);
        Assert.Equal(3, named.Count);

        var chain = new Sequential(new ReLU()).Append(new ReLU());
        Assert.Equal(["", "0", "1"], chain.NamedModules().Select(m => m.Key));
        var output = chain.Forward(Tensor.FromArray(new float[] { -2, 3 }, [2], TestDevices.Of(kind)));
        Assert.Equal(new float[] { 0, 3 }, output.ToArray<float>());
    }

    [Fact]
    public void ModuleListIsIndexableAndNamedByPosition()
    {
        var g = new Generator(0);
        var list = new ModuleList<Linear> { new Linear(2, 3, g), new Linear(3, 4, g) };
        Assert.Equal(2, list.Count);
        Assert.Equal(4, list[1].OutFeatures);
        Assert.Equal([3, 4], list.Select(l => l.OutFeatures));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], list.StateDict().Keys);
    }
}
