namespace Loom.Compress;

/// <summary>
/// A linear layer with int8 weights and statically quantised activations: the input parameters come from
/// calibration instead of each batch's range, and the output may be requantised for the next quantised layer.
/// See <see cref="StaticQuantizedLayer"/> for the state.
/// </summary>
public sealed class StaticQuantizedLinear : StaticQuantizedLayer
{
    /// <summary>An all-zero layer of the given size, to load a static int8 checkpoint into.</summary>
    public StaticQuantizedLinear(int inFeatures, int outFeatures, bool bias, bool requantize)
        : base(new Shape(outFeatures, inFeatures), bias, requantize) => (InFeatures, OutFeatures) = (inFeatures, outFeatures);

    /// <summary>The int8 form of a float <paramref name="linear"/> with calibrated input (and output) parameters.</summary>
    public static StaticQuantizedLinear FromLinear(Linear linear, QuantParams input, QuantParams? output)
    {
        ArgumentNullException.ThrowIfNull(linear);
        var q = new StaticQuantizedLinear(linear.InFeatures, linear.OutFeatures, linear.Bias is not null, output is not null);
        q.QuantizeWeights(linear.Weight, linear.Bias);
        q.InputParams = input;
        if (output is QuantParams o) q.OutputParams = o;
        return q;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank == 0 || input.Shape[^1] != InFeatures)
            throw new ArgumentException($"{nameof(StaticQuantizedLinear)}: input {input.Shape} must end in in_features {InFeatures}");
        var packed = State.Packed();
        int m = input.Numel / InFeatures, ld = packed.PaddedDepth;
        var dims = input.Shape.Dims.ToArray();
        dims[^1] = OutFeatures;
        var (x, qp) = QuantizedInput(input, InFeatures, ld);
        try
        {
            if (Requantizes)
            {
                var y = Tensor.Empty(new Shape(dims), DType.UInt8);
                var o = OutputParams;
                if (m > 0) Int8Gemm.MultiplyRequantize(m, x, ld, qp.Scale, qp.ZeroPoint, packed, State.Scales, State.Bias, o.Scale, o.ZeroPoint, y.AsSpan<byte>(), OutFeatures);
                return y;
            }
            var f = Tensor.Empty(new Shape(dims));
            if (m > 0) Int8Gemm.MultiplyDequantize(m, x, ld, qp.Scale, qp.ZeroPoint, packed, State.Scales, State.Bias, f.AsSpan<float>(), OutFeatures);
            return f;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(x);
        }
    }

    protected override string ExtraRepr() =>
        $"in_features={InFeatures}, out_features={OutFeatures}, dtype=int8, activations=static" + (Requantizes ? ", output=u8" : ", output=float32");
}
