namespace Loom.Nn;

/// <summary>The non-linearity of an Elman <see cref="RNN"/> (PyTorch's <c>nonlinearity</c> argument).</summary>
public enum RNNNonlinearity
{
    Tanh,
    Relu,
}
