using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine;

// Batch normalisation over the channel axis (axis 1) of [N, C, ...], as torch.nn.functional.batch_norm,
// and torchvision's FrozenBatchNorm2d. Statistics are per channel, over every other axis.
public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation. In training mode the batch's own per-channel mean and biased variance
    /// normalise the input, and <paramref name="runningMean"/> / <paramref name="runningVar"/> (when
    /// given) are updated in place: running = (1 - momentum)·running + momentum·batch, with the
    /// unbiased variance for running_var, as PyTorch. In evaluation mode the running statistics
    /// normalise. Then y = x̂·weight + bias per channel (each optional).
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        int channels = CheckBatchNorm(input, runningMean, runningVar, weight, bias, training);
        if (!training)
            return NormalizeWithStatistics(input, runningMean!, runningVar!, weight, bias, eps);

        var axes = Enumerable.Range(0, input.Rank).Where(d => d != 1).ToArray();
        long count = input.Numel / channels;
        var channelShape = ChannelShape(input);
        Tensor y, normalized, invStd;
        using (GradMode.NoGrad())
        {
            // Two passes (mean, then the mean of squared deviations) rather than E[x²] - E[x]²,
            // which cancels catastrophically when |mean| >> std.
            var mean = input.Mean(axes, keepDim: true);
            var centered = input - mean;
            var variance = (centered * centered).Then(squares => squares.Mean(axes, keepDim: true));
            invStd = 1.0 / (variance + eps).Sqrt();
            normalized = centered.Then(c => c * invStd);
            // normalized is saved for backward; the full-size steps after it are disposed as they are used.
            y = weight is null ? normalized : normalized * weight.Reshape(channelShape);
            if (bias is not null) y = ReferenceEquals(y, normalized) ? y + bias.Reshape(channelShape) : y.Then(scaled => scaled + bias.Reshape(channelShape));
            if (runningMean is not null && runningVar is not null)
            {
                runningMean.CopyFrom(runningMean * (1 - momentum) + mean.Reshape(channels) * momentum);
                runningVar.CopyFrom(runningVar * (1 - momentum) + variance.Reshape(channels) * (momentum * count / (count - 1)));
            }
        }

        Tensor[] inputs = [input, .. weight is null ? Array.Empty<Tensor>() : [weight], .. bias is null ? Array.Empty<Tensor>() : [bias]];
        return Record("batch_norm", y, inputs, g =>
        {
            // With x̂ = (x - mean)·invStd and y = γ·x̂ + β, differentiating through the batch mean and variance gives
            //   dx = γ·invStd·(g - mean(g) - x̂·mean(g·x̂)),  dγ = Σ g·x̂,  dβ = Σ g   (means and sums over N and the spatial axes).
            var grads = new List<Tensor?>();
            if (input.requiresGrad)
            {
                var scale = weight is null ? invStd : invStd * weight.Reshape(channelShape);
                grads.Add(scale * (g - g.Mean(axes, keepDim: true) - normalized * (g * normalized).Mean(axes, keepDim: true)));
            }
            else
            {
                grads.Add(null);
            }
            if (weight is not null) grads.Add(weight.requiresGrad ? (g * normalized).Sum(axes) : null);
            if (bias is not null) grads.Add(bias.requiresGrad ? g.Sum(axes) : null);
            return grads.ToArray();
        });
    }

    /// <summary>
    /// torchvision's FrozenBatchNorm2d: batch normalisation with fixed statistics and affine
    /// parameters, y = x·scale + shift with scale = weight / sqrt(running_var + eps) and
    /// shift = bias - running_mean·scale (eps 1e-5 in torchvision 0.14). Differentiable in all inputs,
    /// though the layer keeps these as buffers, so normally only the input gradient is used.
    /// </summary>
    public static Tensor FrozenBatchNorm2d(Tensor input, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar, double eps = 1e-5)
    {
        if (input.Rank != 4) throw new ArgumentException($"frozen_batch_norm2d: expected a 4-D input [N, C, H, W], got {Shapes.Format(input.shape)}");
        CheckBatchNorm(input, runningMean, runningVar, weight, bias, training: false);
        return NormalizeWithStatistics(input, runningMean, runningVar, weight, bias, eps);
    }

    /// <summary>
    /// x·scale + shift per channel with scale = weight / sqrt(var + eps), shift = bias - mean·scale
    /// (the eval-mode formula): the per-channel vectors are small differentiable tensor ops, the
    /// full-size step is one backend pass (ChannelAffine), as is its input gradient g·scale.
    /// </summary>
    private static Tensor NormalizeWithStatistics(Tensor input, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, double eps)
    {
        var scale = 1.0 / (variance + eps).Sqrt();
        if (weight is not null) scale = weight * scale;
        var shift = -mean * scale;
        if (bias is not null) shift = bias + shift;
        var (outer, channels, inner) = Shapes.AroundAxis(input.shape, 1);
        var y = new Tensor(input.Backend.ChannelAffine(input.Storage, scale.Storage, shift.Storage, outer, channels, inner), input.ShapeCopy());
        var others = Enumerable.Range(0, input.Rank).Where(d => d != 1).ToArray();
        return Record("batch_norm", y, [input, scale, shift], g =>
        [
            input.requiresGrad ? new Tensor(g.Backend.ChannelAffine(g.Storage, scale.Storage, null, outer, channels, inner), g.ShapeCopy()) : null,
            scale.requiresGrad ? (g * input).Then(product => product.Sum(others)) : null,
            shift.requiresGrad ? g.Sum(others) : null,
        ]);
    }

    /// <summary>[1, C, 1, ...]: a per-channel vector shaped to broadcast against the input.</summary>
    private static int[] ChannelShape(Tensor input) => input.shape.Select((n, d) => d == 1 ? n : 1).ToArray();

    private static int CheckBatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training)
    {
        if (input.Rank < 2 || !input.DType.IsFloatingPoint())
            throw new ArgumentException($"batch_norm: expected a floating-point input [N, C, ...], got {input.DType.Name()} {Shapes.Format(input.shape)}");
        int channels = input.shape[1];
        foreach (var (name, tensor) in new[] { ("running_mean", runningMean), ("running_var", runningVar), ("weight", weight), ("bias", bias) })
        {
            if (tensor is null) continue;
            CheckCompatible("batch_norm", input, tensor);
            if (tensor.Rank != 1 || tensor.shape[0] != channels)
                throw new ArgumentException($"batch_norm: {name} {Shapes.Format(tensor.shape)} must be [{channels}], one per channel of the input {Shapes.Format(input.shape)}");
        }
        if (!training && (runningMean is null || runningVar is null))
            throw new ArgumentException($"batch_norm: evaluation mode needs running_mean and running_var (input {Shapes.Format(input.shape)})");
        if (training && input.Numel / Math.Max(channels, 1) <= 1)
            throw new ArgumentException($"batch_norm: expected more than 1 value per channel when training, got input {Shapes.Format(input.shape)}");
        return channels;
    }
}
