using ScratchDetect.Testing;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The interpolate kernels (IBackend.Interpolate and its backward) on every device, beyond the
/// PyTorch parity cases (InterpolateParityTests): against a plain per-pixel reference written here on
/// batches large enough to split over threads, the backward as the forward's adjoint, and bad input.
/// </summary>
public class InterpolateKernelTests
{
    /// <summary>
    /// Output sizes for a batch of 4·8 planes of 23x31 whose work exceeds the CPU backend's threading
    /// threshold (2^15 outputs, or taps for bilinear), so the kernels run chunked over threads: up along
    /// H and down along W, the reverse, and an H that keeps its size (copied, not blended).
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
