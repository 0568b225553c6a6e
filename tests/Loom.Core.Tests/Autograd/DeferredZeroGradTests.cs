namespace Loom.Tests.Autograd;

// ZeroGrad(setToNone: false) keeps each gradient's array but writes no zeros: the next backward's first contribution
// overwrites the array (a linear layer's weight-gradient GEMM with beta = 0, the engine's copy, the embedding's
// scatter after clearing) and later ones add to it. These tests put garbage in the arrays first, so a contribution that
// added to a stale array, or a later one that overwrote an earlier one, changes the result.
public class DeferredZeroGradTests
{
    private static readonly Tensor Indices = Tensor.FromArray(new long[] { 3, 0, 3, 1 }, 2, 2);
    private static readonly Tensor X1 = TestTensors.Randn(11, DType.Float64, 4, 3);
    private static readonly Tensor X2 = TestTensors.Randn(12, DType.Float64, 2, 3, 3);
    private static readonly Tensor Scale = TestTensors.Randn(13, DType.Float64, 5, 3);

    // w [5, 3] is used five times: two linear layers (one with b), the tied logits of a GPT (h · wᵀ), an embedding
    // table, and an elementwise product (its gradient reaches w through the engine's accumulation).
    private static Tensor Loss(Tensor w, Tensor b)
    {
        var h = Functional.Embedding(Indices, w);                              // [2, 2, 3]
        var logits = Functional.Linear(h, w);                                  // [2, 2, 5]
        var a = Functional.Linear(X1, w, b, Activation.Tanh);                  // [4, 5]
        var c = Functional.Linear(X2, w, b);                                   // [2, 3, 5]
        return logits.Square().Sum().Add(a.Sum()).Add(c.Square().Mean()).Add(w.Mul(Scale).Sum());
    }

    private static (Tensor W, Tensor B) Leaves() =>
        (TestTensors.Randn(1, DType.Float64, 5, 3).RequiresGrad_(), TestTensors.Randn(2, DType.Float64, 5).RequiresGrad_());

    [Fact]
    public void After_zero_grad_backward_overwrites_the_kept_array_with_the_fresh_gradient()
    {
        var (w, b) = Leaves();
        Loss(w, b).Backward();
        var (expectedW, expectedB) = (w.Grad!.Clone(), b.Grad!.Clone()); // from no gradient at all

        var (arrayW, arrayB) = (TestTensors.Randn(3, DType.Float64, 5, 3), TestTensors.Randn(4, DType.Float64, 5));
        (w.Grad, b.Grad) = (arrayW, arrayB);
        w.ZeroGrad(setToNone: false);
        b.ZeroGrad(setToNone: false);
        Loss(w, b).Backward();

        Assert.Same(arrayW, w.Grad);
        Assert.Same(arrayB, b.Grad);
        TensorAssert.Close(expectedW, w.Grad, 1e-13, 1e-13);
        TensorAssert.Close(expectedB, b.Grad, 1e-13, 1e-13);
    }

    [Fact]
    public void Without_zero_grad_backward_adds_to_the_existing_array()
    {
        var (w, b) = Leaves();
        Loss(w, b).Backward();
        var (onceW, onceB) = (w.Grad!.Clone(), b.Grad!.Clone());
        Loss(w, b).Backward();
        TensorAssert.Close(onceW.Mul(2.0), w.Grad!, 1e-13, 1e-13);
        TensorAssert.Close(onceB.Mul(2.0), b.Grad!, 1e-13, 1e-13);
    }

    [Fact]
    public void Each_zero_grad_starts_a_new_sum_over_the_following_backwards()
    {
        var (w, b) = Leaves();
        Loss(w, b).Backward();
        var once = w.Grad!.Clone();
        for (int step = 0; step < 3; step++)
        {
            w.ZeroGrad(setToNone: false);
            Loss(w, b).Backward();
            Loss(w, b).Backward();
            TensorAssert.Close(once.Mul(2.0), w.Grad!, 1e-13, 1e-13);
        }
    }

    [Fact]
    public void A_gradient_no_backward_reached_reads_as_zeros()
    {
        var (w, b) = Leaves();
        var unused = TestTensors.Randn(5, DType.Float64, 3).RequiresGrad_();
        unused.Grad = TestTensors.Randn(6, DType.Float64, 3);
        var array = unused.Grad;
        unused.ZeroGrad(setToNone: false);
        Loss(w, b).Backward();
        Assert.Same(array, unused.Grad);
        Assert.Equal([0.0, 0, 0], unused.Grad!.ToArray<double>());
    }

    [Fact]
    public void Zero_grad_counts_as_a_write_for_a_graph_that_saved_the_gradient()
    {
        // The zeros are not written, but the values changed: a graph over the old gradient must refuse to backward.
        var p = Tensor.FromArray([1.0, 2]).RequiresGrad_();
        p.Grad = Tensor.FromArray([3.0, 4]);
        var q = Tensor.FromArray([5.0, 6]).RequiresGrad_();
        var loss = q.Mul(p.Grad).Sum();
        p.ZeroGrad(setToNone: false);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mul", "modified by an in-place operation");
    }

    [Fact]
    public void Zero_grad_drops_a_strided_gradient_and_set_to_none_drops_any()
    {
        var p = Tensor.Zeros(3).RequiresGrad_();
        p.Grad = Tensor.Ones(3, 2).Select(1, 0);
        p.ZeroGrad(setToNone: false);
        Assert.Null(p.Grad);
        p.Grad = Tensor.Ones(3);
        p.ZeroGrad();
        Assert.Null(p.Grad);
    }
}
