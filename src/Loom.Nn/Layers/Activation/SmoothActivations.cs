namespace Loom.Nn;

/// <summary>x·tanh(softplus(x)) (<c>torch.nn.Mish</c>).</summary>
public sealed class Mish : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Mish();
}

/// <summary>log σ(x) (<c>torch.nn.LogSigmoid</c>).</summary>
public sealed class LogSigmoid : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.LogSigmoid();
}
