namespace Loom.Tests.Indexing;

/// <summary>Backward of every differentiable op in the area, checked against central differences in float64.</summary>
public class IndexingGradTests
{
    private static Tensor Longs(params long[] values) => Tensor.FromArray(values);

    [Fact]
    public void Cat_sends_each_slice_of_the_gradient_to_its_input()
    {
        var a = TestTensors.Param(1, 2, 3);
        var b = TestTensors.Param(2, 2, 1);
        var constant = TestTensors.Randn(3, DType.Float64, 2, 2);
        TensorAssert.GradientsMatch(t => Tensor.Cat([t[0], t[1], constant, t[0]], 1), a, b);
        TensorAssert.GradientsMatch(t => Tensor.Cat([t[0].Transpose(0, 1), t[1].Transpose(0, 1)], 0), a, b);
    }

    [Fact]
    public void Stack_gradients_match()
    {
        var a = TestTensors.Param(1, 2, 3);
        var b = TestTensors.Param(2, 2, 3);
        TensorAssert.GradientsMatch(t => Tensor.Stack([t[0], t[1]], 1), a, b);
        TensorAssert.GradientsMatch(t => Tensor.Stack([t[1], t[0], t[1]], -1), a, b);
    }

    [Fact]
    public void Split_and_chunk_gradients_reach_every_piece()
    {
        var x = TestTensors.Param(1, 7, 2);
        TensorAssert.GradientsMatch(t => { var p = t[0].Split(3); return Tensor.Cat([p[2], p[0], p[0]]); }, x);
        TensorAssert.GradientsMatch(t => { var p = t[0].Split([1, 4, 2]); return Tensor.Cat([p[1], p[2]]); }, x);
        TensorAssert.GradientsMatch(t => { var p = t[0].Chunk(2, 1); return Tensor.Cat([p[1], p[0]], 0); }, x);
    }

    [Fact]
    public void Repeat_gradient_sums_over_the_copies()
    {
        var x = TestTensors.Param(1, 2, 3);
        TensorAssert.GradientsMatch(t => t[0].Repeat(2, 1, 2), x);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 1).Repeat(1, 3), x);
        var y = TestTensors.Param(2, 3).Repeat(2, 2);
        y.Backward(Tensor.Ones(y.Shape, DType.Float64));
    }

    [Fact]
    public void Flip_gradient_flips_back()
    {
        var x = TestTensors.Param(1, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].Flip(0, 1), x);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 1).Flip(-1), x);
    }

    [Fact]
    public void IndexSelect_gradient_accumulates_repeated_indices()
    {
        var x = TestTensors.Param(1, 4, 3);
        TensorAssert.GradientsMatch(t => t[0].IndexSelect(0, Longs(3, 0, 3, 3, 1)), x);
        TensorAssert.GradientsMatch(t => t[0].IndexSelect(1, Tensor.FromArray(new[] { 2, 2, 0 })), x);

        var v = TestTensors.Param(2, 3);
        v.IndexSelect(0, Longs(0, 0, 2, 0)).Backward(Tensor.Ones(new Shape(4), DType.Float64));
        Assert.Equal(new double[] { 3, 0, 1 }, v.Grad!.ToArray<double>());
    }

    [Fact]
    public void IndexAdd_gradients_reach_self_and_source()
    {
        var self = TestTensors.Param(1, 4, 3);
        var source = TestTensors.Param(2, 4, 5);
        var index = Tensor.FromArray(new long[] { 2, 0, 2, 2, 1 });
        TensorAssert.GradientsMatch(t => t[0].IndexAdd(1, index, t[1]), self, source);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 1).IndexAdd(0, Tensor.FromArray(new[] { 1, 1 }), t[1].Narrow(1, 0, 4).Transpose(0, 1).Narrow(0, 0, 2)), self, source);
    }

    [Fact]
    public void Gather_gradient_accumulates_repeated_indices()
    {
        var x = TestTensors.Param(1, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].Gather(1, Tensor.FromArray(new long[] { 0, 0, 3, 1, 1, 1, 2, 0, 2 }, 3, 3)), x);
        TensorAssert.GradientsMatch(t => t[0].Gather(0, Tensor.FromArray(new long[] { 2, 2, 0 }, 3, 1)), x);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 1).Gather(0, Tensor.FromArray(new long[] { 3, 3, 3, 0, 1, 2 }, 2, 3)), x);
    }

    [Fact]
    public void ScatterAdd_gradients_reach_self_and_source()
    {
        var self = TestTensors.Param(1, 3, 4);
        var source = TestTensors.Param(2, 3, 5);
        var index = Tensor.FromArray(new long[] { 0, 0, 3, 1, 1, 1, 2, 0 }, 2, 4);
        TensorAssert.GradientsMatch(t => t[0].ScatterAdd(1, index, t[1]), self, source);
        TensorAssert.GradientsMatch(t => t[0].ScatterAdd(0, Tensor.FromArray(new long[] { 2, 2, 0, 1 }, 1, 4), t[1]), self, source);
        var constant = TestTensors.Randn(3, DType.Float64, 3, 5);
        TensorAssert.GradientsMatch(t => t[0].ScatterAdd(1, index, constant), self);
        TensorAssert.GradientsMatch(t => Tensor.Zeros(new Shape(3, 4), DType.Float64).ScatterAdd(1, index, t[0]), source);
    }

    [Fact]
    public void MaskedSelect_gradient_scatters_back_and_sums_broadcasts()
    {
        var x = TestTensors.Param(1, 3, 4);
        var mask = Samples.Mask(2, 0.5, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].MaskedSelect(mask), x);
        var row = TestTensors.Param(3, 1, 4);
        TensorAssert.GradientsMatch(t => t[0].MaskedSelect(mask), row);
    }

    [Fact]
    public void MaskedFill_and_MaskedScatter_gradients_match()
    {
        var x = TestTensors.Param(1, 2, 3, 4);
        var mask = Samples.Mask(2, 0.5, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].MaskedFill(mask, 5), x);
        var source = TestTensors.Param(3, 5, 6);
        TensorAssert.GradientsMatch(t => t[0].MaskedScatter(mask, t[1]), x, source);
    }

    [Fact]
    public void Tril_and_Triu_gradients_keep_the_same_triangle()
    {
        var x = TestTensors.Param(1, 2, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].Tril(), x);
        TensorAssert.GradientsMatch(t => t[0].Triu(1), x);
        TensorAssert.GradientsMatch(t => t[0].Transpose(1, 2).Tril(-1), x);
    }

    [Fact]
    public void Sort_and_TopK_gradients_go_to_the_chosen_positions()
    {
        var x = TestTensors.Param(1, 3, 5);
        TensorAssert.GradientsMatch(t => t[0].Sort(1).Values, x);
        TensorAssert.GradientsMatch(t => t[0].Sort(0, descending: true).Values, x);
        TensorAssert.GradientsMatch(t => t[0].TopK(2).Values, x);
        TensorAssert.GradientsMatch(t => t[0].TopK(2, 0, largest: false, sorted: false).Values, x);
    }

    [Fact]
    public void Indices_carry_no_gradient()
    {
        var x = TestTensors.Param(1, 3, 5);
        var (values, indices) = x.TopK(2);
        Assert.True(values.RequiresGrad);
        Assert.False(indices.RequiresGrad);
        Assert.Equal("topkBackward", values.GradFn!.ToString());
    }
}
