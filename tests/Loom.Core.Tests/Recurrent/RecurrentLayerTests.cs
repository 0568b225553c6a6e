namespace Loom.Tests.Recurrent;

/// <summary>
/// <see cref="Functional.RecurrentLayer(RecurrentCell, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/> on its own (the stacked modules are tested in Loom.Nn.Tests): forward
/// against a reference composed from tensor ops one sequence and one step at a time, gradients by central
/// differences in float64, and the errors for inputs that do not fit together.
/// </summary>
public class RecurrentLayerTests
{
    private const int Steps = 4, Batch = 3, InputSize = 2, Hidden = 3;

    private sealed record Case(RecurrentCell Cell, Tensor Input, Tensor WeightIh, Tensor WeightHh, Tensor? BiasIh, Tensor? BiasHh, Tensor? H0, Tensor? C0);

    private static Case Make(RecurrentCell cell, bool batchFirst, bool bias = true, bool initialState = true)
    {
        int gates = cell.GateCount() * Hidden;
        var input = batchFirst ? TestTensors.Param(1, Batch, Steps, InputSize) : TestTensors.Param(1, Steps, Batch, InputSize);
        return new Case(cell, input, TestTensors.Param(2, gates, InputSize), TestTensors.Param(3, gates, Hidden),
            bias ? TestTensors.Param(4, gates) : null, bias ? TestTensors.Param(5, gates) : null,
            initialState ? TestTensors.Param(6, Batch, Hidden) : null,
            initialState && cell == RecurrentCell.Lstm ? TestTensors.Param(7, Batch, Hidden) : null);
    }

    private static (Tensor Output, Tensor H, Tensor? C) Run(Case c, bool batchFirst, bool reverse, int[]? lengths) =>
        Functional.RecurrentLayer(c.Cell, c.Input, c.WeightIh, c.WeightHh, c.BiasIh, c.BiasHh, c.H0, c.C0, batchFirst, reverse, lengths);

    private static Tensor Flat((Tensor Output, Tensor H, Tensor? C) r) =>
        Tensor.Cat(r.C is null ? [r.Output.Reshape(-1), r.H.Reshape(-1)] : [r.Output.Reshape(-1), r.H.Reshape(-1), r.C.Reshape(-1)], 0);

    /// <summary>
    /// The cell formulas of PyTorch's documentation with tensor ops, one sequence at a time so that a length simply
    /// cuts the sequence short; the output is [T, B, H] with zeros past each length.
    /// </summary>
    private static (Tensor Output, Tensor H, Tensor? C) Reference(Case c, bool batchFirst, bool reverse, int[]? lengths)
    {
        var x = batchFirst ? c.Input.Transpose(0, 1) : c.Input; // [T, B, in]
        var outputs = new Tensor[Batch];
        var finalH = new Tensor[Batch];
        var finalC = new Tensor[Batch];
        for (int b = 0; b < Batch; b++)
        {
            int length = lengths?[b] ?? Steps;
            var h = c.H0?.Select(0, b) ?? Tensor.Zeros(new Shape(Hidden), DType.Float64);
            var cell = c.C0?.Select(0, b) ?? Tensor.Zeros(new Shape(Hidden), DType.Float64);
            var steps = Enumerable.Range(0, Steps).Select(_ => Tensor.Zeros(new Shape(Hidden), DType.Float64)).ToArray();
            for (int i = 0; i < length; i++)
            {
                int t = reverse ? length - 1 - i : i;
                var gi = Project(x.Select(0, t).Select(0, b), c.WeightIh, c.BiasIh);
                var gh = Project(h, c.WeightHh, c.BiasHh);
                switch (c.Cell)
                {
                    case RecurrentCell.Lstm:
                        var g = (gi + gh).Chunk(4, 0);
                        cell = g[1].Sigmoid() * cell + g[0].Sigmoid() * g[2].Tanh();
                        h = g[3].Sigmoid() * cell.Tanh();
                        break;
                    case RecurrentCell.Gru:
                        var (xi, hh) = (gi.Chunk(3, 0), gh.Chunk(3, 0));
                        var r = (xi[0] + hh[0]).Sigmoid();
                        var z = (xi[1] + hh[1]).Sigmoid();
                        var n = (xi[2] + r * hh[2]).Tanh();
                        h = (1 - z) * n + z * h;
                        break;
                    case RecurrentCell.RnnRelu:
                        h = (gi + gh).Relu();
                        break;
                    default:
                        h = (gi + gh).Tanh();
                        break;
                }
                steps[t] = h;
            }
            outputs[b] = Tensor.Stack(steps, 0);
            (finalH[b], finalC[b]) = (h, cell);
        }
        var output = Tensor.Stack(outputs, 1);
        return (batchFirst ? output.Transpose(0, 1) : output, Tensor.Stack(finalH, 0), c.Cell == RecurrentCell.Lstm ? Tensor.Stack(finalC, 0) : null);

        static Tensor Project(Tensor v, Tensor w, Tensor? bias)
        {
            var y = w.Matmul(v.Unsqueeze(1)).Squeeze(1);
            return bias is null ? y : y + bias;
        }
    }

    public static TheoryData<RecurrentCell, bool, bool, bool> Layouts()
    {
        var data = new TheoryData<RecurrentCell, bool, bool, bool>();
        foreach (var cell in Enum.GetValues<RecurrentCell>())
        {
            data.Add(cell, false, false, false);
            data.Add(cell, true, true, true);
            data.Add(cell, false, true, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Forward_matches_the_step_by_step_reference(RecurrentCell cell, bool batchFirst, bool reverse, bool withLengths)
    {
        var c = Make(cell, batchFirst);
        int[]? lengths = withLengths ? [4, 1, 0] : null;
        var expected = Reference(c, batchFirst, reverse, lengths);
        var actual = Run(c, batchFirst, reverse, lengths);
        TensorAssert.Close(expected.Output, actual.Output, 1e-12, 1e-12);
        TensorAssert.Close(expected.H, actual.H, 1e-12, 1e-12);
        if (cell == RecurrentCell.Lstm) TensorAssert.Close(expected.C!, actual.C!, 1e-12, 1e-12);
        else Assert.Null(actual.C);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Gradients_of_every_input_match_finite_differences(RecurrentCell cell, bool batchFirst, bool reverse, bool withLengths)
    {
        var c = Make(cell, batchFirst);
        int[]? lengths = withLengths ? [2, 4, 1] : null;
        Tensor?[] all = [c.Input, c.WeightIh, c.WeightHh, c.BiasIh, c.BiasHh, c.H0, c.C0];
        TensorAssert.GradientsMatch(_ => Flat(Run(c, batchFirst, reverse, lengths)), [.. all.OfType<Tensor>()]);
    }

    [Fact]
    public void Gradients_without_biases_or_initial_state_match_finite_differences()
    {
        var c = Make(RecurrentCell.Lstm, batchFirst: false, bias: false, initialState: false);
        TensorAssert.GradientsMatch(_ => Flat(Run(c, false, false, null)), c.Input, c.WeightIh, c.WeightHh);
    }

    [Fact]
    public void Inputs_that_do_not_fit_together_are_rejected_with_the_op_and_the_shapes()
    {
        var c = Make(RecurrentCell.Gru, batchFirst: false);
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input.Select(1, 0), c.WeightIh, c.WeightHh),
            "gru", "[T, B, in]", "[4, 2]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Lstm, c.Input, c.WeightIh, c.WeightHh),
            "lstm", "weight_hh", "[9, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh.Narrow(1, 0, 1), c.WeightHh),
            "gru", "weight_ih", "[9, 2]", "[9, 1]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh, c.WeightHh, h0: c.H0!.Narrow(0, 0, 2)),
            "gru", "h0", "[3, 3]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh, c.WeightHh, h0: c.H0, c0: c.H0),
            "gru", "c0");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh, c.WeightHh, lengths: [4, 5, 1]),
            "gru", "lengths[1] = 5", "[0, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh, c.WeightHh, lengths: [4]),
            "gru", "lengths has 1", "3 sequence");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.Gru, c.Input, c.WeightIh.To(DType.Float32), c.WeightHh),
            "gru", "weight_ih", "float32", "float64");
        TensorAssert.Throws<ArgumentException>(() => Functional.RecurrentLayer(RecurrentCell.RnnTanh, c.Input.Narrow(0, 0, 0), c.WeightIh.Narrow(0, 0, 3),
            c.WeightHh.Narrow(0, 0, 3)), "rnn_tanh", "sequence length");
    }
}
