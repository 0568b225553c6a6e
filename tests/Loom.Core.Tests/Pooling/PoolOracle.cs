namespace Loom.Tests.Pooling;

/// <summary>Tensor-level wrappers over the reference poolings (float64, input [N, C, H, W]).</summary>
internal static class PoolOracle
{
    public static Tensor MaxPool2d(Tensor x, (int, int) kernel, (int, int) stride, (int, int) padding, (int, int) dilation, bool ceilMode)
    {
        var y = ReferencePooling.MaxPool2d<double>(x.ToArray<double>(), x.Shape.ToArray(), kernel, stride, padding, dilation, ceilMode, out var shape);
        return Tensor.FromArray(y, shape);
    }

    public static Tensor AvgPool2d(Tensor x, (int, int) kernel, (int, int) stride, (int, int) padding, bool countIncludePad, bool ceilMode)
    {
        var y = ReferencePooling.AvgPool2d<double>(x.ToArray<double>(), x.Shape.ToArray(), kernel, stride, padding, countIncludePad, ceilMode, out var shape);
        return Tensor.FromArray(y, shape);
    }

    public static Tensor AdaptiveAvgPool2d(Tensor x, (int H, int W) size)
    {
        var y = ReferencePooling.AdaptiveAvgPool2d<double>(x.ToArray<double>(), x.Shape.ToArray(), size);
        return Tensor.FromArray(y, x.Shape[0], x.Shape[1], size.H, size.W);
    }
}
