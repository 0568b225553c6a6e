namespace Loom.Data;

/// <summary>
/// K-fold cross-validation indices (scikit-learn's <c>KFold</c>): the samples, shuffled when a seed is given, are cut
/// into K consecutive folds whose sizes differ by at most one; fold k validates on its part and trains on the rest.
/// </summary>
public sealed class KFold
{
    public KFold(int folds, bool shuffle = true, ulong seed = 0)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "KFold: needs at least 2 folds");
        Folds = folds;
        ShuffleSamples = shuffle;
        Seed = seed;
    }

    public int Folds { get; }

    public bool ShuffleSamples { get; }

    public ulong Seed { get; }

    public IEnumerable<Fold> Split(int count)
    {
        if (count < Folds) throw new ArgumentException($"KFold: cannot split {count} samples into {Folds} folds");
        var order = ShuffleSamples ? new Generator(Seed).Permutation(count) : Enumerable.Range(0, count).ToArray();
        var foldOf = new int[count];
        int start = 0;
        for (int k = 0; k < Folds; k++)
        {
            int size = count / Folds + (k < count % Folds ? 1 : 0);
            for (int i = start; i < start + size; i++) foldOf[order[i]] = k;
            start += size;
        }
        return FoldsFrom(foldOf, Folds);
    }

    /// <summary>Turns a fold assignment per sample into <see cref="Fold"/>s with sorted index sets.</summary>
    internal static IEnumerable<Fold> FoldsFrom(int[] foldOf, int folds)
    {
        for (int k = 0; k < folds; k++)
        {
            var train = new List<int>(foldOf.Length);
            var validation = new List<int>(foldOf.Length / folds + 1);
            for (int i = 0; i < foldOf.Length; i++) (foldOf[i] == k ? validation : train).Add(i);
            yield return new Fold(k, [.. train], [.. validation]);
        }
    }
}
