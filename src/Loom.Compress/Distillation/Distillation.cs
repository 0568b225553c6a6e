namespace Loom.Compress;

/// <summary>Knowledge distillation losses (Hinton, Vinyals and Dean 2015).</summary>
public static class Distillation
{
    /// <summary>
    /// α · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − α) · CE(student, target): the student matches the
    /// teacher's softened distribution (the T² keeps that term's gradients on the scale of the task loss as T grows)
    /// and the labels. KL is per sample (the batch mean of the sums over classes); the teacher's logits carry no gradient.
    /// </summary>
    /// <param name="student">Student logits [N, C].</param>
    /// <param name="teacher">Teacher logits [N, C].</param>
    /// <param name="target">Class indices [N] (Int64).</param>
    public static Tensor Loss(Tensor student, Tensor teacher, Tensor target, double temperature = 4, double alpha = 0.9)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "distillation: temperature must be positive");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "distillation: alpha must be in [0, 1]");
        if (student.Shape != teacher.Shape)
            throw new ArgumentException($"distillation: student logits {student.Shape} and teacher logits {teacher.Shape} must have the same shape");
        var soft = Functional.KLDiv(student.Div(temperature).LogSoftmax(-1), teacher.Detach().Div(temperature).Softmax(-1), KLDivReduction.BatchMean);
        var hard = Functional.CrossEntropy(student, target);
        return soft.Mul(alpha * temperature * temperature).Add(hard.Mul(1 - alpha));
    }
}
