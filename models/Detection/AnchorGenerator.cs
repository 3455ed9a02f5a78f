using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// Anchors for a pyramid of feature maps, as torchvision 0.14's <c>AnchorGenerator</c>: on level
/// l, every feature-map cell (y-major, then x) gets one box per (aspect ratio, size) pair, centred
/// at the cell's top-left corner in image pixels. A base anchor of size s and ratio r = h/w has
/// w = s/√r and h = s·√r, its corners rounded half-to-even (torch.round). The stride of a level is
/// the padded batch size divided by the feature size (integer division), per axis.
/// </summary>
public sealed class AnchorGenerator
{
    private readonly float[][] cellAnchors;

    /// <summary>Anchors with the given sizes and aspect ratios (height / width) per level.</summary>
    public AnchorGenerator(IReadOnlyList<IReadOnlyList<int>> sizes, IReadOnlyList<IReadOnlyList<double>> aspectRatios)
    {
        if (sizes.Count != aspectRatios.Count)
            throw new ArgumentException($"anchor_generator: {sizes.Count} size lists but {aspectRatios.Count} aspect-ratio lists; give one of each per feature map");
        Sizes = sizes;
        AspectRatios = aspectRatios;
        cellAnchors = sizes.Select((s, level) => BaseAnchors(s, aspectRatios[level])).ToArray();
    }

    /// <summary>torchvision's Faster R-CNN FPN default: sizes 32..512 (one per level), ratios 0.5, 1, 2 on each.</summary>
    public static AnchorGenerator FpnDefault() =>
        new([[32], [64], [128], [256], [512]], Enumerable.Repeat<IReadOnlyList<double>>([0.5, 1.0, 2.0], 5).ToArray());

    /// <summary>Anchor sizes per level.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Sizes { get; }

    /// <summary>Aspect ratios (height / width) per level.</summary>
    public IReadOnlyList<IReadOnlyList<double>> AspectRatios { get; }

    /// <summary>Anchors per feature-map cell on each level.</summary>
    public int[] NumAnchorsPerLocation() => Sizes.Select((s, l) => s.Count * AspectRatios[l].Count).ToArray();

    /// <summary>
    /// The anchors ([Σ H_l·W_l·A_l, 4] of <paramref name="dtype"/>, the features' dtype, on
    /// <paramref name="device"/>) for a padded batch of <paramref name="batchHeight"/> x
    /// <paramref name="batchWidth"/> and feature maps of the given sizes; the same for every image.
    /// The values are whole numbers, exact in any float type. Built with tensor ops on the device and
    /// cached per sizes, dtype and device, so a run over same-sized batches builds them once.
    /// The returned tensor is shared: treat it as read-only.
    /// </summary>
    public Tensor Generate(int batchHeight, int batchWidth, IReadOnlyList<(int H, int W)> featureSizes, DType dtype = DType.Float32, Device device = default)
    {
        if (featureSizes.Count != cellAnchors.Length)
            throw new ArgumentException($"anchor_generator: {featureSizes.Count} feature maps but anchors are configured for {cellAnchors.Length}");
        var key = $"{batchHeight}x{batchWidth}/{string.Join(",", featureSizes.Select(f => $"{f.H}x{f.W}"))}/{dtype.Name()}/{device}";
        lock (cache)
        {
            if (cache.TryGetValue(key, out var cached)) return cached;
            var levels = new List<Tensor>(featureSizes.Count);
            for (int level = 0; level < featureSizes.Count; level++)
            {
                var (gridH, gridW) = featureSizes[level];
                int strideH = batchHeight / gridH, strideW = batchWidth / gridW;
                // Cell (y, x) shifts its base anchors by (x·strideW, y·strideH), y-major, as torchvision's grid_anchors.
                var shiftX = (Tensor.Arange(gridW, DType.Float32, device) * strideW).Unsqueeze(0).Expand(gridH, gridW).Reshape(-1, 1);
                var shiftY = (Tensor.Arange(gridH, DType.Float32, device) * strideH).Unsqueeze(1).Expand(gridH, gridW).Reshape(-1, 1);
                var shifts = Tensor.Cat([shiftX, shiftY, shiftX, shiftY], 1); // [H·W, 4]
                var cell = Tensor.FromArray(cellAnchors[level], [cellAnchors[level].Length / 4, 4], device);
                levels.Add((shifts.Unsqueeze(1) + cell.Unsqueeze(0)).Reshape(-1, 4));
            }
            if (cache.Count >= MaxCachedSizes) cache.Clear();
            return cache[key] = Tensor.Cat(levels, 0).To(dtype);
        }
    }

    /// <summary>Distinct batch sizes whose anchors are kept (training with several min sizes sees a few).</summary>
    private const int MaxCachedSizes = 16;

    private readonly Dictionary<string, Tensor> cache = new();

    /// <summary>Zero-centred anchors (x1, y1, x2, y2) per ratio (outer) and size (inner), computed in float32 as torchvision.</summary>
    private static float[] BaseAnchors(IReadOnlyList<int> sizes, IReadOnlyList<double> ratios)
    {
        var result = new List<float>();
        foreach (double ratio in ratios)
        {
            float hRatio = MathF.Sqrt((float)ratio), wRatio = 1 / hRatio;
            foreach (int size in sizes)
            {
                float w = wRatio * size, h = hRatio * size;
                result.AddRange([-w / 2, -h / 2, w / 2, h / 2]);
            }
        }
        return result.Select(v => MathF.Round(v, MidpointRounding.ToEven)).ToArray();
    }
}
