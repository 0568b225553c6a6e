namespace Loom.Autograd;

/// <summary>
/// Runs backward: sorts the graph reachable from the root topologically, seeds the root gradient, calls each node
/// in reverse order and accumulates (never assigns) gradients, so a tensor used twice receives the sum.
/// Saved tensors are released after each node unless the graph is retained.
/// </summary>
internal static class AutogradEngine
{
    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward(): the tensor (shape {root.Shape}) does not require grad and has no GradFn; set RequiresGrad on the leaves before computing it");
        if (gradient is null)
        {
            if (root.Numel != 1)
                throw new ArgumentException($"Backward(): a gradient can only be created implicitly for a scalar output, but the output has shape {root.Shape}; pass a gradient of that shape");
            gradient = Tensor.Ones(root.Shape, root.DType);
        }
        else if (gradient.Shape != root.Shape)
        {
            throw new ArgumentException($"Backward(): gradient of shape {gradient.Shape} does not match the output's shape {root.Shape}");
        }
        else if (gradient.DType != root.DType)
        {
            gradient = gradient.To(root.DType);
        }

        using var noGrad = new NoGrad();
        if (root.GradFn is null)
        {
            AccumulateLeaf(root, gradient);
            if (root.HasGradHooks) root.RunGradHooks();
            return;
        }

        // The sort's and the pass's collections are reused by the next Backward on this thread (a small graph's
        // backward otherwise allocates more in them than in its tensors); a nested Backward gets fresh ones.
        var workspace = _workspace ?? new Workspace();
        _workspace = null;
        try
        {
            Run(root.GradFn, gradient, retainGraph, workspace);
        }
        finally
        {
            workspace.Clear();
            _workspace = workspace;
        }
    }

    [ThreadStatic] private static Workspace? _workspace;

    private sealed class Workspace
    {
        public readonly List<BackwardNode> Order = [];
        public readonly HashSet<BackwardNode> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(BackwardNode Node, int Next)> Stack = new();
        public readonly Dictionary<BackwardNode, Tensor> Grads = new(ReferenceEqualityComparer.Instance);
        public readonly Dictionary<Tensor, int> PendingHookedLeaves = new(ReferenceEqualityComparer.Instance);

        public void Clear()
        {
            Order.Clear();
            Visited.Clear();
            Stack.Clear();
            Grads.Clear();
            PendingHookedLeaves.Clear();
        }
    }

    private static void Run(BackwardNode rootNode, Tensor gradient, bool retainGraph, Workspace workspace)
    {
        var order = TopologicalOrder(rootNode, workspace);
        var grads = workspace.Grads;
        grads[rootNode] = gradient;
        var pending = Tensor.AnyGradHooks ? CountHookedLeafEdges(order, workspace.PendingHookedLeaves) : null;
        for (int n = order.Count - 1; n >= 0; n--)
        {
            var node = order[n];
            if (!grads.Remove(node, out var g))
            {
                // A node no gradient reached still closes its edges: its leaves' gradients may be final now.
                if (pending is not null) ReleaseHookedLeafEdges(node, pending);
                continue;
            }
            if (node.Released)
                throw new InvalidOperationException($"{node.OpName}: trying to backward through the graph a second time (its saved tensors were freed after the first Backward()); pass retainGraph: true to the first Backward()");
            var profiler = OpProfiler.Active;
            profiler?.Mark("autograd engine");
            Tensor?[] inputGrads;
            node.BeginApply(grads);
            try
            {
                inputGrads = node.Apply(g);
            }
            finally
            {
                node.EndApply();
            }
            if (inputGrads.Length != node.Inputs.Length)
                throw new InvalidOperationException($"{node.OpName}: backward returned {inputGrads.Length} gradients for {node.Inputs.Length} inputs");
            for (int i = 0; i < inputGrads.Length; i++)
            {
                var input = node.Inputs[i];
                var ig = inputGrads[i];
                if (input is null || ig is null) continue;
                if (ig.Shape != input.Shape)
                    throw new InvalidOperationException($"{node.OpName}: backward produced a gradient of shape {ig.Shape} for input {i} of shape {input.Shape}");
                if (input.GradFn is { } next)
                    grads[next] = !node.Absorbed(i) && grads.TryGetValue(next, out var acc) ? Sum(acc, ig) : ig;
                else
                    AccumulateLeaf(input, ig);
            }
            if (!retainGraph) node.Release();
            profiler?.Mark(node.OpName + " backward");
            if (pending is not null) ReleaseHookedLeafEdges(node, pending);
        }
    }

    // Post-accumulate-grad hooks fire when the last edge into their leaf has run: count the edges from the nodes of
    // this graph into hooked leaves, then count them down as the nodes run (see Tensor.RegisterPostAccumulateGradHook).
    private static Dictionary<Tensor, int>? CountHookedLeafEdges(List<BackwardNode> order, Dictionary<Tensor, int> pending)
    {
        foreach (var node in order)
            foreach (var input in node.Inputs)
                if (input is { GradFn: null, HasGradHooks: true })
                    pending[input] = pending.GetValueOrDefault(input) + 1;
        return pending.Count == 0 ? null : pending;
    }

    private static void ReleaseHookedLeafEdges(BackwardNode node, Dictionary<Tensor, int> pending)
    {
        foreach (var input in node.Inputs)
        {
            if (input is null || !pending.TryGetValue(input, out int left)) continue;
            if (left > 1)
            {
                pending[input] = left - 1;
                continue;
            }
            pending.Remove(input);
            input.RunGradHooks();
        }
    }

    private static List<BackwardNode> TopologicalOrder(BackwardNode root, Workspace workspace)
    {
        // Iterative post-order DFS: a deep graph (an RNN over 1,000 steps) must not overflow the stack.
        var (order, visited, stack) = (workspace.Order, workspace.Visited, workspace.Stack);
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Length)
            {
                stack.Push((node, next + 1));
                if (node.Inputs[next]?.GradFn is { } child && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(node);
            }
        }
        return order; // children before parents; backward walks it from the end
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor grad)
    {
        if (!leaf.RequiresGrad) return;
        if (leaf.InPlaceGradTarget(grad.Shape, grad.DType, out bool assign) is { } target)
        {
            // The first contribution after a deferred ZeroGrad overwrites the array: no clearing pass, no add.
            if (assign) CopyInto(target, grad);
            else AddInto(target, grad);
            leaf.GradWritten();
            return;
        }
        if (leaf.Grad is null)
        {
            // Gradients outlive the step's MemoryScope: the optimiser reads them after the scope's temporaries are gone.
            using (Memory.MemoryScope.Persistent()) leaf.Grad = grad.Clone();
        }
        else
        {
            if (leaf.Grad.Shape != grad.Shape)
                throw new InvalidOperationException($"gradient of shape {grad.Shape} cannot accumulate into Grad of shape {leaf.Grad.Shape}");
            AddInto(leaf.Grad, grad);
        }
    }

    /// <summary>destination = source (same shape and dtype; destination contiguous).</summary>
    private static void CopyInto(Tensor destination, Tensor source)
    {
        var src = source.Contiguous();
        if (destination.DType == DType.Float32) src.Data<float>().CopyTo(destination.Data<float>());
        else src.Data<double>().CopyTo(destination.Data<double>());
    }

    /// <summary>a + b, the gradients of a tensor used twice (a residual stream feeds a norm and an add).</summary>
    private static Tensor Sum(Tensor a, Tensor b)
    {
        // The tensor op reads both and writes once, over the threads; a clone then an add made five passes on one.
        // (Grad mode is off here, so nothing is recorded.)
        if (a.DType == b.DType && a.Shape == b.Shape && a.DType.IsFloatingPoint()) return a.Add(b);
        var result = a.Clone();
        AddInto(result, b);
        return result;
    }

    /// <summary>destination += source (same shape; destination contiguous): the accumulation every gradient goes through.</summary>
    private static void AddInto(Tensor destination, Tensor source)
    {
        if (destination.Shape != source.Shape)
            throw new ArgumentException($"add_: shapes {destination.Shape} and {source.Shape} differ");
        if (!destination.IsContiguous) throw new InvalidOperationException("add_: destination must be contiguous");
        var src = source.DType == destination.DType ? source.Contiguous() : source.To(destination.DType).Contiguous();
        switch (destination.DType)
        {
            case DType.Float32:
                TensorPrimitives.Add(destination.Data<float>(), src.Data<float>(), destination.Data<float>());
                break;
            case DType.Float64:
                TensorPrimitives.Add(destination.Data<double>(), src.Data<double>(), destination.Data<double>());
                break;
            default:
                throw new NotSupportedException($"add_: dtype {destination.DType.Name()} is not supported here");
        }
        destination.Storage.BumpVersion();
    }
}
