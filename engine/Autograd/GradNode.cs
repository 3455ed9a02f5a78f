namespace ScratchDetect.Engine.Autograd;

/// <summary>
/// The record an op leaves on its output so that <see cref="Tensor.Backward"/> can run it in
/// reverse: which op, which inputs, the tensors its backward reads, and a closure that turns the
/// output's gradient into the inputs' gradients. As PyTorch's save_for_backward, only the saved
/// tensors are kept for backward: an input the closure does not read is an edge of the graph
/// (for traversal and gradient routing) and nothing more, so disposing it during the forward
/// pass gives its storage back to the pool at once.
/// </summary>
internal sealed class GradNode
{
    public GradNode(string op, Tensor[] inputs, Tensor[] saved, Func<Tensor, Tensor?[]> backward)
    {
        Op = op;
        Inputs = inputs;
        Backward = backward;
        this.saved = saved;
        savedVersions = saved.Select(t => t.Version).ToArray();
        foreach (var tensor in saved) tensor.HoldForGraph();
    }

    // The tensors whose storages the closure reads. While the node lives, disposing one of them
    // only marks it (see Tensor.Dispose); Release lets go of them.
    private Tensor[]? saved;
    private readonly int[] savedVersions;

    /// <summary>The op's name, for error messages ("conv2d", "mul", ...).</summary>
    public string Op { get; }

    /// <summary>
    /// The op's tensor inputs, in the order the closure returns their gradients. Their storages are
    /// not held; <see cref="Release"/> empties the list, so a released graph holds no tensor.
    /// </summary>
    public Tensor[] Inputs { get; private set; }

    /// <summary>Output gradient to input gradients (null where an input gets none); null once released.</summary>
    public Func<Tensor, Tensor?[]>? Backward { get; private set; }

    /// <summary>
    /// Throws if a saved tensor was modified in place after the op ran: the closure would read the
    /// new values and compute a wrong gradient. As in PyTorch, only saved tensors are checked; an
    /// input whose values backward never reads cannot make its gradient wrong.
    /// </summary>
    public void CheckSavedUnchanged()
    {
        var tensors = saved ?? [];
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i].Version == savedVersions[i]) continue;
            int input = Array.FindIndex(Inputs, t => ReferenceEquals(t, tensors[i]));
            string which = input >= 0 ? $"input {input}" : "a tensor it saved";
            throw new InvalidOperationException($"backward: {which} of '{Op}' ({Shapes.Format(tensors[i].Shape)}) was modified in place after the op used it; its gradient would be wrong");
        }
    }

    /// <summary>After its backward ran: drops the closure, the edges and the saved tensors (a saved tensor already disposed frees its storage now).</summary>
    public void Release()
    {
        Backward = null;
        Inputs = [];
        var tensors = Interlocked.Exchange(ref saved, null);
        if (tensors is not null)
            foreach (var tensor in tensors) tensor.ReleaseFromGraph();
    }
}
