namespace Loom.Models;

/// <summary>The options of <see cref="FaceVerificationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record FaceVerificationOptions
{
    /// <summary>The last classes of the dataset, never trained on: verification and identification are scored on them (open set).</summary>
    public int HeldOut { get; init; } = 3;

    /// <summary>Length of the L2-normalised embedding.</summary>
    public int Embedding { get; init; } = 64;

    /// <summary>
    /// The loss: the margin losses "cosface" (cos θ − m on the true class) or "arcface" (cos(θ + m)), or "supcon"
    /// (<see cref="SupCon"/>: two augmented views of each image, supervised contrastive plus instance discrimination, on a projection head).
    /// </summary>
    public string Loss { get; init; } = "cosface";

    /// <summary>SupCon's temperature τ: cosines are divided by it before the softmax over the batch's other views.</summary>
    public double ContrastTemperature { get; init; } = 0.1;

    /// <summary>
    /// The weight w of the instance term (<see cref="SupCon"/> with the other view of the same image as the only
    /// positive, on a projection head) against the class term (1 − w): SupCon's, or the margin loss's. Null (left out
    /// of config.json) is 0.5 with supcon and 0 (no instance term, one view) with a margin loss.
    /// </summary>
    public double? InstanceWeight { get; init; }

    /// <summary>The instance weight in effect: <see cref="InstanceWeight"/>, or its default for the loss.</summary>
    public double EffectiveInstanceWeight => InstanceWeight ?? (Loss == "supcon" ? 0.5 : 0);

    /// <summary>Whether training sees two views of each image through a projection head (SupCon, or a margin loss with an instance term).</summary>
    public bool Contrastive => Loss == "supcon" || EffectiveInstanceWeight > 0;

    /// <summary>The projection head: Linear–ReLU–Linear to this many outputs, trained on and dropped for verification.</summary>
    public int Projection { get; init; } = 128;

    /// <summary>
    /// Part-based embeddings (<see cref="PartEmbedding"/>): grids `HxW` joined by `+` cutting the trunk's last feature
    /// map into cells, each with its own embedding of <see cref="Embedding"/> and margin head; verification uses their
    /// concatenation. Null (one globally pooled embedding) is left out of config.json.
    /// </summary>
    public string? Parts { get; init; }

    /// <summary>"batch": a batch norm on the embedding before its L2 normalisation (see <see cref="FaceEmbedder"/>); "none": straight from the trunk.</summary>
    public string EmbeddingNorm { get; init; } = "batch";

    /// <summary>Training-image augmentations, of <see cref="ImageAugmentation.Names"/>; null (none) is left out of config.json.</summary>
    public string[]? Augment { get; init; }

    /// <summary>The margin m: CosFace's cosine margin, or ArcFace's angle in radians.</summary>
    public double Margin { get; init; } = 0.35;

    /// <summary>CosFace's scale s.</summary>
    public double Scale { get; init; } = 16;

    /// <summary>Pairs of held-out test images scored for the ROC, half of one class, half of two.</summary>
    public int Pairs { get; init; } = 6000;

    /// <summary>
    /// Another built-in image dataset of the same image shape whose classes all join training as further identities
    /// (`--data digits --extra-data fashion-mnist`: 7 digits + 10 clothes = 17 identities, verified on digits 7–9 as
    /// before); null (none) is left out of config.json. Open-set metric learning generalises with the number of
    /// training identities, and the built-in sets have few.
    /// </summary>
    public string? ExtraData { get; init; }

    /// <summary>With `--extra-data glyphs`: how many characters rendered from the installed fonts join training as identities.</summary>
    public int Glyphs { get; init; } = 500;

    /// <summary>With `--extra-data glyphs`: renders of each character (random font, slant, rotation, aspect, thickness, blur).</summary>
    public int GlyphSamples { get; init; } = 20;

    /// <summary>
    /// How a pair is scored: "cosine" (the embeddings' cosine) or "asnorm" (the cosine normalised against a cohort of
    /// training images, <see cref="CohortNormalization"/>). Used by the test evaluation, `loom faces verify` and `loom faces pairs`.
    /// </summary>
    public string ScoreNorm { get; init; } = "cosine";

    /// <summary>AS-norm's K: the most similar cohort embeddings whose mean and spread normalise each side.</summary>
    public int CohortTop { get; init; } = 200;

    /// <summary>
    /// An earlier face-verification run (same data, same held-out classes) whose embedding clusters the held-out classes'
    /// unlabelled images (<see cref="FaceVerificationData.UnlabelledHeldOut"/>) into pseudo-identities that join training
    /// (unsupervised adaptation; no label of a held-out class is read); null (none) is left out of config.json.
    /// </summary>
    public string? AdaptFrom { get; init; }

    /// <summary>With `--adapt-from`: the most clusters tried; k is chosen from 2 up to it by silhouette, without labels.</summary>
    public int AdaptClusters { get; init; } = 10;

    /// <summary>With `--adapt-from`: the fewest clusters tried (equal to <see cref="AdaptClusters"/>: k fixed).</summary>
    public int AdaptMinClusters { get; init; } = 2;

    /// <summary>With `--adapt-from`: the share of each cluster trained on, its rows surest of their cluster (<see cref="PseudoIdentities.Confident"/>).</summary>
    public double AdaptKeep { get; init; } = 1;

    private static readonly FaceVerificationOptions Defaults = new();

    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Integer("--held-out", "held_out", "last classes left out of training and verified on (face verification)", Defaults.HeldOut),
        TaskOption.Integer("--embedding", "embedding", "length of the L2-normalised embedding (face verification)", Defaults.Embedding),
        TaskOption.Text("--loss", "loss", "cosface, arcface (margin losses) or supcon (two augmented views; supervised contrastive + instance discrimination) (face verification)", Defaults.Loss),
        TaskOption.Number("--contrast-temperature", "contrast_temperature", "temperature τ of supcon and of the instance term (face verification)", Defaults.ContrastTemperature),
        TaskOption.Number("--instance-weight", "instance_weight", "weight of the instance term (two views, positives: the other view) against the class term (SupCon's or the margin loss's), 0 to 1 (face verification)", 0)
            with { DefaultText = "0.5 with supcon, 0 otherwise" },
        TaskOption.Integer("--projection", "projection", "projection-head size of supcon and of the instance term (face verification)", Defaults.Projection),
        TaskOption.Number("--margin", "margin", "CosFace cosine margin or ArcFace angle margin m (face verification)", Defaults.Margin),
        TaskOption.Number("--scale", "scale", "CosFace/ArcFace logit scale s (face verification)", Defaults.Scale),
        TaskOption.Text("--parts", "parts", "part-based embedding: grids HxW joined by + (2x2; 1x1+2x2 for global + parts) cutting the trunk's last feature map into cells, each with its own embedding and margin head, concatenated for verification (face verification)"),
        TaskOption.Text("--embedding-norm", "embedding_norm", "batch (batch norm before the L2 normalisation) or none (face verification)", Defaults.EmbeddingNorm),
        SharedTaskOptions.Augment(),
        TaskOption.Text("--extra-data", "extra_data", "another built-in image dataset, or glyphs (characters rendered from the installed fonts), whose classes all join training as further identities (face verification)"),
        TaskOption.Integer("--glyphs", "glyphs", "with --extra-data glyphs: characters that join training as identities (face verification)", Defaults.Glyphs),
        TaskOption.Integer("--glyph-samples", "glyph_samples", "with --extra-data glyphs: renders of each character (face verification)", Defaults.GlyphSamples),
        TaskOption.Text("--adapt-from", "adapt_from", "an earlier face-verification run whose embedding clusters the held-out classes' unlabelled training-split images into pseudo-identities that join training (face verification)"),
        TaskOption.Integer("--adapt-clusters", "adapt_clusters", "with --adapt-from: most clusters tried, k chosen by silhouette (face verification)", Defaults.AdaptClusters),
        TaskOption.Integer("--adapt-min-clusters", "adapt_min_clusters", "with --adapt-from: fewest clusters tried (equal to --adapt-clusters: k fixed) (face verification)", Defaults.AdaptMinClusters),
        TaskOption.Number("--adapt-keep", "adapt_keep", "with --adapt-from: share of each cluster trained on, the rows surest of their cluster, in (0, 1] (face verification)", Defaults.AdaptKeep),
        TaskOption.Text("--score-norm", "score_norm", "pair score, cosine or asnorm (cosine normalised against a cohort of training images; face verification)", Defaults.ScoreNorm),
        TaskOption.Integer("--cohort-top", "cohort_top", $"AS-norm's K: nearest cohort embeddings per side, 2 to {FaceVerificationEvaluation.CohortSize} (face verification)", Defaults.CohortTop),
        TaskOption.Integer("--pairs", "pairs", "held-out test pairs scored for the ROC (face verification)", Defaults.Pairs),
    ];

    public void Validate()
    {
        if (HeldOut < 2) throw new ArgumentException($"--held-out must be at least 2 classes (verification needs pairs of different classes), got {HeldOut}");
        if (Embedding is < 2 or > 4096) throw new ArgumentException($"--embedding must be between 2 and 4096, got {Embedding}");
        if (!(Margin >= 0 && Margin < 1)) throw new ArgumentException($"--margin must be in [0, 1), got {Margin}");
        if (!(Scale > 0 && Scale <= 128)) throw new ArgumentException($"--scale must be in (0, 128], got {Scale}");
        if (Loss is not ("cosface" or "arcface" or "supcon")) throw new ArgumentException($"--loss must be cosface, arcface or supcon, got '{Loss}'");
        if (!(ContrastTemperature > 0 && ContrastTemperature <= 10)) throw new ArgumentException($"--contrast-temperature must be in (0, 10], got {ContrastTemperature}");
        if (InstanceWeight is double w && !(w >= 0 && w <= 1)) throw new ArgumentException($"--instance-weight must be in [0, 1], got {w}");
        if (Projection is < 1 or > 4096) throw new ArgumentException($"--projection must be between 1 and 4096, got {Projection}");
        if (Contrastive && Augment is not { Length: > 0 })
            throw new ArgumentException($"{(Loss == "supcon" ? "--loss supcon" : "--instance-weight")} compares two random views of each image: give --augment (e.g. crop,jitter)");
        if (Parts is not null)
        {
            PartEmbedding.ParseGrids(Parts);
            if (Contrastive) throw new ArgumentException("--parts trains a margin head per part; it does not combine with --loss supcon or --instance-weight");
        }
        if (EmbeddingNorm is not ("batch" or "none")) throw new ArgumentException($"--embedding-norm must be batch or none, got '{EmbeddingNorm}'");
        if (Augment is not null && Augment.Any(a => !ImageAugmentation.Names.Contains(a)))
            throw new ArgumentException($"--augment takes {string.Join(", ", ImageAugmentation.Names)}, comma-separated; got {string.Join(",", Augment)}");
        if (ScoreNorm is not ("cosine" or "asnorm")) throw new ArgumentException($"--score-norm must be cosine or asnorm, got '{ScoreNorm}'");
        if (CohortTop < 2 || CohortTop > FaceVerificationEvaluation.CohortSize) throw new ArgumentException($"--cohort-top must be between 2 and {FaceVerificationEvaluation.CohortSize}, got {CohortTop}");
        if (Glyphs is < 1 or > 100_000) throw new ArgumentException($"--glyphs must be between 1 and 100000, got {Glyphs}");
        if (GlyphSamples is < 1 or > 100_000) throw new ArgumentException($"--glyph-samples must be between 1 and 100000, got {GlyphSamples}");
        if (AdaptClusters is < 2 or > 1000) throw new ArgumentException($"--adapt-clusters must be between 2 and 1000, got {AdaptClusters}");
        if (AdaptMinClusters < 2 || AdaptMinClusters > AdaptClusters) throw new ArgumentException($"--adapt-min-clusters must be between 2 and --adapt-clusters {AdaptClusters}, got {AdaptMinClusters}");
        if (!(AdaptKeep > 0 && AdaptKeep <= 1)) throw new ArgumentException($"--adapt-keep must be in (0, 1], got {AdaptKeep}");
        if (Pairs is < 2 or > 10_000_000) throw new ArgumentException($"--pairs must be between 2 and 10000000, got {Pairs}");
    }
}
