namespace Loom.Tests.Autograd;

/// <summary>The autograd engine's contract: accumulation, graph shapes, modes and the errors that protect gradients.</summary>
public class EngineTests
{
    [Fact]
    public void Diamond_graph_sums_both_paths()
    {
        // y = a·b with a = 2x and b = x + 3, so dy/dx = 2b + a = 2(x + 3) + 2x = 4x + 6.
        var x = Tensor.FromArray(new double[] { 1, -2, 0.5 }).RequiresGrad_();
        var a = x.Mul(2);
        var b = x.Add(3);
        a.Mul(b).Sum().Backward();
        Assert.Equal(new double[] { 10, -2, 8 }, x.Grad!.ToArray<double>());
        TensorAssert.GradientsMatch(t => { var p = t[0].Mul(2); var q = t[0].Exp(); return p.Mul(q).Add(q.Sin()); }, TestTensors.Param(5, 4));
    }

    [Fact]
    public void A_reused_input_receives_the_sum_of_its_gradients()
    {
        // y = Σ x·x·x → dy/dx = 3x².
        var x = Tensor.FromArray(new double[] { 1, 2, -3 }).RequiresGrad_();
        x.Mul(x).Mul(x).Sum().Backward();
        Assert.Equal(new double[] { 3, 12, 27 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_cleared()
    {
        var x = Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_();
        x.Mul(3).Sum().Backward();
        x.Mul(3).Sum().Backward();
        Assert.Equal(new double[] { 6, 6 }, x.Grad!.ToArray<double>());
        x.Grad = null;
        x.Mul(3).Sum().Backward();
        Assert.Equal(new double[] { 3, 3 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Only_inputs_that_require_grad_get_gradients_and_detach_cuts_the_graph()
    {
        var x = Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_();
        var c = Tensor.FromArray(new double[] { 5, 7 });
        var y = x.Mul(c).Add(x.Detach().Mul(100));
        y.Sum().Backward();
        Assert.Equal(new double[] { 5, 7 }, x.Grad!.ToArray<double>());
        Assert.Null(c.Grad);
    }

    [Fact]
    public void No_grad_scope_records_nothing_and_nests()
    {
        var x = Tensor.FromArray(new double[] { 1 }).RequiresGrad_();
        using (new NoGrad())
        {
            using (new NoGrad()) Assert.False(GradMode.IsEnabled);
            Assert.False(GradMode.IsEnabled);
            Assert.Null(x.Exp().GradFn);
        }
        Assert.True(GradMode.IsEnabled);
        Assert.NotNull(x.Exp().GradFn);
    }

    [Fact]
    public void Changing_a_saved_tensor_in_place_is_an_error_naming_the_versions()
    {
        var x = Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_();
        var y = x.Exp();   // exp saves its output for backward
        var z = y.Exp();   // and so does this one, saving y
        using (new NoGrad()) y.MulInPlace(2);
        TensorAssert.Throws<InvalidOperationException>(() => z.Sum().Backward(), "exp", "in-place", "version");
    }

    [Fact]
    public void Backward_through_a_freed_graph_is_an_error_unless_retained()
    {
        var x = Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_();
        var y = x.Exp().Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        TensorAssert.Close(x.Exp().Mul(2).Detach(), x.Grad!, 1e-12, 1e-12);
        TensorAssert.Throws<InvalidOperationException>(() => y.Backward(), "second time", "retainGraph");
    }

    [Fact]
    public void Explicit_gradient_must_match_the_output_shape()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3 }).RequiresGrad_();
        var y = x.Mul(2);
        TensorAssert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(new Shape(2), DType.Float64)), "[2]", "[3]");
        y.Backward(Tensor.FromArray(new double[] { 1, 0, -1 }));
        Assert.Equal(new double[] { 2, 0, -2 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void A_long_chain_does_not_overflow_the_stack()
    {
        var x = Tensor.FromArray(new double[] { 0.5 }).RequiresGrad_();
        var y = x;
        for (int i = 0; i < 20_000; i++) y = y.Add(1e-4);
        y.Sum().Backward();
        Assert.Equal(1, x.Grad!.Item(), 12);
    }
}
