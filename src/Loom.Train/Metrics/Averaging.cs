namespace Loom.Train;

/// <summary>How per-class precision/recall/F1 combine into one number, as scikit-learn's <c>average</c>.</summary>
public enum Averaging
{
    /// <summary>Unweighted mean over classes.</summary>
    Macro,
    /// <summary>From global true/false positive counts (equals accuracy for single-label multi-class).</summary>
    Micro,
    /// <summary>Mean over classes weighted by support.</summary>
    Weighted,
}
