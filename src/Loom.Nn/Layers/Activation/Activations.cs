namespace Loom.Nn;

// Activations as modules, so they can sit in a Sequential and carry hooks. Each forwards to the tensor op.

/// <summary>max(0, x).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Relu();
}

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
public sealed class SiLU : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Silu();
}

public sealed class Tanh : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Tanh();
}

public sealed class Sigmoid : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Sigmoid();
}

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
