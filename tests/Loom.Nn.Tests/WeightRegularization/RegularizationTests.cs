namespace Loom.Nn.Tests.WeightRegularization;

/// <summary>L1/L2 penalties (value and gradient), the selection of weights to penalise, and the max-norm constraint.</summary>
public class RegularizationTests
{
    private static Parameter Param(int seed, DType dtype, params int[] shape) => new(TestTensors.Randn(seed, dtype, shape));

    [Fact]
    public void Penalties_are_lambda_times_the_sum_of_magnitudes_or_squares_over_all_parameters()
    {
        var ps = new[] { Param(1, DType.Float32, 17, 33), Param(2, DType.Float32, 5), Param(3, DType.Float32, 2, 3, 4, 5) };
        var values = ps.SelectMany(p => p.ToArray<double>()).ToArray();
        Assert.Equal(0.01 * values.Sum(Math.Abs), Nn.Regularization.L1(ps, 0.01).Item(), 1e-6);
        Assert.Equal(0.003 * values.Sum(v => v * v), Nn.Regularization.L2(ps, 0.003).Item(), 1e-6);
        Assert.Equal(DType.Float32, Nn.Regularization.L2(ps, 1).DType);
    }

    [Fact]
    public void L2_gradient_is_two_lambda_w_and_L1_gradient_is_lambda_sign_w_with_zero_at_zero()
    {
        var w = new Parameter(Tensor.FromArray([1.5f, -2f, 0f, 0.25f]));
        Nn.Regularization.L2([w], 0.1).Backward();
        TensorAssert.Close(new[] { 0.3, -0.4, 0, 0.05 }, w.Grad!.ToArray<double>(), 1e-7, 1e-6);
        w.Grad = null;
        Nn.Regularization.L1([w], 0.1).Backward();
        TensorAssert.Close(new[] { 0.1, -0.1, 0, 0.1 }, w.Grad!.ToArray<double>(), 1e-7, 1e-6);
        var many = Param(4, DType.Float32, 1000); // through the vector paths of the sign kernel
        Nn.Regularization.L1([many], 2).Backward();
        Assert.Equal(many.ToArray<float>().Select(v => 2f * MathF.Sign(v)), many.Grad!.ToArray<float>());
    }

    [Fact]
    public void Penalty_gradients_match_finite_differences()
    {
        var a = Param(1, DType.Float64, 3, 4);
        var b = Param(2, DType.Float64, 5);
        TensorAssert.GradientsMatch(t => Nn.Regularization.L2([(Parameter)t[0], (Parameter)t[1]], 0.7), a, b);
        TensorAssert.GradientsMatch(t => Nn.Regularization.L1([(Parameter)t[0], (Parameter)t[1]], 0.7), a, b);
    }

    [Fact]
    public void A_penalty_added_to_the_loss_accumulates_into_the_weight_gradients()
    {
        var linear = new Linear(3, 2, dtype: DType.Float64);
        var x = TestTensors.Randn(1, DType.Float64, 4, 3);
        linear.Forward(x).Sum().Backward();
        var dataGrad = linear.Weight.Grad!.ToArray<double>();
        linear.ZeroGrad();
        linear.Forward(x).Sum().Add(Nn.Regularization.L2(Nn.Regularization.WeightsOnly(linear), 0.5)).Backward();
        var w = linear.Weight.ToArray<double>();
        TensorAssert.Close(dataGrad.Select((g, i) => g + w[i]).ToArray(), linear.Weight.Grad!.ToArray<double>(), 1e-12, 1e-12);
        TensorAssert.Close(Tensor.Full(new Shape(2), 4, DType.Float64), linear.Bias!.Grad!, 0, 0); // the bias is not penalised
    }

    [Fact]
    public void Frozen_parameters_count_in_the_value_but_get_no_gradient_and_tied_ones_count_once()
    {
        var frozen = new Parameter(Tensor.FromArray([3f]), requiresGrad: false);
        var live = new Parameter(Tensor.FromArray([2f]));
        var penalty = Nn.Regularization.L2([frozen, live, live], 1);
        Assert.Equal(13, penalty.Item());
        penalty.Backward();
        Assert.Null(frozen.Grad);
        Assert.Equal(4, live.Grad!.Item());
        Assert.False(Nn.Regularization.L1([frozen], 1).RequiresGrad);
        Assert.Equal(0, Nn.Regularization.L1([], 1).Item());
    }

    [Fact]
    public void Parameters_of_different_dtypes_are_rejected()
    {
        TensorAssert.Throws<ArgumentException>(() => Nn.Regularization.L2([Param(1, DType.Float32, 2), Param(2, DType.Float64, 3)], 1), "l2_penalty", "float32", "float64", "[3]");
        Assert.Throws<ArgumentOutOfRangeException>(() => Nn.Regularization.L1([Param(1, DType.Float32, 2)], double.NaN));
    }

    private sealed class SmallModel : Module<Tensor, Tensor>
    {
        public SmallModel()
        {
            RegisterModule("embed", new Embedding(10, 4));
            RegisterModule("conv", new Conv2d(1, 2, 3));
            RegisterModule("bn", new BatchNorm2d(2));
            RegisterModule("norm", new LayerNorm([3, 4])); // a rank-2 weight that must not be decayed
            RegisterModule("head", new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2, bias: false)));
            RegisterParameter("scale", new Parameter(Tensor.Ones(2, 2)));
        }

        protected override Tensor ForwardCore(Tensor input) => input;
    }

    [Fact]
    public void WeightsOnly_selects_layer_weights_and_leaves_biases_norms_and_other_parameters()
    {
        var model = new SmallModel();
        var named = model.NamedParameters().ToList();
        var selected = Nn.Regularization.WeightsOnly(model).Select(p => named.Single(n => ReferenceEquals(n.Parameter, p)).Name).ToArray();
        Assert.Equal(["embed.weight", "conv.weight", "head.0.weight", "head.2.weight"], selected);
    }

    [Fact]
    public void Max_norm_scales_rows_above_the_limit_to_it_and_leaves_the_others_unchanged()
    {
        var w = new Parameter(Tensor.FromRows([[3f, 4f], [0.3f, 0.4f], [0f, 0f], [-6f, 8f]])); // row norms 5, 0.5, 0, 10
        MaxNormConstraint.Apply([w], 2);
        var expected = new double[] { 1.2, 1.6, 0.3, 0.4, 0, 0, -1.2, 1.6 };
        TensorAssert.Close(expected, w.ToArray<double>(), 1e-6, 1e-6);
        Assert.Equal(0.3f, w.GetDouble(1, 0), 7); // untouched rows keep their exact values
        double rowNorm = Math.Sqrt(w.GetDouble(0, 0) * w.GetDouble(0, 0) + w.GetDouble(0, 1) * w.GetDouble(0, 1));
        Assert.InRange(rowNorm, 2 - 1e-6, 2 + 1e-6); // float32 rounding either way
    }

    [Fact]
    public void Max_norm_along_other_axes_bounds_columns_and_conv_filters()
    {
        var w = new Parameter(TestTensors.Randn(1, DType.Float64, 4, 3).Mul(3));
        MaxNormConstraint.Apply([w], 1.5, axis: 1);
        for (int j = 0; j < 3; j++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, 4).Sum(i => w.GetDouble(i, j) * w.GetDouble(i, j)));
            Assert.True(norm <= 1.5 + 1e-9, $"column {j} has norm {norm}");
        }
        var conv = new Conv2d(3, 4, 3, dtype: DType.Float64);
        using (new Autograd.NoGrad()) conv.Weight.MulInPlace(10);
        var before = conv.Weight.ToArray<double>();
        MaxNormConstraint.Apply([conv.Weight], 1.0); // inside grad mode: the constraint switches autograd off itself
        var after = conv.Weight.ToArray<double>();
        for (int f = 0; f < 4; f++)
        {
            var filter = after.AsSpan(f * 27, 27).ToArray();
            var original = before.AsSpan(f * 27, 27).ToArray();
            double norm = Math.Sqrt(filter.Sum(v => v * v)), originalNorm = Math.Sqrt(original.Sum(v => v * v));
            Assert.InRange(norm, 1 - 1e-6, 1); // torch.renorm's scale maxnorm / (norm + 1e-7) lands just below the limit
            TensorAssert.Close(original.Select(v => v / originalNorm).ToArray(), filter, 1e-6, 1e-5); // direction kept
        }
    }

    [Fact]
    public void Max_norm_rejects_bad_limits_and_axes()
    {
        var w = Param(1, DType.Float32, 2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => MaxNormConstraint.Apply([w], 0));
        TensorAssert.Throws<ArgumentException>(() => MaxNormConstraint.Apply([w], 1, axis: 2), "max_norm", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => MaxNormConstraint.Apply([new Parameter(Tensor.Scalar(1))], 1), "max_norm", "[]");
    }
}
