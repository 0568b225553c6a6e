namespace Loom.Nn;

/// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (<c>torch.nn.ELU</c>).</summary>
public sealed class ELU(double alpha = 1.0) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Elu(alpha);

    protected override string ExtraRepr() => $"alpha={alpha}";
}

/// <summary>Scaled ELU with the self-normalising constants (<c>torch.nn.SELU</c>).</summary>
public sealed class SELU() : ElementwiseActivation(static x => x.Selu());

/// <summary>max(0, x) + min(0, α(e^(x/α) − 1)) (<c>torch.nn.CELU</c>).</summary>
public sealed class CELU(double alpha = 1.0) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Celu(alpha);

    protected override string ExtraRepr() => $"alpha={alpha}";
}
