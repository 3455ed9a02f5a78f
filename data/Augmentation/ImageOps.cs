using ScratchDetect.Data.Samples;

namespace ScratchDetect.Data.Augmentation;

/// <summary>Geometric operations on float HWC images and their continuous-frame boxes.</summary>
public static class ImageOps
{
    /// <summary>
    /// Values 0..255 scaled to [0, 1] (torchvision's ConvertImageDtype), as a new image; with
    /// <paramref name="clamp"/>, values outside 0..255 (after photometric distortion) are clamped first.
    /// </summary>
    public static FloatImage ToUnitRange(FloatImage image, bool clamp = false)
    {
        var scaled = new float[image.Data.Length];
        for (int i = 0; i < scaled.Length; i++)
            scaled[i] = clamp ? Math.Clamp(image.Data[i], 0f, 255f) / 255f : image.Data[i] / 255f;
        return new FloatImage(image.Width, image.Height, scaled);
    }

    /// <summary>Mirrors the image left-right.</summary>
    public static FloatImage FlipHorizontal(FloatImage image)
    {
        var result = new FloatImage(image.Width, image.Height);
        int w = image.Width;
        for (int y = 0; y < image.Height; y++)
        {
            int row = y * w * 3;
            for (int x = 0; x < w; x++)
            {
                int src = row + (w - 1 - x) * 3, dst = row + x * 3;
                result.Data[dst] = image.Data[src];
                result.Data[dst + 1] = image.Data[src + 1];
                result.Data[dst + 2] = image.Data[src + 2];
            }
        }
        return result;
    }

    /// <summary>Mirrors continuous-frame boxes in an image <paramref name="width"/> wide: x1' = W - x2, x2' = W - x1.</summary>
    public static float[] FlipBoxesHorizontal(float[] boxes, int width)
    {
        var result = (float[])boxes.Clone();
        for (int i = 0; i < boxes.Length; i += 4)
        {
            result[i] = width - boxes[i + 2];
            result[i + 2] = width - boxes[i];
        }
        return result;
    }

    /// <summary>The pixels [left, right) x [top, bottom).</summary>
    public static FloatImage Crop(FloatImage image, int left, int top, int right, int bottom)
    {
        if (left < 0 || top < 0 || right > image.Width || bottom > image.Height || right <= left || bottom <= top)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop [{left},{right})x[{top},{bottom}) is not inside {image.Width}x{image.Height}");
        var result = new FloatImage(right - left, bottom - top);
        int rowLength = (right - left) * 3;
        for (int y = top; y < bottom; y++)
            Array.Copy(image.Data, (y * image.Width + left) * 3, result.Data, (y - top) * rowLength, rowLength);
        return result;
    }

    /// <summary>
    /// Bilinear resize as OpenCV's INTER_LINEAR: destination pixel centres map to source (x + 0.5) * scale - 0.5,
    /// clamped to the edge pixels, with no antialiasing when shrinking.
    /// </summary>
    public static FloatImage ResizeBilinear(FloatImage image, int width, int height)
    {
        var (x0, x1, fx) = Taps(image.Width, width);
        var (y0, y1, fy) = Taps(image.Height, height);
        var result = new FloatImage(width, height);
        var src = image.Data;
        var dst = result.Data;
        for (int y = 0; y < height; y++)
        {
            int top = y0[y] * image.Width * 3, bottom = y1[y] * image.Width * 3;
            float wy = fy[y];
            for (int x = 0; x < width; x++)
            {
                int l = x0[x] * 3, r = x1[x] * 3;
                float wx = fx[x];
                for (int c = 0; c < 3; c++)
                {
                    float upper = src[top + l + c] * (1 - wx) + src[top + r + c] * wx;
                    float lower = src[bottom + l + c] * (1 - wx) + src[bottom + r + c] * wx;
                    dst[(y * width + x) * 3 + c] = upper * (1 - wy) + lower * wy;
                }
            }
        }
        return result;
    }

    /// <summary>For each destination index along one axis: the two source indices and the weight of the second.</summary>
    static (int[] Lo, int[] Hi, float[] Weight) Taps(int source, int destination)
    {
        var lo = new int[destination];
        var hi = new int[destination];
        var weight = new float[destination];
        double scale = (double)source / destination;
        for (int i = 0; i < destination; i++)
        {
            double s = (i + 0.5) * scale - 0.5;
            int i0 = (int)Math.Floor(s);
            float f = (float)(s - i0);
            if (i0 < 0) { i0 = 0; f = 0; }
            if (i0 >= source - 1) { i0 = source - 1; f = 0; }
            lo[i] = i0;
            hi[i] = Math.Min(i0 + 1, source - 1);
            weight[i] = f;
        }
        return (lo, hi, weight);
    }
}
