using System.Numerics.Tensors;

namespace Loom.Kernels;

/// <summary>Element-wise helpers over whole tensors that the core itself needs (gradient accumulation).</summary>
internal static class ElementwiseKernels
{
    /// <summary>destination += source, both of the same shape; destination must be contiguous.</summary>
    public static void AddInPlace(Tensor destination, Tensor source)
    {
        if (destination.Shape != source.Shape)
            throw new ArgumentException($"add_: shapes {destination.Shape} and {source.Shape} differ");
        if (!destination.IsContiguous) throw new InvalidOperationException("add_: destination must be contiguous");
        var src = source.DType == destination.DType ? source.Contiguous() : source.To(destination.DType).Contiguous();
        switch (destination.DType)
        {
            case DType.Float32:
                TensorPrimitives.Add(destination.Data<float>(), src.Data<float>(), destination.Data<float>());
                break;
            case DType.Float64:
                TensorPrimitives.Add(destination.Data<double>(), src.Data<double>(), destination.Data<double>());
                break;
            default:
                throw new NotSupportedException($"add_: dtype {destination.DType.Name()} is not supported here");
        }
        destination.Storage.BumpVersion();
    }
}
