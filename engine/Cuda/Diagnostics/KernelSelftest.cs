using ILGPU;
using ILGPU.Runtime;
using ScratchDetect.Engine.Backends;
using ScratchDetect.Engine.Cuda.Kernels;

namespace ScratchDetect.Engine.Cuda.Diagnostics;

/// <summary>One row of the selftest: an op, what was compared, the worst error and whether it is within the tolerance.</summary>
public sealed record SelftestRow(string Op, string Configuration, double MaxAbsError, double Atol, double Rtol, bool Passed, string? Error = null);

/// <summary>
/// The op-by-op check behind `scratchdetect selftest`: each of our device kernels runs on an
/// accelerator (the GPU, or ILGPU's CPU accelerator in CI) and is compared with the CPU
/// backend's result through the public Tensor ops, on the same inputs. An element passes when
/// |cpu - device| &lt;= atol + rtol·|cpu| (NaN must match NaN); tolerances are stated per op.
/// </summary>
public static class KernelSelftest
{
    private sealed record Case(string Op, string Configuration, double Atol, double Rtol, Func<DeviceKernels, (Tensor Cpu, Tensor Device)> Run);

    private static Tensor Download(MemoryBuffer1D<float, Stride1D.Dense> buffer, params int[] shape)
    {
        long length = Shapes.Numel(shape);
        using (buffer)
            return Tensor.FromArray(length == 0 ? [] : buffer.View.SubView(0, length).GetAsArray1D(), shape);
    }

    private static MemoryBuffer1D<float, Stride1D.Dense> Up(DeviceKernels k, Tensor t) => k.Accelerator.Allocate1D(t.To(DType.Float32).ToArray<float>());

    private static Tensor Longs(long[] values) => Tensor.FromArray(values, values.Length);

    // Tolerances: transcendental functions and float32 sums in another order than the CPU's
    // (which sums in double) differ by a few ulps: 1e-5 relative; selections are exact.
    private static IEnumerable<Case> Cases()
    {
        var generator = new Generator(2024);
        var x = Tensor.Uniform([4, 37, 5], -4, 4, generator);
        var y = Tensor.Uniform([37, 1], 0.5, 2, generator);
        yield return new("exp", "[4, 37, 5]", 1e-30, 1e-5, k => { using var d = Up(k, x); return (x.Exp(), Download(k.Unary(UnaryOp.Exp, d.View), 4, 37, 5)); });
        yield return new("sigmoid", "[4, 37, 5]", 1e-7, 1e-5, k => { using var d = Up(k, x); return (x.Sigmoid(), Download(k.Unary(UnaryOp.Sigmoid, d.View), 4, 37, 5)); });
        yield return new("mul", "[4, 37, 5] * [37, 1]", 0, 0, k =>
        {
            using var a = Up(k, x);
            using var b = Up(k, y);
            return (x * y, Download(k.Binary(BinaryOp.Mul, a.View, [4, 37, 5], b.View, [37, 1], [4, 37, 5]), 4, 37, 5));
        });
        yield return new("sum", "axis 1 of [4, 37, 5]", 1e-5, 1e-5, k =>
        {
            using var d = Up(k, x);
            var (values, indices) = k.Reduce(ReduceOp.Sum, d.View, 4, 37, 5);
            indices.Dispose();
            return (x.Sum(1), Download(values, 4, 5));
        });
        yield return new("argmax", "axis 1 of [4, 37, 5]", 0, 0, k =>
        {
            using var d = Up(k, x);
            var (values, indices) = k.Reduce(ReduceOp.ArgMax, d.View, 4, 37, 5);
            values.Dispose();
            using (indices) return (x.Argmax(1).To(DType.Float32), Longs(indices.View.SubView(0, 20).GetAsArray1D()).To(DType.Float32).Reshape(4, 5));
        });
        yield return new("log_softmax", "axis 1 of [4, 37, 5]", 1e-6, 1e-5, k => { using var d = Up(k, x); return (Tensor.LogSoftmax(x, 1), Download(k.Softmax(d.View, 4, 37, 5, log: true), 4, 37, 5)); });

        var logits = Tensor.Uniform([16, 21], -6, 6, generator);
        var target = Tensor.RandInt([16], 0, 21, generator);
        yield return new("cross_entropy", "[16, 21], mean", 1e-6, 1e-5, k =>
        {
            using var l = Up(k, logits);
            using var t = k.Accelerator.Allocate1D(target.ToArray<long>());
            return (Tensor.CrossEntropy(logits, target), Download(k.CrossEntropy(l.View, t.View, default, 16, 21, -100, Reduction.Mean)));
        });
        var codesA = Tensor.Uniform([40, 4], -1, 1, generator);
        var codesB = Tensor.Uniform([40, 4], -1, 1, generator);
        yield return new("smooth_l1", "[40, 4], beta 1/9, sum", 1e-6, 1e-5, k =>
        {
            using var a = Up(k, codesA);
            using var b = Up(k, codesB);
            return (Tensor.SmoothL1(codesA, codesB, 1.0 / 9, Reduction.Sum), Download(k.SmoothL1(a.View, b.View, 1f / 9, Reduction.Sum)));
        });
        yield return new("bce_with_logits", "[40, 4], mean", 1e-6, 1e-5, k =>
        {
            var probabilities = codesB.Sigmoid();
            using var a = Up(k, codesA);
            using var b = Up(k, probabilities);
            return (Tensor.BinaryCrossEntropyWithLogits(codesA, probabilities), Download(k.BceWithLogits(a.View, b.View, default, default, Reduction.Mean)));
        });

        var map = Tensor.Uniform([2, 3, 9, 11], -1, 1, generator);
        yield return new("interpolate", "bilinear 9x11 -> 17x6", 1e-6, 1e-6, k =>
        {
            using var d = Up(k, map);
            return (Tensor.Interpolate(map, new Size2d(17, 6), mode: InterpolateMode.Bilinear), Download(k.Interpolate(d.View, 6, 9, 11, 17, 6, 9f / 17, 11f / 6, InterpolateMode.Bilinear), 2, 3, 17, 6));
        });
        var scale = Tensor.Full([3], 20);
        yield return new("l2norm", "[2, 3, 9, 11]", 1e-6, 2e-6, k =>
        {
            using var d = Up(k, map);
            using var w = Up(k, scale);
            return (Tensor.L2Norm(map, scale), Download(k.L2Norm(d.View, w.View, 2, 3, 99, 1e-10f), 2, 3, 9, 11));
        });
        var rois = Tensor.FromArray(new float[] { 0, 1, 2, 15, 12, 1, -3, -2, 8, 19, 1, 6, 6, 6.5f, 7 }, 3, 5);
        var geometry = new RoiGeometry(2, 3, 9, 11, 7, 7, 0.5);
        yield return new("roi_align", "7x7, scale 1/2, aligned", 1e-6, 1e-6, k =>
        {
            using var d = Up(k, map);
            using var r = Up(k, rois);
            return (Tensor.RoiAlign(map, rois, 7, 7, 0.5, -1, aligned: true), Download(k.RoiAlign(d.View, r.View, 3, geometry, -1, aligned: true), 3, 3, 7, 7));
        });
        yield return new("roi_pool", "7x7, scale 1/2", 0, 0, k =>
        {
            using var d = Up(k, map);
            using var r = Up(k, rois);
            var (output, argmax) = k.RoiPool(d.View, r.View, 3, geometry);
            argmax.Dispose();
            return (Tensor.RoiPool(map, rois, 7, 7, 0.5), Download(output, 3, 3, 7, 7));
        });

        var roiGrad = Tensor.Uniform([3, 3, 7, 7], -1, 1, generator);
        yield return new("roi_align backward", "7x7, scale 1/2, aligned", 1e-5, 1e-5, k =>
        {
            var leaf = map.Detach().RequireGrad();
            (Tensor.RoiAlign(leaf, rois, 7, 7, 0.5, -1, aligned: true) * roiGrad).Sum().Backward();
            using var g = Up(k, roiGrad);
            using var r = Up(k, rois);
            return (leaf.Grad!, Download(k.RoiAlignBackward(g.View, r.View, 3, geometry, -1, aligned: true), 2, 3, 9, 11));
        });
        var resizeGrad = Tensor.Uniform([2, 3, 17, 6], -1, 1, generator);
        yield return new("interpolate backward", "bilinear 9x11 -> 17x6", 1e-6, 1e-6, k =>
        {
            var leaf = map.Detach().RequireGrad();
            (Tensor.Interpolate(leaf, new Size2d(17, 6), mode: InterpolateMode.Bilinear) * resizeGrad).Sum().Backward();
            using var g = Up(k, resizeGrad);
            return (leaf.Grad!, Download(k.InterpolateBackward(g.View, 6, 9, 11, 17, 6, 9f / 17, 11f / 6, InterpolateMode.Bilinear), 2, 3, 9, 11));
        });
        var gatherIndex = Tensor.RandInt([4, 9, 5], 0, 37, generator);
        yield return new("gather", "axis 1 of [4, 37, 5]", 0, 0, k =>
        {
            using var d = Up(k, x);
            using var i = k.Accelerator.Allocate1D(gatherIndex.ToArray<long>());
            return (x.Gather(1, gatherIndex), Download(k.Gather(d.View, [4, 37, 5], 1, i.View, [4, 9, 5]), 4, 9, 5));
        });
        yield return new("scatter_add", "axis 1 into [4, 37, 5]", 1e-6, 1e-6, k =>
        {
            var leaf = x.Detach().RequireGrad();
            var g = Tensor.Uniform([4, 9, 5], -1, 1, new Generator(7));
            (leaf.Gather(1, gatherIndex) * g).Sum().Backward();
            using var dg = Up(k, g);
            using var i = k.Accelerator.Allocate1D(gatherIndex.ToArray<long>());
            return (leaf.Grad!, Download(k.ScatterAdd(dg.View, [4, 9, 5], 1, i.View, [4, 37, 5]), 4, 37, 5));
        });
        yield return new("permute", "[4, 37, 5] -> (2, 0, 1)", 0, 0, k =>
        {
            using var d = Up(k, x);
            return (x.Permute(2, 0, 1), Download(k.Permute(d.View, [4, 37, 5], [2, 0, 1]), 5, 4, 37));
        });

        var corners = Tensor.Uniform([130, 2], 0, 60, generator);
        var sizes = Tensor.Uniform([130, 2], 4, 20, generator);
        var boxes = Tensor.Cat([corners, corners + sizes], 1);
        var scores = Tensor.Uniform([130], 0, 1, generator);
        yield return new("box_iou", "[130, 4] x [130, 4]", 0, 1e-7, k =>
        {
            using var d = Up(k, boxes);
            return (Tensor.BoxIou(boxes, boxes), Download(k.BoxIou(d.View, 130, d.View, 130), 130, 130));
        });
        yield return new("nms", "130 boxes, IoU 0.5", 0, 0, k =>
        {
            using var b = Up(k, boxes);
            using var s = Up(k, scores);
            var expected = Tensor.Nms(boxes, scores, 0.5).To(DType.Float32);
            var kept = Longs(k.Nms(b.View, s.View, 130, 0.5)).To(DType.Float32);
            return (expected, kept);
        });
        yield return new("topk", "k=10 of [2, 37·5]", 0, 0, k =>
        {
            var flat = x.Reshape(2, -1);
            using var d = Up(k, flat);
            var (values, indices) = k.Sort(d.View, 2, 370, 1, descending: true, keep: 10);
            indices.Dispose();
            return (flat.TopK(10, 1).Values, Download(values, 2, 10));
        });
    }

    /// <summary>Runs every comparison on <paramref name="accelerator"/>; one row each (an exception becomes a failed row).</summary>
    public static IReadOnlyList<SelftestRow> Run(Accelerator accelerator)
    {
        var kernels = new DeviceKernels(accelerator);
        var rows = new List<SelftestRow>();
        foreach (var check in Cases())
        {
            (Tensor Cpu, Tensor Device)? result = null;
            (Tensor Cpu, Tensor Device) Once() => result ??= check.Run(kernels);
            rows.Add(Compare(check.Op, check.Configuration, check.Atol, check.Rtol, () => Once().Cpu, () => Once().Device));
        }
        return rows;
    }

    /// <summary>
    /// One row: <paramref name="device"/>'s result against <paramref name="cpu"/>'s, element by
    /// element within atol + rtol·|cpu| (NaN must match NaN); an exception becomes a failed row.
    /// </summary>
    internal static SelftestRow Compare(string op, string configuration, double atol, double rtol, Func<Tensor> cpu, Func<Tensor> device)
    {
        Tensor expected, actual;
        try
        {
            expected = cpu();
            actual = device();
        }
        catch (Exception e)
        {
            return new SelftestRow(op, configuration, double.NaN, atol, rtol, false, e.Message.Split('\n')[0]);
        }
        if (!expected.Shape.SequenceEqual(actual.Shape))
            return new SelftestRow(op, configuration, double.NaN, atol, rtol, false, $"shape {Shapes.Format(actual.Shape)}, CPU {Shapes.Format(expected.Shape)}");
        var e64 = expected.To(DType.Float64).ToArray<double>();
        var a64 = actual.To(DType.Float64).ToArray<double>();
        double worst = 0;
        bool passed = true;
        for (int i = 0; i < e64.Length; i++)
        {
            if (double.IsNaN(e64[i]) && double.IsNaN(a64[i])) continue;
            double diff = Math.Abs(e64[i] - a64[i]);
            if (double.IsNaN(diff) || diff > atol + rtol * Math.Abs(e64[i])) passed = false;
            worst = double.IsNaN(diff) ? double.PositiveInfinity : Math.Max(worst, diff);
        }
        return new SelftestRow(op, configuration, worst, atol, rtol, passed);
    }
}
