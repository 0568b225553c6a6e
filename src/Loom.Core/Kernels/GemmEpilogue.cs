namespace Loom.Kernels;

/// <summary>
/// What GEMM does to each block of C once its last depth block is stored, while the block is still in L1/L2:
/// add a bias per column (C[i, j] += bias[j], the bias of a linear layer) and apply an activation. Without it a
/// linear layer followed by an activation makes two more passes over its output in memory.
/// </summary>
/// <remarks>
/// The activation is the very function the separate tensor op runs (<c>GemmEpilogue.Apply</c>), so a fused layer gives the
/// same bits as the layer and the activation one after the other. With <see cref="Activated"/> set, C keeps the
/// pre-activation values (which a backward pass through GELU or SiLU needs) and the activation is written there.
/// </remarks>
internal unsafe struct GemmEpilogue<T> where T : unmanaged
{
    /// <summary>bias[j] is added to column j of C; null: no bias.</summary>
    public T* Bias;

    public Activation Activation;

    /// <summary>Where activation(C) goes, with C's row stride; null: in place, C ends up activated.</summary>
    public T* Activated;

    public readonly bool IsIdentity => Bias == null && Activation == Activation.None && Activated == null;
}

internal static unsafe class GemmEpilogue
{
    /// <summary>Applies the epilogue to the block C[i0..i1, j0..j1) of a C stored at <paramref name="c"/> with row stride <paramref name="ldc"/>.</summary>
    public static void Apply<T>(in GemmEpilogue<T> e, T* c, nint ldc, int i0, int i1, int j0, int j1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = j1 - j0;
        if (width <= 0 || i1 <= i0) return;
        if (width == 1 && ldc == 1)
        {
            // A single contiguous column (a linear layer with one output feature): one span, one bias value.
            var column = new Span<T>(c + i0, i1 - i0);
            if (e.Bias != null) TensorPrimitives.Add(column, e.Bias[j0], column);
            Activate(column, e.Activated == null ? column : new Span<T>(e.Activated + i0, i1 - i0), e.Activation);
            return;
        }
        for (int i = i0; i < i1; i++)
        {
            var row = new Span<T>(c + i * ldc + j0, width);
            if (e.Bias != null) TensorPrimitives.Add(row, new ReadOnlySpan<T>(e.Bias + j0, width), row);
            Activate(row, e.Activated == null ? row : new Span<T>(e.Activated + i * ldc + j0, width), e.Activation);
        }
    }

    /// <summary>destination = activation(source), with the kernels the tensor ops use (see Tensor.Activations.cs).</summary>
    internal static void Activate<T>(ReadOnlySpan<T> source, Span<T> destination, Activation activation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (activation)
        {
            case Activation.None:
                if (!source.Overlaps(destination)) source.CopyTo(destination);
                break;
            case Activation.Relu: TensorPrimitives.Max(source, T.Zero, destination); break;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(source, destination); break;
            case Activation.Tanh: TanhKernels.Tanh(source, destination); break;
            case Activation.Gelu: Invoke(new ActivationOperator<ActivationKernels.Gelu>(new()), source, destination); break;
            case Activation.GeluTanh: Invoke(new ActivationOperator<ActivationKernels.GeluTanh>(new()), source, destination); break;
            case Activation.Silu: Invoke(new ActivationOperator<ActivationKernels.Silu>(new()), source, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "gemm: unknown activation");
        }
    }

    private static void Invoke<T, TOp>(TOp op, ReadOnlySpan<T> source, Span<T> destination)
        where T : unmanaged where TOp : IUnaryOperator<float>, IUnaryOperator<double>
    {
        if (typeof(T) == typeof(float))
            op.Invoke(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(source), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(destination));
        else
            op.Invoke(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(source), System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(destination));
    }
}
