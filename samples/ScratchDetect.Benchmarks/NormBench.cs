using ScratchDetect.Engine;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// The batch-norm training and reduction primitives on their own, against PyTorch 1.13's CPU
/// kernels on the same shapes, one run of each in turn: batch norm in training (forward, and forward +
/// backward of input, weight and bias) on the demo model's first layer ([32, 16, 96, 96]) and a
/// ResNet stage-3 shape ([8, 256, 14, 14]); the conv bias gradient (a sum over N, H and W) and the
/// largest element of a [8, 64, 56, 56] activation.
/// </summary>
public static class NormBench
{
    private const int Warmup = 2, Runs = 7;

    public static IEnumerable<BenchRow> Run()
    {
        var g = new Generator(0);
        int[][] bnShapes = [[32, 16, 96, 96], [8, 256, 14, 14]];
        int[] activation = [8, 64, 56, 56];
        string Shape(int[] s) => string.Join(", ", s);
        string setup = $"""
            import torch.nn.functional as F
            def bn_case(shape):
                x = torch.randn(*shape).requires_grad_(); w = (torch.rand(shape[1]) + 0.5).requires_grad_(); b = torch.randn(shape[1]).requires_grad_()
                rm = torch.zeros(shape[1]); rv = torch.ones(shape[1]); gy = torch.randn(*shape)
                def forward():
                    with torch.no_grad(): F.batch_norm(x, rm, rv, w, b, training=True)
                def train():
                    x.grad = w.grad = b.grad = None
                    F.batch_norm(x, rm, rv, w, b, training=True).backward(gy)
                return forward, train
            cases = [bn_case(({Shape(bnShapes[0])})), bn_case(({Shape(bnShapes[1])}))]
            act = torch.randn({Shape(activation)})
            """;
        using var torch = new TorchSession(setup, ["cases[0][0]()", "cases[0][1]()", "cases[1][0]()", "cases[1][1]()", "act.sum((0, 2, 3))", "act.max()"]);
        var rows = new List<(string Name, Action Ours)>();
        foreach (var shape in bnShapes)
        {
            var x = Tensor.Normal(shape, 0, 1, g).RequireGrad();
            var weight = Tensor.Uniform([shape[1]], 0.5, 1.5, g).RequireGrad();
            var bias = Tensor.Normal([shape[1]], 0, 1, g).RequireGrad();
            var (runningMean, runningVar) = (Tensor.Zeros([shape[1]]), Tensor.Ones([shape[1]]));
            var gradOutput = Tensor.Normal(shape, 0, 1, g);
            rows.Add(($"batch norm training forward [{Shape(shape)}]", () =>
            {
                using var _ = Engine.Autograd.GradMode.NoGrad();
                Tensor.BatchNorm(x, runningMean, runningVar, weight, bias, training: true).Dispose();
            }));
            rows.Add(($"batch norm training forward+backward [{Shape(shape)}]", () =>
            {
                x.Grad = weight.Grad = bias.Grad = null;
                using var y = Tensor.BatchNorm(x, runningMean, runningVar, weight, bias, training: true);
                y.Backward(gradOutput);
            }));
        }
        var act = Tensor.Normal(activation, 0, 1, g);
        rows.Add(($"sum over N, H, W (conv bias gradient) [{Shape(activation)}]", () => act.Sum([0, 2, 3]).Dispose()));
        rows.Add(($"max of all elements [{Shape(activation)}]", () => act.Max().Dispose()));
        for (int i = 0; i < rows.Count; i++)
        {
            var (ours, reference) = Harness.AlternatingMedianMs(rows[i].Ours, torch, i, Warmup, Runs);
            yield return new BenchRow(rows[i].Name, ours, reference, "PyTorch 1.13 CPU");
        }
    }
}
