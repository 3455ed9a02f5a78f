using ScratchDetect.Engine.IO;
using ScratchDetect.Testing;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The interpolate kernels (IBackend.Interpolate and its backward) on every device: against
/// PyTorch 1.13 (tests/fixtures/parity/interpolate.safetensors, made by tools/parity/interpolate.py)
/// on odd sizes, factors below and above 1, 1xN and Nx1 planes and the detectors' configurations,
/// and against a plain per-pixel reference written here on batches large enough to split over threads.
/// </summary>
public class InterpolateKernelTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> Fixture = new(() =>
        SafeTensors.Load(Path.Combine(RepoPaths.Fixtures, "parity", "interpolate.safetensors")));

    // Tolerances against PyTorch, absolute and relative to |expected| (inputs and cotangents are N(0, 1);
    // the largest differences seen are in brackets):
    // - nearest forward copies input values: exact.
    // - nearest backward sums the (at most 6 here) gradients read from one pixel in another order than
    //   torch: two float32 ulps of sums below 10, 2e-6 [4.8e-7].
    // - bilinear, forward and backward: torch's CPU kernel forms the source position in double, we in
    //   float32 (see CpuBackend.LinearTaps), so a weight can differ by an ulp of the source: 3.8e-6 at
    //   positions up to 32, times pixel or gradient differences up to ~5: 2e-5 [3.6e-6].
    // - float64: the same reasons at float64's epsilon: 1e-12 [2.2e-16].
    private const double Exact = 0, SummedF32 = 2e-6, BilinearF32 = 2e-5, F64 = 1e-12;

    private static readonly Dictionary<string, (Func<Tensor, Tensor> Run, double Forward, double Backward)> Cases = new()
    {
        ["nearest_fpn_double"] = (x => Tensor.Interpolate(x, size: (14, 18)), Exact, SummedF32),
        ["nearest_fpn_odd_lateral"] = (x => Tensor.Interpolate(x, size: (25, 34)), Exact, SummedF32),
        ["nearest_size_up_h_down_w"] = (x => Tensor.Interpolate(x, size: (11, 3)), Exact, SummedF32),
        ["nearest_scale_0_45"] = (x => Tensor.Interpolate(x, scaleFactor: (0.45, 0.45)), Exact, SummedF32),
        ["nearest_scale_2_3_x_1_6"] = (x => Tensor.Interpolate(x, scaleFactor: (2.3, 1.6)), Exact, SummedF32),
        ["nearest_row_1xN"] = (x => Tensor.Interpolate(x, size: (3, 40)), Exact, SummedF32),
        ["nearest_column_Nx1"] = (x => Tensor.Interpolate(x, size: (40, 1)), Exact, SummedF32),
        ["nearest_float64_scale_0_7"] = (x => Tensor.Interpolate(x, scaleFactor: (0.7, 0.7)), Exact, F64),
        ["bilinear_transform_recompute_1_777"] = (x => Bilinear(x, scaleFactor: (1.777, 1.777), recompute: true), BilinearF32, BilinearF32),
        ["bilinear_transform_recompute_0_61"] = (x => Bilinear(x, scaleFactor: (0.61, 0.61), recompute: true), BilinearF32, BilinearF32),
        ["bilinear_scale_0_55"] = (x => Bilinear(x, scaleFactor: (0.55, 0.55)), BilinearF32, BilinearF32),
        ["bilinear_scale_1_83_x_0_7"] = (x => Bilinear(x, scaleFactor: (1.83, 0.7)), BilinearF32, BilinearF32),
        ["bilinear_size_13_4"] = (x => Bilinear(x, size: (13, 4)), BilinearF32, BilinearF32),
        ["bilinear_same_width"] = (x => Bilinear(x, size: (10, 9)), BilinearF32, BilinearF32),
        ["bilinear_row_1xN"] = (x => Bilinear(x, size: (3, 31)), BilinearF32, BilinearF32),
        ["bilinear_column_Nx1"] = (x => Bilinear(x, size: (7, 1)), BilinearF32, BilinearF32),
        ["bilinear_one_pixel_to_5x4"] = (x => Bilinear(x, size: (5, 4)), BilinearF32, BilinearF32),
        ["bilinear_float64_scale_0_6"] = (x => Bilinear(x, scaleFactor: (0.6, 0.6)), F64, F64),
    };

    private static Tensor Bilinear(Tensor x, Size2d? size = null, (double, double)? scaleFactor = null, bool? recompute = null) =>
        Tensor.Interpolate(x, size, scaleFactor, InterpolateMode.Bilinear, recompute);

    [Fact]
    public void EveryFixtureCaseHasACounterpartAndBack()
    {
        var fixtureCases = Fixture.Value.Keys.Where(k => k.EndsWith("/out")).Select(k => k[..^4]).ToHashSet();
        Assert.Equal(fixtureCases.Order(), Cases.Keys.Order());
    }

    [Theory, OnCpu, OnCuda]
    public void ForwardAndBackwardMatchPyTorch(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var f = Fixture.Value;
        foreach (var (name, (run, forwardTolerance, backwardTolerance)) in Cases)
        {
            var x = f[$"{name}/in0"].Detach().To(device).RequireGrad();
            var y = run(x);
            Assert.Equal(device, y.Device);
            TensorAssert.Close(f[$"{name}/out"], y.To(Device.Cpu), forwardTolerance, forwardTolerance, $"{name} output on {device}");
            y.Backward(f[$"{name}/gout"].To(device));
            TensorAssert.Close(f[$"{name}/grad0"], x.Grad!.To(Device.Cpu), backwardTolerance, backwardTolerance, $"{name} gradient on {device}");
        }
    }

    /// <summary>
    /// Output sizes for a batch of 4·8 planes of 23x31 whose work exceeds the CPU backend's threading
    /// threshold (2^15 outputs, or taps for bilinear), so the kernels run chunked over threads: up along H
    /// and down along W, the reverse,
    /// and an H that keeps its size (copied, not blended).
    /// </summary>
    private static readonly (InterpolateMode Mode, int OutH, int OutW)[] ThreadedConfigurations =
    [
        (InterpolateMode.Nearest, 61, 17), (InterpolateMode.Nearest, 40, 70),
        (InterpolateMode.Bilinear, 61, 17), (InterpolateMode.Bilinear, 9, 70), (InterpolateMode.Bilinear, 23, 88),
    ];

    [Theory, OnCpu, OnCuda]
    public void LargeBatchesMatchAPlainPerPixelReference(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        foreach (var (mode, outH, outW) in ThreadedConfigurations)
        {
            var generator = new Generator(17);
            var x = Tensor.Normal([4, 8, 23, 31], 0, 1, generator, DType.Float64);
            var y = Tensor.Interpolate(x.To(device), size: (outH, outW), mode: mode).To(Device.Cpu);
            // The reference and the kernel both evaluate torch's formulas in float64; only the order of
            // the four products' sum differs (one pass here, W then H there): 1e-12 on values below 6.
            TensorAssert.Close(PlainReference(x, outH, outW, mode), y, 1e-12, 1e-12, $"{mode} to {outH}x{outW} on {device}");
        }
    }

    [Theory, OnCpu, OnCuda]
    public void BackwardIsTheAdjointOfForward(DeviceKind kind)
    {
        // For a linear map A and any x and g, <A x, g> = <x, Aᵀ g>: the backward kernel must be the
        // forward's transpose. float64 sums of ~20000 products of N(0, 1) values (about 150 in size)
        // agree to about 1e-13 relative; 1e-10 absolute leaves room for the different summation orders.
        var device = TestDevices.Of(kind);
        var generator = new Generator(23);
        foreach (var mode in new[] { InterpolateMode.Nearest, InterpolateMode.Bilinear })
            foreach (var (outH, outW) in new[] { (61, 17), (1, 40), (40, 1), (23, 50) })
            {
                var x = Tensor.Normal([2, 3, 23, 31], 0, 1, generator, DType.Float64).To(device).RequireGrad();
                var y = Tensor.Interpolate(x, size: (outH, outW), mode: mode);
                var g = Tensor.Normal(y.Shape.ToArray(), 0, 1, generator, DType.Float64).To(device);
                y.Backward(g);
                double forwardSide = (y.Detach() * g).Sum().Item(), adjointSide = (x.Detach() * x.Grad!).Sum().Item();
                Assert.True(Math.Abs(forwardSide - adjointSide) < 1e-10, $"{mode} to {outH}x{outW} on {device}: <Ax, g> = {forwardSide:R}, <x, Aᵀg> = {adjointSide:R}");
            }
    }

    [Theory, OnCpu, OnCuda]
    public void AnEmptyPlaneIsRefusedByName(DeviceKind kind)
    {
        var x = Tensor.Zeros([1, 2, 0, 5], device: TestDevices.Of(kind));
        var error = Assert.Throws<ArgumentException>(() => Tensor.Interpolate(x, size: (3, 3)));
        Assert.Contains("interpolate", error.Message);
        Assert.Contains("[1, 2, 0, 5]", error.Message);
    }

    /// <summary>
    /// torch 1.13's interpolate written out per output pixel, in double: nearest reads
    /// (min(floor(oh·stepH), H-1), min(floor(ow·stepW), W-1)) with the step in float32 (dst/2 when
    /// doubling); bilinear sums the four taps around ((oh + 0.5)·stepH - 0.5, (ow + 0.5)·stepW - 0.5),
    /// clamped at 0, weighted by the products of the per-axis weights; an axis of unchanged size reads
    /// its own index with weight 1.
    /// </summary>
    private static Tensor PlainReference(Tensor input, int outH, int outW, InterpolateMode mode)
    {
        int[] s = input.Shape.ToArray();
        int planes = s[0] * s[1], inH = s[2], inW = s[3];
        var x = input.ToArray<double>();
        var y = new double[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    double sum = 0;
                    foreach (var (h, wh) in Taps(oh, inH, outH, mode))
                        foreach (var (w, ww) in Taps(ow, inW, outW, mode))
                            sum += wh * ww * x[(p * inH + h) * inW + w];
                    y[(p * outH + oh) * outW + ow] = sum;
                }
        return Tensor.FromArray(y, s[0], s[1], outH, outW);
    }

    private static (int Index, double Weight)[] Taps(int dst, int inSize, int outSize, InterpolateMode mode)
    {
        if (inSize == outSize) return [(dst, 1)];
        if (mode == InterpolateMode.Nearest)
        {
            float step = (float)inSize / outSize;
            return [(outSize == 2 * inSize ? dst / 2 : Math.Min((int)MathF.Floor(dst * step), inSize - 1), 1)];
        }
        double source = Math.Max((dst + 0.5) * inSize / outSize - 0.5, 0);
        int first = (int)source;
        double frac = source - first;
        return [(first, 1 - frac), (Math.Min(first + 1, inSize - 1), frac)];
    }
}
