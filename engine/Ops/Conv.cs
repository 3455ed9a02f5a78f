using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// 2-D convolution, as torch.nn.functional.conv2d. Shapes:
//   input  [N, C, H, W]
//   weight [O, C/groups, kh, kw]
//   bias   [O]
//   output [N, O, OutH, OutW], OutH = floor((H + 2·padH - dilationH·(kh-1) - 1) / strideH) + 1 (OutW likewise).
// The backward pass has three parts: the input gradient (backend "backward data"), the weight
// gradient (backend "backward filter") and the bias gradient, which is an ordinary sum.
public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as every DL framework) of <paramref name="input"/>
    /// [N, C, H, W] with <paramref name="weight"/> [O, C/groups, kh, kw] and an optional
    /// <paramref name="bias"/> [O]. Stride and dilation default to 1, padding (zeros) to 0.
    /// With <paramref name="residual"/> (the output's shape: a residual block's shortcut) the result is
    /// conv2d(...) + residual, and with <paramref name="activation"/> = <see cref="ConvActivation.Relu"/>
    /// relu of it, computed in the convolution's output pass: the same values as
    /// <c>(Conv2d(...) + residual).Relu()</c> without the extra passes over the output or their tensors.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1,
        ConvActivation activation = ConvActivation.None, Tensor? residual = null)
    {
        var geometry = ConvGeometry(input, weight, bias, stride ?? 1, padding ?? 0, dilation ?? 1, groups);
        int[] outputShape = [geometry.Batch, geometry.OutChannels, geometry.OutH, geometry.OutW];
        if (residual is not null)
        {
            CheckCompatible("conv2d", input, residual);
            if (!residual.shape.AsSpan().SequenceEqual(outputShape))
                throw new ArgumentException($"conv2d: the residual must have the output's shape {Shapes.Format(outputShape)}, got {Shapes.Format(residual.shape)}");
        }
        var y = new Tensor(input.Backend.Conv2dBiasActivation(input.Storage, weight.Storage, bias?.Storage, activation, geometry, residual?.Storage), outputShape);
        Tensor[] inputs = [input, weight, .. bias is null ? Array.Empty<Tensor>() : [bias], .. residual is null ? Array.Empty<Tensor>() : [residual]];
        // As PyTorch: the input is read by the weight gradient, the weight by the input gradient, and
        // the output only by the fused ReLU's backward; the residual's gradient reads nothing.
        Tensor?[] saves = [weight.requiresGrad ? input : null, input.requiresGrad ? weight : null, activation == ConvActivation.Relu ? y : null];
        string name = (residual is null ? "conv2d" : "conv2d_add") + (activation == ConvActivation.Relu ? "_relu" : "");
        return Record(name, y, inputs, saves, outputGrad =>
        {
            // The ReLU's backward needs only the output, which autograd keeps: g·[y > 0] is the
            // gradient of the convolution's own output, and of the residual.
            var g = activation == ConvActivation.Relu ? ActivationBackward(UnaryOp.Relu, outputGrad, y) : outputGrad;
            bool residualGrad = residual?.requiresGrad == true;
            Tensor?[] grads =
            [
                input.requiresGrad ? new Tensor(g.Backend.Conv2dBackwardData(g.Storage, weight.Storage, geometry), input.ShapeCopy()) : null,
                weight.requiresGrad ? new Tensor(g.Backend.Conv2dBackwardFilter(g.Storage, input.Storage, geometry), weight.ShapeCopy()) : null,
                .. bias is null ? Array.Empty<Tensor?>() : [bias.requiresGrad ? g.Sum([0, 2, 3]) : null],
                .. residual is null ? Array.Empty<Tensor?>() : [residualGrad ? g : null],
            ];
            if (!ReferenceEquals(g, outputGrad) && !residualGrad) g.Dispose();
            return grads;
        });
    }

    /// <summary>Checks every shape rule of conv2d and describes the convolution for the backend.</summary>
    private static Conv2dGeometry ConvGeometry(Tensor input, Tensor weight, Tensor? bias, Size2d stride, Size2d padding, Size2d dilation, int groups)
    {
        CheckCompatible("conv2d", input, weight);
        if (bias is not null) CheckCompatible("conv2d", input, bias);
        string Shapes3() => $"input {Shapes.Format(input.shape)}, weight {Shapes.Format(weight.shape)}" + (bias is null ? "" : $", bias {Shapes.Format(bias.shape)}");
        if (input.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException($"conv2d: expected a 4-D input [N, C, H, W] and a 4-D weight [O, C/groups, kh, kw], got {Shapes3()}");
        if (stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"conv2d: stride {stride} and dilation {dilation} must be positive and padding {padding} non-negative");
        int channels = input.shape[1], outChannels = weight.shape[0];
        if (groups < 1 || channels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"conv2d: groups={groups} must divide both the {channels} input channels and the {outChannels} output channels ({Shapes3()})");
        if (weight.shape[1] * groups != channels)
            throw new ArgumentException($"conv2d: the input has {channels} channels but the weight expects {weight.shape[1]}·{groups} groups = {weight.shape[1] * groups} ({Shapes3()})");
        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != outChannels))
            throw new ArgumentException($"conv2d: the bias must be [{outChannels}], one per output channel ({Shapes3()})");
        var kernel = new Size2d(weight.shape[2], weight.shape[3]);
        var extent = new Size2d(dilation.H * (kernel.H - 1) + 1, dilation.W * (kernel.W - 1) + 1);
        var padded = new Size2d(input.shape[2] + 2 * padding.H, input.shape[3] + 2 * padding.W);
        if (extent.H > padded.H || extent.W > padded.W)
            throw new ArgumentException($"conv2d: the kernel spans {extent} (dilation {dilation}) but the padded input is only {padded} ({Shapes3()}, padding {padding})");
        return new Conv2dGeometry(input.shape[0], channels, input.shape[2], input.shape[3], outChannels, kernel, stride, padding, dilation, groups);
    }
}
