namespace ScratchDetect.Engine;

// Matrix products. Forward and both backward products call the same backend GEMM with
// transpose flags, so no transposed copy is ever made.
public sealed partial class Tensor
{
    /// <summary>op(a)·op(b) without recording; a and b are (batch?, rows, cols) and a zero batch stride means "shared".</summary>
    private static Tensor Gemm(Tensor a, bool transA, Tensor b, bool transB, int batch, int m, int n, int k, bool aBatched, bool bBatched) =>
        new(a.Backend.Matmul(a.Storage, aBatched ? (long)m * k : 0, transA, b.Storage, bBatched ? (long)k * n : 0, transB, batch, m, n, k),
            batch == 1 && !aBatched && !bBatched ? [m, n] : [batch, m, n]);

    /// <summary>
    /// Matrix product: (m, k) @ (k, n), (batch, m, k) @ (batch, k, n), or (..., m, k) @ (k, n) where
    /// the leading axes of the left operand are treated as more rows.
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        CheckCompatible("matmul", a, b);
        if (a.Rank < 2 || b.Rank < 2 || a.Size(-1) != b.Size(-2) || (b.Rank == 3 && (a.Rank != 3 || a.shape[0] != b.shape[0])) || b.Rank > 3)
            throw new ArgumentException($"matmul: cannot multiply {Shapes.Format(a.shape)} by {Shapes.Format(b.shape)}");

        if (b.Rank == 2)
        {
            int k = a.Size(-1), n = b.Size(-1);
            int m = (int)(a.Numel / k);
            var outShape = a.ShapeCopy();
            outShape[^1] = n;
            var y = Gemm(a, false, b, false, 1, m, n, k, false, false).Reshape(outShape);
            return Record("matmul", y, [a, b], saves: [b.requiresGrad ? a : null, a.requiresGrad ? b : null], g =>
            {
                var g2 = g.Reshape(m, n);
                return [a.requiresGrad ? Gemm(g2, false, b, true, 1, m, k, n, false, false).Reshape(a.shape) : null,
                        b.requiresGrad ? Gemm(a, true, g2, false, 1, k, n, m, false, false) : null];
            });
        }

        int batch = a.shape[0], bm = a.shape[1], bk = a.shape[2], bn = b.shape[2];
        var batched = Gemm(a, false, b, false, batch, bm, bn, bk, true, true);
        return Record("matmul", batched, [a, b], saves: [b.requiresGrad ? a : null, a.requiresGrad ? b : null], g =>
            [a.requiresGrad ? Gemm(g, false, b, true, batch, bm, bk, bn, true, true) : null,
             b.requiresGrad ? Gemm(a, true, g, false, batch, bk, bn, bm, true, true) : null]);
    }

    /// <summary>
    /// x · weightᵀ + bias, as torch.nn.functional.linear: x is (..., in), weight (out, in), bias (out).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        CheckCompatible("linear", x, weight);
        if (bias is not null) CheckCompatible("linear", x, bias);
        if (weight.Rank != 2 || x.Rank < 1 || x.Size(-1) != weight.shape[1] || (bias is not null && (bias.Rank != 1 || bias.shape[0] != weight.shape[0])))
            throw new ArgumentException($"linear: input {Shapes.Format(x.shape)}, weight {Shapes.Format(weight.shape)} and bias {(bias is null ? "none" : Shapes.Format(bias.shape))} do not fit (expected (..., in), (out, in), (out))");
        int inFeatures = weight.shape[1], outFeatures = weight.shape[0];
        int rows = (int)(x.Numel / inFeatures);
        var outShape = x.ShapeCopy();
        outShape[^1] = outFeatures;
        var y = Gemm(x, false, weight, true, 1, rows, outFeatures, inFeatures, false, false);
        if (bias is not null) y = y.Then(product => new Tensor(product.Backend.Binary(Backends.BinaryOp.Add, product.Storage, product.shape, bias.Storage, bias.shape, product.shape), product.shape));
        y = y.Reshape(outShape);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Record("linear", y, inputs, saves: [weight.requiresGrad ? x : null, x.requiresGrad ? weight : null], g =>
        {
            var g2 = g.Reshape(rows, outFeatures);
            var grads = new Tensor?[inputs.Length];
            if (x.requiresGrad) grads[0] = Gemm(g2, false, weight, false, 1, rows, inFeatures, outFeatures, false, false).Reshape(x.shape);
            if (weight.requiresGrad) grads[1] = Gemm(g2, true, x, false, 1, outFeatures, inFeatures, rows, false, false);
            if (bias is not null && bias.requiresGrad) grads[2] = g2.Sum(0);
            return grads;
        });
    }
}
