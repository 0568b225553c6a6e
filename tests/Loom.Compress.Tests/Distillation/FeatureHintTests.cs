namespace Loom.Compress.Tests.Distillation;

public class FeatureHintTests
{
    [Fact]
    public void Loss_matches_values_computed_by_hand()
    {
        // Regressor W = [[1, 0], [0, 1], [1, 1]], b = [0, 0, 1]: student [1, 2] maps to [1, 2, 4], [0, −1] to [0, −1, 0].
        var hint = new FeatureHint(2, 3, dtype: DType.Float64);
        using (new NoGrad())
        {
            hint.Regressor.Weight.CopyFrom(Tensor.FromArray(new[] { 1.0, 0, 0, 1, 1, 1 }, 3, 2));
            hint.Regressor.Bias!.CopyFrom(Tensor.FromArray(new[] { 0.0, 0, 1 }));
        }
        var student = Tensor.FromArray(new[] { 1.0, 2, 0, -1 }, 2, 2);
        var teacher = Tensor.FromArray(new[] { 0.0, 2, 1, 0, 1, 2 }, 2, 3);
        // Squared differences: [1, 0, 9] and [0, 4, 4]; the mean over all 6.
        Assert.Equal(18.0 / 6, hint.Loss(student, teacher).ToArray<double>()[0], 12);
        // Features of any rank flatten per sample: [2, 1, 2] reads as [2, 2].
        Assert.Equal(18.0 / 6, hint.Loss(student.Reshape(2, 1, 2), teacher).ToArray<double>()[0], 12);
        TensorAssert.Throws<ArgumentException>(() => hint.Loss(student, Tensor.Zeros(2, 4).To(DType.Float64)), "maps 2 student features to 3 teacher features, got 2 and 4");
        TensorAssert.Throws<ArgumentException>(() => hint.Loss(student, Tensor.Zeros(3, 3).To(DType.Float64)), "need the same batch");
    }

    [Fact]
    public void Gradient_reaches_student_and_regressor_matching_finite_differences_and_the_teacher_gets_none()
    {
        var g = new Generator(5);
        var hint = new FeatureHint(4, 3, g, DType.Float64);
        var student = Tensor.Randn(new Shape(5, 4), g).To(DType.Float64).RequiresGrad_();
        var teacher = Tensor.Randn(new Shape(5, 3), g).To(DType.Float64).RequiresGrad_();
        TensorAssert.GradientsMatch(x => hint.Loss(x[0], teacher), student, hint.Regressor.Weight, hint.Regressor.Bias!);
        hint.Loss(student, teacher).Backward();
        Assert.Null(teacher.Grad);
        Assert.Equal(2, hint.Parameters().Count()); // the regressor is all a trainer has to add to the student's optimiser
    }

    [Fact]
    public void Tap_captures_what_the_last_linear_layer_reads_until_disposed()
    {
        var g = new Generator(6);
        var model = new Sequential(new Linear(4, 3, generator: g), new ReLU(), new Linear(3, 2, generator: g));
        using var tap = FeatureHint.TapPenultimate(model)!;
        Assert.Equal(3, tap.Width);
        Assert.Null(tap.Features);
        var x = Tensor.Randn(new Shape(5, 4), g);
        model.Forward(x);
        var first = (Linear)model.Children().First();
        TensorAssert.Close(first.Forward(x).Relu(), tap.Features!, 1e-6);
        tap.Dispose();
        model.Forward(Tensor.Randn(new Shape(2, 4), g));
        Assert.Equal(5, tap.Features!.Shape[0]); // no longer updated
        Assert.Null(FeatureHint.TapPenultimate(new Sequential(new ReLU())));
    }

    [Fact]
    public void Checkpoint_state_restores_the_regressor_exactly_and_refuses_another_size()
    {
        var trained = new FeatureHint(3, 2, new Generator(1));
        var fresh = new FeatureHint(3, 2, new Generator(2));
        Assert.NotEqual(trained.Regressor.Weight.ToArray<float>(), fresh.Regressor.Weight.ToArray<float>());
        fresh.SetState(trained.GetState());
        Assert.Equal(trained.Regressor.Weight.ToArray<float>(), fresh.Regressor.Weight.ToArray<float>());
        Assert.Equal(trained.Regressor.Bias!.ToArray<float>(), fresh.Regressor.Bias!.ToArray<float>());
        // A regressor of another width finds entries missing: refused, not half restored in silence.
        TensorAssert.Throws<InvalidDataException>(() => new FeatureHint(4, 2).SetState(trained.GetState()), "lacks");
    }
}
