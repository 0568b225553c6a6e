namespace Loom.Tests.OpInfo;

internal static partial class OpTable
{
    private static IEnumerable<OpInfo> Losses() =>
    [
        Op("mse_loss", (x, a) => Functional.MseLoss(x[0], x[1], a.Reduction), "MseLoss"),
        Op("l1_loss", (x, a) => Functional.L1Loss(x[0], x[1], a.Reduction), "L1Loss"),
        Op("smooth_l1_loss", (x, a) => Functional.SmoothL1Loss(x[0], x[1], a.Reduction, beta: 0.5), "SmoothL1Loss"),
        Op("huber_loss", (x, a) => Functional.HuberLoss(x[0], x[1], a.Reduction, delta: 0.7), "HuberLoss"),
        Op("binary_cross_entropy", (x, a) => Functional.BinaryCrossEntropy(x[0], x[1], Opt(x, 2), a.Reduction), "BinaryCrossEntropy"),
        Op("binary_cross_entropy_with_logits", (x, a) => Functional.BinaryCrossEntropyWithLogits(x[0], x[1],
            a.Bool("weight") ? x[2] : null, a.Bool("pos_weight") ? x[^1] : null, a.Reduction), "BinaryCrossEntropyWithLogits"),
        Op("kl_div", (x, a) => Functional.KLDiv(x[0], x[1], a.String("reduction") switch
        {
            "none" => KLDivReduction.None,
            "sum" => KLDivReduction.Sum,
            "batchmean" => KLDivReduction.BatchMean,
            _ => KLDivReduction.Mean,
        }, a.Bool("log_target")), "KLDiv"),
        Op("cross_entropy", (x, a) => Functional.CrossEntropy(x[0], x[1], Opt(x, 2), a.Long("ignore_index", -100), a.Double("smoothing", 0), a.Reduction),
            "CrossEntropy"),
        Op("nll_loss", (x, a) => Functional.NllLoss(x[0], x[1], Opt(x, 2), a.Long("ignore_index", -100), a.Reduction), "NllLoss"),
        Op("cosine_embedding_loss", (x, a) => Functional.CosineEmbeddingLoss(x[0], x[1], x[2], a.Double("margin"), a.Reduction), "CosineEmbeddingLoss"),
        Op("margin_ranking_loss", (x, a) => Functional.MarginRankingLoss(x[0], x[1], x[2], a.Double("margin"), a.Reduction), "MarginRankingLoss"),
        Op("triplet_margin_loss", (x, a) => Functional.TripletMarginLoss(x[0], x[1], x[2], a.Double("margin"), a.Double("p"), 1e-6, a.Bool("swap"), a.Reduction),
            "TripletMarginLoss"),
        Op("poisson_nll_loss", (x, a) => Functional.PoissonNllLoss(x[0], x[1], a.Bool("log_input"), a.Bool("full"), reduction: a.Reduction), "PoissonNllLoss") with
        {
            NotGradChecked = [("full", "integer counts sit where Stirling's term switches on (y = 1) or is 0·log 0 (y = 0), as in PyTorch")],
        },
        Op("gaussian_nll_loss", (x, a) => Functional.GaussianNllLoss(x[0], x[1], x[2], a.Bool("full"), a.Double("eps"), a.Reduction), "GaussianNllLoss") with
        {
            NotGradChecked = [("clamped", "the variance's clamp at eps is outside autograd (PyTorch's definition): finite differences see the flat part")],
        },
        Op("hinge_embedding_loss", (x, a) => Functional.HingeEmbeddingLoss(x[0], x[1], a.Double("margin"), a.Reduction), "HingeEmbeddingLoss"),
        Op("soft_margin_loss", (x, a) => Functional.SoftMarginLoss(x[0], x[1], a.Reduction), "SoftMarginLoss"),
        Op("multi_margin_loss", (x, a) => Functional.MultiMarginLoss(x[0], x[1], a.Int("p"), a.Double("margin"), Opt(x, 2), a.Reduction), "MultiMarginLoss"),
        Op("ctc_loss", (x, a) => Functional.CtcLoss(x[0].LogSoftmax(2), x[1], a.Ints("input_lengths"), a.Ints("target_lengths"), a.Int("blank"), a.Reduction,
            a.Bool("zero_infinity")), "CtcLoss"),
    ];
}
