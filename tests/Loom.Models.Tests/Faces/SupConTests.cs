namespace Loom.Models.Tests.Faces;

/// <summary>SupCon's class and instance terms against values worked by hand, and its gradient against finite differences.</summary>
public sealed class SupConTests
{
    [Fact]
    public void With_one_view_the_loss_is_the_class_term_over_anchors_that_have_a_positive()
    {
        // Three images, one view each; images 0 and 1 share a class, image 2 has none to pull towards (no anchor).
        var z = Tensor.FromArray([1.0, 0, 0, 1, -1, 0], 3, 1, 2);
        var targets = Tensor.FromArray([4L, 4L, 9L], 3);
        // τ = 1. Anchor 0: cosines 0 (image 1, positive) and −1 → −log(1 / (1 + e⁻¹)). Anchor 1: cosines 0 and 0 → log 2.
        double expected = (Math.Log(1 + Math.Exp(-1)) + Math.Log(2)) / 2;
        Assert.Equal(expected, SupCon.Loss(z, targets, temperature: 1, instanceWeight: 0.5).Item(), 1e-12);
        // Lengths do not matter: projections are normalised.
        Assert.Equal(expected, SupCon.Loss(z * 3, targets, temperature: 1).Item(), 1e-12);
        // No two images of one class: nothing to pull together, a loss of 0.
        Assert.Equal(0, SupCon.Loss(z, Tensor.FromArray([0L, 1L, 2L], 3), temperature: 1).Item(), 1e-12);
    }

    [Fact]
    public void With_two_views_the_instance_term_pulls_only_the_other_view_and_the_class_term_every_view_of_the_class()
    {
        // Two images of one class, two views each: (1, 0), (0, 1) and (−1, 0), (0, −1). Every view has cosine 0 with
        // two others and −1 with its opposite, so each anchor's softmax denominator is 2 + e^(−1/τ).
        var z = Tensor.FromArray([1.0, 0, 0, 1, -1, 0, 0, -1], 2, 2, 2);
        var targets = Tensor.FromArray([3L, 3L], 2);
        foreach (double t in new[] { 1.0, 0.5 })
        {
            double log = Math.Log(2 + Math.Exp(-1 / t));
            // Instance: the other view, cosine 0. Class: all three, mean logit (0 + 0 − 1/τ) / 3.
            double instance = log, cls = log + 1 / (3 * t);
            Assert.Equal(instance, SupCon.Loss(z, targets, t, instanceWeight: 1).Item(), 1e-12);
            Assert.Equal(cls, SupCon.Loss(z, targets, t, instanceWeight: 0).Item(), 1e-12);
            Assert.Equal(0.75 * cls + 0.25 * instance, SupCon.Loss(z, targets, t, instanceWeight: 0.25).Item(), 1e-12);
        }
        // Of two classes, the class term's positives are the instance term's: the weight changes nothing.
        var distinct = Tensor.FromArray([3L, 5L], 2);
        Assert.Equal(SupCon.Loss(z, distinct, 1, 0).Item(), SupCon.Loss(z, distinct, 1, 1).Item(), 1e-12);
    }

    [Fact]
    public void The_gradient_through_the_normalisation_matches_finite_differences()
    {
        var g = new Generator(25);
        var z = Tensor.Randn(new Shape(4, 2, 5), g, DType.Float64).RequiresGrad_();
        var targets = Tensor.FromArray([0L, 1L, 0L, 2L], 4);
        Assert.Null(GradCheck.Run(a => SupCon.Loss(a[0], targets, temperature: 0.2, instanceWeight: 0.3), [z]));
        var single = Tensor.Randn(new Shape(5, 1, 3), g, DType.Float64).RequiresGrad_();
        Assert.Null(GradCheck.Run(a => SupCon.Loss(a[0], Tensor.FromArray([1L, 0L, 1L, 1L, 0L], 5), temperature: 0.5), [single]));
    }

    [Fact]
    public void A_margin_loss_with_the_instance_term_blends_the_margin_loss_of_every_view_with_the_instance_term()
    {
        // Two images (classes 1 and 0 of 2), two views; each view's row: 2 cosines, then a 2-d projection.
        var output = Tensor.FromArray([0.5, 0.1, 1, 0, 0.3, 0.2, 0, 1, -0.2, 0.6, -1, 0, 0.1, 0.4, 0, -1], 2, 2, 4);
        var targets = Tensor.FromArray([1L, 0L], 2);
        Tensor Margin(Tensor c, Tensor t) => CosFace.Loss(c, t, scale: 4, margin: 0.2);
        // The margin loss sees the four views' cosines, each with its image's class.
        double margin = Margin(Tensor.FromArray([0.5, 0.1, 0.3, 0.2, -0.2, 0.6, 0.1, 0.4], 4, 2), Tensor.FromArray([1L, 1L, 0L, 0L], 4)).Item();
        // The projections are those of the two-view hand case above: the instance term is log(2 + e⁻¹) at τ = 1.
        double instance = Math.Log(2 + Math.Exp(-1));
        Assert.Equal(0.7 * margin + 0.3 * instance, SupCon.WithMargin(output, targets, 2, Margin, temperature: 1, instanceWeight: 0.3).Item(), 1e-12);
        // One view (validation): the margin loss alone.
        var first = output.Narrow(1, 0, 1).Contiguous();
        double single = Margin(Tensor.FromArray([0.5, 0.1, -0.2, 0.6], 2, 2), targets).Item();
        Assert.Equal(single, SupCon.WithMargin(first, targets, 2, Margin, temperature: 1, instanceWeight: 0.3).Item(), 1e-12);
        var g = new Generator(26);
        var x = Tensor.Randn(new Shape(3, 2, 5), g, DType.Float64).RequiresGrad_();
        Assert.Null(GradCheck.Run(a => SupCon.WithMargin(a[0], Tensor.FromArray([0L, 1L, 0L], 3), 2, Margin, temperature: 0.3, instanceWeight: 0.4), [x]));
        Assert.Contains("expected [N, views, 2 + P]", Assert.Throws<ArgumentException>(() => SupCon.WithMargin(first.Narrow(2, 0, 2), targets, 2, Margin, 1, 0.3)).Message);
    }

    [Fact]
    public void Bad_shapes_and_settings_are_refused()
    {
        var z = Tensor.Zeros(new Shape(2, 2, 3), DType.Float64);
        Assert.Contains("expected projections [N, views, P]", Assert.Throws<ArgumentException>(() => SupCon.Loss(z.Reshape(4, 3), Tensor.FromArray([0L, 1L], 2))).Message);
        Assert.Contains("expected projections [N, views, P]", Assert.Throws<ArgumentException>(() => SupCon.Loss(z, Tensor.FromArray([0L], 1))).Message);
        Assert.Throws<ArgumentException>(() => SupCon.Loss(z, Tensor.FromArray([0L, 1L], 2), temperature: 0));
        Assert.Throws<ArgumentException>(() => SupCon.Loss(z, Tensor.FromArray([0L, 1L], 2), instanceWeight: 1.5));
    }

    [Fact]
    public void A_projection_head_takes_views_stacked_on_the_channel_axis_beside_or_instead_of_the_margin_head()
    {
        Generator.ManualSeed(4);
        var model = new FaceEmbedder(1, 28, 28, classes: 7, dimension: 16, batchNormEmbedding: true, projection: 8, marginHead: false);
        Assert.Null(model.Head);
        Assert.NotNull(model.Projector);
        var images = Tensor.Rand(new Shape(3, 2, 28, 28), new Generator(8));
        model.Eval();
        Assert.Equal(new Shape(3, 2, 8), model.Forward(images).Shape);
        // View 1 of image 2 is projected as that image alone would be.
        var alone = model.Forward(images.Narrow(0, 2, 1).Narrow(1, 1, 1).Contiguous());
        TensorAssert.Close(alone.Reshape(8), model.Forward(images).Narrow(0, 2, 1).Narrow(1, 1, 1).Reshape(8), 1e-5, 1e-5);
        // Verification still uses the unit-length embedding before the projection head.
        Assert.Equal(new Shape(3, 16), model.Embed(images.Narrow(1, 0, 1).Contiguous()).Shape);
        // With both heads each view's row is its cosines to the classes, then its projection.
        var both = new FaceEmbedder(1, 28, 28, classes: 7, dimension: 16, projection: 8, marginHead: true);
        both.Eval();
        var rows = both.Forward(images);
        Assert.Equal(new Shape(3, 2, 15), rows.Shape);
        TensorAssert.Close(both.Head!.Forward(both.Embed(images.Narrow(1, 1, 1).Contiguous())), rows.Narrow(1, 1, 1).Narrow(2, 0, 7).Reshape(3, 7), 1e-5, 1e-5);
        Assert.Contains("needs a margin head, a projection head or both", Assert.Throws<ArgumentException>(() => new FaceEmbedder(1, 28, 28, 7, projection: 0, marginHead: false)).Message);
        Assert.Contains("views stacked on the channel axis", Assert.Throws<ArgumentException>(() => new FaceEmbedder(2, 28, 28, 7, projection: 8).Forward(Tensor.Zeros(1, 3, 28, 28))).Message);
    }
}
