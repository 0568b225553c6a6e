namespace Loom.Nn.Tests.Recurrent;

/// <summary>Lengths, layouts, unbatched input, dropout, initialisation and training of the recurrent layers.</summary>
public class RecurrentBehaviourTests
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn_tanh")]
    public void Lengths_give_each_sequence_the_result_of_running_it_alone(string kind)
    {
        const int steps = 6, batch = 3, inputSize = 3, hidden = 4;
        int[] lengths = [4, 6, 1];
        var m = Recurrent.Make(kind, inputSize, hidden, layers: 2, bidirectional: true);
        int states = m.NumLayers * m.NumDirections;
        var x = TestTensors.Randn(1, DType.Float64, steps, batch, inputSize);
        // Garbage in the padding must not matter.
        using (new NoGrad()) x.Narrow(0, 4, 2).Select(1, 0).FillInPlace(1e3);
        var h0 = TestTensors.Randn(2, DType.Float64, states, batch, hidden);
        var c0 = kind == "lstm" ? TestTensors.Randn(3, DType.Float64, states, batch, hidden) : null;
        var outputProbe = TestTensors.Randn(4, DType.Float64, steps, batch, 2 * hidden);
        var stateProbe = TestTensors.Randn(5, DType.Float64, states, batch, hidden);

        m.ZeroGrad();
        var padded = Recurrent.Run(m, x, h0, c0, lengths);
        ((padded.Output * outputProbe).Sum() + (padded.H * stateProbe).Sum() + (padded.C is null ? Tensor.Scalar(0, DType.Float64) : (padded.C * stateProbe).Sum())).Backward();
        var paddedGrads = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.Clone());

        m.ZeroGrad();
        for (int b = 0; b < batch; b++)
        {
            int len = lengths[b];
            var alone = Recurrent.Run(m, x.Narrow(1, b, 1).Narrow(0, 0, len), h0.Narrow(1, b, 1), c0?.Narrow(1, b, 1));
            TensorAssert.Close(alone.Output, padded.Output.Narrow(1, b, 1).Narrow(0, 0, len), 1e-12, 1e-10);
            Assert.All(padded.Output.Narrow(1, b, 1).Narrow(0, len, steps - len).ToArray<double>(), v => Assert.Equal(0.0, v));
            TensorAssert.Close(alone.H, padded.H.Narrow(1, b, 1), 1e-12, 1e-10);
            if (c0 is not null) TensorAssert.Close(alone.C!, padded.C!.Narrow(1, b, 1), 1e-12, 1e-10);
            var probe = stateProbe.Narrow(1, b, 1);
            ((alone.Output * outputProbe.Narrow(1, b, 1).Narrow(0, 0, len)).Sum() + (alone.H * probe).Sum()
                + (alone.C is null ? Tensor.Scalar(0, DType.Float64) : (alone.C * probe).Sum())).Backward();
        }
        foreach (var (name, p) in m.NamedParameters())
            TensorAssert.Close(p.Grad!, paddedGrads[name], 1e-11, 1e-9);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn_relu")]
    public void Batch_first_layout_gives_the_transposed_results_and_the_same_gradients(string kind)
    {
        var timeMajor = Recurrent.Make(kind, 3, 5, layers: 2, bidirectional: true);
        var batchFirst = Recurrent.Make(kind, 3, 5, layers: 2, bidirectional: true, batchFirst: true, seed: 99);
        batchFirst.LoadStateDict(timeMajor.StateDict());
        var x = TestTensors.Randn(1, DType.Float64, 4, 2, 3);

        var a = Recurrent.Run(timeMajor, x, lengths: [4, 2]);
        var b = Recurrent.Run(batchFirst, x.Transpose(0, 1), lengths: [4, 2]);
        Assert.Equal(new Shape(2, 4, 10), b.Output.Shape);
        TensorAssert.Close(a.Output, b.Output.Transpose(0, 1), 0, 0);
        TensorAssert.Close(a.H, b.H, 0, 0); // states keep the batch in dimension 1 either way
        Recurrent.Loss(a).Backward();
        Recurrent.Loss((b.Output.Transpose(0, 1), b.H, b.C)).Backward();
        var expected = timeMajor.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!);
        foreach (var (name, p) in batchFirst.NamedParameters()) TensorAssert.Close(expected[name], p.Grad!, 1e-12, 1e-10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unbatched_input_equals_a_batch_of_one(bool batchFirst)
    {
        var m = Recurrent.Make("lstm", 3, 4, layers: 2, bidirectional: true, batchFirst: batchFirst);
        var x = TestTensors.Randn(1, DType.Float64, 5, 3);
        var h0 = TestTensors.Randn(2, DType.Float64, 4, 4);
        var c0 = TestTensors.Randn(3, DType.Float64, 4, 4);
        var single = Recurrent.Run(m, x, h0, c0, [3]);
        var batch = Recurrent.Run(m, x.Unsqueeze(batchFirst ? 0 : 1), h0.Unsqueeze(1), c0.Unsqueeze(1), [3]);
        Assert.Equal(new Shape(5, 8), single.Output.Shape);
        Assert.Equal(new Shape(4, 4), single.H.Shape);
        TensorAssert.Close(batch.Output.Squeeze(batchFirst ? 0 : 1), single.Output, 0, 0);
        TensorAssert.Close(batch.H.Squeeze(1), single.H, 0, 0);
        TensorAssert.Close(batch.C!.Squeeze(1), single.C!, 0, 0);
    }

    [Fact]
    public void Strided_input_and_initial_states_give_the_same_results_as_contiguous_ones()
    {
        var m = Recurrent.Make("lstm", 3, 4, layers: 2, bidirectional: true, dtype: DType.Float32);
        var x = TestTensors.Randn(1, DType.Float32, 5, 2, 3);
        var h0 = TestTensors.Randn(2, DType.Float32, 4, 2, 4);
        var c0 = TestTensors.Randn(3, DType.Float32, 4, 2, 4);
        var expected = Recurrent.Run(m, x, h0, c0, [5, 3]);
        var actual = Recurrent.Run(m, TestTensors.NonContiguous(x), TestTensors.NonContiguous(h0), TestTensors.NonContiguous(c0), [5, 3]);
        TensorAssert.Close(expected.Output, actual.Output, 0, 0);
        TensorAssert.Close(expected.H, actual.H, 0, 0);
        TensorAssert.Close(expected.C!, actual.C!, 0, 0);
        // A state broadcast over the batch (stride 0) is read like its copy.
        var shared = TestTensors.Randn(4, DType.Float32, 4, 1, 4);
        var broadcast = Recurrent.Run(m, x, shared.Expand(4, 2, 4), shared.Expand(4, 2, 4));
        var copied = Recurrent.Run(m, x, shared.Expand(4, 2, 4).Contiguous(), shared.Expand(4, 2, 4).Contiguous());
        TensorAssert.Close(copied.Output, broadcast.Output, 0, 0);
    }

    [Fact]
    public void Empty_batch_gives_empty_outputs_and_states()
    {
        // As PyTorch. (Backward through it is not checked: Core's Select/Stack backward fails on zero-size tensors.)
        var m = Recurrent.Make("lstm", 3, 4, layers: 2, bidirectional: true);
        var (y, h, c) = Recurrent.Run(m, TestTensors.Param(1, 5, 0, 3));
        Assert.Equal(new Shape(5, 0, 8), y.Shape);
        Assert.Equal(new Shape(4, 0, 4), h.Shape);
        Assert.Equal(new Shape(4, 0, 4), c!.Shape);
    }

    [Fact]
    public void Module_forward_returns_the_output_sequence_and_composes_in_sequential()
    {
        var gru = new GRU(3, 4, batchFirst: true, generator: new Generator(1));
        var head = new Linear(4, 2, generator: new Generator(2));
        var model = new Sequential(gru, head);
        var x = TestTensors.Randn(1, DType.Float32, 2, 5, 3);
        var (expected, _) = gru.Forward(x, null);
        TensorAssert.Close(expected, gru.Forward(x), 0, 0);
        TensorAssert.Close(head.Forward(expected), model.Forward(x), 0, 0);
    }

    [Fact]
    public void Forward_hooks_see_the_input_and_output_sequence_of_the_typed_forward()
    {
        var lstm = new LSTM(2, 3);
        Tensor? seen = null;
        lstm.RegisterForwardHook((Module _, Tensor input, Tensor output) => seen = output);
        var (y, _) = lstm.Forward(TestTensors.Randn(1, DType.Float32, 4, 1, 2), null);
        Assert.Same(y, seen);
    }

    [Fact]
    public void Dropout_between_layers_acts_in_training_only_and_never_after_the_last_layer()
    {
        var x = TestTensors.Randn(1, DType.Float64, 5, 2, 3);
        var other = TestTensors.Randn(2, DType.Float64, 5, 2, 3);
        var full = Recurrent.Make("gru", 3, 4, layers: 2, dropout: 1);
        // p = 1 zeroes layer 0's output, so in training the result cannot depend on the input.
        TensorAssert.Close(full.Forward(x), full.Forward(other), 0, 0);
        full.Eval();
        var plain = Recurrent.Make("gru", 3, 4, layers: 2);
        TensorAssert.Close(plain.Forward(x), full.Forward(x), 0, 0);

        var single = Recurrent.Make("lstm", 3, 4, dropout: 1); // one layer: nothing to drop
        var evalOutput = ((Module<Tensor, Tensor>)single.Eval()).Forward(x);
        single.Train();
        TensorAssert.Close(evalOutput, single.Forward(x), 0, 0);

        var half = Recurrent.Make("lstm", 3, 4, layers: 2, dropout: 0.5);
        Assert.False(half.Forward(x).AllClose(plain.Forward(x)));
    }

    [Fact]
    public void Parameters_start_uniform_within_one_over_root_hidden()
    {
        var m = new LSTM(10, 16, numLayers: 2, generator: new Generator(3));
        double bound = 1 / Math.Sqrt(16);
        var all = m.Parameters().SelectMany(p => p.ToArray<double>()).ToArray();
        Assert.All(all, v => Assert.InRange(v, -bound, bound));
        Assert.True(all.Max() > 0.95 * bound && all.Min() < -0.95 * bound, "values should fill the interval");
        Assert.InRange(all.Average(), -0.01, 0.01);
    }

    [Fact]
    public void ToString_shows_pytorch_style_arguments()
    {
        Assert.StartsWith("LSTM(3, 5, num_layers=2, batch_first=True; weight_ih_l0: [20, 3]", new LSTM(3, 5, 2, batchFirst: true).ToString());
        Assert.StartsWith("RNN(2, 3, bias=False, dropout=0.25, bidirectional=True, nonlinearity='relu'",
            new RNN(2, 3, 1, RNNNonlinearity.Relu, bias: false, dropout: 0.25, bidirectional: true).ToString());
    }

    [Fact]
    public void In_place_change_to_a_weight_before_backward_is_an_error()
    {
        var m = new GRU(2, 3);
        var (y, _) = m.Forward(TestTensors.Randn(1, DType.Float32, 4, 2, 2), null);
        using (new NoGrad()) m.StateDict()["weight_hh_l0"].MulInPlace(2);
        TensorAssert.Throws<InvalidOperationException>(() => y.Sum().Backward(), "gru", "modified by an in-place operation");
    }

    [Fact]
    public void LSTM_learns_to_remember_the_first_input()
    {
        // Class = sign of the first of 8 steps; the rest is noise. Needs memory across the sequence.
        var g = new Generator(5);
        var lstm = new LSTM(1, 8, batchFirst: true, generator: g);
        var head = new Linear(8, 2, generator: g);
        var opt = new Adam(lstm.Parameters().Concat(head.Parameters()), learningRate: 0.05);
        var x = Tensor.Randn(new Shape(32, 8, 1), g);
        var labels = new long[32];
        for (int b = 0; b < 32; b++) labels[b] = x.GetDouble(b, 0, 0) > 0 ? 1 : 0;
        var target = Tensor.FromArray(labels);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            opt.ZeroGrad();
            var (_, (h, _)) = lstm.Forward(x, null);
            var loss = Functional.CrossEntropy(head.Forward(h.Select(0, 0)), target);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < 0.25 * first, $"loss went from {first} to {last}");
    }
}
