namespace ScratchDetect.Engine.Backends;

/// <summary>Output-size rules of windows sliding over an axis (convolution and pooling share them).</summary>
public static class SlidingWindow
{
    /// <summary>
    /// How many windows of <paramref name="kernel"/> taps spaced <paramref name="dilation"/> apart fit
    /// along an axis of <paramref name="input"/> elements padded by <paramref name="padding"/> on both
    /// sides, moving by <paramref name="stride"/>: floor((input + 2·padding - dilation·(kernel-1) - 1) / stride) + 1,
    /// as PyTorch's <c>pooling_output_shape</c>. With <paramref name="ceilMode"/> the division rounds
    /// up, so a last, partial window hanging over the end counts, unless it would start beyond the
    /// input and its left padding (then it would see only right padding and is dropped).
    /// The caller checks that the dilated kernel fits into the padded input.
    /// </summary>
    public static int OutputSize(int input, int kernel, int stride, int padding, int dilation, bool ceilMode = false)
    {
        int span = input + 2 * padding - dilation * (kernel - 1) - 1;
        int size = (span + (ceilMode ? stride - 1 : 0)) / stride + 1;
        if (ceilMode && (size - 1) * stride >= input + padding) size--;
        return size;
    }
}

/// <summary>
/// Everything a backend needs to run a 2-D convolution: input [Batch, InChannels, Height, Width],
/// weight [OutChannels, InChannels/Groups, KernelH, KernelW], output [Batch, OutChannels, OutH, OutW].
/// Groups split the channels into independent convolutions: output channels of group g see only
/// input channels of group g.
/// </summary>
/// <param name="Batch">Images in the batch (N).</param>
/// <param name="InChannels">Input channels (C).</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="OutChannels">Output channels (O).</param>
/// <param name="Kernel">Kernel height and width.</param>
/// <param name="Stride">Step between windows.</param>
/// <param name="Padding">Zeros added on each side.</param>
/// <param name="Dilation">Spacing between kernel taps.</param>
/// <param name="Groups">Number of channel groups; divides both channel counts.</param>
public readonly record struct Conv2dGeometry(int Batch, int InChannels, int Height, int Width, int OutChannels,
    Size2d Kernel, Size2d Stride, Size2d Padding, Size2d Dilation, int Groups)
{
    /// <summary>Output height.</summary>
    public int OutH => SlidingWindow.OutputSize(Height, Kernel.H, Stride.H, Padding.H, Dilation.H);

    /// <summary>Output width.</summary>
    public int OutW => SlidingWindow.OutputSize(Width, Kernel.W, Stride.W, Padding.W, Dilation.W);

    /// <summary>Input channels seen by one output channel.</summary>
    public int InPerGroup => InChannels / Groups;

    /// <summary>Output channels per group.</summary>
    public int OutPerGroup => OutChannels / Groups;

    /// <summary>Length of one unrolled receptive field (InPerGroup·KernelH·KernelW): the shared axis of the convolution as a matrix product.</summary>
    public int PatchSize => InPerGroup * Kernel.H * Kernel.W;

    /// <summary>A 1x1 kernel at stride 1 without padding: the input planes already are the im2col matrix.</summary>
    public bool IsPointwise => Kernel == new Size2d(1, 1) && Stride == new Size2d(1, 1) && Padding == new Size2d(0, 0);
}

/// <summary>
/// A 2-D pooling window over input [Batch, Channels, Height, Width], giving [Batch, Channels, OutH, OutW]
/// by PyTorch's output-size rule (see <see cref="SlidingWindow.OutputSize"/>).
/// </summary>
/// <param name="Batch">Images in the batch.</param>
/// <param name="Channels">Channels (pooled independently).</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="Kernel">Window height and width.</param>
/// <param name="Stride">Step between windows.</param>
/// <param name="Padding">Implicit padding on each side (-inf for max pooling, zeros for average pooling).</param>
/// <param name="Dilation">Spacing between window taps (max pooling only).</param>
/// <param name="CeilMode">Round the output size up (see <see cref="SlidingWindow.OutputSize"/>).</param>
public readonly record struct Pool2dGeometry(int Batch, int Channels, int Height, int Width,
    Size2d Kernel, Size2d Stride, Size2d Padding, Size2d Dilation, bool CeilMode)
{
    /// <summary>Output height.</summary>
    public int OutH => SlidingWindow.OutputSize(Height, Kernel.H, Stride.H, Padding.H, Dilation.H, CeilMode);

    /// <summary>Output width.</summary>
    public int OutW => SlidingWindow.OutputSize(Width, Kernel.W, Stride.W, Padding.W, Dilation.W, CeilMode);

    /// <summary>Number of independent planes (Batch·Channels).</summary>
    public int Planes => Batch * Channels;
}
