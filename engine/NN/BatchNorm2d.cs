namespace ScratchDetect.Engine.NN;

/// <summary>
/// Batch normalisation over the channels of [N, C, H, W], as torch.nn.BatchNorm2d. Parameters
/// weight (ones) and bias (zeros) when affine; buffers running_mean (zeros), running_var (ones) and
/// num_batches_tracked (int64 scalar) when tracking running statistics. Training mode normalises with
/// the batch's statistics and updates the running ones; evaluation mode uses the running ones.
/// </summary>
public sealed class BatchNorm2d : Layer
{
    /// <summary>
    /// A batch norm over <paramref name="numFeatures"/> channels. A null <paramref name="momentum"/>
    /// makes the running statistics a cumulative average (momentum 1/num_batches_tracked), as PyTorch.
    /// </summary>
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
    {
        if (numFeatures <= 0) throw new ArgumentException($"batch_norm2d: num_features must be positive, not {numFeatures}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = affine ? RegisterParameter("weight", Tensor.Ones([numFeatures])) : null;
        Bias = affine ? RegisterParameter("bias", Tensor.Zeros([numFeatures])) : null;
        if (!trackRunningStats) return;
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures]));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures]));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Int64));
    }

    /// <summary>Number of channels.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Eps { get; }

    /// <summary>Weight of the newest batch in the running statistics; null for a cumulative average.</summary>
    public double? Momentum { get; }

    /// <summary>Per-channel scale γ, or null when not affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift β, or null when not affine.</summary>
    public Tensor? Bias { get; }

    /// <summary>Running per-channel mean, or null when running statistics are not tracked.</summary>
    public Tensor? RunningMean { get; }

    /// <summary>Running per-channel (unbiased) variance, or null when running statistics are not tracked.</summary>
    public Tensor? RunningVar { get; }

    /// <summary>Training batches seen (int64 scalar), or null when running statistics are not tracked.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"batch_norm2d: expected a 4-D input [N, C, H, W], got {Shapes.Format(input.Shape)}");
        // Without running statistics there is nothing to normalise with in evaluation mode, so batch statistics are used (as PyTorch).
        bool useBatchStatistics = Training || RunningMean is null;
        double momentum = Momentum ?? 0;
        if (Training && NumBatchesTracked is not null)
        {
            UpdateBuffer("num_batches_tracked", NumBatchesTracked + 1);
            momentum = Momentum ?? 1.0 / NumBatchesTracked.Item();
        }
        return Tensor.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStatistics, momentum, Eps);
    }
}
