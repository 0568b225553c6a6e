namespace Loom.Nn;

/// <summary>
/// The feed-forward activations a transformer layer accepts by name, as PyTorch's "relu" and "gelu"; the layer fuses
/// it into its first linear layer (<see cref="Linear.Forward(Tensor, Loom.Activation)"/>).
/// </summary>
internal static class FeedForwardActivation
{
    public static Loom.Activation Parse(string name, string layer) => name switch
    {
        "relu" => Loom.Activation.Relu,
        "gelu" => Loom.Activation.Gelu,
        _ => throw new ArgumentException($"{layer}: activation should be \"relu\" or \"gelu\", got \"{name}\""),
    };
}
