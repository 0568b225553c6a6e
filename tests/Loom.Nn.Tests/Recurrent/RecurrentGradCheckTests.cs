namespace Loom.Nn.Tests.Recurrent;

/// <summary>
/// Gradients of the recurrent layers by central differences in float64 (GradCheck), over a few steps: with respect to
/// every parameter, the input and the initial states, through output, final h and (LSTM) final c together.
/// </summary>
public class RecurrentGradCheckTests
{
    private static void Check(RNNBase m, Tensor x, Tensor? h0, Tensor? c0, int[]? lengths)
    {
        var inputs = new List<Tensor>(m.Parameters()) { x };
        if (h0 is not null) inputs.Add(h0);
        if (c0 is not null) inputs.Add(c0);
        TensorAssert.GradientsMatch(_ => Recurrent.Flat(Recurrent.Run(m, x, h0, c0, lengths)), [.. inputs]);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn_tanh")]
    [InlineData("rnn_relu")]
    public void Single_layer_gradients_match_finite_differences(string kind)
    {
        var m = Recurrent.Make(kind, 2, 3);
        var h0 = TestTensors.Param(2, 1, 2, 3);
        Check(m, TestTensors.Param(1, 4, 2, 2), h0, kind == "lstm" ? TestTensors.Param(3, 1, 2, 3) : null, null);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn_tanh")]
    public void Two_layer_bidirectional_gradients_with_lengths_match_finite_differences(string kind)
    {
        var m = Recurrent.Make(kind, 2, 2, layers: 2, bidirectional: true, batchFirst: true);
        var h0 = TestTensors.Param(2, 4, 3, 2);
        var c0 = kind == "lstm" ? TestTensors.Param(3, 4, 3, 2) : null;
        Check(m, TestTensors.Param(1, 3, 3, 2), h0, c0, [3, 1, 2]);
    }

    [Fact]
    public void Gradients_without_biases_or_initial_state_match_finite_differences()
    {
        var m = Recurrent.Make("gru", 3, 2, bidirectional: true, bias: false);
        Check(m, TestTensors.Param(1, 3, 2, 3), null, null, [2, 3]);
    }

    [Fact]
    public void Unbatched_gradients_match_finite_differences()
    {
        var m = Recurrent.Make("lstm", 2, 3);
        Check(m, TestTensors.Param(1, 4, 2), TestTensors.Param(2, 1, 3), TestTensors.Param(3, 1, 3), null);
    }
}
