namespace ScratchDetect.Engine.NN;

/// <summary>
/// An indexable list of modules registered as children "0", "1", ..., as torch.nn.ModuleList: for
/// modules used one by one (per-level heads, blocks) rather than chained.
/// </summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> items = [];

    /// <summary>A list holding <paramref name="modules"/> in order.</summary>
    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var module in modules) Add(module);
    }

    /// <summary>An empty list.</summary>
    public ModuleList() { }

    /// <summary>Number of modules.</summary>
    public int Count => items.Count;

    /// <summary>The module at <paramref name="index"/>.</summary>
    public T this[int index] => items[index];

    /// <summary>Appends a module, named by its position.</summary>
    public void Add(T module) => items.Add(RegisterModule(items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module));

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
