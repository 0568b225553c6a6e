namespace Loom.Data;

/// <summary>
/// K-fold indices that keep class proportions (scikit-learn's <c>StratifiedKFold</c>): each class's samples, shuffled,
/// are dealt to the folds in turn, continuing where the previous class stopped. Every fold then holds ⌊n_c/K⌋ or
/// ⌈n_c/K⌉ samples of each class c, and fold sizes differ by at most one.
/// </summary>
public sealed class StratifiedKFold
{
    public StratifiedKFold(int folds, ulong seed = 0)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "StratifiedKFold: needs at least 2 folds");
        Folds = folds;
        Seed = seed;
    }

    public int Folds { get; }

    public ulong Seed { get; }

    public IEnumerable<Fold> Split(ReadOnlySpan<int> labels)
    {
        if (labels.Length < Folds) throw new ArgumentException($"StratifiedKFold: cannot split {labels.Length} samples into {Folds} folds");
        var rng = new Generator(Seed);
        var foldOf = new int[labels.Length];
        int next = 0;
        foreach (var members in Loom.Data.Split.ClassIndices(labels))
        {
            Loom.Data.Split.Shuffle(members, rng);
            foreach (int i in members) foldOf[i] = next++ % Folds;
        }
        return KFold.FoldsFrom(foldOf, Folds);
    }

    public IEnumerable<Fold> Split(Tensor labels) => Split(Loom.Data.Split.Labels(labels, "StratifiedKFold"));
}
