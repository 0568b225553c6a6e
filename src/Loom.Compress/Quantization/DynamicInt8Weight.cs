namespace Loom.Compress;

/// <summary>
/// A weight matrix as dynamic int8 quantisation holds it (PyTorch: the packed weight of
/// <c>torch.ao.nn.quantized.dynamic.Linear</c>, <c>LSTM</c> and <c>GRU</c>): int8 symmetric per output channel
/// (scale[j] = max|W[j, :]| / 127), activations quantised per tensor from each input's own min and max at every
/// product (every step of a recurrence), int32 accumulation in <see cref="Int8Gemm"/>, the bias added in float.
/// </summary>
/// <remarks>
/// State (suffixes of the replaced parameter's name): <c>""</c> int8 [out, in], <c>"_scale"</c> float32 [out],
/// <c>"_zero_point"</c> int32 [out] (all 0), so a quantised Linear's checkpoint reads <c>weight</c>,
/// <c>weight_scale</c>, <c>weight_zero_point</c>, <c>bias</c>, the keys of PyTorch's dynamic quantised Linear (and of
/// the standalone int8 layer Loom had before weights were packed in place, so its run folders still load).
/// </remarks>
internal sealed class DynamicInt8Weight : PackedWeight
{
    private readonly Int8WeightState _state;
    private readonly Tensor _weight, _scale, _zeroPoint;
    private readonly Dictionary<(int First, int Count), ((int, int) Versions, DynamicInt8Weight Part)> _parts = [];

    private DynamicInt8Weight(int outFeatures, int inFeatures) : base(outFeatures, inFeatures)
    {
        // Outlives any memory scope: it becomes part of the model's state.
        using (Memory.MemoryScope.Persistent())
        {
            _weight = Tensor.Zeros(new Shape(outFeatures, inFeatures), DType.Int8);
            _scale = Tensor.Ones(new Shape(outFeatures));
            _zeroPoint = Tensor.Zeros(new Shape(outFeatures), DType.Int32);
        }
        // Errors name the values' own tensors; Quantization.LoadStateDict prefixes the parameter's name.
        _state = new Int8WeightState("int8 weight", _weight, _scale, _zeroPoint, null, outFeatures, inFeatures);
        State = [("", _weight), ("_scale", _scale), ("_zero_point", _zeroPoint)];
    }

    /// <summary>The int8 form of a float32 weight [out, in]; <paramref name="layer"/> names it in errors.</summary>
    public static DynamicInt8Weight FromFloat(Tensor weight, string layer)
    {
        if (weight.Rank != 2 || weight.DType != DType.Float32)
            throw new ArgumentException($"{layer}: dynamic int8 quantises float32 matrices, got {weight.DType.Name()} {weight.Shape}");
        var q = new DynamicInt8Weight(weight.Shape[0], weight.Shape[1]);
        using (new Autograd.NoGrad()) q._state.Quantize(weight.Detach().Contiguous().AsReadOnlySpan<float>(), []);
        return q;
    }

    public override IReadOnlyList<(string Suffix, Tensor Tensor)> State { get; }

    public override void Validate() => _state.Packed();

    public override void Multiply(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> bias, Span<float> y)
    {
        var packed = _state.Packed();
        int ldq = packed.PaddedDepth;
        byte[] q = ArrayPool<byte>.Shared.Rent(rows * ldq);
        try
        {
            var qp = Int8Quantization.QuantizeActivations(x, rows, InFeatures, InFeatures, q, ldq);
            Int8Gemm.MultiplyDequantize(rows, q, ldq, qp.Scale, qp.ZeroPoint, packed, _state.Scales, bias, y, OutFeatures);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
    }

    /// <summary>The rows' int8 values and scales as they are (no requantisation), packed once and kept until the state changes.</summary>
    public override PackedWeight Narrow(int first, int count)
    {
        CheckRows(first, count);
        if (first == 0 && count == OutFeatures) return this;
        var versions = (_weight.Storage.Version, _scale.Storage.Version);
        lock (_parts)
        {
            if (_parts.TryGetValue((first, count), out var cached) && cached.Versions == versions) return cached.Part;
            var part = new DynamicInt8Weight(count, InFeatures);
            using (new Autograd.NoGrad())
            {
                part._weight.CopyFrom(_weight.Narrow(0, first, count));
                part._scale.CopyFrom(_scale.Narrow(0, first, count));
            }
            _parts[(first, count)] = (versions, part);
            return part;
        }
    }
}
