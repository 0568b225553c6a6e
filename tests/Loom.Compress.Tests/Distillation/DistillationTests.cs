namespace Loom.Compress.Tests.Distillation;

public class DistillationTests
{
    [Fact]
    public void Loss_matches_values_computed_by_hand()
    {
        // One sample, two classes. T = 2: student logits / T = [0.5, 0], teacher / T = [0, 1].
        var student = Tensor.FromArray(new[] { 1.0, 0.0 }, 1, 2);
        var teacher = Tensor.FromArray(new[] { 0.0, 2.0 }, 1, 2);
        var target = Tensor.FromArray(new long[] { 1 });
        double ps0 = Math.Exp(0.5) / (Math.Exp(0.5) + 1), ps1 = 1 - ps0;   // student, softened
        double pt0 = 1 / (1 + Math.E), pt1 = 1 - pt0;                        // teacher, softened
        double kl = pt0 * Math.Log(pt0 / ps0) + pt1 * Math.Log(pt1 / ps1);
        double ce = -Math.Log(1 / (Math.E + 1));                            // −log softmax([1, 0])[1]
        double expected = 0.7 * 4 * kl + 0.3 * ce;
        Assert.Equal(expected, Compress.Distillation.Loss(student, teacher, target, temperature: 2, alpha: 0.7).ToArray<double>()[0], 12);
        // α = 0 is the task loss alone; equal logits make the KL term vanish.
        Assert.Equal(ce, Compress.Distillation.Loss(student, teacher, target, 2, alpha: 0).ToArray<double>()[0], 12);
        Assert.Equal(0, Compress.Distillation.Loss(student, student, target, 3, alpha: 1).ToArray<double>()[0], 12);
    }

    [Fact]
    public void Gradient_matches_finite_differences_and_the_teacher_gets_none()
    {
        var g = new Generator(1);
        var student = Tensor.Randn(new Shape(3, 4), g).To(DType.Float64).RequiresGrad_();
        var teacher = Tensor.Randn(new Shape(3, 4), g).To(DType.Float64).RequiresGrad_();
        var target = Tensor.FromArray(new long[] { 0, 3, 1 });
        TensorAssert.GradientsMatch(x => Compress.Distillation.Loss(x[0], teacher, target, 2.5, 0.6), student);
        Compress.Distillation.Loss(student, teacher, target).Backward();
        Assert.Null(teacher.Grad);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Compress.Distillation.Loss(student, teacher, target, temperature: 0), "temperature must be positive");
    }
}
