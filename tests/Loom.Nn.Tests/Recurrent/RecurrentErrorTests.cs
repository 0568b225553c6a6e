namespace Loom.Nn.Tests.Recurrent;

/// <summary>Bad arguments fail with messages that name the layer and the shapes involved.</summary>
public class RecurrentErrorTests
{
    private static Tensor X(params int[] shape) => Tensor.Zeros(new Shape(shape));

    [Fact]
    public void Wrong_input_size_names_the_input_shape_and_input_size()
    {
        TensorAssert.Throws<ArgumentException>(() => new LSTM(3, 5).Forward(X(2, 4, 7)), "LSTM", "[2, 4, 7]", "input_size = 3");
        TensorAssert.Throws<ArgumentException>(() => new GRU(3, 5).Forward(X(4, 2)), "GRU", "[4, 2]", "input_size = 3");
    }

    [Fact]
    public void Input_of_the_wrong_rank_or_without_steps_is_rejected()
    {
        TensorAssert.Throws<ArgumentException>(() => new RNN(3, 5, batchFirst: true).Forward(X(1, 2, 4, 3)), "RNN", "[B, T, input_size]", "[1, 2, 4, 3]");
        TensorAssert.Throws<ArgumentException>(() => new RNN(3, 5).Forward(X(0, 2, 3)), "RNN", "sequence length", "[0, 2, 3]");
    }

    [Fact]
    public void Initial_state_of_the_wrong_shape_names_both_shapes()
    {
        var lstm = new LSTM(3, 5, numLayers: 2);
        TensorAssert.Throws<ArgumentException>(() => lstm.Forward(X(4, 2, 3), (X(1, 2, 5), X(2, 2, 5))), "LSTM", "expected h0 of shape [2, 2, 5]", "got [1, 2, 5]");
        TensorAssert.Throws<ArgumentException>(() => lstm.Forward(X(4, 2, 3), (X(2, 2, 5), X(2, 5))), "expected c0 of shape [2, 2, 5]", "got [2, 5]");
        var gru = new GRU(3, 4, bidirectional: true);
        TensorAssert.Throws<ArgumentException>(() => gru.Forward(X(4, 2, 3), X(1, 2, 4)), "GRU", "expected h0 of shape [2, 2, 4]", "[4, 2, 3]");
        TensorAssert.Throws<ArgumentException>(() => gru.Forward(X(4, 3), X(2, 1, 4)), "expected h0 of shape [2, 4]", "got [2, 1, 4]");
    }

    [Fact]
    public void Lengths_must_match_the_batch_and_fit_the_sequence()
    {
        var gru = new GRU(3, 4, batchFirst: true);
        TensorAssert.Throws<ArgumentException>(() => gru.Forward(X(2, 5, 3), null, [5]), "GRU", "lengths has 1 entries", "[2, 5, 3]", "2 sequence");
        TensorAssert.Throws<ArgumentException>(() => gru.Forward(X(2, 5, 3), null, [5, 6]), "lengths[1] = 6", "[0, 5]");
        TensorAssert.Throws<ArgumentException>(() => gru.Forward(X(2, 5, 3), null, [-1, 2]), "lengths[0] = -1");
    }

    [Fact]
    public void Dtypes_must_match_the_parameters()
    {
        var rnn = new RNN(3, 4);
        TensorAssert.Throws<ArgumentException>(() => rnn.Forward(Tensor.Zeros(new Shape(2, 1, 3), DType.Float64)), "RNN", "float64", "float32");
        TensorAssert.Throws<ArgumentException>(() => rnn.Forward(X(2, 1, 3), Tensor.Zeros(new Shape(1, 1, 4), DType.Float64)), "h0 dtype float64");
    }

    [Fact]
    public void Constructor_rejects_bad_sizes_and_probabilities()
    {
        TensorAssert.Throws<ArgumentException>(() => new LSTM(0, 5), "LSTM", "input_size and hidden_size must be positive");
        TensorAssert.Throws<ArgumentException>(() => new GRU(3, 5, numLayers: 0), "GRU", "num_layers");
        TensorAssert.Throws<ArgumentException>(() => new RNN(3, 5, dropout: 1.5), "RNN", "dropout", "1.5");
        TensorAssert.Throws<ArgumentException>(() => new LSTM(3, 5, dtype: DType.Int32), "LSTM", "int32");
    }
}
