namespace Loom.Nn.Tests.Recurrent;

/// <summary>RNN, LSTM and GRU against PyTorch (tests/golden/make_golden.py): outputs, final states and every gradient.</summary>
public class RecurrentGoldenTests
{
    [Fact]
    public void Two_layer_batch_first_LSTM_matches_pytorch()
    {
        var m = new LSTM(3, 5, numLayers: 2, batchFirst: true);
        new LayerGolden("lstm").Check(m, x =>
        {
            var (y, (h, c)) = m.Forward(x[0], null);
            return [y, h, c];
        });
    }

    [Fact]
    public void Bidirectional_LSTM_matches_pytorch()
    {
        var m = new LSTM(3, 4, bidirectional: true);
        new LayerGolden("lstm_bidirectional").Check(m, x =>
        {
            var (y, (h, c)) = m.Forward(x[0], null);
            return [y, h, c];
        });
    }

    [Fact]
    public void Two_layer_batch_first_GRU_matches_pytorch()
    {
        var m = new GRU(3, 5, numLayers: 2, batchFirst: true);
        new LayerGolden("gru").Check(m, x =>
        {
            var (y, h) = m.Forward(x[0], null);
            return [y, h];
        });
    }

    [Fact]
    public void Tanh_RNN_matches_pytorch()
    {
        var m = new RNN(3, 4, batchFirst: true);
        new LayerGolden("rnn_tanh").Check(m, x =>
        {
            var (y, h) = m.Forward(x[0], null);
            return [y, h];
        });
    }

    [Fact]
    public void Lengths_match_pytorch_packed_sequences_with_initial_states()
    {
        // PyTorch: pack_padded_sequence → LSTM(h0, c0) → pad_packed_sequence, so padded outputs are zero.
        var m = new LSTM(3, 4, numLayers: 2, batchFirst: true, bidirectional: true);
        new LayerGolden("lstm_packed_state").Check(m, x =>
        {
            var (y, (h, c)) = m.Forward(x[0], (x[1], x[2]), [5, 2, 4]);
            return [y, h, c];
        });
    }

    [Fact]
    public void Bidirectional_GRU_without_biases_matches_pytorch_packed_sequences()
    {
        var m = new GRU(3, 4, bias: false, bidirectional: true);
        new LayerGolden("gru_packed_bidirectional_nobias").Check(m, x =>
        {
            var (y, h) = m.Forward(x[0], x[1], [3, 5, 1]);
            return [y, h];
        });
    }

    [Fact]
    public void Two_layer_bidirectional_relu_RNN_matches_pytorch()
    {
        var m = new RNN(3, 4, numLayers: 2, nonlinearity: RNNNonlinearity.Relu, bidirectional: true);
        new LayerGolden("rnn_relu_bidirectional").Check(m, x =>
        {
            var (y, h) = m.Forward(x[0], x[1]);
            return [y, h];
        });
    }

    [Fact]
    public void State_dict_names_and_shapes_are_pytorchs()
    {
        var m = new LSTM(3, 4, numLayers: 2, bidirectional: true);
        var names = m.StateDict().Select(kv => $"{kv.Key} {kv.Value.Shape}").ToArray();
        Assert.Equal(
        [
            "weight_ih_l0 [16, 3]", "weight_hh_l0 [16, 4]", "bias_ih_l0 [16]", "bias_hh_l0 [16]",
            "weight_ih_l0_reverse [16, 3]", "weight_hh_l0_reverse [16, 4]", "bias_ih_l0_reverse [16]", "bias_hh_l0_reverse [16]",
            "weight_ih_l1 [16, 8]", "weight_hh_l1 [16, 4]", "bias_ih_l1 [16]", "bias_hh_l1 [16]",
            "weight_ih_l1_reverse [16, 8]", "weight_hh_l1_reverse [16, 4]", "bias_ih_l1_reverse [16]", "bias_hh_l1_reverse [16]",
        ], names);
        Assert.Equal(["weight_ih_l0 [9, 2]", "weight_hh_l0 [9, 3]"], new GRU(2, 3, bias: false).StateDict().Select(kv => $"{kv.Key} {kv.Value.Shape}"));
    }
}
