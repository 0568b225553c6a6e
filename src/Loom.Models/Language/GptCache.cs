namespace Loom.Models;

/// <summary>Keys and values of the positions decoded so far, one entry per layer, so each new token costs O(context) instead of recomputing the prefix.</summary>
public sealed class GptCache
{
    public GptCache(int layers) => Layers = Enumerable.Range(0, layers).Select(_ => new Layer()).ToArray();

    public Layer[] Layers { get; }

    /// <summary>Positions held (the next token's position).</summary>
    public int Length => Layers[0].Keys?.Shape[2] ?? 0;

    /// <summary>One layer's cache: k and v as [B, H, S, head dim].</summary>
    public sealed class Layer
    {
        public Tensor? Keys { get; private set; }
        public Tensor? Values { get; private set; }

        /// <summary>Appends this step's keys and values along the sequence axis and returns the full ones.</summary>
        public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
        {
            Keys = Keys is null ? k.Contiguous() : Tensor.Cat([Keys, k], 2);
            Values = Values is null ? v.Contiguous() : Tensor.Cat([Values, v], 2);
            return (Keys, Values);
        }
    }
}
