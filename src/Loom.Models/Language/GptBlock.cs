using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// One pre-norm decoder block: x + attn(ln1(x)), then x + fc2(gelu(fc(ln2(x)))). Attention projects q, k, v with one
/// Linear (qkv), is causal, and can append to a per-layer key/value cache for incremental decoding.
/// </summary>
/// <remarks>Shapes: x [B, T, C] → [B, T, C]; the cache holds k, v as [B, H, S, C/H].</remarks>
public sealed class GptBlock : Module<Tensor, Tensor>
{
    private readonly int _heads;

    public GptBlock(int dim, int heads, double dropout = 0)
    {
        _heads = heads;
        Ln1 = RegisterModule("ln1", new LayerNorm(dim));
        Qkv = RegisterModule("qkv", new Linear(dim, 3 * dim));
        Proj = RegisterModule("proj", new Linear(dim, dim));
        Ln2 = RegisterModule("ln2", new LayerNorm(dim));
        Fc = RegisterModule("fc", new Linear(dim, 4 * dim));
        Fc2 = RegisterModule("fc2", new Linear(4 * dim, dim));
        Drop = RegisterModule("drop", new Dropout(dropout));
    }

    public LayerNorm Ln1 { get; }
    public Linear Qkv { get; }
    public Linear Proj { get; }
    public LayerNorm Ln2 { get; }
    public Linear Fc { get; }
    public Linear Fc2 { get; }
    public Dropout Drop { get; }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, null);

    /// <summary>The block's output; with a cache, keys and values of earlier positions come from it and this step's are appended.</summary>
    public Tensor Forward(Tensor x, GptCache.Layer? cache)
    {
        x = x.Add(Drop.Forward(Attention(Ln1.Forward(x), cache)));
        return x.Add(Drop.Forward(Fc2.Forward(Fc.Forward(Ln2.Forward(x), Activation.Gelu))));
    }

    private Tensor Attention(Tensor x, GptCache.Layer? cache)
    {
        int b = x.Shape[0], t = x.Shape[1], c = x.Shape[2], hd = c / _heads;
        var qkv = Qkv.Forward(x).Split(c, axis: 2);
        Tensor Heads(Tensor z) => z.Reshape(b, t, _heads, hd).Transpose(1, 2); // [B, H, T, hd]
        Tensor q = Heads(qkv[0]), k = Heads(qkv[1]), v = Heads(qkv[2]);
        if (cache is not null) (k, v) = cache.Append(k, v);
        int s = k.Shape[2];
        var scores = q.Matmul(k.Transpose(-2, -1)).Mul(1 / Math.Sqrt(hd)); // [B, H, T, S]
        if (t > 1)
        {
            // Query i (at absolute position s − t + i) may see keys 0..s − t + i.
            var future = Tensor.Ones(new Shape(t, s), DType.Bool).Triu(s - t + 1);
            scores = scores.MaskedFill(future, double.NegativeInfinity);
        }
        var y = scores.Softmax(-1).Matmul(v).Transpose(1, 2).Reshape(b, t, c);
        return Proj.Forward(y);
    }
}
