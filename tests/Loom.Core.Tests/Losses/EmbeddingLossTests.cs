namespace Loom.Tests.Losses;

/// <summary>Cosine embedding, margin ranking and triplet margin losses against the reference; gradients by GradCheck.</summary>
public class EmbeddingLossTests
{
    private static double[][] Rows(Tensor t)
    {
        var flat = t.ToArray<double>();
        int d = t.Shape[^1];
        return Enumerable.Range(0, flat.Length / d).Select(i => flat.AsSpan(i * d, d).ToArray()).ToArray();
    }

    public static TheoryData<Reduction> Reductions => new() { Reduction.None, Reduction.Mean, Reduction.Sum };

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Cosine_embedding_matches_the_reference_and_ignores_targets_other_than_plus_or_minus_one(Reduction reduction)
    {
        var x1 = TestTensors.Randn(1, DType.Float64, 7, 5);
        var x2 = TestTensors.Randn(2, DType.Float64, 7, 5);
        var y = Tensor.FromArray([1.0, -1, -1, 1, 0, -1, 1]);
        var expected = ReferenceLosses.Reduce(ReferenceLosses.CosineEmbedding(Rows(x1), Rows(x2), y.ToArray<double>(), 0.1), reduction);
        TensorAssert.Close(expected, Functional.CosineEmbeddingLoss(x1, x2, y, 0.1, reduction).ToArray<double>(), 1e-12, 1e-12);
        var loss32 = Functional.CosineEmbeddingLoss(x1.To(DType.Float32), x2.To(DType.Float32), y.To(DType.Float32), 0.1, reduction);
        TensorAssert.Close(expected, loss32.ToArray<double>(), 1e-5, 1e-5);
        TensorAssert.GradientsMatch(t => Functional.CosineEmbeddingLoss(t[0], t[1], y, 0.1, reduction), x1.RequiresGrad_(), x2.RequiresGrad_());
    }

    [Fact]
    public void Cosine_embedding_of_one_pair_of_vectors_takes_a_scalar_target()
    {
        var a = Tensor.FromArray([1.0, 0, 0]);
        var b = Tensor.FromArray([1.0, 1, 0]);
        double cos = 1 / Math.Sqrt(2);
        Assert.Equal(1 - cos, Functional.CosineEmbeddingLoss(a, b, Tensor.Scalar(1, DType.Float64)).Item(), 10); // ε = 1e-12 in the norms shifts the 12th digit
        Assert.Equal(cos - 0.5, Functional.CosineEmbeddingLoss(a, b, Tensor.Scalar(-1, DType.Float64), margin: 0.5).Item(), 10);
        Assert.Equal(0, Functional.CosineEmbeddingLoss(a, b, Tensor.Scalar(-1, DType.Float64), margin: 0.8).Item());
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Margin_ranking_matches_the_reference_with_gradients_for_all_three_inputs(Reduction reduction)
    {
        var x1 = TestTensors.Randn(1, DType.Float64, 9);
        var x2 = TestTensors.Randn(2, DType.Float64, 9);
        var y = Tensor.FromArray([1.0, -1, 1, 1, -1, -1, 1, -1, 1]);
        var expected = ReferenceLosses.Reduce(ReferenceLosses.MarginRanking(x1.ToArray<double>(), x2.ToArray<double>(), y.ToArray<double>(), 0.3), reduction);
        TensorAssert.Close(expected, Functional.MarginRankingLoss(x1, x2, y, 0.3, reduction).ToArray<double>(), 1e-12, 1e-12);
        TensorAssert.GradientsMatch(t => Functional.MarginRankingLoss(t[0], t[1], t[2], 0.3, reduction), x1.RequiresGrad_(), x2.RequiresGrad_(), y.RequiresGrad_());
    }

    [Theory]
    [InlineData(2.0, false, Reduction.Mean)]
    [InlineData(2.0, true, Reduction.None)]
    [InlineData(1.0, false, Reduction.Sum)]
    [InlineData(3.0, true, Reduction.Mean)]
    public void Triplet_margin_matches_the_reference_for_each_norm_and_swap(double p, bool swap, Reduction reduction)
    {
        var a = TestTensors.Randn(1, DType.Float64, 6, 4);
        var pos = TestTensors.Randn(2, DType.Float64, 6, 4).Mul(0.7);
        var neg = TestTensors.Randn(3, DType.Float64, 6, 4);
        var expected = ReferenceLosses.Reduce(ReferenceLosses.TripletMargin(Rows(a), Rows(pos), Rows(neg), 0.8, p, 1e-6, swap), reduction);
        Tensor Loss(Tensor anchor, Tensor positive, Tensor negative) =>
            Functional.TripletMarginLoss(anchor, positive, negative, margin: 0.8, p: p, swap: swap, reduction: reduction);
        TensorAssert.Close(expected, Loss(a, pos, neg).ToArray<double>(), 1e-12, 1e-12);
        Assert.Contains(expected, v => v > 0); // some triplets are active, so the gradient check means something
        TensorAssert.GradientsMatch(t => Loss(t[0], t[1], t[2]), a.RequiresGrad_(), pos.RequiresGrad_(), neg.RequiresGrad_());
    }

    [Fact]
    public void Mismatched_shapes_name_the_loss_and_the_shapes()
    {
        var a = Tensor.Zeros(4, 3);
        TensorAssert.Throws<ArgumentException>(() => Functional.CosineEmbeddingLoss(a, Tensor.Zeros(4, 2), Tensor.Ones(4)), "cosine_embedding_loss", "[4, 3]", "[4, 2]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CosineEmbeddingLoss(a, a, Tensor.Ones(3)), "cosine_embedding_loss", "[3]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.CosineEmbeddingLoss(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 3, 4), Tensor.Ones(2)), "cosine_embedding_loss", "[2, 3, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.MarginRankingLoss(Tensor.Zeros(5), Tensor.Zeros(5), Tensor.Zeros(4)), "margin_ranking_loss", "[5]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.TripletMarginLoss(a, a, Tensor.Zeros(4, 5)), "triplet_margin_loss", "[4, 3]", "[4, 5]");
        TensorAssert.Throws<ArgumentException>(() => Functional.TripletMarginLoss(a, a, a.To(DType.Float64)), "triplet_margin_loss", "float64");
    }
}
