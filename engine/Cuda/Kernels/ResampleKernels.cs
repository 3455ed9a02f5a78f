using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Interpolation of [N·C, H, W] planes and SSD's L2Norm. Interpolation source positions follow
// torch 1.13's formulas in float32 (see CpuBackend.Interpolate): the host passes each axis's step
// (1/scale_factor, or in/out) and the kernel blends along W first, then along H, like the CPU.
internal static class ResampleKernels
{
    /// <summary>torch's nearest_idx: dst/2 when doubling, else min(floor(dst·step), in - 1); the identity when sizes agree.</summary>
    public static int NearestSource(int dst, int inSize, int outSize, float step)
    {
        if (outSize == inSize) return dst;
        if (outSize == 2 * inSize) return dst >> 1;
        return XMath.Min((int)XMath.Floor(dst * step), inSize - 1);
    }

    /// <summary>torch's linear source index for align_corners=False: the lower tap, the upper tap and the upper's weight.</summary>
    public static void LinearTaps(int dst, int inSize, int outSize, float step, out int first, out int second, out float secondWeight)
    {
        if (outSize == inSize)
        {
            first = second = dst;
            secondWeight = 0f;
            return;
        }
        float source = XMath.Max(step * (dst + 0.5f) - 0.5f, 0f);
        first = (int)source;
        second = first < inSize - 1 ? first + 1 : first;
        secondWeight = source - first;
    }

    [DeviceKernel]
    public static void Nearest(Index1D i, ArrayView<float> x, ArrayView<float> y, int inH, int inW, int outH, int outW, float stepH, float stepW)
    {
        long plane = i / ((long)outH * outW);
        int oh = (int)(i / outW % outH), ow = (int)(i % outW);
        int sh = NearestSource(oh, inH, outH, stepH), sw = NearestSource(ow, inW, outW, stepW);
        y[i] = x[(plane * inH + sh) * inW + sw];
    }

    [DeviceKernel]
    public static void Bilinear(Index1D i, ArrayView<float> x, ArrayView<float> y, int inH, int inW, int outH, int outW, float stepH, float stepW)
    {
        long plane = i / ((long)outH * outW);
        int oh = (int)(i / outW % outH), ow = (int)(i % outW);
        LinearTaps(oh, inH, outH, stepH, out int h0, out int h1, out float hw1);
        LinearTaps(ow, inW, outW, stepW, out int w0, out int w1, out float ww1);
        long top = (plane * inH + h0) * inW, bottom = (plane * inH + h1) * inW;
        // Unresampled axes are copied, not blended, exactly as the CPU leaves them alone.
        float upper = outW == inW ? x[top + w0] : x[top + w0] * (1f - ww1) + x[top + w1] * ww1;
        float lower = outW == inW ? x[bottom + w0] : x[bottom + w0] * (1f - ww1) + x[bottom + w1] * ww1;
        y[i] = outH == inH ? upper : upper * (1f - hw1) + lower * hw1;
    }

    /// <summary>The adjoint of <see cref="Nearest"/>: each output gradient added to the input pixel it was read from (gradInput zeroed first).</summary>
    [DeviceKernel]
    public static void NearestBackward(Index1D i, ArrayView<float> gradOutput, ArrayView<float> gradInput, int inH, int inW, int outH, int outW, float stepH, float stepW)
    {
        long plane = i / ((long)outH * outW);
        int oh = (int)(i / outW % outH), ow = (int)(i % outW);
        int sh = NearestSource(oh, inH, outH, stepH), sw = NearestSource(ow, inW, outW, stepW);
        Atomic.Add(ref gradInput[(plane * inH + sh) * inW + sw], gradOutput[i]);
    }

    /// <summary>The adjoint of <see cref="Bilinear"/>: each output gradient spread over its (up to) four taps with their weights (gradInput zeroed first).</summary>
    [DeviceKernel]
    public static void BilinearBackward(Index1D i, ArrayView<float> gradOutput, ArrayView<float> gradInput, int inH, int inW, int outH, int outW, float stepH, float stepW)
    {
        long plane = i / ((long)outH * outW);
        int oh = (int)(i / outW % outH), ow = (int)(i % outW);
        LinearTaps(oh, inH, outH, stepH, out int h0, out int h1, out float hw1);
        LinearTaps(ow, inW, outW, stepW, out int w0, out int w1, out float ww1);
        float g = gradOutput[i];
        // An unresampled axis has one tap of weight 1 (LinearTaps gives weight 0 to the duplicate).
        float upper = outH == inH ? g : g * (1f - hw1), lower = outH == inH ? 0f : g * hw1;
        long top = (plane * inH + h0) * inW, bottom = (plane * inH + h1) * inW;
        if (outW == inW)
        {
            Atomic.Add(ref gradInput[top + w0], upper);
            if (lower != 0f) Atomic.Add(ref gradInput[bottom + w0], lower);
            return;
        }
        Atomic.Add(ref gradInput[top + w0], upper * (1f - ww1));
        Atomic.Add(ref gradInput[top + w1], upper * ww1);
        if (lower != 0f)
        {
            Atomic.Add(ref gradInput[bottom + w0], lower * (1f - ww1));
            Atomic.Add(ref gradInput[bottom + w1], lower * ww1);
        }
    }

    /// <summary>SSD's L2Norm over the channels of [N, C, S] (S = H·W): y = x / (‖x‖ + eps) · weight[c]; one thread per (n, s).</summary>
    [DeviceKernel]
    public static void L2Norm(Index1D i, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, int channels, int spatial, float eps)
    {
        long n = i / spatial, s = i % spatial;
        long first = n * channels * spatial + s;
        float sumOfSquares = 0f;
        for (int c = 0; c < channels; c++)
        {
            float v = x[first + (long)c * spatial];
            sumOfSquares += v * v;
        }
        float denominator = XMath.Sqrt(sumOfSquares) + eps;
        for (int c = 0; c < channels; c++)
        {
            long at = first + (long)c * spatial;
            y[at] = x[at] / denominator * weight[c];
        }
    }
}
