namespace Loom.Data;

/// <summary>One fold of a K-fold split: <see cref="Validation"/> is the held-out part, <see cref="Train"/> the rest; both sorted ascending.</summary>
public sealed record Fold(int Index, int[] Train, int[] Validation);
