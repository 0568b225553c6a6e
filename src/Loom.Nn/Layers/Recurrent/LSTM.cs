namespace Loom.Nn;

/// <summary>
/// Long short-term memory network, as <c>torch.nn.LSTM</c>. Gates in PyTorch's order i, f, g, o:
/// i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·), g = tanh(W_ig x + b_ig + W_hg h + b_hg),
/// c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). Layers, shapes and lengths are described on <see cref="RNNBase"/>.
/// </summary>
public sealed class LSTM : RNNBase
{
    public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null)
        : base(RecurrentCell.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator) { }

    /// <summary>Runs the network from <paramref name="state"/> (h0, c0; zeros when null).</summary>
    /// <remarks>
    /// Shapes: input [T, B, in] ([B, T, in] with batchFirst; [T, in] unbatched), h0 and c0 [L·D, B, H] ([L·D, H]) →
    /// output [T, B, D·H] in the input's layout, final H and C [L·D, B, H]. <paramref name="lengths"/>: see <see cref="RNNBase"/>.
    /// </remarks>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state, int[]? lengths = null)
    {
        var (output, h, c) = ForwardWithState(input, state?.H, state?.C, lengths);
        return (output, (h, c!));
    }
}
