namespace Loom.Nn;

/// <summary>
/// An attention layer whose heads can be removed: each head owns a block of rows of the query, key and value
/// projections and the matching block of input columns of one output projection, so dropping a head slices both and
/// leaves a smaller dense layer (Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than One?").
/// </summary>
public interface IHeadPrunable
{
    int NumHeads { get; }

    int HeadDim { get; }

    /// <summary>The layer the concatenated heads go through: head h is its input columns h·HeadDim … (h + 1)·HeadDim − 1.</summary>
    Linear OutputProjection { get; }

    /// <summary>A new layer with only <paramref name="heads"/> (indices, in that order), weights sliced from this one.</summary>
    Module KeepHeads(IReadOnlyList<int> heads);
}

/// <summary>Index arithmetic shared by the layers that implement <see cref="IHeadPrunable"/>.</summary>
public static class AttentionHeads
{
    /// <summary>
    /// Int64 indices of the rows that belong to <paramref name="heads"/> in a projection of <paramref name="parts"/>
    /// stacked blocks of numHeads·headDim rows each (3 for queries, keys and values side by side; 1 for one of them, or
    /// the output projection's columns).
    /// </summary>
    public static Tensor Rows(IReadOnlyList<int> heads, int numHeads, int headDim, int parts, string layer)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0) throw new ArgumentException($"{layer}: keep at least one of its {numHeads} heads");
        if (heads.Any(h => h < 0 || h >= numHeads) || heads.Distinct().Count() != heads.Count)
            throw new ArgumentException($"{layer}: heads to keep must be distinct indices below {numHeads}, got [{string.Join(", ", heads)}]");
        int inner = numHeads * headDim;
        var rows = new long[parts * heads.Count * headDim];
        int i = 0;
        for (int part = 0; part < parts; part++)
            foreach (int h in heads)
                for (int d = 0; d < headDim; d++)
                    rows[i++] = (long)part * inner + h * headDim + d;
        return Tensor.FromArray(rows);
    }
}
