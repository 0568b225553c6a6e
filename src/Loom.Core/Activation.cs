namespace Loom;

/// <summary>
/// An activation that an op can apply to its own output while it is still in cache, as in
/// <c>Functional.Linear(x, w, b, Activation.Relu)</c>: the same values as the separate tensor op, without a second
/// pass over memory or a second tensor.
/// </summary>
public enum Activation
{
    /// <summary>No activation: the op's output as it is.</summary>
    None,

    /// <summary>max(x, 0), as <see cref="Tensor.Relu"/>.</summary>
    Relu,

    /// <summary>x·Φ(x) with the exact erf, as <see cref="Tensor.Gelu"/>.</summary>
    Gelu,

    /// <summary>The tanh approximation of GELU, as <c>Tensor.Gelu(approximate: true)</c>.</summary>
    GeluTanh,

    /// <summary>x·σ(x), as <see cref="Tensor.Silu"/>.</summary>
    Silu,

    /// <summary>1/(1 + e⁻ˣ), as <see cref="Tensor.Sigmoid"/>.</summary>
    Sigmoid,

    /// <summary>tanh x, as <see cref="Tensor.Tanh"/>.</summary>
    Tanh,
}
