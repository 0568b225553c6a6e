namespace Loom.Data;

/// <summary>
/// Seeded train/validation/test index splits. A stratified split keeps each class's proportions: every class c of
/// size n_c gets ⌊n_c·f⌋ or ⌈n_c·f⌉ validation samples (largest remainders first, so the total is exactly round(N·f)),
/// and likewise for test.
/// </summary>
public static class Split
{
    /// <summary>A random split: round(N·validation) validation and round(N·test) test indices, the rest train.</summary>
    public static SplitIndices Random(int count, double validationFraction, double testFraction = 0, ulong seed = 0)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Split.Random: count must be non-negative");
        CheckFractions(validationFraction, testFraction, "Split.Random");
        var order = new Generator(seed).Permutation(count);
        int nTest = (int)Math.Round(count * testFraction, MidpointRounding.AwayFromZero);
        int nVal = Math.Min(count - nTest, (int)Math.Round(count * validationFraction, MidpointRounding.AwayFromZero));
        return new SplitIndices(Sorted(order[(nTest + nVal)..]), Sorted(order[nTest..(nTest + nVal)]), Sorted(order[..nTest]));
    }

    /// <summary>A split that keeps the class proportions of <paramref name="labels"/> in each part (within one sample per class).</summary>
    public static SplitIndices Stratified(ReadOnlySpan<int> labels, double validationFraction, double testFraction = 0, ulong seed = 0)
    {
        CheckFractions(validationFraction, testFraction, "Split.Stratified");
        var classes = ClassIndices(labels);
        var rng = new Generator(seed);
        foreach (var members in classes) Shuffle(members, rng);
        var sizes = classes.Select(c => c.Count).ToArray();
        int n = labels.Length;
        var testPer = Apportion(sizes, testFraction, (int)Math.Round(n * testFraction, MidpointRounding.AwayFromZero));
        var remaining = sizes.Select((s, c) => s - testPer[c]).ToArray();
        // Validation is apportioned by the same fraction of each whole class, capped by what test left over.
        var valPer = Apportion(sizes, validationFraction, Math.Min(remaining.Sum(), (int)Math.Round(n * validationFraction, MidpointRounding.AwayFromZero)), remaining);
        var train = new List<int>();
        var val = new List<int>();
        var test = new List<int>();
        for (int c = 0; c < classes.Count; c++)
        {
            var m = classes[c];
            test.AddRange(m.GetRange(0, testPer[c]));
            val.AddRange(m.GetRange(testPer[c], valPer[c]));
            train.AddRange(m.GetRange(testPer[c] + valPer[c], m.Count - testPer[c] - valPer[c]));
        }
        return new SplitIndices(Sorted([.. train]), Sorted([.. val]), Sorted([.. test]));
    }

    /// <summary><see cref="Stratified(ReadOnlySpan{int}, double, double, ulong)"/> with labels from an integer tensor [N].</summary>
    public static SplitIndices Stratified(Tensor labels, double validationFraction, double testFraction = 0, ulong seed = 0) =>
        Stratified(Labels(labels, "Split.Stratified"), validationFraction, testFraction, seed);

    /// <summary>Labels as int[] from a 1-D integer tensor.</summary>
    internal static int[] Labels(Tensor labels, string op)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Rank != 1) throw new ArgumentException($"{op}: labels must be 1-D, got shape {labels.Shape}");
        if (labels.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: labels must be integers, got dtype {labels.DType.Name()}");
        return labels.ToArray<int>();
    }

    /// <summary>The indices of each distinct label, classes in ascending label order, indices ascending.</summary>
    internal static List<List<int>> ClassIndices(ReadOnlySpan<int> labels)
    {
        var byLabel = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!byLabel.TryGetValue(labels[i], out var list)) byLabel[labels[i]] = list = [];
            list.Add(i);
        }
        return [.. byLabel.Values];
    }

    internal static void Shuffle(List<int> items, Generator rng)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Shares <paramref name="total"/> among classes in proportion to their sizes by largest remainder: class c gets
    /// ⌊size_c·f⌋ plus one if its remainder is among the largest, never more than <paramref name="caps"/>[c].
    /// </summary>
    private static int[] Apportion(int[] sizes, double fraction, int total, int[]? caps = null)
    {
        caps ??= sizes;
        var share = new int[sizes.Length];
        var remainder = new double[sizes.Length];
        for (int c = 0; c < sizes.Length; c++)
        {
            double exact = sizes[c] * fraction;
            share[c] = Math.Min(caps[c], (int)Math.Floor(exact));
            remainder[c] = exact - share[c];
        }
        int left = total - share.Sum();
        // Largest remainder first; ties go to the larger class, then the lower label, so the result is deterministic.
        var order = Enumerable.Range(0, sizes.Length).OrderByDescending(c => remainder[c]).ThenByDescending(c => sizes[c]).ThenBy(c => c).ToArray();
        for (int k = 0; left > 0 && k < order.Length; k++)
        {
            int c = order[k];
            if (share[c] < caps[c])
            {
                share[c]++;
                left--;
            }
        }
        return share;
    }

    private static void CheckFractions(double validation, double test, string op)
    {
        if (!(validation >= 0 && validation <= 1) || !(test >= 0 && test <= 1) || validation + test > 1)
            throw new ArgumentException($"{op}: fractions must lie in [0, 1] and add up to at most 1, got validation {validation} and test {test}");
    }

    private static int[] Sorted(int[] indices)
    {
        Array.Sort(indices);
        return indices;
    }
}
