namespace Loom.Nn;

// Activations as modules, so they can sit in a Sequential and carry hooks. Each forwards to the tensor op.

/// <summary>
/// Base of the activation modules without settings (ReLU, Tanh, SiLU …): the module applies the tensor op it is
/// built with, and holds nothing else, as PyTorch's modules of the same names. Not an extension point.
/// </summary>
public abstract class ElementwiseActivation : Module<Tensor, Tensor>
{
    private readonly Func<Tensor, Tensor> _op;

    private protected ElementwiseActivation(Func<Tensor, Tensor> op) => _op = op;

    protected sealed override Tensor ForwardCore(Tensor input) => _op(input);
}

/// <summary>max(0, x).</summary>
public sealed class ReLU() : ElementwiseActivation(static x => x.Relu());

/// <summary>x for x ≥ 0, slope·x otherwise.</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module<Tensor, Tensor>
{
    public double NegativeSlope => negativeSlope;

    protected override Tensor ForwardCore(Tensor input) => input.LeakyRelu(negativeSlope);

    protected override string ExtraRepr() => $"negative_slope={negativeSlope}";
}

/// <summary>x·Φ(x) (exact, with erf) or its tanh approximation.</summary>
public sealed class GELU(bool approximateTanh = false) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Gelu(approximateTanh);

    public bool ApproximateTanh => approximateTanh;

    protected override string ExtraRepr() => approximateTanh ? "approximate='tanh'" : "";
}

/// <summary>x·σ(x), also called swish.</summary>
public sealed class SiLU() : ElementwiseActivation(static x => x.Silu());

public sealed class Tanh() : ElementwiseActivation(static x => x.Tanh());

public sealed class Sigmoid() : ElementwiseActivation(static x => x.Sigmoid());

/// <summary>Softmax along <c>dim</c>.</summary>
public sealed class Softmax(int dim = -1) : Module<Tensor, Tensor>
{
    public int Dim => dim;

    protected override Tensor ForwardCore(Tensor input) => input.Softmax(dim);

    protected override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Log-softmax along <c>dim</c>.</summary>
public sealed class LogSoftmax(int dim = -1) : Module<Tensor, Tensor>
{
    public int Dim => dim;

    protected override Tensor ForwardCore(Tensor input) => input.LogSoftmax(dim);

    protected override string ExtraRepr() => $"dim={dim}";
}
