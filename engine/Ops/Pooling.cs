using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine;

// 2-D pooling over [N, C, H, W], as torch.nn.functional.max_pool2d / avg_pool2d / adaptive_avg_pool2d.
// Output size per axis (see SlidingWindow.OutputSize):
//   floor((H + 2·pad - dilation·(k-1) - 1) / stride) + 1, or with ceil_mode the ceiling, minus one
//   if that last window would start at or beyond H + pad (inside nothing but right padding).
public sealed partial class Tensor
{
    /// <summary>
    /// Max pooling with -inf padding; <paramref name="stride"/> defaults to the kernel size.
    /// The gradient flows to each window's maximum (the first on ties).
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, bool ceilMode = false)
    {
        var (values, indices) = MaxPool2dWithIndices(input, kernel, stride, padding, dilation, ceilMode);
        indices.Dispose(); // kept by autograd when the backward pass needs them
        return values;
    }

    /// <summary>
    /// Max pooling that also returns each maximum's int64 position h·W + w within its input plane,
    /// as max_pool2d(return_indices=True).
    /// </summary>
    public static (Tensor Values, Tensor Indices) MaxPool2dWithIndices(Tensor input, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, bool ceilMode = false)
    {
        var geometry = PoolGeometry("max_pool2d", input, kernel, stride ?? kernel, padding ?? 0, dilation ?? 1, ceilMode);
        int[] outShape = [geometry.Batch, geometry.Channels, geometry.OutH, geometry.OutW];
        var (values, indices) = input.Backend.MaxPool2d(input.Storage, geometry);
        var indexTensor = new Tensor(indices, outShape);
        var inputShape = input.shape;
        // The output is a gather of the input at the indices, so its gradient is scattered back to the winners.
        var y = Record("max_pool2d", new Tensor(values, outShape), [input], saves: [indexTensor], g =>
            [new Tensor(g.Backend.MaxPool2dBackward(g.Storage, indexTensor.Storage, geometry), inputShape)]);
        return (y, indexTensor);
    }

    /// <summary>
    /// Average pooling with zero padding; <paramref name="stride"/> defaults to the kernel size. The
    /// divisor is <paramref name="divisorOverride"/> if given, else the window size clipped to the
    /// padded input (<paramref name="countIncludePad"/>) or to the input itself.
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, Size2d kernel, Size2d? stride = null, Size2d? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        if (divisorOverride is <= 0) throw new ArgumentException($"avg_pool2d: divisor_override must be positive, not {divisorOverride}");
        var geometry = PoolGeometry("avg_pool2d", input, kernel, stride ?? kernel, padding ?? 0, 1, ceilMode);
        var y = new Tensor(input.Backend.AvgPool2d(input.Storage, geometry, countIncludePad, divisorOverride), [geometry.Batch, geometry.Channels, geometry.OutH, geometry.OutW]);
        var inputShape = input.shape;
        return Record("avg_pool2d", y, [input], saves: [], g =>
            [new Tensor(g.Backend.AvgPool2dBackward(g.Storage, geometry, countIncludePad, divisorOverride), inputShape)]);
    }

    /// <summary>
    /// Averages over <paramref name="outputSize"/> windows that tile the input: output row i covers
    /// rows floor(i·H/outH) to ceil((i+1)·H/outH) (exclusive), so windows overlap when H is not a multiple of outH.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2d outputSize)
    {
        if (input.Rank != 4 || outputSize.H < 1 || outputSize.W < 1)
            throw new ArgumentException($"adaptive_avg_pool2d: expected a 4-D input [N, C, H, W] and a positive output size, got {Shapes.Format(input.shape)} and {outputSize}");
        int[] s = input.shape;
        int planes = s[0] * s[1];
        var y = new Tensor(input.Backend.AdaptiveAvgPool2d(input.Storage, planes, s[2], s[3], outputSize.H, outputSize.W), [s[0], s[1], outputSize.H, outputSize.W]);
        return Record("adaptive_avg_pool2d", y, [input], saves: [], g =>
            [new Tensor(g.Backend.AdaptiveAvgPool2dBackward(g.Storage, planes, s[2], s[3], outputSize.H, outputSize.W), s)]);
    }

    /// <summary>Checks PyTorch's pooling rules (4-D input, positive sizes, padding at most half the kernel) and describes the pooling.</summary>
    private static Pool2dGeometry PoolGeometry(string op, Tensor input, Size2d kernel, Size2d stride, Size2d padding, Size2d dilation, bool ceilMode)
    {
        if (input.Rank != 4)
            throw new ArgumentException($"{op}: expected a 4-D input [N, C, H, W], got {Shapes.Format(input.shape)}");
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1)
            throw new ArgumentException($"{op}: kernel {kernel}, stride {stride} and dilation {dilation} must be positive");
        if (padding.H < 0 || padding.W < 0 || padding.H > kernel.H / 2 || padding.W > kernel.W / 2)
            throw new ArgumentException($"{op}: padding {padding} must be between 0 and half the kernel size {kernel}");
        var geometry = new Pool2dGeometry(input.shape[0], input.shape[1], input.shape[2], input.shape[3], kernel, stride, padding, dilation, ceilMode);
        int extentH = dilation.H * (kernel.H - 1) + 1, extentW = dilation.W * (kernel.W - 1) + 1;
        if (extentH > geometry.Height + 2 * padding.H || extentW > geometry.Width + 2 * padding.W || geometry.OutH < 1 || geometry.OutW < 1)
            throw new ArgumentException($"{op}: the window ({extentH}, {extentW}) does not fit the padded input {Shapes.Format(input.shape)} with padding {padding}");
        return geometry;
    }
}
