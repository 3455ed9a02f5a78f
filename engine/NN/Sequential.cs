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
    public override Tensor Forward(Tensor input) =>
        // Each intermediate result is disposed as soon as the next layer has used it; the input belongs to the caller.
        layers.Aggregate(input, (x, layer) => ReferenceEquals(x, input) ? layer.Forward(x) : x.Then(layer.Forward));
}
