namespace Loom;

/// <summary>
/// The cell a recurrent layer runs at each step (PyTorch's <c>RNNBase</c> modes), for
/// <see cref="Functional.RecurrentLayer(RecurrentCell, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/>. Gate blocks follow PyTorch's order: LSTM i, f, g, o; GRU r, z, n.
/// </summary>
public enum RecurrentCell
{
    /// <summary>Elman RNN, h = tanh(x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh).</summary>
    RnnTanh,

    /// <summary>Elman RNN with ReLU in place of tanh.</summary>
    RnnRelu,

    /// <summary>Long short-term memory: four gates and a cell state.</summary>
    Lstm,

    /// <summary>Gated recurrent unit: three gates, the reset gate applied to the hidden-side n projection.</summary>
    Gru,
}

public static class RecurrentCellExtensions
{
    /// <summary>Gates per hidden unit G: the rows of W_ih and W_hh are G blocks of H.</summary>
    public static int GateCount(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.Lstm => 4,
        RecurrentCell.Gru => 3,
        _ => 1,
    };

    /// <summary>The op name in autograd and error messages.</summary>
    internal static string OpName(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.RnnTanh => "rnn_tanh",
        RecurrentCell.RnnRelu => "rnn_relu",
        RecurrentCell.Lstm => "lstm",
        _ => "gru",
    };
}
