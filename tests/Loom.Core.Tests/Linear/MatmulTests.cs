namespace Loom.Tests.Linear;

public class MatmulTests
{
    private static Tensor R(int seed, params int[] shape) => TestTensors.Randn(seed, DType.Float32, shape);

    [Fact]
    public void Matrix_product_matches_reference_gemm_on_odd_sizes()
    {
        foreach (int s in TestTensors.OddSizes)
        {
            foreach (var (m, k, n) in new[] { (s, 7, 17), (7, s, 1), (17, 1, s), (s, s, 3) })
            {
                var a = R(s + 1, m, k);
                var b = R(s + 2, k, n);
                var c = a.Matmul(b);
                Assert.Equal(new Shape(m, n), c.Shape);
                TensorAssert.Close(MatmulOracle.Matmul(a, b), c, atol: 1e-4, rtol: 1e-4);
            }
        }
    }

    [Theory]
    [InlineData(new[] { 5 }, new[] { 5 })]
    [InlineData(new[] { 4 }, new[] { 4, 3 })]
    [InlineData(new[] { 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 4 }, new[] { 2, 4, 3 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 5, 4, 2 })]
    [InlineData(new[] { 3, 4 }, new[] { 2, 4, 5 })]
    [InlineData(new[] { 6, 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 1, 3, 4 }, new[] { 2, 1, 4, 5 })]
    [InlineData(new[] { 0, 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 2, 3, 0 }, new[] { 2, 0, 5 })]
    public void Shapes_and_values_follow_torch_matmul(int[] aShape, int[] bShape)
    {
        var a = R(1, aShape);
        var b = R(2, bShape);
        var c = a.Matmul(b);
        var expected = MatmulOracle.Matmul(a, b);
        Assert.Equal(expected.Shape, c.Shape);
        TensorAssert.Close(expected, c, atol: 1e-5, rtol: 1e-5);
    }

    [Fact]
    public void Batches_large_enough_to_split_over_threads_match_the_reference()
    {
        var a = R(1, 8, 65, 33);
        var b = R(2, 8, 33, 65);
        TensorAssert.Close(MatmulOracle.Matmul(a, b), a.Matmul(b), 1e-4, 1e-4);
        TensorAssert.Close(MatmulOracle.Matmul(a, b.Select(0, 0)), a.Matmul(b.Select(0, 0)), 1e-4, 1e-4);
    }

    [Fact]
    public void Vector_dot_vector_is_a_scalar()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, 3 });
        var b = Tensor.FromArray(new float[] { 4, 5, 6 });
        var c = a.Matmul(b);
        Assert.Equal(0, c.Rank);
        Assert.Equal(32.0, c.Item());
    }

    [Fact]
    public void Transposed_noncontiguous_and_expanded_operands_give_the_same_product()
    {
        var a = R(3, 2, 5, 7);
        var b = R(4, 2, 7, 6);
        var expected = MatmulOracle.Matmul(a, b);
        var aT = R(8, 2, 7, 5).Transpose(-1, -2);
        TensorAssert.Close(MatmulOracle.Matmul(aT, b), aT.Matmul(b), 1e-5, 1e-5);
        TensorAssert.Close(expected, TestTensors.NonContiguous(a).Matmul(TestTensors.NonContiguous(b)), 1e-5, 1e-5);
        var stored = R(5, 2, 6, 7);
        var bT = stored.Transpose(-1, -2);
        TensorAssert.Close(MatmulOracle.Matmul(a, bT), a.Matmul(bT), 1e-5, 1e-5);
        var shared = R(6, 7, 6);
        TensorAssert.Close(MatmulOracle.Matmul(a, shared), a.Matmul(shared.Expand(2, 7, 6)), 1e-5, 1e-5);
        var sharedT = R(7, 6, 7).Transpose(0, 1);
        TensorAssert.Close(MatmulOracle.Matmul(a, sharedT), a.Matmul(sharedT), 1e-5, 1e-5);
    }

    [Fact]
    public void Transposed_and_broadcast_operands_reach_gemm_without_copies()
    {
        var stored = R(1, 3, 4, 5);
        var t = MatrixOperand.Of(stored.Transpose(-1, -2), [3]);
        Assert.True(t.Trans);
        Assert.Same(stored.Storage, t.Source.Storage);
        Assert.Equal((5, 4, 5), (t.Rows, t.Cols, t.Ld));

        var shared = R(2, 4, 5);
        var e = MatrixOperand.Of(shared.Expand(6, 4, 5), [6]);
        Assert.Same(shared.Storage, e.Source.Storage);
        Assert.Equal([0], e.BatchStrides);

        var strided = R(3, 4, 10).Slice(1, 0, 10, 2); // step-2 columns: no GEMM layout, so one copy
        Assert.NotSame(strided.Storage, MatrixOperand.Of(strided, []).Source.Storage);
    }

    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 4, 2 })]
    [InlineData(new[] { 4 }, new[] { 4 })]
    [InlineData(new[] { 4 }, new[] { 4, 3 })]
    [InlineData(new[] { 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 4 }, new[] { 2, 4, 3 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4, 2 })]
    [InlineData(new[] { 3, 4 }, new[] { 2, 4, 2 })]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 3, 4, 2 })]
    [InlineData(new[] { 2, 1, 2, 3 }, new[] { 1, 2, 3, 2 })]
    public void Gradients_match_finite_differences(int[] aShape, int[] bShape)
    {
        var a = TestTensors.Param(1, aShape);
        var b = TestTensors.Param(2, bShape);
        TensorAssert.GradientsMatch(t => t[0].Matmul(t[1]), a, b);
    }

    [Fact]
    public void Gradients_flow_through_transposed_operands()
    {
        var a = TestTensors.Param(1, 2, 4, 3);
        var b = TestTensors.Param(2, 2, 4);
        TensorAssert.GradientsMatch(t => t[0].Transpose(-1, -2).Matmul(t[1].Transpose(0, 1)), a, b);
    }

    [Fact]
    public void Noncontiguous_output_gradients_are_accepted()
    {
        var a = TestTensors.Param(1, 2, 3, 4);
        var b = TestTensors.Param(2, 4, 5);
        TensorAssert.GradientsMatch(t => t[0].Matmul(t[1]).Permute(2, 0, 1), a, b);
    }

    [Fact]
    public void Changing_a_saved_operand_in_place_makes_backward_fail()
    {
        var a = TestTensors.Randn(1, DType.Float64, 3, 4);
        var b = TestTensors.Param(2, 4, 2);
        var c = a.Matmul(b);
        a.CopyFrom(Tensor.Zeros(new Shape(3, 4), DType.Float64));
        TensorAssert.Throws<InvalidOperationException>(() => c.Backward(Tensor.Ones(c.Shape, DType.Float64)), "matmul", "in-place");
    }

    [Fact]
    public void Only_the_operand_that_requires_grad_receives_one()
    {
        var a = TestTensors.Param(1, 3, 4);
        var b = TestTensors.Randn(2, DType.Float64, 4, 2);
        a.Matmul(b).Backward(Tensor.Ones(new Shape(3, 2), DType.Float64));
        Assert.NotNull(a.Grad);
        Assert.Null(b.Grad);
    }

    [Fact]
    public void Misaligned_and_unbroadcastable_shapes_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Matmul(Tensor.Zeros(4, 5)), "matmul: shapes [2, 3] and [4, 5] are not aligned (3 != 4)");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3, 4).Matmul(Tensor.Zeros(3, 4, 5)), "matmul", "[2, 3, 4]", "[3, 4, 5]", "broadcast");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(7, 2, 3, 4).Matmul(Tensor.Zeros(3, 4, 5)),
            "matmul: batch dimensions of shapes [7, 2, 3, 4] and [3, 4, 5] cannot be broadcast together (2 vs 3 at batch dimension 1)");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Scalar(1).Matmul(Tensor.Zeros(3)), "matmul", "[]", "[3]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(3).Matmul(Tensor.Zeros(new Shape(3), DType.Float64)), "matmul", "float32", "float64");
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(3), DType.Bool).Matmul(Tensor.Zeros(new Shape(3), DType.Bool)), "matmul", "bool");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(new Shape(3), DType.Int32).Matmul(Tensor.Zeros(new Shape(3), DType.Int64)), "matmul", "int32", "int64");
    }
}
