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
        CheckBatchNorm(input, runningMean, runningVar, weight, bias, training);
        if (!training)
            return NormalizeWithStatistics(input, runningMean!, runningVar!, weight, bias, eps);

        // One backend primitive each way (cuDNN's batch-norm training calls): the forward computes the
        // batch statistics, normalises and updates the running statistics in place; the backward
        // takes the input and the saved per-channel mean and 1/std, as PyTorch saves them.
        var (outer, channels, inner) = Shapes.AroundAxis(input.shape, 1);
        var (output, mean, invStd) = input.Backend.BatchNormTraining(input.Storage, weight?.Storage, bias?.Storage, runningMean?.Storage, runningVar?.Storage,
            outer, channels, inner, momentum, eps);
        if (runningMean is not null) runningMean.Version++;
        if (runningVar is not null) runningVar.Version++;
        var y = new Tensor(output, input.ShapeCopy());
        var savedMean = new Tensor(mean, [channels]);
        var savedInvStd = new Tensor(invStd, [channels]);

        Tensor[] inputs = [input, .. weight is null ? Array.Empty<Tensor>() : [weight], .. bias is null ? Array.Empty<Tensor>() : [bias]];
        var result = Record("batch_norm", y, inputs, saves: [input, weight, savedMean, savedInvStd], g =>
        {
            // With x̂ = (x - mean)·invStd and y = γ·x̂ + β, differentiating through the batch mean and variance gives
            //   dx = γ·invStd·(g - mean(g) - x̂·mean(g·x̂)),  dγ = Σ g·x̂,  dβ = Σ g   (means and sums over N and the spatial axes).
            var (gradInput, gradWeight, gradBias) = g.Backend.BatchNormTrainingBackward(g.Storage, input.Storage, savedMean.Storage, savedInvStd.Storage, weight?.Storage,
                outer, channels, inner, input.requiresGrad);
            var grads = new List<Tensor?> { gradInput is null ? null : new Tensor(gradInput, input.ShapeCopy()) };
            if (weight is not null) grads.Add(weight.requiresGrad ? new Tensor(gradWeight, [channels]) : null);
            if (weight is null || !weight.requiresGrad) gradWeight.Release();
            if (bias is not null) grads.Add(bias.requiresGrad ? new Tensor(gradBias, [channels]) : null);
            if (bias is null || !bias.requiresGrad) gradBias.Release();
            return grads.ToArray();
        });
        // The graph node (if any) holds the saved statistics until backward; otherwise they go now.
        savedMean.Dispose();
        savedInvStd.Dispose();
        return result;
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
        return Record("batch_norm", y, [input, scale, shift], saves: [input.requiresGrad ? scale : null, scale.requiresGrad ? input : null], g =>
        [
            input.requiresGrad ? new Tensor(g.Backend.ChannelAffine(g.Storage, scale.Storage, null, outer, channels, inner), g.ShapeCopy()) : null,
            scale.requiresGrad ? (g * input).Then(product => product.Sum(others)) : null,
            shift.requiresGrad ? g.Sum(others) : null,
        ]);
    }

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
