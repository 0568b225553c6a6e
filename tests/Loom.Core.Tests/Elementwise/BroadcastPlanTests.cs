namespace Loom.Tests.Elementwise;

public class BroadcastPlanTests
{
    [Fact]
    public void Bias_add_merges_the_leading_dimensions_into_rows_of_the_bias_length()
    {
        var x = Tensor.Zeros(4, 5, 6);
        var bias = Tensor.Zeros(6);
        var plan = new BroadcastPlan(x.Shape, x, bias);
        Assert.Equal(new[] { 20, 6 }, plan.Dims.ToArray());
        Assert.Equal(20, plan.Rows);
        Assert.Equal(1, plan.InnerStride(0));
        Assert.Equal(1, plan.InnerStride(1));
    }

    [Fact]
    public void Same_layout_operands_collapse_to_one_row()
    {
        var x = Tensor.Zeros(3, 1, 7);
        var plan = new BroadcastPlan(x.Shape, x, Tensor.Zeros(3, 1, 7));
        Assert.Equal(new[] { 21 }, plan.Dims.ToArray());
        Assert.Equal(1, plan.Rows);
    }

    [Fact]
    public void Column_broadcast_gives_a_scalar_per_row()
    {
        var shape = new Shape(3, 4);
        var plan = new BroadcastPlan(shape, Tensor.Zeros(3, 1), Tensor.Zeros(1, 4));
        Assert.Equal(new[] { 3, 4 }, plan.Dims.ToArray());
        Assert.Equal(0, plan.InnerStride(0));
        Assert.Equal(1, plan.InnerStride(1));
        var cursor = plan.Seek(2);
        Assert.Equal(2, cursor.Offset(0));
        Assert.Equal(0, cursor.Offset(1));
    }

    [Fact]
    public void Cursor_walks_rows_of_a_transposed_view_in_row_major_order()
    {
        var t = Tensor.Zeros(2, 3, 4).Transpose(0, 1); // shape [3, 2, 4], strides [4, 12, 1]: nothing merges
        var plan = new BroadcastPlan(t.Shape, t);
        Assert.Equal(new[] { 3, 2, 4 }, plan.Dims.ToArray());
        var cursor = plan.Seek(0);
        var offsets = new List<int>();
        for (int r = 0; r < plan.Rows; r++, cursor.Next()) offsets.Add(cursor.Offset(0));
        Assert.Equal(new[] { 0, 12, 4, 16, 8, 20 }, offsets);
        Assert.Equal(16, plan.Seek(3).Offset(0));
    }

    [Fact]
    public void Permuted_dimensions_that_stay_adjacent_in_memory_merge()
    {
        var t = Tensor.Zeros(2, 3, 4).Permute(2, 0, 1); // shape [4, 2, 3], strides [1, 12, 4]: the last two merge
        var plan = new BroadcastPlan(t.Shape, t);
        Assert.Equal(new[] { 4, 6 }, plan.Dims.ToArray());
        Assert.Equal(4, plan.InnerStride(0));
        Assert.Equal(3, plan.Seek(3).Offset(0));
    }
}
