namespace ScratchDetect.Engine.NN;

/// <summary>
/// torchvision.ops.FrozenBatchNorm2d (0.14): batch normalisation with fixed statistics and affine
/// parameters, all four stored as buffers (weight ones, bias zeros, running_mean zeros,
/// running_var ones) so nothing is trained; eps 1e-5. The same in training and evaluation mode.
/// </summary>
public sealed class FrozenBatchNorm2d : Layer
{
    /// <summary>A frozen batch norm over <paramref name="numFeatures"/> channels.</summary>
    public FrozenBatchNorm2d(int numFeatures, double eps = 1e-5)
    {
        if (numFeatures <= 0) throw new ArgumentException($"frozen_batch_norm2d: num_features must be positive, not {numFeatures}");
        Eps = eps;
        Weight = RegisterBuffer("weight", Tensor.Ones([numFeatures]));
        Bias = RegisterBuffer("bias", Tensor.Zeros([numFeatures]));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures]));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures]));
    }

    /// <summary>Added to the variance before the square root.</summary>
    public double Eps { get; }

    /// <summary>Per-channel scale γ (a buffer).</summary>
    public Tensor Weight { get; }

    /// <summary>Per-channel shift β (a buffer).</summary>
    public Tensor Bias { get; }

    /// <summary>Per-channel mean (a buffer).</summary>
    public Tensor RunningMean { get; }

    /// <summary>Per-channel variance (a buffer).</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.FrozenBatchNorm2d(input, Weight, Bias, RunningMean, RunningVar, Eps);
}
