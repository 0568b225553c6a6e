namespace Loom.Models.Tests.Faces;

/// <summary>`--parts`: grids of cells cut from the trunk's feature map, one embedding and margin head per cell.</summary>
public sealed class PartEmbeddingTests
{
    [Fact]
    public void Each_part_pools_its_own_cell_row_by_row_through_its_own_linear_layer()
    {
        var parts = new PartEmbedding(2, 3, "2x2", batchNorm: false);
        // Channel 0 is 1 in the top-right quadrant of a 4×4 map and 0 elsewhere; channel 1 is 0 everywhere.
        var map = new float[2 * 16];
        foreach (var (r, c) in new[] { (0, 2), (0, 3), (1, 2), (1, 3) }) map[r * 4 + c] = 1;
        var e = parts.Forward(Tensor.FromArray(map, 1, 2, 4, 4));
        Assert.Equal(new Shape(1, 4, 3), e.Shape);
        var linears = parts.Children().Cast<Loom.Nn.Linear>().ToArray();
        for (int k = 0; k < 4; k++)
        {
            var w = linears[k].Weight.ToArray<float>();
            var b = linears[k].Bias!.ToArray<float>();
            var got = e.Narrow(1, k, 1).Reshape(3).ToArray<float>();
            // Cell 1 (top right) holds the ones: its part is W[:, 0] + b; the others pool zeros, only their bias.
            for (int j = 0; j < 3; j++) Assert.Equal(b[j] + (k == 1 ? w[j * 2] : 0), got[j], 1e-6);
        }
    }

    [Fact]
    public void The_verification_embedding_concatenates_unit_parts_so_its_cosine_is_the_parts_mean_cosine()
    {
        Loom.Random.Generator.Default.Seed(3);
        var model = new FaceEmbedder(1, 28, 28, classes: 7, dimension: 8, batchNormEmbedding: true, parts: "1x1+2x2");
        Assert.Equal((5, 40), (model.Parts!.Parts, model.Dimension));
        Assert.Equal(5, model.PartHeads.Count);
        Assert.Null(model.Head);
        var images = Tensor.Rand(new Shape(3, 1, 28, 28), new Generator(4));
        Assert.Equal(new Shape(3, 5, 7), model.Forward(images).Shape);
        model.Eval();
        var e = model.Embed(images).ToArray<float>();
        Assert.Equal(3 * 40, e.Length);
        double Dot(int i, int j, int from, int count) => Enumerable.Range(from, count).Sum(k => (double)e[i * 40 + k] * e[j * 40 + k]);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1, Dot(i, i, 0, 40), 1e-5);
            for (int p = 0; p < 5; p++) Assert.Equal(1.0 / 5, Dot(i, i, p * 8, 8), 1e-5);
        }
        // The parts' own cosines, each part normalised on its own.
        double mean = Enumerable.Range(0, 5).Average(p => Dot(0, 1, p * 8, 8) * 5);
        Assert.Equal(mean, Dot(0, 1, 0, 40), 1e-5);
    }

    [Fact]
    public void The_part_loss_is_the_mean_of_every_part_s_margin_loss()
    {
        var g = new Generator(5);
        var cosines = Tensor.Rand(new Shape(2, 3, 4), g, DType.Float64) * 2 - 1;
        var targets = Tensor.FromArray([3L, 0L], 2);
        Func<Tensor, Tensor, Tensor> margin = (c, t) => CosFace.Loss(c, t, 16, 0.35);
        double expected = Enumerable.Range(0, 3).Average(p => margin(cosines.Narrow(1, p, 1).Reshape(2, 4), targets).Item());
        Assert.Equal(expected, FaceVerificationTask.PartLoss(cosines, targets, margin).Item(), 1e-12);
        Assert.Contains("[N, parts, classes]", Assert.Throws<ArgumentException>(() => FaceVerificationTask.PartLoss(cosines.Reshape(2, 12), targets, margin)).Message);
    }

    [Fact]
    public void The_gradient_through_parts_normalisation_heads_and_CosFace_matches_finite_differences()
    {
        Loom.Random.Generator.Default.Seed(6);
        var parts = new PartEmbedding(3, 4, "1x1+2x1", batchNorm: true, dtype: DType.Float64);
        var g = new Generator(7);
        var map = Tensor.Randn(new Shape(4, 3, 4, 4), g, DType.Float64).RequiresGrad_();
        var heads = Enumerable.Range(0, 3).Select(_ => Tensor.Randn(new Shape(5, 4), g, DType.Float64).RequiresGrad_()).ToArray();
        var targets = Tensor.FromArray([0L, 4L, 2L, 4L], 4);
        Tensor Loss(Tensor[] a)
        {
            var p = parts.Forward(a[0]);
            var cosines = Tensor.Stack([.. Enumerable.Range(0, 3).Select(k => CosFace.Normalize(p.Narrow(1, k, 1).Reshape(4, 4)).Matmul(CosFace.Normalize(a[1 + k]).Transpose(0, 1)))], 1);
            return FaceVerificationTask.PartLoss(cosines, targets, (c, t) => CosFace.Loss(c, t, 8, 0.35));
        }
        Assert.Null(GradCheck.Run(Loss, [map, .. heads, .. parts.Parameters().Cast<Tensor>()]));
    }

    [Fact]
    public void Bad_grids_are_one_error_naming_the_option()
    {
        foreach (var bad in new[] { "2", "2x", "0x2", "9x1", "2x2+", "axb", "8x8+1x1" })
            Assert.Contains("--parts", Assert.Throws<ArgumentException>(() => PartEmbedding.ParseGrids(bad)).Message);
        Assert.Equal([(1, 1), (2, 2), (3, 1)], PartEmbedding.ParseGrids("1x1+2x2+3x1"));
        Assert.Contains("does not take --model face-resnet", Assert.Throws<ArgumentException>(() => new FaceEmbedder(1, 28, 28, 7, trunk: FaceVerificationTask.ResNetModelName, parts: "2x2")).Message);
        Assert.Contains("projection head", Assert.Throws<ArgumentException>(() => new FaceEmbedder(1, 28, 28, 7, projection: 8, parts: "2x2")).Message);
    }
}
