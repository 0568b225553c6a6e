namespace Loom.Compress;

/// <summary>
/// The int8 weights of a quantised layer as its state dict holds them (weight, weight_scale, weight_zero_point, bias)
/// and their packed form for <see cref="Int8Gemm"/>, rebuilt whenever those buffers change (a loaded checkpoint),
/// tracked through their storage versions. Shared by the dynamic and static layers, so that both refuse a damaged
/// checkpoint alike. A convolution's weights (<paramref name="convKernel"/> set: C, kH, kW) are packed in the
/// channels-last depth order <see cref="Int8Conv2d"/> reads; the state dict keeps PyTorch's [out, C, kH, kW].
/// </summary>
internal sealed class Int8WeightState(string layer, Tensor weight, Tensor scale, Tensor zeroPoint, Tensor? bias, int outputs, int depth,
    (int Channels, int KernelH, int KernelW)? convKernel = null)
{
    private Int8PackedWeights? _packed;
    private float[] _scales = [], _bias = [];
    private (int Weight, int Scale, int Zero, int Bias) _versions = (-1, -1, -1, -1);

    public float[] Scales { get { Packed(); return _scales; } }
    public float[] Bias { get { Packed(); return _bias; } }

    /// <summary>Bytes as a checkpoint stores them.</summary>
    public long SizeInBytes => weight.Numel + 4L * scale.Numel + 4L * zeroPoint.Numel + 4L * (bias?.Numel ?? 0);

    /// <summary>Fills the buffers from float weights [outputs, depth] (symmetric per output channel) and a float bias.</summary>
    public void Quantize(ReadOnlySpan<float> w, ReadOnlySpan<float> floatBias)
    {
        Int8Quantization.QuantizeWeightsPerChannel(w, outputs, depth, weight.AsSpan<sbyte>(), scale.AsSpan<float>());
        if (bias is not null && !floatBias.IsEmpty) floatBias.CopyTo(bias.AsSpan<float>());
    }

    /// <summary>
    /// The packed weights: scales must be positive and finite, zero points 0 (symmetric), no weight −128; a
    /// violation is an <see cref="InvalidDataException"/> naming the tensor.
    /// </summary>
    public Int8PackedWeights Packed()
    {
        var versions = (weight.Storage.Version, scale.Storage.Version, zeroPoint.Storage.Version, bias?.Storage.Version ?? 0);
        if (_packed is not null && versions == _versions) return _packed;
        var scales = scale.Contiguous().ToArray<float>();
        for (int j = 0; j < scales.Length; j++)
            if (!(scales[j] > 0) || !float.IsFinite(scales[j]))
                throw new InvalidDataException($"{layer}: weight_scale[{j}] is {scales[j]}; scales must be positive and finite");
        var zeros = zeroPoint.Contiguous().ToArray<int>();
        int nonZero = Array.FindIndex(zeros, z => z != 0);
        if (nonZero >= 0)
            throw new InvalidDataException($"{layer}: weight_zero_point[{nonZero}] is {zeros[nonZero]}; int8 weights are symmetric (zero point 0)");
        try
        {
            var w = weight.Contiguous().AsReadOnlySpan<sbyte>();
            _packed = convKernel is var (c, kh, kw)
                ? Int8Conv2d.PackWeights(w, outputs, c, kh, kw)
                : new Int8PackedWeights(w, outputs, depth, depth);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{layer}: {e.Message}", e);
        }
        _scales = scales;
        _bias = bias?.Contiguous().ToArray<float>() ?? [];
        _versions = versions;
        return _packed;
    }
}
