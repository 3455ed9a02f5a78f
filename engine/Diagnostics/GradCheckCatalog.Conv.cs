using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Diagnostics;

// Convolution, pooling, normalisation and interpolation, in their awkward configurations.
// Kinks: convolution, average pooling, batch norm and interpolation are smooth (or linear) in
// their inputs. Max pooling has a kink wherever two window entries tie, so its inputs are a
// random permutation of 0..n-1 scaled by 1/n: distinct, at least 1/n apart, far beyond ε = 1e-6.
public static partial class GradCheckCatalog
{
    private static IEnumerable<GradCheckCase> ConvCases()
    {
        yield return new("conv2d", "stride 2, padding 1, bias", x => Tensor.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1),
            g => [Leaf(g, -1, 1, 2, 2, 5, 6), Leaf(g, -1, 1, 3, 2, 3, 3), Leaf(g, -1, 1, 3)]);
        yield return new("conv2d", "dilation 2, padding (2, 1), stride (1, 2)", x => Tensor.Conv2d(x[0], x[1], x[2], stride: (1, 2), padding: (2, 1), dilation: 2),
            g => [Leaf(g, -1, 1, 1, 2, 6, 7), Leaf(g, -1, 1, 2, 2, 3, 3), Leaf(g, -1, 1, 2)]);
        yield return new("conv2d", "groups 2, no bias, 3x2 kernel", x => Tensor.Conv2d(x[0], x[1], padding: (1, 0), groups: 2),
            g => [Leaf(g, -1, 1, 2, 4, 4, 5), Leaf(g, -1, 1, 6, 2, 3, 2)]);
        yield return new("conv2d", "1x1 pointwise with bias", x => Tensor.Conv2d(x[0], x[1], x[2]),
            g => [Leaf(g, -1, 1, 2, 3, 4, 3), Leaf(g, -1, 1, 5, 3, 1, 1), Leaf(g, -1, 1, 5)]);
        yield return new("conv2d", "1x1 stride 2, groups 3", x => Tensor.Conv2d(x[0], x[1], stride: 2, groups: 3),
            g => [Leaf(g, -1, 1, 1, 6, 5, 4), Leaf(g, -1, 1, 3, 2, 1, 1)]);

        yield return new("conv2d_add", "1x1 with bias and a residual", x => Tensor.Conv2d(x[0], x[1], x[2], residual: x[3]),
            g => [Leaf(g, -1, 1, 2, 3, 4, 3), Leaf(g, -1, 1, 5, 3, 1, 1), Leaf(g, -1, 1, 5), Leaf(g, -1, 1, 2, 5, 4, 3)]);
        yield return new("conv2d_add_relu", "3x3 padding 1, residual then ReLU", x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1, activation: Backends.ConvActivation.Relu, residual: x[3]),
            g => [Leaf(g, -1, 1, 1, 2, 5, 4), Leaf(g, -1, 1, 3, 2, 3, 3), Leaf(g, -1, 1, 3), Leaf(g, -1, 1, 1, 3, 5, 4)]);
        yield return new("max_pool2d", "3x3 stride 2 padding 1, ceil_mode window over the edge", x => Tensor.MaxPool2d(x[0], 3, 2, 1, ceilMode: true),
            g => [Distinct(g, 2, 2, 6, 6)]);
        yield return new("max_pool2d", "2x3 stride (2, 1), dilation 2, padding 1, ceil_mode", x => Tensor.MaxPool2d(x[0], (2, 3), (2, 1), 1, dilation: 2, ceilMode: true),
            g => [Distinct(g, 1, 2, 7, 5)]);
        yield return new("avg_pool2d", "3x3 stride 2 padding 1, ceil_mode, count_include_pad false", x => Tensor.AvgPool2d(x[0], 3, 2, 1, ceilMode: true, countIncludePad: false),
            g => [Leaf(g, -1, 1, 2, 2, 6, 7)]);
        yield return new("avg_pool2d", "2x2 stride 2 padding 1, ceil_mode, count_include_pad", x => Tensor.AvgPool2d(x[0], 2, 2, 1, ceilMode: true),
            g => [Leaf(g, -1, 1, 1, 2, 5, 4)]);
        yield return new("avg_pool2d", "divisor_override 5", x => Tensor.AvgPool2d(x[0], (3, 2), 1, divisorOverride: 5),
            g => [Leaf(g, -1, 1, 1, 2, 4, 4)]);
        yield return new("adaptive_avg_pool2d", "[7,5] -> (3,2): overlapping windows", x => Tensor.AdaptiveAvgPool2d(x[0], (3, 2)),
            g => [Leaf(g, -1, 1, 2, 2, 7, 5)]);
        yield return new("adaptive_avg_pool2d", "[3,4] -> (5,6): upsampling", x => Tensor.AdaptiveAvgPool2d(x[0], (5, 6)),
            g => [Leaf(g, -1, 1, 1, 2, 3, 4)]);

        yield return new("batch_norm", "training, affine", x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true),
            g => [Leaf(g, -1, 1, 3, 2, 3, 2), Leaf(g, 0.5, 1.5, 2), Leaf(g, -1, 1, 2)]);
        yield return new("batch_norm", "training, no affine, 2-D input", x => Tensor.BatchNorm(x[0], null, null, training: true),
            g => [Leaf(g, -1, 1, 5, 3)]);
        yield return new("batch_norm", "evaluation with running statistics", x => Tensor.BatchNorm(x[0], x[3], x[4], x[1], x[2]),
            g => [Leaf(g, -1, 1, 2, 3, 2, 2), Leaf(g, 0.5, 1.5, 3), Leaf(g, -1, 1, 3), Leaf(g, -1, 1, 3), Leaf(g, 0.5, 2, 3)]);
        yield return new("frozen_batch_norm2d", "all inputs", x => Tensor.FrozenBatchNorm2d(x[0], x[1], x[2], x[3], x[4]),
            g => [Leaf(g, -1, 1, 2, 3, 2, 2), Leaf(g, 0.5, 1.5, 3), Leaf(g, -1, 1, 3), Leaf(g, -1, 1, 3), Leaf(g, 0.5, 2, 3)]);

        yield return new("interpolate", "nearest, scale factor (1.7, 0.6)", x => Tensor.Interpolate(x[0], scaleFactor: (1.7, 0.6)),
            g => [Leaf(g, -1, 1, 1, 2, 4, 5)]);
        yield return new("interpolate", "nearest, size (7, 3)", x => Tensor.Interpolate(x[0], size: (7, 3)),
            g => [Leaf(g, -1, 1, 2, 1, 4, 5)]);
        yield return new("interpolate", "bilinear, scale factor (1.5, 0.75)", x => Tensor.Interpolate(x[0], scaleFactor: (1.5, 0.75), mode: InterpolateMode.Bilinear),
            g => [Leaf(g, -1, 1, 1, 2, 4, 6)]);
        yield return new("interpolate", "bilinear, size (5, 9), recomputed scale", x => Tensor.Interpolate(x[0], size: (5, 9), mode: InterpolateMode.Bilinear),
            g => [Leaf(g, -1, 1, 2, 1, 3, 4)]);

        yield return ModuleGradCheck.ForLayer("nn.Conv2d", "3x3 stride 2 padding 1 with bias", g => new Conv2d(2, 3, 3, g, stride: 2, padding: 1), g => Leaf(g, -1, 1, 2, 2, 5, 5));
        yield return ModuleGradCheck.ForLayer("nn.MaxPool2d", "3x3 stride 2, ceil mode, distinct values", _ => new MaxPool2d(3, 2, ceilMode: true), g => Distinct(g, 1, 2, 6, 6));
        yield return ModuleGradCheck.ForLayer("nn.BatchNorm2d", "training mode", g => new BatchNorm2d(3), g => Leaf(g, -1, 1, 2, 3, 2, 3));
        yield return ModuleGradCheck.ForLayer("nn.BatchNorm2d", "evaluation mode", g => new BatchNorm2d(3).Eval(), g => Leaf(g, -1, 1, 2, 3, 2, 3));
        yield return ModuleGradCheck.ForLayer("nn.FrozenBatchNorm2d", "input gradient", g => new FrozenBatchNorm2d(3), g => Leaf(g, -1, 1, 2, 3, 2, 3));
    }

    /// <summary>Float64 values i/n for a random permutation i of 0..n-1, requiring grad: distinct and 1/n apart, so max pooling has no ties.</summary>
    private static Tensor Distinct(Generator g, params int[] shape)
    {
        int n = (int)Shapes.Numel(shape);
        return (Tensor.Randperm(n, g).To(DType.Float64) / n).Reshape(shape).Detach().RequireGrad();
    }
}
