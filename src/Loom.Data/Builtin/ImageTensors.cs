namespace Loom.Data;

internal static class ImageTensors
{
    /// <summary>Grey images [N, H, W] of 0..<paramref name="max"/> as Float32 [N, 1, H, W] in 0..1.</summary>
    public static Tensor ToUnitFloat(Tensor images, double max)
    {
        var src = images.To(DType.Float32).Contiguous();
        var values = src.ToArray<float>();
        System.Numerics.Tensors.TensorPrimitives.Multiply(values, (float)(1 / max), values);
        return Tensor.Wrap(values, images.Shape[0], 1, images.Shape[1], images.Shape[2]);
    }
}
