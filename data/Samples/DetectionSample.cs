namespace ScratchDetect.Data.Samples;

/// <summary>
/// The objects of one image as plain arrays, ready to become tensors: box i is
/// Boxes[4i..4i+3] = (x1, y1, x2, y2) in the continuous frame (see <see cref="Voc.VocCoordinates"/>)
/// unless a transform documents otherwise, Labels[i] its 1-based class, Difficult[i] its VOC flag.
/// </summary>
/// <param name="Boxes">4 values per object.</param>
/// <param name="Labels">One 1-based label per object.</param>
/// <param name="Difficult">One flag per object.</param>
public sealed record DetectionTargets(float[] Boxes, int[] Labels, bool[] Difficult)
{
    /// <summary>The number of objects.</summary>
    public int Count => Labels.Length;

    /// <summary>The objects at <paramref name="indices"/>, in that order, with boxes replaced by <paramref name="boxes"/> (4 per index).</summary>
    public DetectionTargets Select(IReadOnlyList<int> indices, float[] boxes) =>
        new(boxes, indices.Select(i => Labels[i]).ToArray(), indices.Select(i => Difficult[i]).ToArray());
}

/// <summary>An image and its objects on their way from the dataset to the model.</summary>
/// <param name="Id">The dataset's image id.</param>
/// <param name="Image">The image, float HWC.</param>
/// <param name="Targets">The objects.</param>
public sealed record DetectionSample(string Id, FloatImage Image, DetectionTargets Targets);
