namespace Loom.Models.Tests.Language;

/// <summary>
/// The whole GPT — embeddings, attention (through Functional.ScaledDotProductAttention), MLP, LayerNorms, head — against
/// central differences in float64: the cross-entropy of a gpt-tiny-shaped model (shrunk so the check perturbs a few
/// thousand parameters) with respect to every parameter.
/// </summary>
public class GptGradientTests
{
    private static void Check(GptConfig config, bool fusedLoss = false)
    {
        Generator.ManualSeed(5);
        var gpt = new Gpt(config);
        // GPT-2's 0.02 initialisation makes every logit nearly equal; larger weights exercise the softmax and GELU curves.
        var g = new Generator(9);
        using (new NoGrad())
        {
            foreach (var p in gpt.Parameters())
            {
                var data = p.AsSpan<double>();
                for (int i = 0; i < data.Length; i++) data[i] = 0.5 * g.NextNormal();
            }
        }
        var ids = Tensor.FromArray(new long[] { 1, 4, 2, 6, 0, 3, 3, 5, 1, 2 }, 2, 5);
        var targets = Tensor.FromArray(new long[] { 4, 2, 6, 0, 3, 3, 5, 1, 2, 6 }, 10);
        var parameters = gpt.Parameters().Cast<Tensor>().ToArray();
        Func<Tensor[], Tensor> loss = fusedLoss
            ? _ => gpt.Loss(ids, targets.Reshape(2, 5))
            : _ => Functional.CrossEntropy(gpt.Forward(ids).Reshape(-1, config.Vocab), targets);
        TensorAssert.GradientsMatch(loss, parameters, eps: 1e-6, atol: 1e-7, rtol: 1e-5);
    }

    // Gpt.Loss: the tied head and the cross-entropy as one op (Functional.LinearCrossEntropy).
    [Fact]
    public void The_fused_loss() => Check(Tiny, fusedLoss: true);

    [Fact]
    public void The_fused_loss_equals_the_loss_of_the_logits()
    {
        foreach (var config in new[] { Tiny with { DType = DType.Float32 }, Tiny with { TiedEmbeddings = false } })
        {
            Generator.ManualSeed(3);
            var gpt = new Gpt(config);
            var ids = Tensor.FromArray(new long[] { 1, 4, 2, 6, 0, 3, 3, 5, 1, 2 }, 2, 5);
            var targets = Tensor.FromArray(new long[] { 4, 2, -100, 0, 3, 3, 5, 1, 2, 6 }, 2, 5);
            var (viaLogits, viaLogitsGrads) = LossAndGradients(gpt, () => Functional.CrossEntropy(gpt.Forward(ids).Reshape(-1, config.Vocab), targets.Reshape(-1)));
            var (fused, fusedGrads) = LossAndGradients(gpt, () => gpt.Loss(ids, targets));
            Assert.Equal(viaLogits, fused); // the same forward and the same row passes
            for (int i = 0; i < fusedGrads.Length; i++)
                TensorAssert.Close(viaLogitsGrads[i], fusedGrads[i], 1e-6, 1e-4, $"parameter {i}");
        }
    }

    private static (double Loss, double[][] Gradients) LossAndGradients(Gpt gpt, Func<Tensor> loss)
    {
        foreach (var p in gpt.Parameters()) p.Grad = null;
        var value = loss();
        value.Backward();
        return (value.Item(), gpt.Parameters().Select(p => p.Grad!.ToArray<double>()).ToArray());
    }

    private static GptConfig Tiny => GptConfig.Preset("gpt-tiny", vocab: 7) with { Dim = 8, Heads = 2, Context = 6, DType = DType.Float64 };

    [Fact]
    public void Learned_positions_and_tied_embeddings() => Check(Tiny);

    [Fact]
    public void Rotary_positions_and_a_separate_head() => Check(Tiny with { Positions = GptPositions.Rotary, TiedEmbeddings = false });

    [Fact]
    public void Exact_gelu() => Check(Tiny with { GeluTanh = false, Layers = 1 });

    // One block in both slots: its gradient is the sum over both uses, which the differences see as one parameter.
    [Fact]
    public void Layers_shared_across_the_stack() => Check(Tiny with { ShareLayers = true });
}
