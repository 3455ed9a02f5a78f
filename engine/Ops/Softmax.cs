namespace ScratchDetect.Engine;

// Softmax and log-softmax along one axis. The forward is a backend primitive (one pass for the
// max, one for the sum of exponentials); the backward passes are ordinary tensor ops.
public sealed partial class Tensor
{
    private static Tensor SoftmaxForward(string op, Tensor x, int axis, bool log)
    {
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: needs a floating-point tensor, not {x.DType.Name()} {Shapes.Format(x.shape)}");
        var (outer, size, inner) = Shapes.AroundAxis(x.shape, Shapes.NormalizeAxis(op, axis, x.Rank));
        return new Tensor(x.Backend.Softmax(x.Storage, outer, size, inner, log), x.ShapeCopy());
    }

    /// <summary>exp(x) / Σ exp(x) along <paramref name="axis"/>, computed stably (the maximum is subtracted first), as torch.softmax.</summary>
    public static Tensor Softmax(Tensor x, int axis)
    {
        var y = SoftmaxForward("softmax", x, axis, log: false);
        // dy_i/dx_j = y_i (δ_ij - y_j), so the vector-Jacobian product is y · (g - Σ g·y).
        return Record("softmax", y, [x], saves: [y], g =>
        {
            using var weighted = g * y;
            using var total = weighted.Sum(axis, keepDim: true);
            using var centred = g - total;
            return [y * centred];
        });
    }

    /// <summary>x - log Σ exp(x) along <paramref name="axis"/>, computed stably, as torch.log_softmax.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis)
    {
        var y = SoftmaxForward("log_softmax", x, axis, log: true);
        // dy_i/dx_j = δ_ij - softmax_j, so the vector-Jacobian product is g - softmax · Σ g.
        return Record("log_softmax", y, [x], saves: [y], g =>
        {
            using var total = g.Sum(axis, keepDim: true);
            using var softmax = y.Exp();
            using var scaled = softmax * total;
            return [g - scaled];
        });
    }
}
