namespace Loom;

public static partial class Functional
{
    /// <summary>
    /// y = activation(x · W + b) with W packed ahead of time (<see cref="PackedMatmulWeight"/>): the values of
    /// <see cref="Linear(Tensor, Tensor, Tensor?, Activation)"/> on the unpacked weight, without packing it on every
    /// call. When autograd records, or x has a single row, it is that op on <see cref="PackedMatmulWeight.Weight"/>.
    /// </summary>
    /// <remarks>Shapes: input [..., in], bias [out] → [..., out].</remarks>
    public static Tensor Matmul(Tensor input, PackedMatmulWeight weight, Tensor? bias = null, Activation activation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var w = weight.Weight;
        if (input.Rank == 0 || input.Shape.Dims[^1] != weight.InFeatures)
            throw new ArgumentException($"matmul: input {input.Shape} and packed weight of {weight.InFeatures} → {weight.OutFeatures} features do not match: the input's last dimension must be {weight.InFeatures}");
        int rows = input.Numel / Math.Max(1, weight.InFeatures);
        if (rows < 2 || input.DType != w.DType || GradMode.ShouldRecord(input, w, bias))
        {
            // A single row is a matrix-vector product, which GEMM streams from the weight as stored.
            return Linear(input, weight.Transposed ? w : w.Transpose(0, 1), bias, activation);
        }
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.OutFeatures))
            throw new ArgumentException($"matmul: bias must have shape [{weight.OutFeatures}] for a packed weight of {weight.OutFeatures} outputs, got {bias.Shape}");
        CheckLayerDTypes("matmul", input, w, bias);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"matmul: unknown activation {activation}");
        var x = input.Contiguous();
        var y = Tensor.Empty(OutputShape(input.Shape, weight.OutFeatures), input.DType);
        if (input.DType == DType.Float32) MatmulPacked<float>(x, weight, bias, activation, y, rows);
        else MatmulPacked<double>(x, weight, bias, activation, y, rows);
        return y;
    }

    private static void MatmulPacked<T>(Tensor x, PackedMatmulWeight weight, Tensor? bias, Activation activation, Tensor y, int rows)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        weight.Packed<T>().Multiply(rows, x.AsReadOnlySpan<T>(), weight.InFeatures, y.AsSpan<T>(), weight.OutFeatures,
            bias is null ? default : bias.Contiguous().AsReadOnlySpan<T>(), activation);
}
