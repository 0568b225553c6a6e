namespace Loom.Nn;

/// <summary>Returns its input: a placeholder where an architecture optionally has a layer.</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input;
}
