namespace Loom.Tests.Reductions;

public class ReductionTests
{
    public static TheoryData<int[], int[], bool> AxisCases => new()
    {
        { [7, 17], [1], false },
        { [7, 17], [0], true },
        { [7, 17], [-1], true },
        { [17, 7], [0, 1], false },
        { [3, 5, 7], [0, 2], false },
        { [3, 5, 7], [1], true },
        { [3, 5, 7], [-2, -1], false },
        { [3, 5, 7], [0, 1], true },
        { [2, 3, 4, 5], [0, 2], true },
        { [2, 3, 4, 5], [1, 3], false },
        { [2, 3, 4, 5], [3, 0, 1], false },
        { [1, 33, 1], [1], true },
        { [33, 1, 5], [0, 1], false },
        { [257, 3], [0], false },
        { [3, 257], [1], false },
        { [5], [0], false },
        { [0, 5], [1], false },
        { [4, 0, 3], [0, 2], true },
    };

    private static Shape ExpectedShape(int[] shape, int[] axes, bool keepDim)
    {
        var reduced = axes.Select(a => a < 0 ? a + shape.Length : a).ToHashSet();
        var dims = new List<int>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (!reduced.Contains(i)) dims.Add(shape[i]);
            else if (keepDim) dims.Add(1);
        }
        return new Shape(dims.ToArray());
    }

    private static void AssertMatches(double[] expected, Shape shape, Tensor actual, double tolerance)
    {
        Assert.Equal(shape, actual.Shape);
        TensorAssert.Close(expected, actual.ToArray<double>(), tolerance, tolerance);
    }

    [Theory]
    [MemberData(nameof(AxisCases))]
    public void Sum_mean_var_std_and_logsumexp_match_the_reference(int[] shape, int[] axes, bool keepDim)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 2e-5 : 1e-12;
            var x = TestTensors.Randn(11, dtype, shape);
            var values = x.ToArray<double>();
            var expectedShape = ExpectedShape(shape, axes, keepDim);
            foreach (var input in new[] { x, TestTensors.NonContiguous(x) })
            {
                AssertMatches(ReferenceReductions.Sum(values, shape, axes), expectedShape, input.Sum(axes, keepDim), tol);
                AssertMatches(ReferenceReductions.Mean(values, shape, axes), expectedShape, input.Mean(axes, keepDim), tol);
                AssertMatches(ReferenceReductions.Var(values, shape, axes, 1), expectedShape, input.Var(axes, keepDim), tol);
                AssertMatches(ReferenceReductions.Var(values, shape, axes, 0), expectedShape, input.Var(axes, keepDim, correction: 0), tol);
                AssertMatches(ReferenceReductions.Std(values, shape, axes, 1), expectedShape, input.Std(axes, keepDim), tol);
                AssertMatches(ReferenceReductions.LogSumExp(values, shape, axes), expectedShape, input.LogSumExp(axes, keepDim), tol);
                if (values.Length > 0)
                {
                    AssertMatches(ReferenceReductions.Max(values, shape, axes), expectedShape, input.Max(axes, keepDim), 0);
                    AssertMatches(ReferenceReductions.Min(values, shape, axes), expectedShape, input.Min(axes, keepDim), 0);
                }
            }
        }
    }

    [Fact]
    public void Reductions_over_odd_sizes_match_the_reference_along_every_axis()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            int[] shape = [3, n];
            var x = TestTensors.Randn(n, DType.Float32, shape);
            var values = x.ToArray<double>();
            foreach (var axis in new[] { 0, 1 })
            {
                TensorAssert.Close(ReferenceReductions.Sum(values, shape, [axis]), x.Sum(axis).ToArray<double>(), 1e-5, 1e-5);
                TensorAssert.Close(ReferenceReductions.Var(values, shape, [axis], 1), x.Var(axis).ToArray<double>(), 1e-5, 1e-5);
                TensorAssert.Close(ReferenceReductions.LogSumExp(values, shape, [axis]), x.LogSumExp(axis).ToArray<double>(), 1e-5, 1e-5);
                if (n > 0)
                {
                    TensorAssert.Close(ReferenceReductions.Max(values, shape, [axis]), x.Max(axis).ToArray<double>(), 0, 0);
                    Assert.Equal(ReferenceReductions.ArgMax(values, shape, axis), x.ArgMax(axis).ToArray<long>());
                    Assert.Equal(ReferenceReductions.ArgMin(values, shape, axis), x.ArgMin(axis).ToArray<long>());
                }
            }
            Assert.Equal(ReferenceReductions.Sum(values, shape, [0, 1])[0], x.Sum().Item(), 1e-4);
        }
    }

    [Fact]
    public void Full_reductions_give_scalars()
    {
        var x = Tensor.FromArray(new double[] { 1, 5, -2, 4 }, 2, 2);
        Assert.Equal(Shape.Scalar, x.Sum().Shape);
        Assert.Equal(8, x.Sum().Item());
        Assert.Equal(2, x.Mean().Item());
        Assert.Equal(5, x.Max().Item());
        Assert.Equal(-2, x.Min().Item());
        Assert.Equal(1, x.ArgMax().Item());
        Assert.Equal(2, x.ArgMin().Item());
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(5) + Math.Exp(-2) + Math.Exp(4)), x.LogSumExp().Item(), 12);
        Assert.Equal(10.0, x.Var().Item(), 12);
        Assert.Equal(7.5, x.Var(correction: 0).Item(), 12);
        Assert.Equal(Math.Sqrt(10), x.Std().Item(), 12);
    }

    [Fact]
    public void ArgMax_and_ArgMin_return_the_first_index_on_ties_and_the_first_NaN()
    {
        var x = Tensor.FromArray(new float[] { 1, 3, 3, 0, -1, 2, -1, -1 }, 2, 4);
        Assert.Equal(new long[] { 1, 1 }, x.ArgMax(1).ToArray<long>());
        Assert.Equal(new long[] { 3, 0 }, x.ArgMin(1).ToArray<long>());
        Assert.Equal(DType.Int64, x.ArgMax(1).DType);
        Assert.Equal(new Shape(2, 1), x.ArgMax(1, keepDim: true).Shape);
        // Ties along an outer axis (inner > 1).
        Assert.Equal(new long[] { 0, 0, 0, 1 }, Tensor.FromArray(new float[] { 1, 3, 0, -1, 1, 3, 0, 5 }, 2, 4).ArgMax(0).ToArray<long>());
        // −0 and +0 are equal, so the first wins.
        Assert.Equal(0, Tensor.FromArray(new float[] { -0f, 0f }).ArgMax().Item());
        var withNaN = Tensor.FromArray(new double[] { 1, double.NaN, 5, double.NaN });
        Assert.Equal(1, withNaN.ArgMax().Item());
        Assert.Equal(1, withNaN.ArgMin().Item());
        Assert.True(double.IsNaN(withNaN.Max().Item()));
        var columnsWithNaN = Tensor.FromArray(new double[] { 1, 2, double.NaN, 0, 3, double.NaN }, 3, 2);
        Assert.Equal(new long[] { 1, 2 }, columnsWithNaN.ArgMax(0).ToArray<long>());
    }

    [Fact]
    public void ArgMax_over_long_rows_of_integers_and_floats_matches_the_reference()
    {
        // Rounded values make many ties, so the first-index rule is exercised on every vector path.
        var x = TestTensors.Randn(5, DType.Float64, 4, 257);
        var rounded = Tensor.FromArray(x.ToArray<double>().Select(v => Math.Round(v)).ToArray(), 4, 257);
        var values = rounded.ToArray<double>();
        Assert.Equal(ReferenceReductions.ArgMax(values, [4, 257], 1), rounded.ArgMax(1).ToArray<long>());
        Assert.Equal(ReferenceReductions.ArgMin(values, [4, 257], 1), rounded.To(DType.Float32).ArgMin(1).ToArray<long>());
        Assert.Equal(ReferenceReductions.ArgMax(values, [4, 257], 0), rounded.To(DType.Int32).ArgMax(0).ToArray<long>());
        Assert.Equal(ReferenceReductions.ArgMax(values, [4, 257], 1), rounded.To(DType.Int64).ArgMax(1).ToArray<long>());
        Assert.Equal(ReferenceReductions.ArgMax(values, [4, 257], 0), TestTensors.NonContiguous(rounded).ArgMax(0).ToArray<long>());
    }

    [Fact]
    public void Integer_and_boolean_sums_give_int64()
    {
        var ints = Tensor.FromArray(new int[] { int.MaxValue, int.MaxValue, 1, 2 }, 2, 2);
        var sum = ints.Sum(0);
        Assert.Equal(DType.Int64, sum.DType);
        Assert.Equal(new long[] { (long)int.MaxValue + 1, (long)int.MaxValue + 2 }, sum.ToArray<long>());
        Assert.Equal(2L * int.MaxValue + 3, ints.Sum().Item<long>());
        var flags = Tensor.FromArray(new bool[] { true, false, true, true, false, true }, 2, 3);
        Assert.Equal(new long[] { 2, 2 }, flags.Sum(1).ToArray<long>());
        Assert.Equal(4, flags.Sum().Item<long>());
        Assert.Equal(new long[] { 3, 4 }, Tensor.FromArray(new long[] { 1, 2, 2, 2 }, 2, 2).Sum(0).ToArray<long>());
        Assert.Equal(new int[] { 3, 2 }, Tensor.FromArray(new int[] { 1, 2, 3, -4 }, 2, 2).Max(0).ToArray<int>());
    }

    [Fact]
    public void Float32_sums_of_many_elements_stay_accurate()
    {
        // A naive float32 running sum of 2^22 copies of 0.1 is off by about 1%; blocked summation is not.
        int n = 1 << 22;
        var ones = Tensor.Full(new Shape(n), 0.1);
        double exact = n * (double)0.1f;
        Assert.Equal(exact, ones.Sum().Item(), exact * 1e-6);
        var rows = Tensor.Full(new Shape(n / 4, 4), 0.1);
        foreach (var v in rows.Sum(0).ToArray<double>()) Assert.Equal(exact / 4, v, exact * 1e-6);
        // Two-pass variance: a large mean must not cancel the spread.
        var shifted = Tensor.FromArray(Enumerable.Range(0, 1000).Select(i => 10000f + (i % 2)).ToArray());
        Assert.Equal(0.25, shifted.Var(correction: 0).Item(), 1e-4);
    }

    [Fact]
    public void LogSumExp_is_stable_for_large_and_infinite_inputs()
    {
        var x = Tensor.FromArray(new float[] { 1000, 1000, -1000 });
        Assert.Equal(1000 + Math.Log(2), x.LogSumExp().Item(), 3);
        Assert.Equal(double.NegativeInfinity, Tensor.FromArray(new double[] { double.NegativeInfinity, double.NegativeInfinity }).LogSumExp().Item());
        Assert.Equal(double.PositiveInfinity, Tensor.FromArray(new double[] { 1, double.PositiveInfinity }).LogSumExp().Item());
    }

    [Fact]
    public void Gradients_of_sum_mean_var_std_and_logsumexp_match_finite_differences()
    {
        var x = TestTensors.Param(1, 3, 4, 2);
        TensorAssert.GradientsMatch(t => t[0].Sum([0, 2], keepDim: true), x);
        TensorAssert.GradientsMatch(t => t[0].Mean(1), x);
        TensorAssert.GradientsMatch(t => t[0].Mean(), x);
        TensorAssert.GradientsMatch(t => t[0].Var([0, 2]), x);
        TensorAssert.GradientsMatch(t => t[0].Var(-1, keepDim: true, correction: 0), x);
        TensorAssert.GradientsMatch(t => t[0].Std(1), x);
        TensorAssert.GradientsMatch(t => t[0].Std(), x);
        TensorAssert.GradientsMatch(t => t[0].LogSumExp([1, 2]), x);
        TensorAssert.GradientsMatch(t => t[0].LogSumExp(0, keepDim: true), x);
        TensorAssert.GradientsMatch(t => t[0].Transpose(0, 2).Sum(1), x);
    }

    [Fact]
    public void Gradients_of_max_and_min_go_to_the_extreme_elements_and_ties_share_equally()
    {
        var x = TestTensors.Param(2, 3, 5);
        TensorAssert.GradientsMatch(t => t[0].Max(1), x);
        TensorAssert.GradientsMatch(t => t[0].Min(0, keepDim: true), x);
        TensorAssert.GradientsMatch(t => t[0].Max(), x);

        // A two-way tie: each gets half, which is also what central differences see.
        var tied = Tensor.FromArray(new double[] { 1, 4, 4, 2, 0, -3 }, 2, 3).RequiresGrad_();
        TensorAssert.GradientsMatch(t => t[0].Max(1), tied);
        tied.Max(1).Sum().Backward();
        Assert.Equal(new double[] { 0, 0.5, 0.5, 1, 0, 0 }, tied.Grad!.ToArray<double>());
        var three = Tensor.FromArray(new double[] { 2, 2, 2 }).RequiresGrad_();
        three.Max().Backward();
        TensorAssert.Close(new double[] { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, three.Grad!.ToArray<double>(), 1e-15, 0);
    }

    [Fact]
    public void Bad_axes_and_dtypes_are_reported_with_the_shape()
    {
        var x = Tensor.Zeros(2, 3);
        TensorAssert.Throws<ArgumentException>(() => x.Sum(2), "sum", "axis 2", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.Mean(-3), "mean", "axis -3", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.Var([0, -2]), "var", "repeats", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.Max(Array.Empty<int>()), "max", "empty", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => x.ArgMax(5), "argmax", "axis 5", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(0, 3).Max(0), "max", "zero elements", "[0, 3]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(0, 3).ArgMin(0), "argmin", "zero elements", "[0, 3]");
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Arange(4).Mean(), "mean", "int64");
        TensorAssert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(3), DType.UInt8).Max(), "max", "uint8");
    }

    [Fact]
    public void Reductions_record_no_graph_under_NoGrad()
    {
        var x = TestTensors.Param(1, 3, 2);
        using (new Loom.Autograd.NoGrad()) Assert.Null(x.Sum(0).GradFn);
        Assert.Equal("sumBackward", x.Sum(0).GradFn!.ToString());
    }
}
