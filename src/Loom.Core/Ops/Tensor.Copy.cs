namespace Loom;

// Copies and conversions.
//   contiguous(x), clone(x):  y = x           dx = dy
//   to(x, dtype):             y = cast(x)     dx = cast(dy) back to x's dtype (float to float only)
public partial class Tensor
{
    /// <summary>This tensor if it is already contiguous, else a row-major copy (recorded by autograd).</summary>
    public Tensor Contiguous() => IsContiguous ? this : Clone();

    /// <summary>A contiguous copy with its own storage; gradients flow back to this tensor.</summary>
    public Tensor Clone()
    {
        var result = Empty(Shape, DType);
        CopyInto(result);
        return GradMode.ShouldRecord(this) ? new CopyBackward("clone", this).Attach(result) : result;
    }

    /// <summary>Copies this tensor's elements, in row-major order, into the contiguous tensor <paramref name="destination"/> of the same dtype.</summary>
    private void CopyInto(Tensor destination)
    {
        switch (DType)
        {
            case DType.Float32: GatherTo<float>(destination); break;
            case DType.Float64: GatherTo<double>(destination); break;
            case DType.Int32: GatherTo<int>(destination); break;
            case DType.Int64: GatherTo<long>(destination); break;
            case DType.UInt8: GatherTo<byte>(destination); break;
            case DType.Int8: GatherTo<sbyte>(destination); break;
            case DType.Bool: GatherTo<bool>(destination); break;
        }
    }

    private void GatherTo<T>(Tensor destination) where T : unmanaged
    {
        if (IsContiguous) Data<T>().CopyTo(destination.Data<T>());
        else StridedKernels.Gather<T>(Array<T>(), Offset, Shape.Dims, Strides, destination.Data<T>());
    }

    /// <summary>
    /// Copies <paramref name="source"/> (broadcast to this shape, converted to this dtype) into this tensor's elements,
    /// in place. Works on strided views, so <c>x.Slice(0, 1, 3).CopyFrom(y)</c> writes into x.
    /// </summary>
    public Tensor CopyFrom(Tensor source)
    {
        MarkModifiedInPlace("copy_");
        var src = source.DType == DType ? source : source.To(DType);
        if (src.Shape != Shape) src = src.BroadcastTo(Shape);
        src = src.Contiguous();
        switch (DType)
        {
            case DType.Float32: ScatterFrom<float>(src); break;
            case DType.Float64: ScatterFrom<double>(src); break;
            case DType.Int32: ScatterFrom<int>(src); break;
            case DType.Int64: ScatterFrom<long>(src); break;
            case DType.UInt8: ScatterFrom<byte>(src); break;
            case DType.Int8: ScatterFrom<sbyte>(src); break;
            case DType.Bool: ScatterFrom<bool>(src); break;
        }
        return this;
    }

    private void ScatterFrom<T>(Tensor contiguousSource) where T : unmanaged
    {
        if (IsContiguous) contiguousSource.Data<T>().CopyTo(Data<T>());
        else StridedKernels.Scatter<T>(contiguousSource.Data<T>(), Array<T>(), Offset, Shape.Dims, Strides);
    }

    /// <summary>
    /// This tensor converted to <paramref name="dtype"/> (itself when the dtype already matches). Floats convert to
    /// integers by truncation toward zero, as in PyTorch; anything non-zero converts to true.
    /// </summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var src = Contiguous();
        var result = Empty(Shape, dtype);
        switch (DType)
        {
            case DType.Float32: ConvertFrom<float>(src, result); break;
            case DType.Float64: ConvertFrom<double>(src, result); break;
            case DType.Int32: ConvertFrom<int>(src, result); break;
            case DType.Int64: ConvertFrom<long>(src, result); break;
            case DType.UInt8: ConvertFrom<byte>(src, result); break;
            case DType.Int8: ConvertFrom<sbyte>(src, result); break;
            case DType.Bool:
                {
                    var b = src.Data<bool>();
                    var bytes = new byte[b.Length];
                    for (int i = 0; i < b.Length; i++) bytes[i] = b[i] ? (byte)1 : (byte)0;
                    var asBytes = new Tensor(Storage<byte>.Wrap(bytes), Shape); // Wrap() would read an empty shape as 1-D
                    result = asBytes.To(dtype);
                    break;
                }
        }
        if (GradMode.ShouldRecord(this) && dtype.IsFloatingPoint())
            return new CopyBackward("to", this).Attach(result);
        return result;
    }

    private static void ConvertFrom<TFrom>(Tensor src, Tensor dst) where TFrom : unmanaged, INumberBase<TFrom>
    {
        var from = src.Data<TFrom>();
        switch (dst.DType)
        {
            case DType.Float32: TensorPrimitives.ConvertTruncating<TFrom, float>(from, dst.Data<float>()); break;
            case DType.Float64: TensorPrimitives.ConvertTruncating<TFrom, double>(from, dst.Data<double>()); break;
            case DType.Int32: TensorPrimitives.ConvertTruncating<TFrom, int>(from, dst.Data<int>()); break;
            case DType.Int64: TensorPrimitives.ConvertTruncating<TFrom, long>(from, dst.Data<long>()); break;
            case DType.UInt8: TensorPrimitives.ConvertTruncating<TFrom, byte>(from, dst.Data<byte>()); break;
            case DType.Int8: TensorPrimitives.ConvertTruncating<TFrom, sbyte>(from, dst.Data<sbyte>()); break;
            case DType.Bool:
                {
                    var to = dst.Data<bool>();
                    for (int i = 0; i < from.Length; i++) to[i] = !TFrom.IsZero(from[i]);
                    break;
                }
        }
    }

    /// <summary>Backward of copies and float conversions: the gradient passes through, cast back to the input's dtype.</summary>
    private sealed class CopyBackward(string op, Tensor input) : BackwardNode(op, input)
    {
        private readonly DType _inputDType = input.DType;

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.To(_inputDType)];
    }
}
