namespace Loom.Kernels.Reference;

/// <summary>
/// Naive twin of <see cref="StridedKernels.Gather{T}"/> (and so of <see cref="TransposeKernels"/>), kept forever as
/// the oracle: every element's storage position is computed from its full multi-index.
/// </summary>
public static class ReferenceStrided
{
    /// <summary>The elements of the view (offset, shape, strides) over <paramref name="source"/>, in row-major order.</summary>
    public static T[] Gather<T>(T[] source, int offset, int[] shape, int[] strides)
    {
        var result = new T[ReferenceIndexing.Numel(shape)];
        for (int i = 0; i < result.Length; i++)
        {
            var index = ReferenceIndexing.Unravel(i, shape);
            int position = offset;
            for (int a = 0; a < shape.Length; a++) position += index[a] * strides[a];
            result[i] = source[position];
        }
        return result;
    }
}
