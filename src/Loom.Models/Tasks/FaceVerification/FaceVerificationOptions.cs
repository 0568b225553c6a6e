namespace Loom.Models;

/// <summary>The options of <see cref="FaceVerificationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record FaceVerificationOptions
{
    /// <summary>The last classes of the dataset, never trained on: verification and identification are scored on them (open set).</summary>
    public int HeldOut { get; init; } = 3;

    /// <summary>Length of the L2-normalised embedding.</summary>
    public int Embedding { get; init; } = 64;

    /// <summary>CosFace's cosine margin m.</summary>
    public double Margin { get; init; } = 0.35;

    /// <summary>CosFace's scale s.</summary>
    public double Scale { get; init; } = 16;

    /// <summary>Pairs of held-out test images scored for the ROC, half of one class, half of two.</summary>
    public int Pairs { get; init; } = 6000;

    private static readonly FaceVerificationOptions Defaults = new();

    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Integer("--held-out", "held_out", "last classes left out of training and verified on (face verification)", Defaults.HeldOut),
        TaskOption.Integer("--embedding", "embedding", "length of the L2-normalised embedding (face verification)", Defaults.Embedding),
        TaskOption.Number("--margin", "margin", "CosFace cosine margin m (face verification)", Defaults.Margin),
        TaskOption.Number("--scale", "scale", "CosFace logit scale s (face verification)", Defaults.Scale),
        TaskOption.Integer("--pairs", "pairs", "held-out test pairs scored for the ROC (face verification)", Defaults.Pairs),
    ];

    public void Validate()
    {
        if (HeldOut < 2) throw new ArgumentException($"--held-out must be at least 2 classes (verification needs pairs of different classes), got {HeldOut}");
        if (Embedding is < 2 or > 4096) throw new ArgumentException($"--embedding must be between 2 and 4096, got {Embedding}");
        if (!(Margin >= 0 && Margin < 1)) throw new ArgumentException($"--margin must be in [0, 1), got {Margin}");
        if (!(Scale > 0 && Scale <= 128)) throw new ArgumentException($"--scale must be in (0, 128], got {Scale}");
        if (Pairs is < 2 or > 10_000_000) throw new ArgumentException($"--pairs must be between 2 and 10000000, got {Pairs}");
    }
}
