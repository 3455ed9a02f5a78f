using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>How a <see cref="DefaultBoxGenerator"/> keeps its boxes inside [0, 1] (in units of the image).</summary>
public enum DefaultBoxClip
{
    /// <summary>No clamping (Caffe's SSD512).</summary>
    None,

    /// <summary>
    /// Width and height clamped to [0, 1], centres left alone, as torchvision's DefaultBoxGenerator
    /// (clip=True, the default ssd300_vgg16 uses): SSD300's last source has a 0.87·√2 = 1.23 wide
    /// box that becomes 1, but boxes may still reach outside the image.
    /// </summary>
    WidthHeight,

    /// <summary>
    /// Centre x, centre y, width and height all clamped to [0, 1], as ssd.pytorch's PriorBox
    /// (clip=True): on SSD300's 10x10 source (step 32, 9.375 cells per image) the last column's
    /// centre 9.5 / 9.375 = 1.013 also becomes 1.
    /// </summary>
    CentreForm,
}

/// <summary>
/// SSD's default boxes (priors) for a set of source feature maps, as torchvision 0.14's
/// <c>DefaultBoxGenerator</c> and ssd.pytorch's <c>PriorBox</c>, which compute the same thing from
/// different settings. Source k has a smaller scale s_k and a larger scale s'_k (fractions of the
/// image side); each cell of its grid gets boxes centred at ((j + 0.5) / f_k, (i + 0.5) / f_k),
/// f_k = image side / step_k, of sizes (s_k, s_k), (√(s_k·s'_k), √(s_k·s'_k)) and, for each aspect
/// ratio a, (s_k·√a, s_k/√a) and (s_k/√a, s_k·√a). Boxes are ordered by source, then row, column,
/// and size; the head's outputs use the same order. torchvision's scales (0.07, 0.15, ..., 1.05)
/// give s'_k = s_(k+1); PriorBox's min_sizes and max_sizes in pixels give s_k = min/300, s'_k = max/300.
/// Parameter-free; computed in float32 in torchvision's order of operations.
/// </summary>
public sealed class DefaultBoxGenerator
{
    private DefaultBoxGenerator(IReadOnlyList<double[]> aspectRatios, double[] minScales, double[] maxScales, double[]? steps, DefaultBoxClip clip)
    {
        if (aspectRatios.Count == 0 || minScales.Length != aspectRatios.Count || maxScales.Length != aspectRatios.Count || (steps is not null && steps.Length != aspectRatios.Count))
            throw new ArgumentException($"default_boxes: {aspectRatios.Count} sources need as many aspect-ratio lists, scale pairs and steps, got {minScales.Length} scales and {steps?.Length.ToString() ?? "no"} steps");
        if (minScales.Concat(maxScales).Any(s => !(s > 0)) || aspectRatios.Any(r => r.Any(a => !(a > 0))) || (steps?.Any(s => !(s > 0)) ?? false))
            throw new ArgumentException("default_boxes: scales, aspect ratios and steps must be positive");
        AspectRatios = aspectRatios;
        MinScales = minScales;
        MaxScales = maxScales;
        Steps = steps;
        Clip = clip;
    }

    /// <summary>
    /// torchvision's constructor: <paramref name="scales"/> has one entry more than there are sources
    /// (s'_k = s_(k+1)); without <paramref name="steps"/> a cell is 1 / grid size of the image.
    /// </summary>
    public static DefaultBoxGenerator FromScales(IReadOnlyList<double[]> aspectRatios, IReadOnlyList<double> scales, IReadOnlyList<double>? steps = null, DefaultBoxClip clip = DefaultBoxClip.WidthHeight)
    {
        if (scales.Count != aspectRatios.Count + 1)
            throw new ArgumentException($"default_boxes: {aspectRatios.Count} sources need {aspectRatios.Count + 1} scales, got {scales.Count}");
        return new DefaultBoxGenerator(aspectRatios, scales.Take(aspectRatios.Count).ToArray(), scales.Skip(1).ToArray(), steps?.ToArray(), clip);
    }

    /// <summary>ssd.pytorch's PriorBox: min and max sizes and steps in pixels of an <paramref name="imageSize"/> square input.</summary>
    public static DefaultBoxGenerator FromPriorSizes(IReadOnlyList<double[]> aspectRatios, IReadOnlyList<double> minSizes, IReadOnlyList<double> maxSizes, IReadOnlyList<double> steps,
        int imageSize, DefaultBoxClip clip = DefaultBoxClip.CentreForm)
    {
        if (minSizes.Count != aspectRatios.Count || maxSizes.Count != aspectRatios.Count)
            throw new ArgumentException($"default_boxes: {aspectRatios.Count} sources need as many min and max sizes, got {minSizes.Count} and {maxSizes.Count}");
        return new DefaultBoxGenerator(aspectRatios, minSizes.Select(s => s / imageSize).ToArray(), maxSizes.Select(s => s / imageSize).ToArray(),
            steps.ToArray(), clip);
    }

    private static readonly double[][] Ssd300AspectRatios = [[2], [2, 3], [2, 3], [2, 3], [2], [2]];

    /// <summary>torchvision's ssd300_vgg16: scales 0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05, steps 8, 16, 32, 64, 100, 300, widths and heights clipped.</summary>
    public static DefaultBoxGenerator Ssd300() =>
        FromScales(Ssd300AspectRatios, [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05], [8, 16, 32, 64, 100, 300]);

    /// <summary>ssd.pytorch's VOC PriorBox (config.py's voc): min sizes 30, 60, 111, 162, 213, 264, max sizes 60, ..., 315, clipped in centre form.</summary>
    public static DefaultBoxGenerator Ssd300Voc() =>
        FromPriorSizes(Ssd300AspectRatios, [30, 60, 111, 162, 213, 264], [60, 111, 162, 213, 264, 315], [8, 16, 32, 64, 100, 300], 300);

    /// <summary>The original (Caffe) SSD512's priors: seven sources 64..1, min sizes 35.84..460.8, max sizes 76.8..537.6, steps 8..512, no clipping.</summary>
    public static DefaultBoxGenerator Ssd512() =>
        FromPriorSizes([[2], [2, 3], [2, 3], [2, 3], [2, 3], [2], [2]], [35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8],
            [76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6], [8, 16, 32, 64, 128, 256, 512], 512, DefaultBoxClip.None);

    /// <summary>The aspect ratios of each source (besides the two square boxes).</summary>
    public IReadOnlyList<double[]> AspectRatios { get; }

    /// <summary>s_k per source, as a fraction of the image side.</summary>
    public IReadOnlyList<double> MinScales { get; }

    /// <summary>s'_k per source: the second square box is √(s_k·s'_k) wide.</summary>
    public IReadOnlyList<double> MaxScales { get; }

    /// <summary>Steps (pixels per cell) per source, or null for image side / grid size.</summary>
    public IReadOnlyList<double>? Steps { get; }

    /// <summary>How the boxes are kept inside the image.</summary>
    public DefaultBoxClip Clip { get; }

    /// <summary>Sources the generator expects.</summary>
    public int SourceCount => AspectRatios.Count;

    /// <summary>Boxes per grid cell of each source: 2 + 2 · aspect ratios (SSD300: 4, 6, 6, 6, 4, 4).</summary>
    public IReadOnlyList<int> BoxesPerLocation => AspectRatios.Select(r => 2 + 2 * r.Length).ToArray();

    /// <summary>How many boxes <see cref="Generate"/> gives for these grids (SSD300's 38, 19, 10, 5, 3, 1: 8732).</summary>
    public int Count(IReadOnlyList<(int Height, int Width)> gridSizes)
    {
        CheckSources(gridSizes);
        return gridSizes.Select((g, k) => g.Height * g.Width * BoxesPerLocation[k]).Sum();
    }

    /// <summary>
    /// The default boxes [P, 4] as (x1, y1, x2, y2) in the pixels of an image of
    /// <paramref name="imageSize"/>, for source grids of <paramref name="gridSizes"/>, in
    /// <paramref name="dtype"/> (computed in float32, as torchvision) on <paramref name="device"/>.
    /// Built with tensor ops on the device and cached per sizes, dtype and device, so a run over
    /// same-sized batches builds them once. The returned tensor is shared: treat it as read-only.
    /// </summary>
    public Tensor Generate(IReadOnlyList<(int Height, int Width)> gridSizes, (int Height, int Width) imageSize, DType dtype = DType.Float32, Device device = default)
    {
        CheckSources(gridSizes);
        var key = $"{imageSize.Height}x{imageSize.Width}/{string.Join(",", gridSizes.Select(g => $"{g.Height}x{g.Width}"))}/{dtype.Name()}/{device}";
        lock (cache)
        {
            if (cache.TryGetValue(key, out var cached)) return cached;
            if (cache.Count >= MaxCachedSizes) cache.Clear();
            return cache[key] = Build(gridSizes, imageSize, dtype, device);
        }
    }

    /// <summary>Distinct image and grid sizes whose boxes are kept (SSD resizes to one size, so one is usual).</summary>
    private const int MaxCachedSizes = 16;

    private readonly Dictionary<string, Tensor> cache = new();

    private Tensor Build(IReadOnlyList<(int Height, int Width)> gridSizes, (int Height, int Width) imageSize, DType dtype, Device device)
    {
        var perSource = new List<Tensor>(gridSizes.Count);
        for (int k = 0; k < gridSizes.Count; k++)
        {
            var (h, w) = gridSizes[k];
            // Cells per image along x and y, as x_f_k and y_f_k.
            double cellsX = Steps is null ? w : imageSize.Width / Steps[k], cellsY = Steps is null ? h : imageSize.Height / Steps[k];
            var shiftsX = (Tensor.Arange(0, w, 1, DType.Float32, device) + 0.5) / cellsX;
            var shiftsY = (Tensor.Arange(0, h, 1, DType.Float32, device) + 0.5) / cellsY;
            var sizes = SizePairs(k, device);
            int a = sizes.Size(0);
            var centreX = shiftsX.Reshape(1, w, 1, 1).Expand(h, w, a, 1);
            var centreY = shiftsY.Reshape(h, 1, 1, 1).Expand(h, w, a, 1);
            var centres = Tensor.Cat([centreX, centreY], 3);                           // [h, w, a, 2]
            if (Clip == DefaultBoxClip.CentreForm) centres = centres.Clamp(0, 1);
            var wh = sizes.Reshape(1, 1, a, 2).Expand(h, w, a, 2);
            perSource.Add(Tensor.Cat([centres, wh], 3).Reshape(-1, 4));                // (cx, cy, w, h)
        }
        var centreForm = Tensor.Cat(perSource, 0);
        var centre = centreForm.Narrow(1, 0, 2);
        var size = centreForm.Narrow(1, 2, 2);
        var imageXy = Tensor.FromArray(new float[] { imageSize.Width, imageSize.Height }, [1, 2], device);
        return Tensor.Cat([(centre - 0.5 * size) * imageXy, (centre + 0.5 * size) * imageXy], 1).To(dtype);
    }

    /// <summary>The (width, height) pairs of one source's cell, [A, 2] float32: computed in double and rounded once, as torch.as_tensor of Python floats.</summary>
    private Tensor SizePairs(int k, Device device)
    {
        double s = MinScales[k], sPrime = Math.Sqrt(MinScales[k] * MaxScales[k]);
        var pairs = new List<double> { s, s, sPrime, sPrime };
        foreach (double ratio in AspectRatios[k])
        {
            double root = Math.Sqrt(ratio);
            pairs.AddRange([s * root, s / root, s / root, s * root]);
        }
        var values = pairs.Select(v => (float)v).ToArray();
        if (Clip != DefaultBoxClip.None) values = values.Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        return Tensor.FromArray(values, [values.Length / 2, 2], device);
    }

    private void CheckSources(IReadOnlyList<(int Height, int Width)> gridSizes)
    {
        if (gridSizes.Count != SourceCount)
            throw new ArgumentException($"default_boxes: {gridSizes.Count} feature maps, but the boxes are set up for {SourceCount} sources");
    }
}
