namespace Loom.Nn;

/// <summary>Nonlinearities for <see cref="Init.CalculateGain"/>, named as in PyTorch.</summary>
public enum Nonlinearity
{
    Linear,
    Conv,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Selu,
}
