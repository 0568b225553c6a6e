namespace Loom;

public static partial class Functional
{
    /// <summary>
    /// The fused convolution <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int, Activation, Tensor?)"/>
    /// with a weight packed ahead of time (<see cref="PackedConv2dWeight"/>): the same values, without packing the
    /// weights on every call. When autograd records, it is the unpacked op on <see cref="PackedConv2dWeight.Weight"/>.
    /// </summary>
    public static Tensor Conv2d(Tensor input, PackedConv2dWeight weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation,
        Activation activation = Activation.None, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var w = weight.Weight;
        if (input.DType != w.DType || input.Rank != 4 || GradMode.ShouldRecord(input, w, bias) || residual is not null && GradMode.ShouldRecord(residual))
            return Conv2d(input, w, bias, stride, padding, dilation, weight.Groups, activation, residual);
        var g = ConvGeometry("conv2d", input.Shape, w.Shape, bias, stride, padding, dilation, (0, 0), weight.Groups, transposed: false, oneD: false);
        CheckLayerDTypes("conv2d", input, w, bias);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"conv2d: unknown activation {activation}");
        var outShape = Shape.Wrap([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]);
        if (residual is not null && (residual.Shape != outShape || residual.DType != input.DType))
            throw new ArgumentException($"conv2d: the residual must be the output's {input.DType} {outShape}, got {residual.DType} {residual.Shape}");
        return input.DType == DType.Float32
            ? Conv2dFused<float>(input, w, bias, residual, activation, g, weight)
            : Conv2dFused<double>(input, w, bias, residual, activation, g, weight);
    }
}
