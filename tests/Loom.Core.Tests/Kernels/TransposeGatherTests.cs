using Loom.Tests.Indexing;

namespace Loom.Tests.Kernels;

/// <summary>
/// Contiguous() of views whose last two axes are swapped goes through the cache-blocked transpose
/// (TransposeKernels); every layout must match the element-by-element reference gather bit for bit.
/// </summary>
[Collection(GlobalSettings.Name)]
public class TransposeGatherTests
{
    private static readonly int[] Sizes = [1, 2, 7, 8, 16, 17, 33, 65];

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Transposed_matrix_copies_match_reference_on_odd_sizes(DType dtype)
    {
        foreach (int rows in Sizes)
            foreach (int cols in Sizes)
                AssertGathers(Samples.Of(rows * 31 + cols, dtype, cols, rows).Transpose(0, 1));
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.UInt8)]
    public void Batched_transposes_with_strided_leading_axes_match_reference(DType dtype)
    {
        // [3, 4, 33, 17] read as [4, 3, 17, 33]: leading axes permuted too, so matrices are not evenly spaced.
        AssertGathers(Samples.Of(1, dtype, 3, 4, 33, 17).Permute(1, 0, 3, 2));
        // Attention's kᵀ: [B, H, T, D] → [B, H, D, T].
        AssertGathers(Samples.Of(2, dtype, 2, 4, 65, 16).Transpose(-2, -1));
        // Channels last: [C, H, W] → [H, W, C], whose last two axes are (W, C) with unit stride along W.
        AssertGathers(Samples.Of(3, dtype, 17, 5, 33).Permute(1, 2, 0));
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    public void Transposes_of_slices_and_flips_match_reference(DType dtype)
    {
        var x = Samples.Of(4, dtype, 40, 70);
        AssertGathers(x.Narrow(1, 3, 33).Transpose(0, 1));               // source rows further apart than their length
        AssertGathers(x.Narrow(0, 5, 33).Transpose(0, 1));               // a starting offset
        AssertGathers(x.Slice(1, 1, 70, 2).Transpose(0, 1));             // stride 2 between source rows' elements: not the transposed layout
        AssertGathers(x.Transpose(0, 1).Flip(1));                        // negative stride between source rows
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Large_transposes_split_across_threads_match_reference(int threads)
    {
        GlobalSettings.WithThreads(threads, () =>
        {
            AssertGathers(Samples.Of(5, DType.Float32, 700, 300).Transpose(0, 1));
            AssertGathers(Samples.Of(6, DType.Float64, 3, 257, 513).Transpose(1, 2));
        });
    }

    [Fact]
    public void Backward_of_a_transposed_copy_is_the_transposed_gradient()
    {
        var x = Testing.TestTensors.Param(7, 17, 33);
        Testing.TensorAssert.GradientsMatch(t => t[0].Transpose(0, 1).Contiguous().Mul(t[0].Transpose(0, 1)), x);
    }

    private static void AssertGathers(Tensor view)
    {
        var expected = view.DType switch
        {
            DType.Float32 => Reference<float>(view),
            DType.Float64 => Reference<double>(view),
            DType.Int32 => Reference<int>(view),
            DType.Int64 => Reference<long>(view),
            DType.UInt8 => Reference<byte>(view),
            DType.Int8 => Reference<sbyte>(view),
            _ => Reference<bool>(view),
        };
        var actual = view.Contiguous();
        Assert.True(actual.IsContiguous);
        Assert.Equal(view.Shape, actual.Shape);
        Assert.Equal(expected, Samples.Values(actual));
    }

    private static double[] Reference<T>(Tensor view) where T : unmanaged =>
        Tensor.FromArray(ReferenceStrided.Gather(view.Array<T>(), view.Offset, view.Shape.ToArray(), view.Strides.ToArray()), view.Shape.Rank == 0 ? [] : view.Shape.ToArray())
            .ToArray<double>();
}
