namespace Loom.Nn;

/// <summary>The feed-forward activations a transformer layer accepts by name, as PyTorch's "relu" and "gelu".</summary>
internal static class FeedForwardActivation
{
    public static Func<Tensor, Tensor> Parse(string name, string layer) => name switch
    {
        "relu" => x => x.Relu(),
        "gelu" => x => x.Gelu(),
        _ => throw new ArgumentException($"{layer}: activation should be \"relu\" or \"gelu\", got \"{name}\""),
    };
}
