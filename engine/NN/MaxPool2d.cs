namespace ScratchDetect.Engine.NN;

/// <summary>Max pooling, as torch.nn.MaxPool2d (no parameters); the stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(Size2d kernelSize, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, bool ceilMode = false) : Layer
{
    /// <summary>Window height and width.</summary>
    public Size2d KernelSize { get; } = kernelSize;

    /// <summary>Step between windows.</summary>
    public Size2d Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit -inf padding on each side.</summary>
    public Size2d Padding { get; } = padding ?? 0;

    /// <summary>Spacing between window taps.</summary>
    public Size2d Dilation { get; } = dilation ?? 1;

    /// <summary>Whether the output size rounds up (a last partial window counts).</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);
}
