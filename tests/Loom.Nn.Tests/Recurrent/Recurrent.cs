namespace Loom.Nn.Tests.Recurrent;

/// <summary>Builds the three recurrent modules by name and runs their typed forwards through one signature.</summary>
internal static class Recurrent
{
    public static RNNBase Make(string kind, int inputSize, int hiddenSize, int layers = 1, bool bidirectional = false, bool batchFirst = false,
        bool bias = true, double dropout = 0, DType dtype = DType.Float64, int seed = 1)
    {
        var g = new Generator((ulong)seed);
        return kind switch
        {
            "lstm" => new LSTM(inputSize, hiddenSize, layers, bias, batchFirst, dropout, bidirectional, dtype, g),
            "gru" => new GRU(inputSize, hiddenSize, layers, bias, batchFirst, dropout, bidirectional, dtype, g),
            "rnn_tanh" => new RNN(inputSize, hiddenSize, layers, RNNNonlinearity.Tanh, bias, batchFirst, dropout, bidirectional, dtype, g),
            "rnn_relu" => new RNN(inputSize, hiddenSize, layers, RNNNonlinearity.Relu, bias, batchFirst, dropout, bidirectional, dtype, g),
            _ => throw new ArgumentException(kind),
        };
    }

    /// <summary>The module's typed forward; c0 is used by LSTM only (and then h0 and c0 go together).</summary>
    public static (Tensor Output, Tensor H, Tensor? C) Run(RNNBase m, Tensor input, Tensor? h0 = null, Tensor? c0 = null, int[]? lengths = null)
    {
        switch (m)
        {
            case LSTM lstm:
                var (y, (h, c)) = lstm.Forward(input, h0 is null ? null : (h0, c0!), lengths);
                return (y, h, c);
            case GRU gru:
                var (gy, gh) = gru.Forward(input, h0, lengths);
                return (gy, gh, null);
            case RNN rnn:
                var (ry, rh) = rnn.Forward(input, h0, lengths);
                return (ry, rh, null);
            default:
                throw new ArgumentException(m.GetType().Name);
        }
    }

    /// <summary>Output, final h and (LSTM) final c flattened into one vector, so one GradCheck covers all of them.</summary>
    public static Tensor Flat((Tensor Output, Tensor H, Tensor? C) r) =>
        Tensor.Cat(r.C is null ? [r.Output.Reshape(-1), r.H.Reshape(-1)] : [r.Output.Reshape(-1), r.H.Reshape(-1), r.C.Reshape(-1)], 0);

    /// <summary>Σ output·probe over the flattened results: a scalar whose gradient reaches every output element differently.</summary>
    public static Tensor Loss((Tensor Output, Tensor H, Tensor? C) r, int seed = 7)
    {
        var flat = Flat(r);
        return (flat * TestTensors.Randn(seed, flat.DType, flat.Numel)).Sum();
    }
}
