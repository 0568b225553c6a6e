using System.Buffers;
using Loom.Kernels;
using Loom.Nn;

namespace Loom.Compress;

/// <summary>
/// A linear layer with int8 weights and dynamically quantised activations, as PyTorch's
/// <c>torch.ao.nn.quantized.dynamic.Linear</c>: weights symmetric per output channel (scale[j] = max|W[j, :]| / 127,
/// zero point 0), activations asymmetric per tensor from each input's own min and max, the product in
/// <see cref="Int8Gemm"/> with int32 accumulation and the bias added in float by the dequantising epilogue.
/// </summary>
/// <remarks>
/// Inference only: the output carries no gradient. State dict: <c>weight</c> (int8 [out, in]),
/// <c>weight_scale</c> (float32 [out]), <c>weight_zero_point</c> (int32 [out], all zero: symmetric) and
/// <c>bias</c> (float32 [out]) when the layer has one. The packed form of the weights is rebuilt whenever those
/// buffers change (e.g. a checkpoint is loaded into them), tracked through their storage versions.
/// </remarks>
public sealed class QuantizedLinear : Module<Tensor, Tensor>
{
    private readonly Int8WeightState _state;

    /// <summary>An all-zero layer of the given size, to load an int8 checkpoint into.</summary>
    public QuantizedLinear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"QuantizedLinear: features must be positive, got in={inFeatures}, out={outFeatures}");
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        Weight = RegisterBuffer("weight", Tensor.Zeros(new Shape(outFeatures, inFeatures), DType.Int8))!;
        WeightScale = RegisterBuffer("weight_scale", Tensor.Ones(new Shape(outFeatures)))!;
        WeightZeroPoint = RegisterBuffer("weight_zero_point", Tensor.Zeros(new Shape(outFeatures), DType.Int32))!;
        Bias = RegisterBuffer("bias", bias ? Tensor.Zeros(new Shape(outFeatures)) : null);
        _state = new Int8WeightState(nameof(QuantizedLinear), Weight, WeightScale, WeightZeroPoint, Bias, outFeatures, inFeatures);
    }

    /// <summary>The int8 form of a trained float32 <paramref name="linear"/>.</summary>
    public static QuantizedLinear FromLinear(Linear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (linear.Weight.DType != DType.Float32)
            throw new ArgumentException($"QuantizedLinear: quantises float32 layers, this one is {linear.Weight.DType.Name()}");
        var q = new QuantizedLinear(linear.InFeatures, linear.OutFeatures, linear.Bias is not null);
        using (new Autograd.NoGrad())
        {
            q._state.Quantize(linear.Weight.Contiguous().AsReadOnlySpan<float>(), linear.Bias is null ? [] : linear.Bias.Contiguous().AsReadOnlySpan<float>());
        }
        return q;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>int8 [out, in], values in [−127, 127].</summary>
    public Tensor Weight { get; }

    /// <summary>float32 [out]: the real value of weight step 1 in each output channel.</summary>
    public Tensor WeightScale { get; }

    /// <summary>int32 [out], all zero (symmetric weights); stored so that the checkpoint states it.</summary>
    public Tensor WeightZeroPoint { get; }

    public Tensor? Bias { get; }

    /// <summary>Bytes of the layer's state as a checkpoint stores it (int8 weights, scales, zero points, bias).</summary>
    public long SizeInBytes => _state.SizeInBytes;

    /// <summary>
    /// Checks the stored state and packs it for the kernels: weights of −128, non-positive or non-finite scales and
    /// non-zero zero points are refused (a damaged or foreign checkpoint), with the tensor named.
    /// </summary>
    public void Validate() => _state.Packed();

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.DType != DType.Float32)
            throw new ArgumentException($"QuantizedLinear: takes float32 input, got {input.DType.Name()}");
        if (input.Rank == 0 || input.Shape[^1] != InFeatures)
            throw new ArgumentException($"QuantizedLinear: input {input.Shape} must end in in_features {InFeatures}");
        var packed = _state.Packed();
        var x = input.Contiguous();
        int m = x.Numel / InFeatures;
        var dims = input.Shape.Dims.ToArray();
        dims[^1] = OutFeatures;
        var output = Tensor.Empty(new Shape(dims));
        if (m == 0) return output;
        int ldq = packed.PaddedDepth;
        byte[] q = ArrayPool<byte>.Shared.Rent(m * ldq);
        try
        {
            var qp = Int8Quantization.QuantizeActivations(x.AsReadOnlySpan<float>(), m, InFeatures, InFeatures, q, ldq);
            Int8Gemm.MultiplyDequantize(m, q, ldq, qp.Scale, qp.ZeroPoint, packed, _state.Scales, _state.Bias, output.AsSpan<float>(), OutFeatures);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(q);
        }
        return output;
    }

    protected override string ExtraRepr() =>
        $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}, dtype=int8, activations=dynamic per tensor";
}
