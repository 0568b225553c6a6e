namespace Loom.Tests.Autograd;

/// <summary>
/// The public element access that code outside Loom.Core (optimisers, clipping, weight constraints, caches) writes
/// through: <see cref="Tensor.AsSpan{T}"/> counts as an in-place write for autograd's version check,
/// <see cref="Tensor.AsReadOnlySpan{T}"/> does not, and both refuse what they cannot do safely.
/// </summary>
public class SpanAccessTests
{
    [Fact]
    public void Writing_a_tensor_saved_for_backward_through_AsSpan_makes_backward_fail()
    {
        var w = Tensor.FromArray([1.0, 2, 3]).RequiresGrad_();
        var x = Tensor.FromArray([0.5, -1, 2]);
        var loss = (w * x).Sum(); // mul saves x for w's gradient
        x.AsSpan<double>()[1] = 10;
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mul", "modified by an in-place operation");
    }

    [Fact]
    public void Writing_a_parameter_inside_NoGrad_after_its_use_is_caught_as_an_optimiser_step_would_be()
    {
        var w = Tensor.FromArray([1.0, 2, 3]).RequiresGrad_();
        var loss = w.Square().Sum(); // square saves w itself
        int version = w.Storage.Version;
        using (new NoGrad()) w.AsSpan<double>()[0] -= 0.1;
        Assert.Equal(version + 1, w.Storage.Version);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "modified by an in-place operation");
    }

    [Fact]
    public void Reading_through_AsReadOnlySpan_leaves_the_version_and_backward_intact()
    {
        var w = Tensor.FromArray([1.0, 2, 3]).RequiresGrad_();
        var loss = w.Square().Sum();
        int version = w.Storage.Version;
        Assert.Equal([1.0, 2, 3], w.AsReadOnlySpan<double>().ToArray());
        Assert.Equal(version, w.Storage.Version);
        loss.Backward();
        Assert.Equal([2.0, 4, 6], w.Grad!.ToArray<double>());
    }

    [Fact]
    public void A_tensor_that_requires_grad_is_writable_only_with_grad_mode_off()
    {
        var w = Tensor.FromArray([1f, 2f]).RequiresGrad_();
        TensorAssert.Throws<InvalidOperationException>(() => w.AsSpan<float>(), "AsSpan", "leaf tensor that requires grad", "NoGrad");
        var y = w * 2;
        TensorAssert.Throws<InvalidOperationException>(() => y.AsSpan<float>(), "AsSpan", "produced by mul");
        using (new NoGrad()) w.AsSpan<float>().Fill(5);
        Assert.Equal([5f, 5f], w.ToArray<float>());
    }

    [Fact]
    public void Strided_views_and_the_wrong_element_type_are_rejected()
    {
        var x = Tensor.Zeros(3, 4);
        var columns = x.Transpose(0, 1);
        TensorAssert.Throws<InvalidOperationException>(() => columns.AsSpan<float>(), "AsSpan", "contiguous", "[4, 3]", "Contiguous()");
        TensorAssert.Throws<InvalidOperationException>(() => columns.AsReadOnlySpan<float>(), "AsReadOnlySpan", "contiguous");
        TensorAssert.Throws<InvalidOperationException>(() => x.AsSpan<double>(), "float32", "float64");
        TensorAssert.Throws<InvalidOperationException>(() => x.AsReadOnlySpan<int>(), "float32", "int32");
        // A contiguous slice is fine and covers exactly its own elements.
        x.Narrow(0, 1, 1).AsSpan<float>().Fill(1);
        Assert.Equal(4, x.Sum().Item());
        Assert.Equal(4, x.Select(0, 1).Sum().Item());
    }

    /// <summary>A custom op written as code outside Core writes one: y = 3x with its own backward.</summary>
    private sealed class TripleBackward(Tensor x) : BackwardNode("triple", x)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput * 3];

        public static Tensor Triple(Tensor x)
        {
            Tensor y;
            using (new NoGrad()) y = x * 3;
            return GradMode.ShouldRecord(x) ? new TripleBackward(x).Attach(y) : y;
        }
    }

    [Fact]
    public void A_custom_backward_node_attaches_to_a_fresh_output_only()
    {
        var x = TestTensors.Param(1, 4);
        TensorAssert.GradientsMatch(t => TripleBackward.Triple(t[0]).Square(), x);
        var y = TripleBackward.Triple(x);
        TensorAssert.Throws<InvalidOperationException>(() => new TripleBackward(x).Attach(y), "triple", "already requires grad", "produced by triple");
        TensorAssert.Throws<InvalidOperationException>(() => new TripleBackward(x).Attach(x), "triple", "already requires grad", "leaf");
        using (new NoGrad()) Assert.False(TripleBackward.Triple(x).RequiresGrad);
    }
}
