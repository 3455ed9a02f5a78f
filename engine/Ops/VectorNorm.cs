using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine;

// Normalisation of vectors along one axis: the Euclidean norm, F.normalize, and SSD's L2Norm.
public sealed partial class Tensor
{
    /// <summary>
    /// The Euclidean norm sqrt(Σ x²) along <paramref name="axis"/>, as torch.linalg.vector_norm
    /// with ord 2. Its gradient x / ‖x‖ is taken as 0 where the norm is 0 (PyTorch does the same);
    /// differentiating sqrt and the square separately would give 0 · ∞ = NaN there.
    /// </summary>
    public Tensor VectorNorm(int axis, bool keepDim = false)
    {
        var x = this;
        int a = Shapes.NormalizeAxis("vector_norm", axis, Rank);
        Tensor norm;
        using (GradMode.NoGrad())
        {
            using var squares = x * x;
            norm = squares.Sum(a, keepDim: true).Then(sum => sum.Sqrt());
        }
        norm = Record("vector_norm", norm, [x], saves: [x, norm], g =>
        {
            using var positive = norm.Gt(0);
            using var scaled = (g * x).Then(gx => gx / norm);
            using var zero = g.ScalarLike(0);
            return [Where(positive, scaled, zero)];
        });
        return keepDim ? norm : norm.Squeeze(a);
    }

    /// <summary>
    /// x / max(‖x‖, eps) with the norm taken along <paramref name="axis"/>, as
    /// torch.nn.functional.normalize(x, p=2, dim=axis, eps). torchvision's SSD300 scales conv4_3
    /// this way: <c>Normalize(x) * scale_weight.view(1, -1, 1, 1)</c>.
    /// </summary>
    public static Tensor Normalize(Tensor x, int axis = 1, double eps = 1e-12)
    {
        using var norm = x.VectorNorm(axis, keepDim: true).Then(n => n.Clamp(min: eps));
        return x / norm;
    }

    /// <summary>
    /// SSD's L2Norm layer as ssd.pytorch (layers/modules/l2norm.py) computes it:
    /// x / (‖x‖ + eps) · weight[c], the norm taken over the channels (axis 1) of an [N, C, ...]
    /// input and <paramref name="weight"/> holding one learned scale per channel ([C], initialised
    /// to 20 in SSD). Differs from torchvision's <see cref="Normalize"/>-based variant only in how
    /// eps enters (added to the norm instead of bounding it below); with eps = 1e-10 and real
    /// features the two agree to float precision.
    /// </summary>
    public static Tensor L2Norm(Tensor x, Tensor weight, double eps = 1e-10)
    {
        if (x.Rank < 2 || weight.Rank != 1 || weight.shape[0] != x.shape[1])
            throw new ArgumentException($"l2norm: expected an [N, C, ...] input and a [C] weight, got {Shapes.Format(x.shape)} and {Shapes.Format(weight.shape)}");
        using var perChannel = weight.Reshape([weight.shape[0], .. Enumerable.Repeat(1, x.Rank - 2)]);
        using var norm = x.VectorNorm(1, keepDim: true).Then(n => n + eps);
        return (x / norm).Then(normalized => normalized * perChannel);
    }
}
