using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine;

public sealed partial class Tensor
{
    /// <summary>
    /// Attaches the backward closure of op <paramref name="op"/> to its freshly computed
    /// <paramref name="output"/>, when gradients are being recorded and some input requires one.
    /// The closure receives the output's gradient and returns one gradient per input (null where
    /// an input needs none; closures check <c>input.RequiresGrad</c> to skip work). A returned
    /// gradient may have the output's broadcast shape: it is summed down to the input's shape
    /// here, the one place where broadcasting is undone.
    /// </summary>
    /// <remarks>
    /// <paramref name="saves"/> lists exactly the tensors whose values the closure reads, as
    /// PyTorch's save_for_backward: inputs, the output, or extras such as indices; a null entry
    /// is skipped, so a site can save a tensor only when the gradient that reads it will be
    /// computed (<c>b.requiresGrad ? a : null</c>). The node holds these until backward, so
    /// disposing them during the forward pass is safe. Every other input is only an edge: once
    /// disposed, its storage goes back to the pool at once, and a closure that read it anyway
    /// would fail with an <see cref="ObjectDisposedException"/>. Shapes, dtypes and
    /// <see cref="RequiresGrad"/> stay readable on disposed tensors.
    /// </remarks>
    internal static Tensor Record(string op, Tensor output, Tensor[] inputs, Tensor?[] saves, Func<Tensor, Tensor?[]> backward)
    {
        if (!GradMode.IsEnabled || !inputs.Any(t => t.requiresGrad)) return output;
        output.GradFn = new GradNode(op, inputs, saves.OfType<Tensor>().ToArray(), backward);
        output.requiresGrad = true;
        return output;
    }

    /// <summary>
    /// Computes the gradient of this tensor with respect to every leaf that requires one, adding it
    /// to the leaf's <see cref="Grad"/>. Without <paramref name="gradient"/> the tensor must hold a
    /// single element (a loss); otherwise <paramref name="gradient"/> is d(something)/d(this) and must
    /// have this tensor's shape. The graph's saved tensors are released afterwards unless
    /// <paramref name="retainGraph"/> is set.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!requiresGrad)
            throw new InvalidOperationException($"backward: this tensor {Shapes.Format(shape)} does not require grad: no input of the ops that made it requires grad");
        if (gradient is null)
        {
            if (Numel != 1)
                throw new InvalidOperationException($"backward: the output has shape {Shapes.Format(shape)}; an implicit gradient exists only for single-element outputs, so pass a gradient of that shape");
            gradient = OnesLike();
        }
        else if (!gradient.shape.SequenceEqual(shape) || gradient.DType != DType)
        {
            throw new ArgumentException($"backward: the gradient is {gradient.DType.Name()} {Shapes.Format(gradient.shape)} but the output is {DType.Name()} {Shapes.Format(shape)}");
        }

        var pending = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [this] = gradient };
        var leafGrads = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        using var noGrad = GradMode.NoGrad();
        var order = TopologicalOrder();
        for (int position = 0; position < order.Count; position++)
        {
            var tensor = order[position];
            // Each tensor comes after every op that read it, so once its own op has run nothing in
            // this pass refers to it: without this list's reference and (see GradNode.Release) its
            // op's edges, a tensor the forward pass did not dispose is the GC's as soon as the
            // caller drops it, as PyTorch frees it, instead of living until the pass ends.
            order[position] = null!;
            if (!pending.Remove(tensor, out var outputGrad)) continue;
            var node = tensor.GradFn!;
            var backward = node.Backward
                ?? throw new InvalidOperationException($"backward: trying to go through '{node.Op}' a second time, but its saved tensors were freed; pass retainGraph: true to the first Backward");
            node.CheckSavedUnchanged();

            var inputGrads = backward(outputGrad);
            var inputs = node.Inputs;
            if (!retainGraph) node.Release();
            var spent = new List<Tensor> { outputGrad };
            for (int i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                if (!input.requiresGrad || inputGrads[i] is not { } grad) continue;
                var reduced = SumToShape(grad, input.shape, node.Op);
                if (!ReferenceEquals(reduced, grad)) spent.Add(grad);
                if (input.IsLeaf)
                {
                    input.Grad = input.Grad is null ? reduced : input.Grad + reduced;
                    leafGrads.Add(input.Grad);
                }
                else if (pending.TryGetValue(input, out var sum))
                {
                    pending[input] = sum + reduced;
                    spent.Add(sum);
                    spent.Add(reduced);
                }
                else
                    pending[input] = reduced;
            }
            // Intermediate gradients go back to the pool as soon as nothing refers to them any more
            // (a backward closure may hand one gradient object to several inputs, or pass its own through).
            foreach (var done in spent)
                if (!ReferenceEquals(done, gradient) && !leafGrads.Contains(done) && !IsPending(done, pending))
                    done.Dispose();
        }
    }

    /// <summary>Whether a gradient object is still waiting to be propagated for some tensor.</summary>
    private static bool IsPending(Tensor grad, Dictionary<Tensor, Tensor> pending)
    {
        foreach (var value in pending.Values)
            if (ReferenceEquals(value, grad)) return true;
        return false;
    }

    /// <summary>Every non-leaf tensor reachable from this one, each before the inputs of its op (reverse post-order of a depth-first walk).</summary>
    private List<Tensor> TopologicalOrder()
    {
        var postOrder = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { this };
        var stack = new Stack<(Tensor Tensor, int NextInput)>();
        stack.Push((this, 0));
        while (stack.Count > 0)
        {
            var (tensor, next) = stack.Pop();
            var inputs = tensor.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((tensor, next + 1));
                var input = inputs[next];
                if (input.GradFn is not null && visited.Add(input)) stack.Push((input, 0));
            }
            else
            {
                postOrder.Add(tensor);
            }
        }
        postOrder.Reverse();
        return postOrder;
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="target"/>, the shape of the input it belongs to.</summary>
    private static Tensor SumToShape(Tensor grad, int[] target, string op)
    {
        if (grad.shape.SequenceEqual(target)) return grad;
        int extra = grad.Rank - target.Length;
        if (extra < 0)
            throw new InvalidOperationException($"backward of '{op}': gradient {Shapes.Format(grad.shape)} has fewer axes than its input {Shapes.Format(target)}");
        var axes = new List<int>();
        for (int d = 0; d < grad.Rank; d++)
        {
            if (d < extra) axes.Add(d);
            else if (target[d - extra] == 1 && grad.shape[d] != 1) axes.Add(d);
            else if (target[d - extra] != grad.shape[d])
                throw new InvalidOperationException($"backward of '{op}': gradient {Shapes.Format(grad.shape)} does not broadcast to its input {Shapes.Format(target)}");
        }
        return grad.Sum(axes.ToArray(), keepDim: true).Reshape(target);
    }
}
