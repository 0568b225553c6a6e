namespace Loom.Models;

/// <summary>
/// Keys and values of the positions decoded so far, one entry per layer, so each new token costs one position's work
/// instead of recomputing the prefix. Without autograd the entries are persistent buffers of the model's full context
/// (the step's keys are copied in; attention reads a view of the filled part). With autograd each step concatenates,
/// so nothing saved for backward is overwritten.
/// </summary>
/// <remarks>
/// A batch of prompts of different lengths is left-padded (<see cref="Gpt.Generate(IReadOnlyList{int[]}, GenerationOptions, Action{int, int[]}?)"/>):
/// the cache then remembers each row's padding, which no query attends to and which position numbers skip.
/// </remarks>
public sealed class GptCache
{
    public GptCache(int layers, int[]? padding = null)
    {
        Layers = Enumerable.Range(0, layers).Select(_ => new KeyValueCache.Entry()).ToArray();
        Padding = padding;
    }

    /// <summary>Each block's keys and values [B, H, S, head dim], in the buffers every Loom decoder caches with.</summary>
    public KeyValueCache.Entry[] Layers { get; }

    /// <summary>Per row, the number of pad positions at the start of the sequence (null: none).</summary>
    public int[]? Padding { get; }

    /// <summary>Positions held (the next token's position, counting padding).</summary>
    public int Length => Layers[0].Length;
}

/// <summary>
/// What every block of one forward call shares: the rotary angles of this call's positions (rotary models) and the
/// additive key mask that hides left padding (batched prompts of different lengths).
/// </summary>
public sealed class GptContext
{
    private readonly Tensor? _keyPadding;

    internal GptContext(RotaryAngles? rotary, Tensor? keyPadding) => (Rotary, _keyPadding) = (rotary, keyPadding);

    /// <summary>A whole sequence from position 0, without padding, in a model with learned positions.</summary>
    public static GptContext Whole { get; } = new(null, null);

    public RotaryAngles? Rotary { get; }

    /// <summary>[B, 1, 1, S]: 0 for real keys, a large negative number for padding; null without padding.</summary>
    public Tensor? KeyMask(int keys) => _keyPadding?.Narrow(3, 0, keys);
}

/// <summary>
/// cos and sin of position·θ_i for this call's positions, θ_i = 10000^(−2i/d), and their application to queries and
/// keys [B, H, T, d]: the first and second halves of each head are rotated as pairs (x₁, x₂) → (x₁cos − x₂sin,
/// x₂cos + x₁sin), so q·k depends only on the distance between positions.
/// </summary>
public sealed class RotaryAngles(Tensor cos, Tensor sin)
{
    /// <summary>[T, d/2] or [B, 1, T, d/2].</summary>
    public Tensor Cos { get; } = cos;

    public Tensor Sin { get; } = sin;

    public Tensor Apply(Tensor x)
    {
        int half = x.Shape[3] / 2;
        Tensor x1 = x.Narrow(3, 0, half), x2 = x.Narrow(3, half, half);
        return Tensor.Cat([x1.Mul(Cos).Sub(x2.Mul(Sin)), x2.Mul(Cos).Add(x1.Mul(Sin))], 3);
    }

    /// <summary>The tables [context, d/2] for every position.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(int context, int headDim, DType dtype)
    {
        int half = headDim / 2;
        var cos = new double[context * half];
        var sin = new double[context * half];
        for (int p = 0; p < context; p++)
            for (int i = 0; i < half; i++)
            {
                double angle = p * Math.Pow(10000, -2.0 * i / headDim);
                (cos[p * half + i], sin[p * half + i]) = (Math.Cos(angle), Math.Sin(angle));
            }
        return (Tensor.FromArray(cos, context, half).To(dtype), Tensor.FromArray(sin, context, half).To(dtype));
    }
}
