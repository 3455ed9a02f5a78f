using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.NN;

/// <summary>Which fan a Kaiming initialisation preserves the variance of: the forward pass (fan-in) or the backward pass (fan-out).</summary>
public enum FanMode
{
    /// <summary>Inputs per output unit: keeps activations' variance through the forward pass.</summary>
    FanIn,
    /// <summary>Outputs per input unit: keeps gradients' variance through the backward pass.</summary>
    FanOut,
}

/// <summary>The activation following a layer, which sets the gain of its initialisation (torch.nn.init.calculate_gain).</summary>
public enum Nonlinearity
{
    /// <summary>No activation (also convolutions and sigmoid in PyTorch's table): gain 1.</summary>
    Linear,
    /// <summary>tanh: gain 5/3.</summary>
    Tanh,
    /// <summary>ReLU: gain √2.</summary>
    Relu,
    /// <summary>Leaky ReLU with negative slope a: gain √(2 / (1 + a²)).</summary>
    LeakyRelu,
}

/// <summary>
/// The initialisations of torch.nn.init (PyTorch 1.13), filling a tensor in place from an explicit
/// <see cref="Generator"/>. The distributions and their parameters are PyTorch's; the random
/// streams are ours, so values match PyTorch's in distribution, not element by element.
/// </summary>
public static class Init
{
    /// <summary>
    /// (fan_in, fan_out) of a weight as torch.nn.init._calculate_fan_in_and_fan_out: for
    /// [out, in, k1, k2, ...] fan_in = in·k1·k2·… and fan_out = out·k1·k2·… (the receptive field
    /// counts once per input or output channel). Needs at least two axes.
    /// </summary>
    public static (int FanIn, int FanOut) FanInAndFanOut(IReadOnlyList<int> shape)
    {
        if (shape.Count < 2)
            throw new ArgumentException($"init: fan in and fan out cannot be computed for a tensor with fewer than 2 axes, {Shapes.Format(shape)}");
        int receptiveField = 1;
        for (int d = 2; d < shape.Count; d++) receptiveField *= shape[d];
        return (shape[1] * receptiveField, shape[0] * receptiveField);
    }

    /// <summary>
    /// The gain torch.nn.init.calculate_gain recommends for <paramref name="nonlinearity"/>; for
    /// <see cref="Nonlinearity.LeakyRelu"/> <paramref name="negativeSlope"/> is the slope (PyTorch's
    /// default 0.01 when not given).
    /// </summary>
    public static double Gain(Nonlinearity nonlinearity, double? negativeSlope = null) => nonlinearity switch
    {
        Nonlinearity.Linear => 1,
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2),
        Nonlinearity.LeakyRelu => Math.Sqrt(2 / (1 + Math.Pow(negativeSlope ?? 0.01, 2))),
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
    };

    /// <summary>
    /// kaiming_uniform_: U(-b, b) with b = √3 · gain / √fan, gain = <see cref="Gain"/>(nonlinearity, a)
    /// (He et al. 2015; the √3 turns the wanted standard deviation into a uniform bound).
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, Generator generator, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        double bound = Math.Sqrt(3) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform(tensor, generator, -bound, bound);
    }

    /// <summary>kaiming_normal_: N(0, std²) with std = gain / √fan, gain = <see cref="Gain"/>(nonlinearity, a).</summary>
    public static Tensor KaimingNormal(Tensor tensor, Generator generator, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu) =>
        Normal(tensor, generator, 0, KaimingStd(tensor, a, mode, nonlinearity));

    private static double KaimingStd(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = FanInAndFanOut(tensor.Shape);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0)
            throw new ArgumentException($"init: kaiming initialisation of {Shapes.Format(tensor.Shape)} has a zero {mode}");
        return Gain(nonlinearity, a) / Math.Sqrt(fan);
    }

    /// <summary>xavier_uniform_: U(-b, b) with b = gain · √(6 / (fan_in + fan_out)) (Glorot and Bengio 2010).</summary>
    public static Tensor XavierUniform(Tensor tensor, Generator generator, double gain = 1)
    {
        var (fanIn, fanOut) = FanInAndFanOut(tensor.Shape);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, generator, -bound, bound);
    }

    /// <summary>uniform_: U(low, high).</summary>
    public static Tensor Uniform(Tensor tensor, Generator generator, double low = 0, double high = 1) =>
        Fill(tensor, Tensor.Uniform(tensor.ShapeCopy(), low, high, generator, tensor.DType));

    /// <summary>normal_: N(mean, std²).</summary>
    public static Tensor Normal(Tensor tensor, Generator generator, double mean = 0, double std = 1) =>
        Fill(tensor, Tensor.Normal(tensor.ShapeCopy(), mean, std, generator, tensor.DType));

    /// <summary>constant_: every element set to <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor tensor, double value) => Fill(tensor, tensor.FullLike(value));

    /// <summary>zeros_.</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>
    /// The default initialisation of torch.nn.Linear and torch.nn.Conv2d (their reset_parameters in
    /// 1.13): the weight by kaiming_uniform_ with a = √5, the bias U(-1/√fan_in, 1/√fan_in) with
    /// fan_in from the weight's shape ([out, in/groups, kh, kw] for convolutions). With a = √5 the
    /// gain is √(2/6), so the weight's bound is √3·√(1/3)/√fan_in = 1/√fan_in as well.
    /// </summary>
    public static void TorchDefault(Tensor weight, Tensor? bias, Generator generator)
    {
        KaimingUniform(weight, generator, a: Math.Sqrt(5));
        if (bias is null) return;
        int fanIn = FanInAndFanOut(weight.Shape).FanIn;
        if (fanIn == 0) return; // PyTorch leaves the bias alone for an empty weight
        double bound = 1 / Math.Sqrt(fanIn);
        Uniform(bias, generator, -bound, bound);
    }

    /// <summary>Copies <paramref name="values"/> into <paramref name="tensor"/> outside autograd (parameters are leaves requiring grad); <paramref name="values"/> is disposed.</summary>
    private static Tensor Fill(Tensor tensor, Tensor values)
    {
        using var _ = GradMode.NoGrad();
        using var source = values;
        tensor.CopyFrom(source);
        return tensor;
    }
}
