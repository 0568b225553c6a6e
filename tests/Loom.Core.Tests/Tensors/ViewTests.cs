namespace Loom.Tests.Tensors;

public class ViewTests
{
    [Fact]
    public void Transpose_shares_storage_and_swaps_strides()
    {
        var x = Tensor.Arange(0, 6, 1, DType.Float32).Reshape(2, 3);
        var t = x.Transpose(0, 1);
        Assert.Same(x.Storage, t.Storage);
        Assert.Equal(new Shape(3, 2), t.Shape);
        Assert.False(t.IsContiguous);
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, t.ToArray<float>());
    }

    [Fact]
    public void Slice_with_step_and_negative_bounds_matches_python_slicing()
    {
        var x = Tensor.Arange(0, 10, 1, DType.Int32);
        Assert.Equal(new[] { 1, 4, 7 }, x.Slice(0, 1, 9, 3).ToArray<int>());
        Assert.Equal(new[] { 7, 8 }, x.Slice(0, -3, -1).ToArray<int>());
        Assert.Empty(x.Slice(0, 5, 2).ToArray<int>());
        Assert.Equal(new[] { 8, 9 }, x.Slice(0, 8, 100).ToArray<int>());
    }

    [Fact]
    public void Expand_uses_stride_zero_and_reshape_of_expanded_copies()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }, 3, 1);
        var e = x.Expand(2, 3, 4);
        Assert.Equal(new Shape(2, 3, 4), e.Shape);
        Assert.Equal(0, e.Strides[0]);
        Assert.Equal(0, e.Strides[2]);
        var flat = e.Reshape(-1).ToArray<float>();
        Assert.Equal(24, flat.Length);
        Assert.Equal(1, flat[0]);
        Assert.Equal(2, flat[4]);
        Assert.Equal(3, flat[23]);
    }

    [Fact]
    public void Expand_of_incompatible_size_names_both_shapes()
    {
        var x = Tensor.Zeros(2, 3);
        TensorAssert.Throws<ArgumentException>(() => x.Expand(4, 3), "expand", "[2, 3]", "[4, 3]");
    }

    [Fact]
    public void Reshape_infers_minus_one_and_rejects_bad_sizes()
    {
        var x = Tensor.Zeros(4, 6);
        Assert.Equal(new Shape(3, 8), x.Reshape(3, -1).Shape);
        TensorAssert.Throws<ArgumentException>(() => x.Reshape(5, -1), "reshape", "[4, 6]");
        TensorAssert.Throws<ArgumentException>(() => x.Reshape(-1, -1), "reshape");
    }

    [Fact]
    public void View_of_non_contiguous_tensor_is_refused()
    {
        var x = Tensor.Zeros(4, 6).Transpose(0, 1);
        TensorAssert.Throws<InvalidOperationException>(() => x.View(24), "view", "not contiguous");
    }

    [Fact]
    public void Squeeze_unsqueeze_select_and_permute_round_trip()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 1, 3);
        Assert.Equal(new Shape(2, 3), x.Squeeze().Shape);
        Assert.Equal(new Shape(2, 1, 1, 3), x.Unsqueeze(-2).Shape);
        Assert.Equal(new Shape(1, 3), x.Select(0, 1).Shape);
        var p = x.Permute(2, 0, 1);
        Assert.Equal(new Shape(3, 2, 1), p.Shape);
        TensorAssert.Close(x, p.Permute(1, 2, 0));
        TensorAssert.Throws<ArgumentException>(() => x.Permute(0, 0, 1), "permute", "repeats");
    }

    [Fact]
    public void Non_contiguous_helper_keeps_values()
    {
        var x = TestTensors.Randn(2, DType.Float64, 3, 5);
        var nc = TestTensors.NonContiguous(x);
        Assert.False(nc.IsContiguous);
        TensorAssert.Close(x, nc, 0, 0);
    }

    [Fact]
    public void SumToSize_reduces_broadcast_dimensions()
    {
        var g = Tensor.Ones(new Shape(2, 3, 4));
        Assert.Equal(new double[] { 8, 8, 8 }, g.SumToSize(new Shape(3, 1)).ToArray<double>());
        Assert.Equal(new double[] { 24 }, g.SumToSize(new Shape(1)).ToArray<double>());
    }

    [Fact]
    public void ToString_prints_like_pytorch()
    {
        var x = Tensor.FromArray(new float[] { 1, 2.5f, -3, 4 }, 2, 2);
        Assert.Equal("tensor([[1.0000, 2.5000],\n        [-3.0000, 4.0000]])", x.ToString());
        Assert.Equal("tensor([0, 1, 2])", Tensor.Arange(3).ToString());
        Assert.Equal("tensor([1., 2.], dtype=float64, requires_grad=True)", Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_().ToString());
    }
}
