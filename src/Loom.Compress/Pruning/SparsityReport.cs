using System.Text;

namespace Loom.Compress;

/// <summary>One parameter's sparsity: elements, those not zero, and the zero fraction.</summary>
public sealed record LayerSparsity(string Name, string Shape, long Elements, long NonZero)
{
    public double Sparsity => Elements == 0 ? 0 : 1 - (double)NonZero / Elements;
}

/// <summary>The per-layer sparsity of a model's weights (rank ≥ 2) and the total, as a table.</summary>
public sealed record SparsityReport(IReadOnlyList<LayerSparsity> Layers)
{
    public long Elements => Layers.Sum(l => l.Elements);
    public long NonZero => Layers.Sum(l => l.NonZero);
    public double Sparsity => Elements == 0 ? 0 : 1 - (double)NonZero / Elements;

    public static SparsityReport Of(Module model) => new(PruningMasks.Prunable(model).Select(p =>
    {
        var w = p.Parameter.Contiguous().AsReadOnlySpan<float>();
        long nonZero = 0;
        foreach (var v in w) if (v != 0) nonZero++;
        return new LayerSparsity(p.Name, p.Parameter.Shape.ToString(), w.Length, nonZero);
    }).ToList());

    public string Markdown()
    {
        var sb = new StringBuilder("| layer | shape | weights | non-zero | sparsity |\n|---|---|---:|---:|---:|\n");
        foreach (var l in Layers) sb.Append($"| {l.Name} | {l.Shape} | {l.Elements:N0} | {l.NonZero:N0} | {l.Sparsity * 100:F1}% |\n");
        sb.Append($"| total | | {Elements:N0} | {NonZero:N0} | {Sparsity * 100:F1}% |\n");
        return sb.ToString();
    }
}
