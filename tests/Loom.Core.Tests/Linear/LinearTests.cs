namespace Loom.Tests.Linear;

public class LinearTests
{
    // y = x · Wᵀ + b by definition, in float64.
    private static Tensor Oracle(Tensor x, Tensor w, Tensor? b)
    {
        var y = MatmulOracle.Matmul(x, w.Transpose(0, 1));
        if (b is null) return y;
        var yd = y.ToArray<double>();
        var bd = b.ToArray<double>();
        for (int i = 0; i < yd.Length; i++) yd[i] += bd[i % bd.Length];
        return Tensor.FromArray(yd, y.Shape.ToArray());
    }

    [Fact]
    public void Linear_matches_x_times_weight_transposed_plus_bias_on_odd_sizes()
    {
        foreach (int s in TestTensors.OddSizes)
        {
            var x = TestTensors.Randn(s, DType.Float32, 2, s, 7);
            var w = TestTensors.Randn(s + 1, DType.Float32, 17, 7);
            var b = TestTensors.Randn(s + 2, DType.Float32, 17);
            var y = Functional.Linear(x, w, b);
            Assert.Equal(new Shape(2, s, 17), y.Shape);
            TensorAssert.Close(Oracle(x, w, b), y, 1e-4, 1e-4);

            var wide = TestTensors.Randn(s + 3, DType.Float32, 3, s);
            TensorAssert.Close(Oracle(x.Transpose(1, 2), wide, null), Functional.Linear(x.Transpose(1, 2), wide), 1e-4, 1e-4);
        }
    }

    [Fact]
    public void Vector_input_and_noncontiguous_or_transposed_operands_give_the_same_result()
    {
        var w = TestTensors.Randn(1, DType.Float32, 4, 6);
        var b = TestTensors.Randn(2, DType.Float32, 4);
        var v = TestTensors.Randn(3, DType.Float32, 6);
        var y = Functional.Linear(v, w, b);
        Assert.Equal(new Shape(4), y.Shape);
        TensorAssert.Close(Oracle(v, w, b), y, 1e-5, 1e-5);

        var x = TestTensors.Randn(4, DType.Float32, 5, 6);
        var wT = TestTensors.Randn(5, DType.Float32, 6, 4).Transpose(0, 1); // tied-embedding style: W stored as [in, out]
        TensorAssert.Close(Oracle(x, wT, b), Functional.Linear(TestTensors.NonContiguous(x), wT, TestTensors.NonContiguous(b.Unsqueeze(0)).Squeeze(0)), 1e-5, 1e-5);
    }

    [Fact]
    public void Empty_batch_gives_an_empty_output()
    {
        var y = Functional.Linear(Tensor.Zeros(0, 3), Tensor.Ones(2, 3), Tensor.Ones(2));
        Assert.Equal(new Shape(0, 2), y.Shape);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 3, 4);
        var w = TestTensors.Param(2, 5, 4);
        var b = TestTensors.Param(3, 5);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], t[2]), x, w, b);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1]), x, w);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0].Transpose(0, 1), t[1]), x, w);
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], t[2]).Transpose(0, 2), x, w, b);
        // The output's gradient reaches the layer as a transposed view (dy stored by columns), which the bias
        // gradient's sums inside the weight gradient's GEMM do not take.
        TensorAssert.GradientsMatch(t => Functional.Linear(t[0], t[1], t[2]).Transpose(0, 1), TestTensors.Param(6, 3, 4), w, b);
    }

    [Fact]
    public void Weight_gradient_alone_is_computed_when_only_the_weight_requires_grad()
    {
        var x = TestTensors.Randn(1, DType.Float64, 6, 4);
        var w = TestTensors.Param(2, 3, 4);
        var b = TestTensors.Randn(3, DType.Float64, 3);
        var y = Functional.Linear(x, w, b);
        y.Backward(Tensor.Ones(y.Shape, DType.Float64));
        Assert.Null(x.Grad);
        Assert.Null(b.Grad);
        // dW = dyᵀ · x with dy = 1: every row of dW is the column sums of x.
        var colSums = new double[4];
        var xd = x.ToArray<double>();
        for (int i = 0; i < xd.Length; i++) colSums[i % 4] += xd[i];
        var dw = w.Grad!.ToArray<double>();
        for (int i = 0; i < dw.Length; i++) Assert.Equal(colSums[i % 4], dw[i], 12);
    }

    [Fact]
    public void Changing_the_saved_input_in_place_makes_backward_fail()
    {
        var x = TestTensors.Randn(1, DType.Float64, 6, 4);
        var w = TestTensors.Param(2, 3, 4);
        var y = Functional.Linear(x, w);
        x.CopyFrom(Tensor.Ones(new Shape(6, 4), DType.Float64));
        TensorAssert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Ones(y.Shape, DType.Float64)), "linear", "in-place");
    }

    [Fact]
    public void Mismatched_shapes_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)), "linear", "[2, 3]", "[4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(4, 5), Tensor.Zeros(3)), "linear", "[4]", "[3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(5)), "linear", "[5]", "2-D");
    }
}
