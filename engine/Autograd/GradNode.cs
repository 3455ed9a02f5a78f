namespace ScratchDetect.Engine.Autograd;

/// <summary>
/// The record an op leaves on its output so that <see cref="Tensor.Backward"/> can run it in
/// reverse: which op, which inputs, and a closure that turns the output's gradient into the
/// inputs' gradients. The closure is what holds the saved tensors; it is dropped after the
/// backward pass so they can be freed.
/// </summary>
internal sealed class GradNode
{
    public GradNode(string op, Tensor[] inputs, Tensor[] held, Func<Tensor, Tensor?[]> backward)
    {
        Op = op;
        Inputs = inputs;
        InputVersions = inputs.Select(t => t.Version).ToArray();
        Backward = backward;
        this.held = held;
        foreach (var tensor in held) tensor.HoldForGraph();
    }

    // The tensors whose storages the closure may read: the inputs, the output and any saved index.
    // While the node lives, disposing one of them only marks it (see Tensor.Dispose).
    private Tensor[]? held;

    /// <summary>The op's name, for error messages ("conv2d", "mul", ...).</summary>
    public string Op { get; }

    /// <summary>The op's tensor inputs, in the order the closure returns their gradients.</summary>
    public Tensor[] Inputs { get; }

    /// <summary>Each input's version when the op ran: an in-place change after that invalidates saved values.</summary>
    public int[] InputVersions { get; }

    /// <summary>Output gradient to input gradients (null where an input gets none); null once released.</summary>
    public Func<Tensor, Tensor?[]>? Backward { get; private set; }

    public void Release()
    {
        Backward = null;
        var tensors = Interlocked.Exchange(ref held, null);
        if (tensors is not null)
            foreach (var tensor in tensors) tensor.ReleaseFromGraph();
    }
}
