using Loom.Memory;

namespace Loom.Tests.Autograd;

/// <summary>
/// An empty batch must flow through forward and backward like any other: zero-size views can have offsets past the
/// end of their (empty) storage, which once read as "storage returned to the buffer pool".
/// </summary>
public class ZeroSizeGradTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Select_of_an_empty_batch_passes_an_empty_gradient_back(DType dtype)
    {
        var x = Tensor.Zeros(new Shape(0, 3, 4), dtype).RequiresGrad_();
        var y = x.Select(1, 2).Mul(2.0).Sum();
        y.Backward();
        Assert.Equal(new Shape(0, 3, 4), x.Grad!.Shape);
    }

    [Fact]
    public void Select_of_a_time_step_of_an_empty_batch_reads_and_backpropagates()
    {
        // [T, B, C] with B = 0, as an RNN over an empty batch: step t is a contiguous [0, C] view at offset t·C.
        var x = Tensor.Zeros(new Shape(3, 0, 4), DType.Float64).RequiresGrad_();
        for (int t = 0; t < 3; t++)
        {
            var step = x.Select(0, t);
            Assert.Empty(step.ToArray<double>());
            step.Tanh().Mul(step).Sum().Backward();
        }
        Assert.Equal(x.Shape, x.Grad!.Shape);
    }

    [Fact]
    public void Select_along_an_axis_after_an_empty_one_has_an_empty_gradient()
    {
        // Shape [2, 0]: Select(0, 1) puts the view's offset at 1, past the end of the empty storage.
        var x = Tensor.Zeros(new Shape(2, 0), DType.Float64).RequiresGrad_();
        var y = x.Select(0, 1);
        Assert.Equal(0, y.Numel);
        Assert.Empty(y.Contiguous().ToArray<double>());
        y.Sum().Backward();
        Assert.Equal(new Shape(2, 0), x.Grad!.Shape);
    }

    [Fact]
    public void Stack_of_empty_tensors_passes_gradients_back_to_each()
    {
        var a = Tensor.Zeros(new Shape(0, 5), DType.Float32).RequiresGrad_();
        var b = Tensor.Zeros(new Shape(0, 5), DType.Float32).RequiresGrad_();
        var stacked = Tensor.Stack([a, b], axis: 1); // [0, 2, 5]
        Assert.Equal(new Shape(0, 2, 5), stacked.Shape);
        stacked.Select(1, 1).Relu().Sum().Backward();
        Assert.Equal(a.Shape, a.Grad!.Shape);
        Assert.Equal(b.Shape, b.Grad!.Shape);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(0, 5)]
    public void Stack_along_each_axis_of_empty_tensors_passes_gradients_back(int rows, int cols)
    {
        for (int axis = 0; axis <= 2; axis++)
        {
            var steps = new[] { Tensor.Zeros(new Shape(rows, cols), DType.Float64).RequiresGrad_(), Tensor.Zeros(new Shape(rows, cols), DType.Float64).RequiresGrad_() };
            var y = Tensor.Stack(steps, axis);
            y.Mul(y).Sum().Backward();
            foreach (var s in steps) Assert.Equal(new Shape(rows, cols), s.Grad!.Shape);
        }
    }

    [Fact]
    public void Empty_batch_through_a_chain_inside_a_memory_scope_backpropagates()
    {
        var w = Tensor.Randn(new Shape(4, 3)).RequiresGrad_();
        using (new MemoryScope())
        {
            var x = Tensor.Zeros(new Shape(0, 2, 4));
            var h = Tensor.Stack([x.Select(1, 0).Matmul(w), x.Select(1, 1).Matmul(w)], axis: 1).Tanh(); // [0, 2, 3]
            h.Select(1, -1).Sum().Backward();
        }
        TensorAssert.Close(Tensor.Zeros(new Shape(4, 3)), w.Grad!, 0, 0);
    }
}
