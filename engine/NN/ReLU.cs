namespace ScratchDetect.Engine.NN;

/// <summary>max(x, 0) element-wise, as torch.nn.ReLU (no state; in-place has no meaning here).</summary>
public sealed class ReLU : Layer
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Relu();
}
