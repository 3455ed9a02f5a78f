namespace ScratchDetect.Engine;

/// <summary>
/// A (height, width) pair of integers for the 2-D ops: kernel sizes, strides, paddings, dilations
/// and output sizes. Like PyTorch's <c>_pair</c>, a single int means the same value for both axes,
/// so <c>stride: 2</c> and <c>padding: (1, 0)</c> both work.
/// </summary>
/// <param name="H">The value along the height (rows) axis.</param>
/// <param name="W">The value along the width (columns) axis.</param>
public readonly record struct Size2d(int H, int W)
{
    /// <summary>The same value for height and width.</summary>
    public static implicit operator Size2d(int both) => new(both, both);

    /// <summary>(height, width).</summary>
    public static implicit operator Size2d((int H, int W) pair) => new(pair.H, pair.W);

    /// <summary>"(h, w)", as error messages show it.</summary>
    public override string ToString() => $"({H}, {W})";
}
