namespace Loom;

public static partial class Functional
{
    /// <summary>
    /// y = x · Wᵀ + b with W in a packed inference form (int8, from Loom.Compress's dynamic quantisation). Float32
    /// only; the output records no gradient.
    /// </summary>
    /// <remarks>Shapes: input [..., in], weight [out, in], bias [out] → [..., out].</remarks>
    public static Tensor Linear(Tensor input, PackedWeight weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank == 0 || input.Shape[^1] != weight.InFeatures)
            throw new ArgumentException($"linear: input {input.Shape} and packed weight [{weight.OutFeatures}, {weight.InFeatures}] do not match: the input's last dimension must equal the weight's in-features ({weight.InFeatures})");
        if (input.DType != DType.Float32)
            throw new ArgumentException($"linear: a packed weight takes float32 input, got {input.DType.Name()}");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.OutFeatures || bias.DType != DType.Float32))
            throw new ArgumentException($"linear: bias must be float32 [{weight.OutFeatures}] for packed weight [{weight.OutFeatures}, {weight.InFeatures}], got {bias.DType.Name()} {bias.Shape}");
        var x = input.Contiguous();
        int rows = x.Numel / weight.InFeatures;
        var output = Tensor.Empty(OutputShape(input.Shape, weight.OutFeatures));
        if (rows > 0)
            weight.Multiply(x.AsReadOnlySpan<float>(), rows, bias is null ? default : bias.Contiguous().AsReadOnlySpan<float>(), output.AsSpan<float>());
        return output;
    }
}
