namespace Loom.Nn.Tests.Losses;

/// <summary>Every loss against PyTorch (the loss_* cases of tests/golden/make_golden.py): value and input gradients.</summary>
public class LossGoldenTests
{
    /// <summary>make_golden.py wraps each loss as the child "fn" of a module, so its buffers are named fn.weight, fn.pos_weight.</summary>
    private sealed class Harness : Module
    {
        public Harness(Loss fn) => Fn = RegisterModule("fn", fn);

        public Loss Fn { get; }
    }

    private static void Check(string name, Loss loss, double atol = 1e-5, double rtol = 1e-4)
    {
        var harness = new Harness(loss);
        var golden = new LayerGolden(name);
        golden.Check(harness, x => [x.Length == 2 ? loss.Forward(x[0], x[1]) : loss.Forward(x[0], x[1], x[2])], atol, rtol);
    }

    [Fact]
    public void Cross_entropy_matches_pytorch_for_indices_probabilities_and_spatial_targets()
    {
        Check("loss_cross_entropy", new CrossEntropyLoss());
        Check("loss_cross_entropy_probs", new CrossEntropyLoss());
        Check("loss_cross_entropy_sum_2d", new CrossEntropyLoss(reduction: Reduction.Sum));
    }

    [Fact]
    public void Weighted_smoothed_cross_entropy_with_an_ignored_class_matches_pytorch()
    {
        // The weight is loaded from the golden state dict (fn.weight), so the module must hold it as a buffer.
        Check("loss_cross_entropy_weighted_smoothed", new CrossEntropyLoss(Tensor.Ones(5), ignoreIndex: 4, labelSmoothing: 0.1));
    }

    [Fact]
    public void Nll_matches_pytorch() => Check("loss_nll", new NLLLoss());

    [Fact]
    public void Binary_cross_entropy_matches_pytorch_including_the_target_gradient() => Check("loss_bce", new BCELoss());

    [Fact]
    public void Binary_cross_entropy_with_logits_and_pos_weight_matches_pytorch() =>
        Check("loss_bce_logits_posweight", new BCEWithLogitsLoss(posWeight: Tensor.Ones(1)));

    [Fact]
    public void Regression_losses_match_pytorch()
    {
        Check("loss_mse", new MSELoss());
        Check("loss_l1_sum", new L1Loss(Reduction.Sum));
        Check("loss_smooth_l1", new SmoothL1Loss(beta: 0.5));
        Check("loss_huber", new HuberLoss(delta: 0.7));
    }

    [Fact]
    public void KL_divergence_matches_pytorch_with_batchmean_and_log_targets()
    {
        Check("loss_kl_div", new KLDivLoss(KLDivReduction.BatchMean));
        Check("loss_kl_div_log_target", new KLDivLoss(KLDivReduction.Sum, logTarget: true));
    }

    [Fact]
    public void Embedding_losses_match_pytorch()
    {
        Check("loss_cosine_embedding", new CosineEmbeddingLoss(margin: 0.2));
        Check("loss_triplet", new TripletMarginLoss(margin: 1.0));
        Check("loss_margin_ranking", new MarginRankingLoss(margin: 0.3));
    }
}
