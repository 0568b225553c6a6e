namespace Loom;

/// <summary>
/// The right operand W of x · W (stored [in, out], as ONNX MatMul's weight; or [out, in] with
/// <see cref="Transposed"/>, as a linear layer's) kept packed in the layout GEMM streams, for inference through a
/// fixed layer: <see cref="Functional.Matmul(Tensor, PackedMatmulWeight, Tensor?, Activation)"/> then skips re-packing
/// the weight on every call, which costs about as much as the product when x has few rows (a transformer at batch 1:
/// 20–40 tokens against a 384 × 1536 weight).
/// </summary>
/// <remarks>
/// Packing happens on first use and again whenever <see cref="Weight"/>'s storage version moves (an optimiser step,
/// <c>LoadStateDict</c>, any in-place write) or GEMM's micro-kernel changes, so the packed copy never serves stale
/// values. It holds about one more copy of the weight.
/// </remarks>
public sealed class PackedMatmulWeight
{
    private readonly object _sync = new();
    private object? _packed; // PackedGemmB<T>
    private int _version = -1;

    /// <summary>
    /// Packs <paramref name="weight"/> (float32 or float64, rank 2): [in, out], or [out, in] when
    /// <paramref name="transposed"/> (then x · Wᵀ, a linear layer's product).
    /// </summary>
    public PackedMatmulWeight(Tensor weight, bool transposed = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"matmul: a packed weight must be 2-D, got {weight.Shape}");
        if (weight.DType is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"matmul: a packed weight must be float32 or float64, got {weight.DType.Name()}");
        if (weight.Numel == 0) throw new ArgumentException($"matmul: a packed weight must not be empty, got {weight.Shape}");
        Weight = weight;
        Transposed = transposed;
    }

    /// <summary>The weight this packs (read for autograd, and to repack after it changes).</summary>
    public Tensor Weight { get; }

    /// <summary>Whether <see cref="Weight"/> is stored [out, in] and multiplies transposed.</summary>
    public bool Transposed { get; }

    /// <summary>Rows of the product's right operand: the input's last dimension.</summary>
    public int InFeatures => Transposed ? Weight.Shape[1] : Weight.Shape[0];

    /// <summary>Columns of the product's right operand: the output's last dimension.</summary>
    public int OutFeatures => Transposed ? Weight.Shape[0] : Weight.Shape[1];

    /// <summary>The weight packed for GEMM, repacked if the weight or GEMM's path moved since.</summary>
    internal PackedGemmB<T> Packed<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        lock (_sync)
        {
            if (_packed is PackedGemmB<T> current && _version == Weight.Storage.Version && current.Matches) return current;
            int version = Weight.Storage.Version; // read before the values: a write during packing then repacks next time
            var w = Weight.Contiguous();
            var packed = new PackedGemmB<T>(Transposed, w.AsReadOnlySpan<T>(), InFeatures, OutFeatures, w.Shape[1]);
            _packed = packed;
            _version = version;
            return packed;
        }
    }
}
