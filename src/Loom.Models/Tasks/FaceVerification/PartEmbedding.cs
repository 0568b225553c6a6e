namespace Loom.Models;

/// <summary>
/// Part-based embeddings (PCB, Sun et al. 2018; several grids: MGN, Wang et al. 2018): the trunk's last feature map
/// [N, C, H, W] is cut into the cells of one or more grids (`2x2`, `3x1`, `1x1+2x2`), each cell average-pooled and
/// mapped by its own Linear (and batch norm) to a part embedding, [N, parts, D]. Global average pooling keeps what a
/// picture holds and drops where; the parts keep a coarse where, which is what tells a 7 from a 9. Each part has its own
/// margin head in training (<see cref="FaceEmbedder"/>), so every part is made to separate identities on its own.
/// </summary>
public sealed class PartEmbedding : Module<Tensor, Tensor>
{
    private readonly (int H, int W)[] _grids;
    private readonly List<(Linear Linear, BatchNorm1d? Norm)> _parts = [];

    public PartEmbedding(int channels, int dimension, string grids, bool batchNorm, DType dtype = DType.Float32)
    {
        _grids = ParseGrids(grids);
        for (int k = 0; k < Count(_grids); k++)
            _parts.Add((RegisterModule($"linear{k}", new Linear(channels, dimension, dtype: dtype)), batchNorm ? RegisterModule($"norm{k}", new BatchNorm1d(dimension, dtype: dtype)) : null));
        Dimension = dimension;
    }

    /// <summary>The number of parts: the cells of every grid.</summary>
    public int Parts => _parts.Count;

    /// <summary>Each part embedding's length.</summary>
    public int Dimension { get; }

    /// <summary>
    /// Grids written as `HxW` joined by `+` (`2x2`, `1x1+2x2`), each side 1 to 8, at most 64 cells in all; one error
    /// line naming `--parts` otherwise.
    /// </summary>
    public static (int H, int W)[] ParseGrids(string spec)
    {
        var grids = new List<(int, int)>();
        foreach (var grid in spec.Split('+'))
        {
            var sides = grid.Trim().Split('x');
            if (sides.Length != 2 || !int.TryParse(sides[0], out int h) || !int.TryParse(sides[1], out int w) || h is < 1 or > 8 || w is < 1 or > 8)
                throw new ArgumentException($"--parts takes grids HxW joined by + (each side 1 to 8), e.g. 2x2 or 1x1+2x2; got '{spec}'");
            grids.Add((h, w));
        }
        if (Count([.. grids]) > 64) throw new ArgumentException($"--parts {spec}: {Count([.. grids])} parts; at most 64");
        return [.. grids];
    }

    private static int Count((int H, int W)[] grids) => grids.Sum(g => g.H * g.W);

    /// <summary>Part embeddings [N, parts, D] (before L2 normalisation) of a feature map [N, C, H, W], grid by grid, cells row by row.</summary>
    protected override Tensor ForwardCore(Tensor map)
    {
        if (map.Rank != 4) throw new ArgumentException($"PartEmbedding: expected a feature map [N, C, H, W], got {map.Shape}");
        int n = map.Shape[0], c = map.Shape[1];
        var parts = new List<Tensor>(_parts.Count);
        foreach (var (h, w) in _grids)
        {
            var cells = Functional.AdaptiveAvgPool2d(map, (h, w)).Reshape(n, c, h * w);
            for (int cell = 0; cell < h * w; cell++)
            {
                var (linear, norm) = _parts[parts.Count];
                var e = linear.Forward(cells.Narrow(2, cell, 1).Reshape(n, c));
                parts.Add(norm is null ? e : norm.Forward(e));
            }
        }
        return Tensor.Stack(parts, 1);
    }
}
