namespace Loom;

/// <summary>
/// A convolution weight [OutC, C / groups, kH, kW] kept packed in the layout the convolution's GEMM reads, for
/// inference through a fixed layer: <see cref="Functional.Conv2d(Tensor, PackedConv2dWeight, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, Activation, Tensor?)"/>
/// then skips re-packing the weights on every call, which costs as much as the product itself when the output has few
/// positions (ResNet18's 512-channel 3×3 layers at 7×7: 9.4 MB of weights, 49 output columns).
/// </summary>
/// <remarks>
/// Packing happens on first use and again whenever <see cref="Weight"/>'s storage version moves (an optimiser step,
/// <c>LoadStateDict</c>, any in-place write), so the packed copy never serves stale values. Convolutions with equal
/// strides run the direct kernel from the weights in its own blocked layout (strided ones over the input's stride
/// phases), the rest GEMM from its panels; each layout is made when first needed and holds about one more copy of the
/// weight.
/// </remarks>
public sealed class PackedConv2dWeight
{
    private readonly object _sync = new();
    private object? _gemm, _direct; // PackedGemmA<T>[] per group; T[] in the direct kernel's layout
    private WinogradConv.Weights? _winograd;
    private int _gemmVersion = -1, _directVersion = -1, _winogradVersion = -1;

    /// <summary>Packs <paramref name="weight"/> (float32 or float64, rank 4) split into <paramref name="groups"/> groups of output channels.</summary>
    public PackedConv2dWeight(Tensor weight, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4) throw new ArgumentException($"conv2d: a packed weight must be [OutC, C / groups, kH, kW], got {weight.Shape}");
        if (weight.DType is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"conv2d: a packed weight must be float32 or float64, got {weight.DType}");
        if (groups <= 0 || weight.Shape[0] % groups != 0)
            throw new ArgumentException($"conv2d: {weight.Shape[0]} output channels do not split into {groups} groups");
        Weight = weight;
        Groups = groups;
    }

    /// <summary>The weight this packs (read for the direct kernel, for autograd, and to repack after it changes).</summary>
    public Tensor Weight { get; }

    public int Groups { get; }

    /// <summary>
    /// Whether <see cref="Functional.Conv2dBlocked"/> may compute this 3 × 3, stride-1 float convolution by Winograd
    /// F(2×2, 3×3) where it is faster (wide layers on AVX-512): 2.25× fewer multiply-adds, outputs within float32
    /// rounding of the exact result but not bit-equal to the direct kernel's (docs/notes/conv.md). Default true; false
    /// keeps the direct kernel's bits.
    /// </summary>
    public bool AllowWinograd { get; set; } = true;

    /// <summary>Each group's W_g [OutC / groups, C / groups · kH · kW] packed for GEMM, repacked if the weight or GEMM's path moved since.</summary>
    internal PackedGemmA<T>[] Gemm<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        lock (_sync)
        {
            if (_gemm is PackedGemmA<T>[] current && _gemmVersion == Weight.Storage.Version && current[0].Matches) return current;
            int version = Weight.Storage.Version; // read before the values: a write during packing then repacks next time
            var w = Weight.Contiguous().AsReadOnlySpan<T>();
            int rows = Weight.Shape[0] / Groups, depth = Depth;
            var packed = new PackedGemmA<T>[Groups];
            for (int g = 0; g < Groups; g++) packed[g] = new PackedGemmA<T>(w.Slice(g * rows * depth, rows * depth), rows, depth, depth);
            _gemm = packed;
            _gemmVersion = version;
            return packed;
        }
    }

    /// <summary>The weights in the direct kernel's blocked layout (<see cref="DirectConv{T}.PackWeights"/>), repacked if the weight moved since.</summary>
    internal T[] Direct<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        lock (_sync)
        {
            if (_direct is T[] current && _directVersion == Weight.Storage.Version) return current;
            int version = Weight.Storage.Version;
            var packed = new T[DirectConv<T>.PackedLength(Weight.Shape[0], Depth, Groups)];
            DirectConv<T>.PackWeights(Weight.Contiguous().AsReadOnlySpan<T>(), Weight.Shape[0], Depth, Groups, packed);
            _direct = packed;
            _directVersion = version;
            return packed;
        }
    }

    /// <summary>
    /// The weights transformed for <see cref="WinogradConv"/> (float, one group, 3 × 3: 16/9 of the weight's bytes),
    /// remade if the weight or GEMM's path moved since.
    /// </summary>
    internal WinogradConv.Weights WinogradWeights()
    {
        lock (_sync)
        {
            if (_winograd is { Matches: true } current && _winogradVersion == Weight.Storage.Version) return current;
            int version = Weight.Storage.Version;
            _winograd = new WinogradConv.Weights(Weight.Contiguous().AsReadOnlySpan<float>(), Weight.Shape[0], Weight.Shape[1]);
            _winogradVersion = version;
            return _winograd;
        }
    }

    private int Depth => Weight.Shape[1] * Weight.Shape[2] * Weight.Shape[3];
}
