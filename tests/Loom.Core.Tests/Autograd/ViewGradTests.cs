namespace Loom.Tests.Autograd;

public class ViewGradTests
{
    [Fact]
    public void View_ops_pass_gradients_back()
    {
        var x = TestTensors.Param(3, 2, 3, 4);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 2).Slice(1, 0, 3, 2).Reshape(-1).Narrow(0, 1, 5), x);
        TensorAssert.GradientsMatch(t => t[0].Select(1, -1).Unsqueeze(0).Expand(3, 2, 4).Contiguous(), x);
        TensorAssert.GradientsMatch(t => t[0].Permute(1, 2, 0).SumToSize(new Shape(3, 1, 2)), x);
    }

    [Fact]
    public void Second_backward_through_freed_graph_is_an_error()
    {
        var x = TestTensors.Param(1, 3);
        var y = x.Expand(2, 3).SumToSize(new Shape(1));
        y.Backward();
        TensorAssert.Throws<InvalidOperationException>(() => y.Backward(), "second time", "retainGraph");
    }

    [Fact]
    public void Retained_graph_accumulates_gradients_twice()
    {
        var x = TestTensors.Param(1, 3);
        var y = x.Expand(2, 3).SumToSize(new Shape(1));
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(new double[] { 4, 4, 4 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void NoGrad_records_nothing()
    {
        var x = TestTensors.Param(1, 3);
        using (new NoGrad())
        {
            var y = x.Expand(2, 3);
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
        }
        Assert.NotNull(x.Expand(2, 3).GradFn);
    }

    [Fact]
    public void In_place_change_of_a_leaf_that_requires_grad_is_refused()
    {
        var x = TestTensors.Param(1, 3);
        TensorAssert.Throws<InvalidOperationException>(() => x.CopyFrom(Tensor.Zeros(new Shape(3), DType.Float64)), "leaf", "in place");
    }

    [Fact]
    public void Backward_of_non_scalar_without_gradient_is_an_error()
    {
        var x = TestTensors.Param(1, 3);
        TensorAssert.Throws<ArgumentException>(() => x.Expand(2, 3).Backward(), "scalar", "[2, 3]");
    }
}
