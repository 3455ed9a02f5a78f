namespace ScratchDetect.Engine.NN;

/// <summary>
/// Layers applied one after another, as torch.nn.Sequential. Children are named "0", "1", ...
/// by position, or by the names given, so parameter names match PyTorch's ("0.weight").
/// </summary>
public sealed class Sequential : Layer
{
    private readonly List<Layer> layers = [];

    /// <summary>The layers, named by position.</summary>
    public Sequential(params Layer[] layers)
    {
        foreach (var layer in layers) Append(layer);
    }

    /// <summary>The layers under the given names (torch's <c>Sequential(OrderedDict(...))</c>).</summary>
    public Sequential(IEnumerable<(string Name, Layer Layer)> namedLayers)
    {
        foreach (var (name, layer) in namedLayers) layers.Add(RegisterModule(name, layer));
    }

    /// <summary>Number of layers.</summary>
    public int Count => layers.Count;

    /// <summary>The layer at <paramref name="index"/> in order of application.</summary>
    public Layer this[int index] => layers[index];

    /// <summary>Adds a layer at the end, named by its position; returns this.</summary>
    public Sequential Append(Layer layer)
    {
        layers.Add(RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        return this;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A <see cref="Conv2d"/> followed by a batch norm and/or a <see cref="ReLU"/> runs as one
    /// <see cref="Conv2d.Forward(Tensor, Layer?, bool, Tensor?)"/>, which fuses them where autograd allows; the
    /// result is that of the layers one by one up to rounding (none without a norm).
    /// </remarks>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            Func<Tensor, Tensor> step = layers[i].Forward;
            if (layers[i] is Conv2d conv)
            {
                var norm = i + 1 < layers.Count && layers[i + 1] is FrozenBatchNorm2d or BatchNorm2d ? layers[++i] : null;
                bool relu = i + 1 < layers.Count && layers[i + 1] is ReLU;
                if (relu) i++;
                step = t => conv.Forward(t, norm, relu);
            }
            // Each intermediate result is disposed as soon as the next layer has used it; the input belongs to the caller.
            x = ReferenceEquals(x, input) ? step(x) : x.Then(step);
        }
        return x;
    }
}
