namespace Loom.Train.Tests.Metrics;

public class MetricTests
{
    // Six samples, three classes. Predicted (arg-max) classes 0,0,1,2,2,1 for labels 0,1,1,2,0,1:
    // class 0: tp 1 fp 1 fn 1 → P ½ R ½ F ½ (support 2); class 1: tp 2 fp 0 fn 1 → P 1 R ⅔ F 0.8 (support 3);
    // class 2: tp 1 fp 1 fn 0 → P ½ R 1 F ⅔ (support 1).
    private static readonly int[] Predicted = [0, 0, 1, 2, 2, 1];
    private static readonly long[] Labels = [0, 1, 1, 2, 0, 1];

    private static Tensor Logits(int[] predicted, int classes)
    {
        var v = new float[predicted.Length * classes];
        for (int i = 0; i < predicted.Length; i++) v[i * classes + predicted[i]] = 2;
        return Tensor.FromArray(v, predicted.Length, classes);
    }

    private static T Fed<T>(T metric) where T : IMetric
    {
        // Two batches, to check accumulation.
        metric.Update(Logits(Predicted[..4], 3), Tensor.FromArray(Labels[..4]));
        metric.Update(Logits(Predicted[4..], 3), Tensor.FromArray(Labels[4..]));
        return metric;
    }

    [Fact]
    public void Accuracy_counts_correct_arg_max()
    {
        Assert.Equal(4.0 / 6, Fed(new Accuracy()).Compute(), 12);
    }

    [Fact]
    public void Top_k_accuracy_counts_the_true_class_among_the_k_best()
    {
        var logits = Tensor.FromArray(new float[] { 0.1f, 0.5f, 0.4f, 0.9f, 0.05f, 0.05f }, 2, 3);
        var m = new Accuracy(topK: 2);
        m.Update(logits, Tensor.FromArray(new long[] { 2, 2 }));
        // Sample 0: class 2 is second best. Sample 1: class 2 ties with class 1, and the lower index ranks first, so third.
        Assert.Equal(0.5, m.Compute(), 12);
    }

    [Theory]
    [InlineData(ClassificationScore.F1, Averaging.Macro, (0.5 + 0.8 + 2.0 / 3) / 3)]
    [InlineData(ClassificationScore.F1, Averaging.Weighted, (0.5 * 2 + 0.8 * 3 + 2.0 / 3) / 6)]
    [InlineData(ClassificationScore.F1, Averaging.Micro, 4.0 / 6)]
    [InlineData(ClassificationScore.Precision, Averaging.Macro, 2.0 / 3)]
    [InlineData(ClassificationScore.Recall, Averaging.Macro, (0.5 + 2.0 / 3 + 1) / 3)]
    [InlineData(ClassificationScore.Precision, Averaging.Micro, 4.0 / 6)]
    public void Precision_recall_f1_match_hand_computed_values(ClassificationScore score, Averaging averaging, double expected)
    {
        Assert.Equal(expected, Fed(new PrecisionRecallF1(3, score, averaging)).Compute(), 12);
    }

    [Fact]
    public void Confusion_matrix_counts_true_by_predicted()
    {
        var m = Fed(new ConfusionMatrix(3));
        var c = m.Counts;
        Assert.Equal(1, c[0, 0]);
        Assert.Equal(1, c[0, 2]);
        Assert.Equal(1, c[1, 0]);
        Assert.Equal(2, c[1, 1]);
        Assert.Equal(1, c[2, 2]);
        Assert.Equal(6, m.Total);
        m.Reset();
        Assert.Equal(0, m.Total);
    }

    [Fact]
    public void A_class_never_predicted_scores_zero_precision_and_absent_classes_are_left_out_of_macro()
    {
        var m = new PrecisionRecallF1(4, ClassificationScore.Precision, Averaging.Macro);
        m.Update(Logits([0, 0, 0], 4), Tensor.FromArray(new long[] { 0, 1, 0 }));
        // class 0: P ⅔; class 1 never predicted: P 0; classes 2 and 3 never occur: excluded.
        Assert.Equal((2.0 / 3 + 0) / 2, m.Compute(), 12);
        var per = PrecisionRecallF1.PerClass(Fed(new ConfusionMatrix(3)));
        Assert.Equal(0.8, per[1].F1, 12);
    }

    [Fact]
    public void A_single_class_problem_is_perfect()
    {
        var m = new PrecisionRecallF1(1);
        m.Update(Tensor.Zeros(5, 1), Tensor.Zeros(new Shape(5), DType.Int64));
        Assert.Equal(1, m.Compute(), 12);
        var acc = new Accuracy();
        acc.Update(Tensor.Zeros(5, 1), Tensor.Zeros(new Shape(5), DType.Int64));
        Assert.Equal(1, acc.Compute());
    }

    [Fact]
    public void Roc_auc_binary_matches_the_textbook_example()
    {
        var m = new RocAuc();
        m.Update(Tensor.FromArray(new double[] { 0.1, 0.4, 0.35, 0.8 }), Tensor.FromArray(new long[] { 0, 0, 1, 1 }));
        Assert.Equal(0.75, m.Compute(), 12);
    }

    [Fact]
    public void Roc_auc_counts_ties_as_half_and_refuses_non_binary_single_scores()
    {
        var m = new RocAuc();
        m.Update(Tensor.FromArray(new double[] { 0.5, 0.5 }), Tensor.FromArray(new long[] { 0, 1 }));
        Assert.Equal(0.5, m.Compute(), 12);

        Assert.Throws<ArgumentException>(() => new RocAuc().Update(Tensor.FromArray(new double[] { 0.5 }), Tensor.FromArray(new long[] { 2 })));
    }

    [Fact]
    public void Log_loss_of_uniform_logits_is_log_c_and_probabilities_are_clipped()
    {
        var m = new LogLoss();
        m.Update(Tensor.Zeros(4, 5), Tensor.FromArray(new long[] { 0, 1, 2, 3 }));
        Assert.Equal(Math.Log(5), m.Compute(), 10);
        var p = new LogLoss(probabilities: true);
        p.Update(Tensor.FromArray(new double[] { 1, 0, 0.25, 0.75 }, 2, 2), Tensor.FromArray(new long[] { 1, 1 }));
        Assert.Equal((-Math.Log(1e-15) - Math.Log(0.75)) / 2, p.Compute(), 8);
    }

    [Fact]
    public void Perplexity_of_a_uniform_model_is_the_vocabulary_size_and_ignores_padding()
    {
        var m = new Perplexity(ignoreIndex: -100);
        m.Update(Tensor.Zeros(2, 3, 7), Tensor.FromArray(new long[] { 1, 2, -100, 4, 5, 6 }, 2, 3));
        Assert.Equal(7, m.Compute(), 5); // float32 logits: the log-sum-exp is rounded to float32
        var exact = new Perplexity();
        exact.Update(Tensor.Zeros(new Shape(2, 3, 7), DType.Float64), Tensor.FromArray(new long[] { 1, 2, 0, 4, 5, 6 }, 2, 3));
        Assert.Equal(7, exact.Compute(), 12);
    }

    [Fact]
    public void Regression_metrics_match_hand_computed_values()
    {
        var y = Tensor.FromArray(new double[] { 3, -0.5, 2, 7 });
        var p = Tensor.FromArray(new double[] { 2.5, 0, 2, 8 });
        double Run(RegressionKind k) { var m = new RegressionMetric(k); m.Update(p, y); return m.Compute(); }
        Assert.Equal(0.375, Run(RegressionKind.MeanSquaredError), 12);
        Assert.Equal(0.5, Run(RegressionKind.MeanAbsoluteError), 12);
        Assert.Equal(0.9486081370449679, Run(RegressionKind.R2), 12); // scikit-learn's r2_score example
    }

    [Fact]
    public void Bad_targets_are_rejected_with_shapes()
    {
        TensorAssert.Throws<ArgumentException>(() => new Accuracy().Update(Tensor.Zeros(3, 2), Tensor.FromArray(new long[] { 0, 1 })), "[3, 2]", "[2]");
        TensorAssert.Throws<ArgumentException>(() => new Accuracy().Update(Tensor.Zeros(1, 2), Tensor.FromArray(new long[] { 5 })), "5", "[0, 2)");
    }
}
