using System.Text;

namespace Loom.Nn;

/// <summary>
/// What <see cref="RNN"/>, <see cref="LSTM"/> and <see cref="GRU"/> share, as PyTorch's <c>RNNBase</c>: stacked
/// layers, optionally bidirectional, with dropout between layers in training. Layer l in direction d owns
/// <c>weight_ih_l{l}</c> [G·H, in], <c>weight_hh_l{l}</c> [G·H, H], <c>bias_ih_l{l}</c> and <c>bias_hh_l{l}</c> [G·H]
/// (suffix <c>_reverse</c> for d = 1), G gates per unit, all initialised U(−1/√H, 1/√H).
/// </summary>
/// <remarks>
/// <para>Shapes (T steps, B sequences, D = 2 if bidirectional else 1, L layers): input [T, B, in], or [B, T, in] with
/// <c>batchFirst</c>, or unbatched [T, in] → output [T, B, D·H] (same layout as the input; [T, D·H] unbatched);
/// initial and final states [L·D, B, H] ([L·D, H] unbatched), always with the batch in dimension 1 as in PyTorch.</para>
/// <para>Each layer and direction projects the whole input sequence with one GEMM, then runs the recurrence as one
/// autograd op (<see cref="Functional.RecurrentLayer(RecurrentCell, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/>): one h·W_hhᵀ GEMM and one fused pass over the gates per step.</para>
/// <para>Lengths (padded batches, in place of PyTorch's packed sequences): sequence b uses only its first lengths[b]
/// steps. Its state stops at step lengths[b] − 1, its outputs beyond are zero, its final state is the one at its last
/// valid step, and the reverse direction starts at step lengths[b] − 1.</para>
/// </remarks>
public abstract class RNNBase : Module<Tensor, Tensor>
{
    private readonly RecurrentCell _cell;
    private readonly Parameter[] _weightIh, _weightHh;
    private readonly Parameter?[] _biasIh, _biasHh;
    // Packed (int8) forms of W_ih and W_hh per layer and direction, set by Module.PackParameter for inference.
    private readonly PackedWeight?[] _packedIh, _packedHh;
    private readonly Generator? _generator;
    private readonly DType _dtype;

    private protected RNNBase(RecurrentCell cell, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst, double dropout,
        bool bidirectional, DType dtype, Generator? generator)
    {
        string name = GetType().Name;
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentException($"{name}: input_size and hidden_size must be positive, got {inputSize} and {hiddenSize}");
        if (numLayers <= 0) throw new ArgumentException($"{name}: num_layers must be positive, got {numLayers}");
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentException($"{name}: dropout must be a probability in [0, 1], got {dropout}");
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"{name}: dtype must be float32 or float64, not {dtype.Name()}");
        _cell = cell;
        (InputSize, HiddenSize, NumLayers, HasBias, BatchFirst, Dropout, Bidirectional) =
            (inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
        _generator = generator;

        int directions = NumDirections, gates = cell.GateCount() * hiddenSize;
        double bound = 1 / Math.Sqrt(hiddenSize);
        _weightIh = new Parameter[numLayers * directions];
        _weightHh = new Parameter[numLayers * directions];
        _biasIh = new Parameter?[numLayers * directions];
        _biasHh = new Parameter?[numLayers * directions];
        _packedIh = new PackedWeight?[numLayers * directions];
        _packedHh = new PackedWeight?[numLayers * directions];
        _dtype = dtype;
        // Registration order is PyTorch's (layer, then direction, then w_ih, w_hh, b_ih, b_hh), so state dicts list alike.
        for (int layer = 0; layer < numLayers; layer++)
        {
            int layerInput = layer == 0 ? inputSize : hiddenSize * directions;
            for (int d = 0; d < directions; d++)
            {
                int k = layer * directions + d;
                string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                _weightIh[k] = RegisterParameter("weight_ih" + suffix, Uniform(new Shape(gates, layerInput)))!;
                _weightHh[k] = RegisterParameter("weight_hh" + suffix, Uniform(new Shape(gates, hiddenSize)))!;
                if (bias)
                {
                    _biasIh[k] = RegisterParameter("bias_ih" + suffix, Uniform(new Shape(gates)));
                    _biasHh[k] = RegisterParameter("bias_hh" + suffix, Uniform(new Shape(gates)));
                }
            }
        }

        Parameter Uniform(Shape shape) => new(Tensor.Uniform(shape, -bound, bound, generator, dtype));
    }

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }

    /// <summary>Whether the layers have b_ih and b_hh (PyTorch's <c>bias</c>).</summary>
    public bool HasBias { get; }

    /// <summary>Whether input and output are [B, T, ·] rather than [T, B, ·]. States keep the batch in dimension 1.</summary>
    public bool BatchFirst { get; }

    /// <summary>Dropout probability on the outputs of every layer but the last, in training mode.</summary>
    public double Dropout { get; }

    public bool Bidirectional { get; }

    /// <summary>2 when bidirectional, else 1.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>The output sequence only (for <see cref="Sequential"/>); states start at zero.</summary>
    protected override Tensor ForwardCore(Tensor input) => RunLayers(input, null, null, null).Output;

    /// <summary>The full forward behind the subclasses' typed <c>Forward</c> overloads, with the module's hooks.</summary>
    private protected (Tensor Output, Tensor H, Tensor? C) ForwardWithState(Tensor input, Tensor? h0, Tensor? c0, int[]? lengths)
    {
        var actual = (Tensor)RunPreHooks(input);
        var result = RunLayers(actual, h0, c0, lengths);
        RunHooks(actual, result.Output);
        return result;
    }

    private (Tensor Output, Tensor H, Tensor? C) RunLayers(Tensor input, Tensor? h0, Tensor? c0, int[]? lengths)
    {
        Validate(input, h0, c0, lengths);
        bool batched = input.Rank == 3;
        int batchAxis = BatchFirst ? 0 : 1;
        var x = batched ? input : input.Unsqueeze(batchAxis);
        if (!batched)
        {
            h0 = h0?.Unsqueeze(1);
            c0 = c0?.Unsqueeze(1);
        }

        int directions = NumDirections;
        var hN = new Tensor[NumLayers * directions];
        var cN = new Tensor[NumLayers * directions];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            var outputs = new Tensor[directions];
            for (int d = 0; d < directions; d++)
            {
                int k = layer * directions + d;
                var (y, h, c) = (_packedIh[k], _packedHh[k]) switch
                {
                    (null, null) => Functional.RecurrentLayer(_cell, x, _weightIh[k], _weightHh[k], _biasIh[k], _biasHh[k], h0?.Select(0, k),
                        c0?.Select(0, k), BatchFirst, reverse: d == 1, lengths),
                    ({ } ih, { } hh) => Functional.RecurrentLayer(_cell, x, ih, hh, _biasIh[k], _biasHh[k], h0?.Select(0, k),
                        c0?.Select(0, k), BatchFirst, reverse: d == 1, lengths),
                    _ => throw new InvalidOperationException(
                        $"{GetType().Name}: layer {layer}{(d == 1 ? " (reverse)" : "")} has one of weight_ih and weight_hh packed; pack both or neither"),
                };
                outputs[d] = y;
                hN[k] = h;
                if (c is not null) cN[k] = c;
            }
            x = directions == 1 ? outputs[0] : Tensor.Cat(outputs, -1);
            if (Training && Dropout > 0 && layer < NumLayers - 1) x = Functional.Dropout(x, Dropout, training: true, _generator);
        }

        var hOut = Tensor.Stack(hN, 0);
        var cOut = _cell == RecurrentCell.Lstm ? Tensor.Stack(cN, 0) : null;
        if (!batched)
        {
            x = x.Squeeze(batchAxis);
            hOut = hOut.Squeeze(1);
            cOut = cOut?.Squeeze(1);
        }
        return (x, hOut, cOut);
    }

    private void Validate(Tensor input, Tensor? h0, Tensor? c0, int[]? lengths)
    {
        string name = GetType().Name;
        string layout = BatchFirst ? "[B, T, input_size]" : "[T, B, input_size]";
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"{name}: expected input {layout} (or [T, input_size] unbatched), got shape {input.Shape}");
        if (input.Shape[^1] != InputSize)
            throw new ArgumentException($"{name}: input of shape {input.Shape} has {input.Shape[^1]} features in its last dimension, expected input_size = {InputSize}");
        var dtype = _dtype;
        if (input.DType != dtype)
            throw new ArgumentException($"{name}: input dtype {input.DType.Name()} does not match the parameters' {dtype.Name()} (input shape {input.Shape})");
        bool batched = input.Rank == 3;
        int steps = input.Shape[batched && BatchFirst ? 1 : 0];
        int batch = batched ? input.Shape[BatchFirst ? 0 : 1] : 1;
        if (steps == 0) throw new ArgumentException($"{name}: the sequence length must be positive, got input of shape {input.Shape}");

        var stateShape = batched ? new Shape(NumLayers * NumDirections, batch, HiddenSize) : new Shape(NumLayers * NumDirections, HiddenSize);
        CheckState("h0", h0);
        CheckState("c0", c0);

        if (lengths is not null)
        {
            if (lengths.Length != batch)
                throw new ArgumentException($"{name}: lengths has {lengths.Length} entries but input of shape {input.Shape} holds {batch} sequence(s)");
            for (int b = 0; b < lengths.Length; b++)
                if (lengths[b] < 0 || lengths[b] > steps)
                    throw new ArgumentException($"{name}: lengths[{b}] = {lengths[b]} is outside [0, {steps}] for input of shape {input.Shape}");
        }

        void CheckState(string what, Tensor? state)
        {
            if (state is null) return;
            if (state.Shape != stateShape)
                throw new ArgumentException($"{name}: expected {what} of shape {stateShape} for input of shape {input.Shape}, got {state.Shape}");
            if (state.DType != dtype)
                throw new ArgumentException($"{name}: {what} dtype {state.DType.Name()} does not match the parameters' {dtype.Name()}");
        }
    }

    /// <summary>Accepts a packed form of any weight_ih / weight_hh (quantised inference); the biases stay float.</summary>
    protected override void OnParameterPacking(string name, Parameter current, PackedWeight weight)
    {
        int k = Array.FindIndex(_weightIh, w => ReferenceEquals(w, current));
        if (k >= 0)
        {
            _packedIh[k] = weight;
            return;
        }
        k = Array.FindIndex(_weightHh, w => ReferenceEquals(w, current));
        if (k < 0) base.OnParameterPacking(name, current, weight);
        _packedHh[k] = weight;
    }

    protected override string ExtraRepr()
    {
        var sb = new StringBuilder($"{InputSize}, {HiddenSize}");
        if (NumLayers != 1) sb.Append($", num_layers={NumLayers}");
        if (!HasBias) sb.Append(", bias=False");
        if (BatchFirst) sb.Append(", batch_first=True");
        if (Dropout != 0) sb.Append($", dropout={Dropout}");
        if (Bidirectional) sb.Append(", bidirectional=True");
        return sb.ToString();
    }
}
