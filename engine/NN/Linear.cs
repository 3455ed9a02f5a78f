namespace ScratchDetect.Engine.NN;

/// <summary>
/// y = x·Wᵀ + b over the last axis, as torch.nn.Linear: weight [out, in], bias [out], both
/// initialised as PyTorch does (<see cref="Init.TorchDefault"/>).
/// </summary>
public sealed class Linear : Layer
{
    /// <summary>A layer mapping <paramref name="inFeatures"/> to <paramref name="outFeatures"/>, initialised from <paramref name="generator"/>.</summary>
    public Linear(int inFeatures, int outFeatures, Generator generator, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"linear: features must be positive, not in {inFeatures}, out {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Zeros([outFeatures, inFeatures]));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros([outFeatures])) : null;
        Init.TorchDefault(Weight, Bias, generator);
    }

    /// <summary>Size of the last axis of the input.</summary>
    public int InFeatures { get; }

    /// <summary>Size of the last axis of the output.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight, [out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, [out], or null when the layer has none.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Linear(input, Weight, Bias);
}
