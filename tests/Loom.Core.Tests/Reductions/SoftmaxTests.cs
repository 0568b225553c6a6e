using Loom.Random;

namespace Loom.Tests.Reductions;

public class SoftmaxTests
{
    private static double[] Reference(Tensor x, int axis, bool log)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= x.Shape[i];
        for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        var y = new double[x.Numel];
        if (log) ReferenceSoftmax.LogSoftmax(x.ToArray<double>(), outer, x.Shape[a], inner, y);
        else ReferenceSoftmax.Softmax(x.ToArray<double>(), outer, x.Shape[a], inner, y);
        return y;
    }

    [Fact]
    public void Softmax_and_log_softmax_match_the_reference_on_odd_sizes_and_every_axis()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
                var x = Tensor.Randn(new Shape(3, n, 5), new Generator((ulong)n + 3), dtype, std: 3);
                foreach (var input in new[] { x, TestTensors.NonContiguous(x) })
                {
                    foreach (int axis in new[] { 0, 1, -1 })
                    {
                        TensorAssert.Close(Reference(x, axis, log: false), input.Softmax(axis).ToArray<double>(), tol, tol);
                        TensorAssert.Close(Reference(x, axis, log: true), input.LogSoftmax(axis).ToArray<double>(), tol, tol);
                    }
                }
                var rows = TestTensors.Randn(n, dtype, 4, n);
                TensorAssert.Close(Reference(rows, -1, log: false), rows.Softmax(-1).ToArray<double>(), tol, tol);
            }
        }
    }

    [Fact]
    public void Softmax_rows_sum_to_one_even_for_huge_logits()
    {
        var x = Tensor.FromArray(new float[] { 1000, 999, -1000, 0, 88, 89, 90, 91 }, 2, 4);
        var y = x.Softmax(-1);
        foreach (var v in y.ToArray<float>()) Assert.True(float.IsFinite(v));
        TensorAssert.Close(new double[] { 1, 1 }, y.Sum(1).ToArray<double>(), 1e-6, 1e-6);
        Assert.Equal(-Math.Log(1 + Math.Exp(-1)), x.LogSoftmax(-1).GetDouble(0, 0), 5);
    }

    [Fact]
    public void Softmax_of_broadcast_input_matches_its_copy()
    {
        var x = TestTensors.Randn(4, DType.Float32, 1, 9).Expand(5, 9);
        TensorAssert.Close(x.Contiguous().Softmax(0), x.Softmax(0), 0, 0);
        TensorAssert.Close(x.Contiguous().LogSoftmax(1), x.LogSoftmax(1), 0, 0);
    }

    [Fact]
    public void Gradients_of_softmax_and_log_softmax_match_finite_differences()
    {
        var x = TestTensors.Param(3, 4, 3, 5);
        foreach (int axis in new[] { 0, 1, -1 })
        {
            TensorAssert.GradientsMatch(t => t[0].Softmax(axis), x);
            TensorAssert.GradientsMatch(t => t[0].LogSoftmax(axis), x);
        }
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 2).Softmax(-1), x);
    }

    [Fact]
    public void Softmax_of_an_integer_tensor_or_a_bad_axis_is_refused()
    {
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Arange(3).Softmax(0), "softmax", "int64");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).LogSoftmax(2), "log_softmax", "axis 2", "[2, 3]");
    }
}
