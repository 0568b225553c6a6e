namespace Loom.Nn;

/// <summary>
/// Base of the loss modules (<c>torch.nn.modules.loss._Loss</c>). Most losses compare an input with a target,
/// <see cref="Forward(Tensor, Tensor)"/>; a few take three tensors, <see cref="Forward(Tensor, Tensor, Tensor)"/>
/// (<see cref="CosineEmbeddingLoss"/>, <see cref="MarginRankingLoss"/>, <see cref="TripletMarginLoss"/>). Each loss
/// overrides the <c>ForwardCore</c> of its arity; calling the other one throws.
/// </summary>
/// <remarks>
/// A loss is a module so that it can hold state that belongs in a checkpoint (class weights are buffers, under
/// PyTorch's names) and so that forward hooks see it; the hooks receive the inputs as a <c>Tensor[]</c>. The
/// functional forms are in <see cref="Functional"/> (<see cref="Functional.MseLoss"/>, <see cref="Functional.CrossEntropy"/>, …).
/// A two-tensor loss converts to a trainer's <c>Func&lt;Tensor, Tensor, Tensor&gt;</c> as <c>loss.Forward</c>.
/// </remarks>
public abstract class Loss : Module
{
    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public Tensor Forward(Tensor input, Tensor target)
    {
        var args = (Tensor[])RunPreHooks(new[] { input, target });
        var output = ForwardCore(args[0], args[1]);
        RunHooks(args, output);
        return output;
    }

    /// <summary>The loss of a three-tensor criterion, e.g. (anchor, positive, negative) or (input1, input2, target).</summary>
    public Tensor Forward(Tensor a, Tensor b, Tensor c)
    {
        var args = (Tensor[])RunPreHooks(new[] { a, b, c });
        var output = ForwardCore(args[0], args[1], args[2]);
        RunHooks(args, output);
        return output;
    }

    protected virtual Tensor ForwardCore(Tensor input, Tensor target) =>
        throw new InvalidOperationException($"{GetType().Name} takes three tensors; call Forward(a, b, c)");

    protected virtual Tensor ForwardCore(Tensor a, Tensor b, Tensor c) =>
        throw new InvalidOperationException($"{GetType().Name} takes two tensors; call Forward(input, target)");

    /// <summary>PyTorch's spelling of a reduction, for <see cref="Module.ToString"/>.</summary>
    private protected static string Repr(Reduction reduction) => reduction.ToString().ToLowerInvariant();
}
