using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>
/// How the convolutional heads of both detectors (the RPN head, SSD's scoring heads) turn one
/// level's [N, A·C, H, W] output into rows of C numbers per anchor, and join the levels, disposing
/// what they consume so the level outputs go back to the pool at once (or after backward).
/// </summary>
internal static class HeadLayout
{
    /// <summary>[N, A·C, H, W] to [N, H·W·A, C], as torchvision's permute_and_flatten; <paramref name="layer"/> is disposed.</summary>
    public static Tensor PermuteAndFlatten(Tensor layer, int channels)
    {
        int n = layer.Size(0), h = layer.Size(2), w = layer.Size(3);
        // Views are disposed too: an undisposed view would keep the storage out of the pool.
        return layer.Then(l => l.Reshape(n, -1, channels, h, w)).Then(v => v.Permute(0, 3, 4, 1, 2)).Then(p => p.Reshape(n, -1, channels));
    }

    /// <summary>The parts joined along <paramref name="axis"/>; the parts are disposed.</summary>
    public static Tensor CatAndDispose(List<Tensor> parts, int axis)
    {
        var joined = Tensor.Cat(parts, axis);
        foreach (var part in parts) part.Dispose();
        return joined;
    }
}
