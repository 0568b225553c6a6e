namespace Loom.Tests.Autograd;

/// <summary>
/// Post-accumulate-grad hooks: called once per backward, when the leaf's gradient is final, and before the rest of
/// the graph has run when the leaf was used late in the forward (what lets data parallelism overlap its reductions).
/// </summary>
public class GradHookTests
{
    [Fact]
    public void A_hook_sees_the_whole_gradient_of_a_leaf_used_twice_and_runs_once()
    {
        var w = TestTensors.Param(1, 3);
        var (x, y) = (TestTensors.Randn(2, DType.Float64, 3), TestTensors.Randn(3, DType.Float64, 3));
        var seen = new List<double[]>();
        using var _ = w.RegisterPostAccumulateGradHook(t => seen.Add(t.Grad!.ToArray<double>()));
        w.Mul(x).Add(w.Mul(y).Tanh()).Sum().Backward();
        Assert.Single(seen);
        Assert.Equal(w.Grad!.ToArray<double>(), seen[0]);
    }

    [Fact]
    public void A_leaf_used_late_in_the_forward_is_ready_before_one_used_early()
    {
        var (a, b) = (TestTensors.Param(4, 5), TestTensors.Param(5, 5));
        var x = TestTensors.Randn(6, DType.Float64, 5);
        var order = new List<string>();
        bool aHadGradWhenBWasReady = true;
        using var ha = a.RegisterPostAccumulateGradHook(_ => order.Add("a"));
        using var hb = b.RegisterPostAccumulateGradHook(_ => { order.Add("b"); aHadGradWhenBWasReady = a.Grad is not null; });
        x.Mul(a).Tanh().Mul(b).Tanh().Sum().Backward();
        Assert.Equal(["b", "a"], order);
        Assert.False(aHadGradWhenBWasReady);
    }

    [Fact]
    public void Every_backward_calls_the_hook_again_and_a_disposed_hook_is_not_called()
    {
        var w = TestTensors.Param(7, 2);
        int calls = 0;
        var handle = w.RegisterPostAccumulateGradHook(_ => calls++);
        w.Mul(3).Sum().Backward();
        w.Mul(3).Sum().Backward();
        Assert.Equal(2, calls);
        handle.Dispose();
        handle.Dispose();
        w.Mul(3).Sum().Backward();
        Assert.Equal(2, calls);
    }

    [Fact]
    public void A_leaf_that_is_the_root_runs_its_hook()
    {
        var w = Tensor.FromArray(new[] { 2.0 }).RequiresGrad_();
        int calls = 0;
        using var _ = w.RegisterPostAccumulateGradHook(_ => calls++);
        w.Backward();
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Only_leaves_take_hooks()
    {
        var w = TestTensors.Param(8, 2);
        var ex = Assert.Throws<InvalidOperationException>(() => w.Mul(2).RegisterPostAccumulateGradHook(_ => { }));
        Assert.Contains("leaf", ex.Message);
    }
}
