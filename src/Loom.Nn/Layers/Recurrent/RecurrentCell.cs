namespace Loom.Nn;

/// <summary>The cell a recurrent layer runs at each step (PyTorch's RNNBase modes).</summary>
internal enum RecurrentCell
{
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
}

internal static class RecurrentCellExtensions
{
    /// <summary>Gates per hidden unit: the rows of W_ih and W_hh are this many blocks of H.</summary>
    public static int GateCount(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.Lstm => 4,
        RecurrentCell.Gru => 3,
        _ => 1,
    };

    /// <summary>The op name in autograd messages.</summary>
    public static string OpName(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.RnnTanh => "rnn_tanh",
        RecurrentCell.RnnRelu => "rnn_relu",
        RecurrentCell.Lstm => "lstm",
        _ => "gru",
    };
}
