using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Box kernels for [K, 4] boxes (x1, y1, x2, y2): IoU in torchvision's order of operations, the
// NMS suppression bitmask (torchvision's CUDA formulation), and the box coder's encode/decode in
// the order BoxCoder writes them so float32 rounding agrees.
internal static class BoxKernels
{
    /// <summary>Boxes compared per 64-bit word of the NMS mask.</summary>
    public const int MaskBits = 64;

    public static float Area(ArrayView<float> boxes, long i) => (boxes[i * 4 + 2] - boxes[i * 4]) * (boxes[i * 4 + 3] - boxes[i * 4 + 1]);

    public static float Iou(ArrayView<float> a, long i, ArrayView<float> b, long j)
    {
        float width = XMath.Max(0f, XMath.Min(a[i * 4 + 2], b[j * 4 + 2]) - XMath.Max(a[i * 4], b[j * 4]));
        float height = XMath.Max(0f, XMath.Min(a[i * 4 + 3], b[j * 4 + 3]) - XMath.Max(a[i * 4 + 1], b[j * 4 + 1]));
        float intersection = width * height;
        return intersection / (Area(a, i) + Area(b, j) - intersection);
    }

    [DeviceKernel]
    public static void BoxIou(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> iou, int m) => iou[i] = Iou(a, i / m, b, i % m);

    /// <summary>
    /// mask[row, word] has bit t set when sorted box (word·64 + t) comes after <c>row</c> and
    /// overlaps it with IoU &gt; threshold (compared in double, as torchvision; NaN never suppresses).
    /// One thread per (row, word); the greedy pass over the rows then runs on the host.
    /// </summary>
    [DeviceKernel]
    public static void NmsMask(Index1D i, ArrayView<float> sortedBoxes, ArrayView<ulong> mask, int count, int words, double threshold)
    {
        long row = i / words;
        int word = (int)(i % words);
        ulong bits = 0;
        int first = word * MaskBits;
        for (int t = 0; t < MaskBits; t++)
        {
            int column = first + t;
            if (column >= count) break;
            if (column > row && (double)Iou(sortedBoxes, row, sortedBoxes, column) > threshold) bits |= 1UL << t;
        }
        mask[i] = bits;
    }

    /// <summary>Gathers rows of [K, 4] boxes in a given int64 order.</summary>
    [DeviceKernel]
    public static void GatherBoxes(Index1D i, ArrayView<float> boxes, ArrayView<long> order, ArrayView<float> sorted) => sorted[i] = boxes[order[i / 4] * 4 + i % 4];

    /// <summary>The codes that move reference box k onto target box k: (wx·dx/w, wy·dy/h, ww·log(w'/w), wh·log(h'/h)).</summary>
    [DeviceKernel]
    public static void Encode(Index1D k, ArrayView<float> targets, ArrayView<float> references, ArrayView<float> codes, float wx, float wy, float ww, float wh)
    {
        long at = (long)k.X * 4;
        float refW = references[at + 2] - references[at], refH = references[at + 3] - references[at + 1];
        float refX = references[at] + 0.5f * refW, refY = references[at + 1] + 0.5f * refH;
        float gtW = targets[at + 2] - targets[at], gtH = targets[at + 3] - targets[at + 1];
        float gtX = targets[at] + 0.5f * gtW, gtY = targets[at + 1] + 0.5f * gtH;
        codes[at] = wx * (gtX - refX) / refW;
        codes[at + 1] = wy * (gtY - refY) / refH;
        codes[at + 2] = ww * XMath.Log(gtW / refW);
        codes[at + 3] = wh * XMath.Log(gtH / refH);
    }

    /// <summary>Applies codes [K, 4·C] to references [K, 4], giving boxes [K, C, 4]; size codes are clamped at <paramref name="clip"/>.</summary>
    [DeviceKernel]
    public static void Decode(Index1D i, ArrayView<float> codes, ArrayView<float> references, ArrayView<float> boxes, int perReference,
        float wx, float wy, float ww, float wh, float clip)
    {
        long k = i / perReference, at = (long)i.X * 4, reference = k * 4;
        float width = references[reference + 2] - references[reference], height = references[reference + 3] - references[reference + 1];
        float ctrX = references[reference] + 0.5f * width, ctrY = references[reference + 1] + 0.5f * height;
        float dx = codes[at] / wx, dy = codes[at + 1] / wy;
        float dw = XMath.Min(codes[at + 2] / ww, clip), dh = XMath.Min(codes[at + 3] / wh, clip);
        float predX = dx * width + ctrX, predY = dy * height + ctrY;
        float halfW = 0.5f * (XMath.Exp(dw) * width), halfH = 0.5f * (XMath.Exp(dh) * height);
        boxes[at] = predX - halfW;
        boxes[at + 1] = predY - halfH;
        boxes[at + 2] = predX + halfW;
        boxes[at + 3] = predY + halfH;
    }
}
