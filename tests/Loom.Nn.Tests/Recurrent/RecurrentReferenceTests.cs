namespace Loom.Nn.Tests.Recurrent;

/// <summary>
/// The fused sequence op against <see cref="RecurrentReference"/> (the same networks composed from tensor ops, one
/// step and one sequence at a time): outputs, final states and the gradients of every parameter, input and state.
/// </summary>
public class RecurrentReferenceTests
{
    /// <summary>Runs forward and backward of Σ results·probe; returns the results and every gradient by name.</summary>
    private static ((Tensor Output, Tensor H, Tensor? C) Result, Dictionary<string, Tensor> Grads) ForwardBackward(
        RNNBase m, Func<(Tensor, Tensor, Tensor?)> run, params (string Name, Tensor Leaf)[] leaves)
    {
        m.ZeroGrad();
        foreach (var (_, leaf) in leaves) leaf.Grad = null;
        var result = run();
        Recurrent.Loss(result).Backward();
        var grads = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.Clone());
        foreach (var (name, leaf) in leaves) grads[name] = leaf.Grad!.Clone();
        return (result, grads);
    }

    private static void AssertSame(RNNBase m, Tensor x, Tensor? h0, Tensor? c0, int[]? lengths, double atol, double rtol)
    {
        var leaves = new List<(string, Tensor)> { ("input", x) };
        if (h0 is not null) leaves.Add(("h0", h0));
        if (c0 is not null) leaves.Add(("c0", c0));
        var (fused, fusedGrads) = ForwardBackward(m, () => Recurrent.Run(m, x, h0, c0, lengths), [.. leaves]);
        var (reference, referenceGrads) = ForwardBackward(m, () => RecurrentReference.Run(m, x, h0, c0, lengths), [.. leaves]);
        TensorAssert.Close(reference.Output, fused.Output, atol, rtol);
        TensorAssert.Close(reference.H, fused.H, atol, rtol);
        if (reference.C is not null) TensorAssert.Close(reference.C, fused.C!, atol, rtol);
        foreach (var (name, expected) in referenceGrads)
        {
            try
            {
                TensorAssert.Close(expected, fusedGrads[name], atol, rtol);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"gradient of {name}: {e.Message}");
            }
        }
    }

    [Theory]
    [InlineData("lstm", 1, false, false, true, false)]
    [InlineData("lstm", 2, true, true, true, true)]
    [InlineData("lstm", 2, false, false, false, true)]
    [InlineData("gru", 1, false, true, true, false)]
    [InlineData("gru", 2, true, false, true, true)]
    [InlineData("gru", 1, true, true, false, true)]
    [InlineData("rnn_tanh", 2, true, false, true, true)]
    [InlineData("rnn_tanh", 1, false, true, false, false)]
    [InlineData("rnn_relu", 2, true, true, true, true)]
    public void Fused_op_matches_composed_reference_in_float64(string kind, int layers, bool bidirectional, bool batchFirst, bool bias, bool withLengths)
    {
        const int steps = 5, batch = 3, inputSize = 4, hidden = 6;
        var m = Recurrent.Make(kind, inputSize, hidden, layers, bidirectional, batchFirst, bias);
        var x = TestTensors.Param(1, batchFirst ? [batch, steps, inputSize] : [steps, batch, inputSize]);
        var h0 = TestTensors.Param(2, layers * m.NumDirections, batch, hidden);
        var c0 = kind == "lstm" ? TestTensors.Param(3, layers * m.NumDirections, batch, hidden) : null;
        AssertSame(m, x, h0, c0, withLengths ? [5, 1, 3] : null, 1e-11, 1e-9);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn_tanh")]
    [InlineData("rnn_relu")]
    public void Fused_op_matches_composed_reference_in_float32_on_odd_hidden_sizes(string kind)
    {
        // Hidden sizes cover the Vector512, Vector256 and scalar parts of the gate kernels (25 = 16 + 8 + 1).
        foreach (int hidden in new[] { 1, 7, 25, 33 })
        {
            var m = Recurrent.Make(kind, 5, hidden, layers: 2, bidirectional: true, dtype: DType.Float32, seed: hidden);
            var x = TestTensors.Randn(hidden, DType.Float32, 6, 3, 5).RequiresGrad_();
            AssertSame(m, x, null, null, [6, 4, 2], 2e-5, 1e-4);
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Large_batches_whose_rows_are_split_across_threads_match_the_reference(string kind)
    {
        // 130 rows of 4·64 or 3·64 gates: more than twice the per-thread grain, so each step's cell math runs in parallel
        // (when Threads.Count > 1, as by default on a multi-core machine).
        const int batch = 130;
        var m = Recurrent.Make(kind, 2, 64, bidirectional: true);
        var x = TestTensors.Param(1, 3, batch, 2);
        var lengths = Enumerable.Range(0, batch).Select(b => 1 + b % 3).ToArray();
        AssertSame(m, x, null, null, lengths, 1e-11, 1e-9);
    }

    [Fact]
    public void Zero_length_sequence_keeps_its_initial_state_and_outputs_zeros()
    {
        var m = Recurrent.Make("lstm", 3, 4, layers: 2, bidirectional: true);
        var x = TestTensors.Param(4, 4, 2, 3);
        var h0 = TestTensors.Param(5, 4, 2, 4);
        var c0 = TestTensors.Param(6, 4, 2, 4);
        AssertSame(m, x, h0, c0, [0, 3], 1e-11, 1e-9);
        var (y, h, c) = Recurrent.Run(m, x, h0, c0, [0, 3]);
        Assert.All(y.Select(1, 0).ToArray<double>(), v => Assert.Equal(0.0, v));
        TensorAssert.Close(h0.Select(1, 0), h.Select(1, 0), 0, 0); // layer 1 starts from its own h0 too
        TensorAssert.Close(c0.Select(1, 0), c!.Select(1, 0), 0, 0);
    }

    [Fact]
    public void Inference_without_autograd_gives_the_same_results_as_a_recorded_forward()
    {
        // Without a graph the op keeps two state slots instead of T + 1: the values must not change.
        foreach (var kind in new[] { "lstm", "gru", "rnn_tanh" })
        {
            var m = Recurrent.Make(kind, 3, 8, layers: 2, bidirectional: true, dtype: DType.Float32);
            var x = TestTensors.Randn(3, DType.Float32, 7, 2, 3);
            var recorded = Recurrent.Run(m, x, lengths: [7, 4]);
            Assert.True(recorded.Output.RequiresGrad);
            (Tensor Output, Tensor H, Tensor? C) plain;
            using (new NoGrad()) plain = Recurrent.Run(m, x, lengths: [7, 4]);
            Assert.False(plain.Output.RequiresGrad);
            TensorAssert.Close(recorded.Output, plain.Output, 0, 0);
            TensorAssert.Close(recorded.H, plain.H, 0, 0);
            if (recorded.C is not null) TensorAssert.Close(recorded.C, plain.C!, 0, 0);
        }
    }
}
