namespace Loom.Models.Tests.Faces;

/// <summary>CosFace's loss against values worked by hand and finite differences; embeddings of unit length.</summary>
public sealed class CosFaceTests
{
    [Fact]
    public void The_loss_is_cross_entropy_of_scaled_cosines_less_the_margin_on_the_true_class()
    {
        var cosines = Tensor.FromArray([0.5, 0.2, 0.1, 0.7], 2, 2);
        var targets = Tensor.FromArray([0L, 1L], 2);
        // s = 2, m = 0.3: logits [0.4, 0.4] (true class 0) and [0.2, 0.8] (true class 1).
        double expected = (Math.Log(2) + Math.Log(1 + Math.Exp(-0.6))) / 2;
        Assert.Equal(expected, CosFace.Loss(cosines, targets, scale: 2, margin: 0.3).Item(), 1e-12);
        // Without the margin it is plain cross-entropy of s·cos: the margin makes the loss larger.
        double plain = (Math.Log(1 + Math.Exp(-0.6)) + Math.Log(1 + Math.Exp(-1.2))) / 2;
        Assert.Equal(plain, CosFace.Loss(cosines, targets, scale: 2, margin: 0).Item(), 1e-12);
        Assert.Throws<ArgumentException>(() => CosFace.Loss(cosines, Tensor.FromArray([0L], 1)));
    }

    [Fact]
    public void The_gradient_through_normalisation_and_the_cosine_head_matches_finite_differences()
    {
        var g = new Generator(21);
        var x = Tensor.Randn(new Shape(4, 5), g, DType.Float64).RequiresGrad_();
        var w = Tensor.Randn(new Shape(3, 5), g, DType.Float64).RequiresGrad_();
        var targets = Tensor.FromArray([0L, 2L, 1L, 2L], 4);
        Assert.Null(GradCheck.Run(a => CosFace.Loss(CosFace.Normalize(a[0]).Matmul(CosFace.Normalize(a[1]).Transpose(0, 1)), targets, scale: 8, margin: 0.35), [x, w]));
    }

    [Fact]
    public void Embeddings_have_unit_length_and_the_head_gives_cosines()
    {
        Generator.ManualSeed(2);
        var model = new FaceEmbedder(1, 28, 28, classes: 7, dimension: 16);
        var images = Tensor.Rand(new Shape(3, 1, 28, 28), new Generator(5));
        model.Eval();
        var e = model.Embed(images).ToArray<float>();
        for (int i = 0; i < 3; i++) Assert.Equal(1, Math.Sqrt(e.Skip(16 * i).Take(16).Sum(v => (double)v * v)), 1e-5);
        var cosines = model.Forward(images);
        Assert.Equal(new Shape(3, 7), cosines.Shape);
        Assert.All(cosines.ToArray<float>(), c => Assert.InRange(c, -1.0001f, 1.0001f));
    }

    [Fact]
    public void The_resnet_trunk_with_a_batch_normalised_embedding_gives_unit_vectors_and_centres_them_in_training()
    {
        Generator.ManualSeed(3);
        var model = new FaceEmbedder(1, 28, 28, classes: 7, dimension: 16, trunk: FaceVerificationTask.ResNetModelName, batchNormEmbedding: true);
        Assert.NotNull(model.EmbeddingNorm);
        Assert.IsType<ResNet>(model.Backbone);
        var images = Tensor.Rand(new Shape(8, 1, 28, 28), new Generator(6));
        // In training mode the batch norm removes the batch's mean before the normalisation: without it every
        // embedding of these similar images would point the same way (the narrow cone the remarks describe).
        var e = model.Embed(images).ToArray<float>();
        for (int i = 0; i < 8; i++) Assert.Equal(1, Math.Sqrt(e.Skip(16 * i).Take(16).Sum(v => (double)v * v)), 1e-5);
        var mean = Enumerable.Range(0, 16).Select(d => Enumerable.Range(0, 8).Average(i => (double)e[16 * i + d])).ToArray();
        Assert.True(Math.Sqrt(mean.Sum(m => m * m)) < 0.5, $"mean embedding length {Math.Sqrt(mean.Sum(m => m * m)):F3}");
        Assert.Contains("unknown face-embedding trunk 'vgg'", Assert.Throws<ArgumentException>(() => new FaceEmbedder(1, 28, 28, 7, trunk: "vgg")).Message);
    }
}
