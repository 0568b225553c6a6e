namespace Loom.Nn;

/// <summary>
/// Elman recurrent network, as <c>torch.nn.RNN</c>: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) with act tanh
/// or relu, stacked over <c>numLayers</c> and optionally bidirectional. Layers, shapes and lengths are described on
/// <see cref="RNNBase"/>.
/// </summary>
public sealed class RNN : RNNBase
{
    public RNN(int inputSize, int hiddenSize, int numLayers = 1, RNNNonlinearity nonlinearity = RNNNonlinearity.Tanh, bool bias = true,
        bool batchFirst = false, double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null)
        : base(nonlinearity == RNNNonlinearity.Relu ? RecurrentCell.RnnRelu : RecurrentCell.RnnTanh, inputSize, hiddenSize, numLayers, bias,
            batchFirst, dropout, bidirectional, dtype, generator)
    {
        Nonlinearity = nonlinearity;
    }

    public RNNNonlinearity Nonlinearity { get; }

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

    protected override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity == RNNNonlinearity.Relu ? ", nonlinearity='relu'" : "");
}
