namespace Loom.Autograd;

/// <summary>
/// The backward rule of one recorded op. Each op file declares a sealed subclass next to its forward, holding exactly
/// the tensors its backward reads (as <see cref="SavedTensor"/>s), and computes one gradient per input.
/// </summary>
/// <remarks>
/// <para>Inputs that do not require grad are stored as null; their gradients are never computed (ops may check
/// <see cref="NeedsGrad"/> to skip work). The backward runs with grad mode off.</para>
/// <para>This is also how code outside Loom.Core defines a differentiable op (PyTorch's
/// <c>torch.autograd.Function</c>): compute the output without autograd, and when
/// <see cref="GradMode.ShouldRecord(Tensor)"/> holds for the inputs, create the node (passing the inputs to the base
/// constructor and <see cref="Save"/>-ing what backward reads) and <see cref="Attach"/> it to the output. Override
/// <see cref="Apply"/> as <c>protected override</c>; it returns one gradient per input, of that input's shape.</para>
/// </remarks>
public abstract class BackwardNode
{
    private List<SavedTensor>? _saved;

    // A span, not an array: a derived node's base("op", a, b) then builds its arguments on the stack, and the one
    // allocation is Inputs itself.
    protected BackwardNode(string opName, params ReadOnlySpan<Tensor?> inputs)
    {
        OpName = opName;
        Inputs = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            Inputs[i] = inputs[i] is { RequiresGrad: true } t ? t : null;
    }

    /// <summary>The op's name, as used in error messages ("matmul", "conv2d"…).</summary>
    public string OpName { get; }

    /// <summary>The op's inputs, null where an input needs no gradient.</summary>
    internal Tensor?[] Inputs { get; }

    /// <summary>
    /// The op's inputs in argument order, null where an input needs no gradient: the edges of the recorded graph
    /// (PyTorch's <c>next_functions</c>), which ONNX export walks from an output back to the inputs.
    /// </summary>
    public IReadOnlyList<Tensor?> InputTensors => Inputs;

    internal bool Released { get; private set; }

    /// <summary>Whether input <paramref name="index"/> needs a gradient.</summary>
    protected bool NeedsGrad(int index) => Inputs[index] is not null;

    /// <summary>Shape of input <paramref name="index"/> (valid only where <see cref="NeedsGrad"/>).</summary>
    protected Shape InputShape(int index) => Inputs[index]!.Shape;

    /// <summary>Keeps <paramref name="tensor"/> for backward, remembering its version.</summary>
    protected SavedTensor Save(Tensor tensor)
    {
        var saved = new SavedTensor(tensor, this);
        (_saved ??= []).Add(saved);
        return saved;
    }

    /// <summary>Gradients with respect to each input (null for inputs that need none), given the output's gradient.</summary>
    protected internal abstract Tensor?[] Apply(Tensor gradOutput);

    // Set by the engine around Apply: the gradients summed so far for the nodes not run yet, and which inputs' returned
    // gradients already include theirs (a bit per input).
    private Dictionary<BackwardNode, Tensor>? _pending;
    private uint _absorbed;

    internal void BeginApply(Dictionary<BackwardNode, Tensor>? pending) => (_pending, _absorbed) = (pending, 0u);

    internal void EndApply() => _pending = null;

    /// <summary>Whether the gradient Apply returned for input <paramref name="index"/> includes what was pending for it.</summary>
    internal bool Absorbed(int index) => index < 32 && (_absorbed >> index & 1) != 0;

    /// <summary>
    /// The gradient other consumers have already sent to input <paramref name="index"/> (a residual stream feeding a
    /// norm and an add), or null. A node that calls this must return, for that input, a fresh tensor holding its own
    /// gradient plus this one, added in the order pending + own (the engine's sum); it may only read the pending one.
    /// Saves the engine a pass over both, when the node's kernel can add it while it writes.
    /// </summary>
    private protected Tensor? TakePendingGradient(int index)
    {
        if (_pending is null || index >= 32 || Inputs[index]?.GradFn is not { } producer) return null;
        for (int j = 0; j < Inputs.Length; j++)
            if (j != index && Inputs[j]?.GradFn == producer) return null; // the engine sums what two inputs send to one node
        if (!_pending.TryGetValue(producer, out var pending)) return null;
        _absorbed |= 1u << index;
        return pending;
    }

    internal void Release()
    {
        Released = true;
        if (_saved is null) return;
        foreach (var s in _saved) s.Release();
    }

    /// <summary>
    /// Records this node as the op that produced <paramref name="output"/>, making it a non-leaf that requires grad;
    /// returns <paramref name="output"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="output"/> already requires grad (it has a history,
    /// or is a leaf such as a parameter): a node attaches only to the fresh result of its own forward.</exception>
    public Tensor Attach(Tensor output)
    {
        if (output.RequiresGrad)
            throw new InvalidOperationException(
                $"{OpName}: a backward node attaches only to its op's fresh output, but this tensor (shape {output.Shape}) already requires grad" +
                (output.GradFn is { } fn ? $" (it was produced by {fn.OpName})" : " (it is a leaf)"));
        output.GradFn = this;
        OpProfiler.Active?.Mark(OpName);
        return output;
    }

    public override string ToString() => $"{OpName}Backward";
}
