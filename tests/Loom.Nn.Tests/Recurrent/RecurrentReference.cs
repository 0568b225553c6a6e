namespace Loom.Nn.Tests.Recurrent;

/// <summary>
/// The test oracle for the fused recurrent op: the same networks written with plain tensor ops, one cell step at a time
/// and one sequence at a time (so a length simply cuts its sequence short), reading the weights from the module's
/// state dict by their PyTorch names. Slow and obvious on purpose; no dropout.
/// </summary>
internal static class RecurrentReference
{
    /// <summary>Same contract as the modules' typed Forward: output in the input's layout, states [L·D, B, H] (C for LSTM only).</summary>
    public static (Tensor Output, Tensor H, Tensor? C) Run(RNNBase m, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null)
    {
        var p = m.StateDict();
        bool batched = input.Rank == 3, lstm = m is LSTM;
        int directions = m.NumDirections, layers = m.NumLayers, hidden = m.HiddenSize;
        // Work in [B, T, in].
        var x = !batched ? input.Unsqueeze(0) : m.BatchFirst ? input : input.Transpose(0, 1);
        if (!batched)
        {
            h0 = h0?.Unsqueeze(1);
            c0 = c0?.Unsqueeze(1);
        }
        int batch = x.Shape[0], steps = x.Shape[1];

        var outputs = new Tensor[batch];
        var finalH = new Tensor[batch];
        var finalC = new Tensor[batch];
        for (int b = 0; b < batch; b++)
        {
            int length = lengths?[b] ?? steps;
            var layerInput = x.Select(0, b).Narrow(0, 0, length); // [len, in]
            var hs = new Tensor[layers * directions];
            var cs = new Tensor[layers * directions];
            for (int layer = 0; layer < layers; layer++)
            {
                var directionOutputs = new Tensor[directions];
                for (int d = 0; d < directions; d++)
                {
                    int k = layer * directions + d;
                    string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                    var weights = new Weights(p["weight_ih" + suffix], p["weight_hh" + suffix], p.GetValueOrDefault("bias_ih" + suffix), p.GetValueOrDefault("bias_hh" + suffix));
                    var h = h0?.Select(0, k).Select(0, b) ?? Tensor.Zeros(new Shape(hidden), input.DType);
                    var c = c0?.Select(0, k).Select(0, b) ?? Tensor.Zeros(new Shape(hidden), input.DType);
                    var stepOutputs = new Tensor[length];
                    for (int i = 0; i < length; i++)
                    {
                        int t = d == 0 ? i : length - 1 - i;
                        (h, c) = Step(m, layerInput.Select(0, t), h, c, weights);
                        stepOutputs[t] = h;
                    }
                    directionOutputs[d] = length == 0 ? Tensor.Zeros(new Shape(0, hidden), input.DType) : Tensor.Stack(stepOutputs, 0);
                    hs[k] = h;
                    cs[k] = c;
                }
                layerInput = Tensor.Cat(directionOutputs, -1);
            }
            var padding = Tensor.Zeros(new Shape(steps - length, directions * hidden), input.DType);
            outputs[b] = Tensor.Cat([layerInput, padding], 0);
            finalH[b] = Tensor.Stack(hs, 0);
            finalC[b] = Tensor.Stack(cs, 0);
        }

        var output = Tensor.Stack(outputs, 0); // [B, T, D·H]
        var hN = Tensor.Stack(finalH, 1);      // [L·D, B, H]
        var cN = lstm ? Tensor.Stack(finalC, 1) : null;
        if (!batched) return (output.Squeeze(0), hN.Squeeze(1), cN?.Squeeze(1));
        return (m.BatchFirst ? output : output.Transpose(0, 1), hN, cN);
    }

    private sealed record Weights(Tensor Ih, Tensor Hh, Tensor? BiasIh, Tensor? BiasHh);

    private static Tensor Project(Tensor v, Tensor w, Tensor? bias)
    {
        var y = w.Matmul(v.Unsqueeze(1)).Squeeze(1);
        return bias is null ? y : y + bias;
    }

    private static (Tensor H, Tensor C) Step(RNNBase m, Tensor x, Tensor h, Tensor c, Weights w)
    {
        var gi = Project(x, w.Ih, w.BiasIh);
        var gh = Project(h, w.Hh, w.BiasHh);
        switch (m)
        {
            case LSTM:
            {
                var g = (gi + gh).Chunk(4, 0);
                var (input, forget, cell, output) = (g[0].Sigmoid(), g[1].Sigmoid(), g[2].Tanh(), g[3].Sigmoid());
                var cNext = forget * c + input * cell;
                return (output * cNext.Tanh(), cNext);
            }
            case GRU:
            {
                var i = gi.Chunk(3, 0);
                var hh = gh.Chunk(3, 0);
                var r = (i[0] + hh[0]).Sigmoid();
                var z = (i[1] + hh[1]).Sigmoid();
                var n = (i[2] + r * hh[2]).Tanh();
                return ((1 - z) * n + z * h, c);
            }
            case RNN rnn:
                return (rnn.Nonlinearity == RNNNonlinearity.Relu ? (gi + gh).Relu() : (gi + gh).Tanh(), c);
            default:
                throw new ArgumentException($"no reference for {m.GetType().Name}");
        }
    }
}
