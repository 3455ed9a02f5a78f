using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// RoIAlign and RoIPool as torchvision 0.14 computes them, in float32, one thread per output
// element ([R, C, PH, PW]); the backward passes scatter with atomic adds, because RoIs of one
// image overlap. RoIs are [R, 5] of (batch, x1, y1, x2, y2) with valid batch indices (the
// tensor op checks them before launching). The geometry array is
// [batch, channels, height, width, outputHeight, outputWidth].
internal static class RoiKernels
{
    /// <summary>The bilinear corners and weights of one sample, with torchvision's edge rules; false for a sample more than a cell outside the map.</summary>
    public static bool Bilinear(float y, float x, int height, int width, out int yLow, out int xLow, out int yHigh, out int xHigh,
        out float wTopLeft, out float wTopRight, out float wBottomLeft, out float wBottomRight)
    {
        yLow = xLow = yHigh = xHigh = 0;
        wTopLeft = wTopRight = wBottomLeft = wBottomRight = 0f;
        if (y < -1f || y > height || x < -1f || x > width) return false;
        if (y <= 0f) y = 0f;
        if (x <= 0f) x = 0f;
        yLow = (int)y;
        xLow = (int)x;
        if (yLow >= height - 1) { yHigh = yLow = height - 1; y = yLow; }
        else yHigh = yLow + 1;
        if (xLow >= width - 1) { xHigh = xLow = width - 1; x = xLow; }
        else xHigh = xLow + 1;
        float ly = y - yLow, lx = x - xLow, hy = 1f - ly, hx = 1f - lx;
        wTopLeft = hy * hx;
        wTopRight = hy * lx;
        wBottomLeft = ly * hx;
        wBottomRight = ly * lx;
        return true;
    }

    /// <summary>RoI r's start, bin sizes and sampling grid, as torchvision's roi_align (legacy RoIs at least 1 x 1).</summary>
    public static void RoiAlignWindow(ArrayView<float> rois, long r, int outH, int outW, float scale, int samplingRatio, int aligned,
        out int batch, out float startX, out float startY, out float binW, out float binH, out int gridH, out int gridW)
    {
        float offset = aligned != 0 ? 0.5f : 0f;
        batch = (int)rois[r * 5];
        startX = rois[r * 5 + 1] * scale - offset;
        startY = rois[r * 5 + 2] * scale - offset;
        float roiW = rois[r * 5 + 3] * scale - offset - startX;
        float roiH = rois[r * 5 + 4] * scale - offset - startY;
        if (aligned == 0)
        {
            roiW = XMath.Max(roiW, 1f);
            roiH = XMath.Max(roiH, 1f);
        }
        binH = roiH / outH;
        binW = roiW / outW;
        gridH = samplingRatio > 0 ? samplingRatio : (int)XMath.Ceiling(roiH / outH);
        gridW = samplingRatio > 0 ? samplingRatio : (int)XMath.Ceiling(roiW / outW);
        gridH = XMath.Max(gridH, 0);
        gridW = XMath.Max(gridW, 0);
    }

    /// <summary>
    /// One output bin of RoIAlign, forward and backward in one walk over its samples: without
    /// <paramref name="scatter"/> it returns the bin's average of <paramref name="map"/>; with it,
    /// it adds <paramref name="gradient"/>·weight/count into <paramref name="map"/> (the input
    /// gradient) at each sample's four corners and returns 0.
    /// </summary>
    public static float RoiAlignBin(long i, ArrayView<float> map, ArrayView<float> rois, ArrayView<int> geometry,
        float scale, int samplingRatio, int aligned, bool scatter, float gradient)
    {
        int channels = geometry[1], height = geometry[2], width = geometry[3], outH = geometry[4], outW = geometry[5];
        int pw = (int)(i % outW), ph = (int)(i / outW % outH), c = (int)(i / ((long)outW * outH) % channels);
        long r = i / ((long)outW * outH * channels);
        RoiAlignWindow(rois, r, outH, outW, scale, samplingRatio, aligned, out int batch, out float startX, out float startY,
            out float binW, out float binH, out int gridH, out int gridW);
        long plane = ((long)batch * channels + c) * height * width;
        float count = XMath.Max(gridH * gridW, 1);
        float sum = 0f;
        for (int iy = 0; iy < gridH; iy++)
        {
            float y = startY + ph * binH + (iy + 0.5f) * binH / gridH;
            for (int ix = 0; ix < gridW; ix++)
            {
                float x = startX + pw * binW + (ix + 0.5f) * binW / gridW;
                if (!Bilinear(y, x, height, width, out int y0, out int x0, out int y1, out int x1, out float w00, out float w01, out float w10, out float w11))
                    continue;
                long topLeft = plane + y0 * width + x0, topRight = plane + y0 * width + x1;
                long bottomLeft = plane + y1 * width + x0, bottomRight = plane + y1 * width + x1;
                if (scatter)
                {
                    // (gradient · weight) / count in torchvision's order.
                    Atomic.Add(ref map[topLeft], gradient * w00 / count);
                    Atomic.Add(ref map[topRight], gradient * w01 / count);
                    Atomic.Add(ref map[bottomLeft], gradient * w10 / count);
                    Atomic.Add(ref map[bottomRight], gradient * w11 / count);
                }
                else
                {
                    sum += w00 * map[topLeft] + w01 * map[topRight] + w10 * map[bottomLeft] + w11 * map[bottomRight];
                }
            }
        }
        return sum / count;
    }

    [DeviceKernel]
    public static void RoiAlign(Index1D i, ArrayView<float> input, ArrayView<float> rois, ArrayView<float> output, ArrayView<int> geometry,
        float scale, int samplingRatio, int aligned) =>
        output[i] = RoiAlignBin(i, input, rois, geometry, scale, samplingRatio, aligned, scatter: false, gradient: 0f);

    [DeviceKernel]
    public static void RoiAlignBackward(Index1D i, ArrayView<float> gradOutput, ArrayView<float> rois, ArrayView<float> gradInput, ArrayView<int> geometry,
        float scale, int samplingRatio, int aligned) =>
        RoiAlignBin(i, gradInput, rois, geometry, scale, samplingRatio, aligned, scatter: true, gradient: gradOutput[i]);

    /// <summary>round-half-away-from-zero, as std::round (and MidpointRounding.AwayFromZero) without the x + 0.5 rounding trap.</summary>
    public static int RoundAway(float v)
    {
        float a = XMath.Abs(v), whole = XMath.Floor(a);
        if (a - whole >= 0.5f) whole += 1f;
        return (int)(v < 0f ? -whole : whole);
    }

    [DeviceKernel]
    public static void RoiPool(Index1D i, ArrayView<float> input, ArrayView<float> rois, ArrayView<float> output, ArrayView<long> argmax, ArrayView<int> geometry, float scale)
    {
        int channels = geometry[1], height = geometry[2], width = geometry[3], outH = geometry[4], outW = geometry[5];
        int pw = (int)(i % outW), ph = (int)(i / outW % outH), c = (int)(i / ((long)outW * outH) % channels);
        long r = i / ((long)outW * outH * channels);
        int batch = (int)rois[r * 5];
        int startX = RoundAway(rois[r * 5 + 1] * scale), startY = RoundAway(rois[r * 5 + 2] * scale);
        int endX = RoundAway(rois[r * 5 + 3] * scale), endY = RoundAway(rois[r * 5 + 4] * scale);
        float binH = (float)XMath.Max(endY - startY + 1, 1) / outH;
        float binW = (float)XMath.Max(endX - startX + 1, 1) / outW;
        int hStart = XMath.Clamp((int)XMath.Floor(ph * binH) + startY, 0, height);
        int hEnd = XMath.Clamp((int)XMath.Ceiling((ph + 1) * binH) + startY, 0, height);
        int wStart = XMath.Clamp((int)XMath.Floor(pw * binW) + startX, 0, width);
        int wEnd = XMath.Clamp((int)XMath.Ceiling((pw + 1) * binW) + startX, 0, width);
        bool empty = hEnd <= hStart || wEnd <= wStart;
        float best = empty ? 0f : -float.MaxValue;
        long bestAt = -1;
        long plane = ((long)batch * channels + c) * height * width;
        for (int h = hStart; h < hEnd; h++)
            for (int w = wStart; w < wEnd; w++)
            {
                float v = input[plane + h * width + w];
                if (v > best) { best = v; bestAt = h * width + w; }
            }
        output[i] = best;
        argmax[i] = bestAt;
    }

    [DeviceKernel]
    public static void RoiPoolBackward(Index1D i, ArrayView<float> gradOutput, ArrayView<long> argmax, ArrayView<float> rois, ArrayView<float> gradInput, ArrayView<int> geometry)
    {
        long at = argmax[i];
        if (at < 0) return;
        int channels = geometry[1], height = geometry[2], width = geometry[3], outH = geometry[4], outW = geometry[5];
        int c = (int)(i / ((long)outW * outH) % channels);
        long r = i / ((long)outW * outH * channels);
        int batch = (int)rois[r * 5];
        Atomic.Add(ref gradInput[((long)batch * channels + c) * height * width + at], gradOutput[i]);
    }
}
