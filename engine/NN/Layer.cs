namespace ScratchDetect.Engine.NN;

/// <summary>A module with one input and one output, the building block of <see cref="Sequential"/>.</summary>
public abstract class Layer : Module
{
    /// <summary>Computes the layer's output; recorded for autograd like any op.</summary>
    public abstract Tensor Forward(Tensor input);
}
