namespace Loom.Data;

/// <summary>Disjoint index sets covering 0..N-1, each sorted ascending. <see cref="Test"/> is empty when no test fraction was asked for.</summary>
public sealed record SplitIndices(int[] Train, int[] Validation, int[] Test);
