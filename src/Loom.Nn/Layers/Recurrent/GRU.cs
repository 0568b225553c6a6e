namespace Loom.Nn;

/// <summary>
/// Gated recurrent unit network, as <c>torch.nn.GRU</c>. Gates in PyTorch's order r, z, n:
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
/// Layers, shapes and lengths are described on <see cref="RNNBase"/>.
/// </summary>
public sealed class GRU : RNNBase
{
    public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null)
        : base(RecurrentCell.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator) { }

    /// <summary>Runs the network from <paramref name="h0"/> (zeros when null).</summary>
    /// <remarks>
    /// Shapes: input [T, B, in] ([B, T, in] with batchFirst; [T, in] unbatched), h0 [L·D, B, H] ([L·D, H]) →
    /// output [T, B, D·H] in the input's layout, HN [L·D, B, H]. <paramref name="lengths"/>: see <see cref="RNNBase"/>.
    /// </remarks>
    public (Tensor Output, Tensor HN) Forward(Tensor input, Tensor? h0, int[]? lengths = null)
    {
        var (output, h, _) = ForwardWithState(input, h0, null, lengths);
        return (output, h);
    }
}
