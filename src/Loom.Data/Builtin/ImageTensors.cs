using System.Numerics.Tensors;

namespace Loom.Data;

internal static class ImageTensors
{
    /// <summary>Grey images [N, H, W] of 0..<paramref name="max"/> as Float32 [N, 1, H, W] in 0..1.</summary>
    public static Tensor ToUnitFloat(Tensor images, double max)
    {
        var values = new float[images.Numel];
        if (images.DType == DType.UInt8)
            TensorPrimitives.ConvertChecked<byte, float>(images.Contiguous().AsReadOnlySpan<byte>(), values); // one pass, no float copy of the whole set
        else
            images.To(DType.Float32).Contiguous().AsReadOnlySpan<float>().CopyTo(values);
        TensorPrimitives.Multiply(values, (float)(1 / max), values);
        return Tensor.Wrap(values, images.Shape[0], 1, images.Shape[1], images.Shape[2]);
    }
}
