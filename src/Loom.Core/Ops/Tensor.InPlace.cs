namespace Loom;

// In-place ops (PyTorch's trailing underscore: add_, mul_…). They write into this tensor's storage, bump its version
// (so a tensor saved for backward that is later modified makes Backward() fail instead of computing a wrong
// gradient) and refuse tensors autograd is tracking unless inside NoGrad. Optimisers call them on parameters inside
// NoGrad. The other operand broadcasts to this tensor's shape, never the reverse; the result keeps this tensor's
// dtype, so an int tensor cannot take a fractional operand. Not differentiable: they record no graph.
public partial class Tensor
{
    /// <summary>this += alpha · other (broadcast to this shape). Returns this.</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        var b = PrepareInPlace(other, "add_");
        if (alpha != 1)
        {
            if (IsContiguous && b.Shape == Shape && DType.IsFloatingPoint())
            {
                // The optimiser's hot call (p −= lr·g): one fused pass.
                MarkModifiedInPlace("add_");
                var src = b.Contiguous();
                if (DType == DType.Float32) TensorPrimitives.MultiplyAdd(src.Data<float>(), (float)alpha, Data<float>(), Data<float>());
                else TensorPrimitives.MultiplyAdd(src.Data<double>(), alpha, Data<double>(), Data<double>());
                return this;
            }
            CheckInPlaceScalar(alpha, "add_");
            using (new NoGrad()) b = b.Mul(alpha).To(DType);
        }
        return BinaryInPlace<AddOperator<float>, AddOperator<double>, AddOperator<int>, AddOperator<long>>(b, "add_", integers: true);
    }

    /// <summary>this += value. Returns this.</summary>
    public Tensor AddInPlace(double value) => ScalarInPlace<AddOperator<float>, AddOperator<double>, AddOperator<int>, AddOperator<long>>(value, "add_", true);

    /// <summary>this −= alpha · other. Returns this.</summary>
    public Tensor SubInPlace(Tensor other, double alpha = 1) => AddInPlace(other, -alpha);

    public Tensor SubInPlace(double value) => ScalarInPlace<SubtractOperator<float>, SubtractOperator<double>, SubtractOperator<int>, SubtractOperator<long>>(value, "sub_", true);

    /// <summary>this *= other (broadcast to this shape). Returns this.</summary>
    public Tensor MulInPlace(Tensor other) =>
        BinaryInPlace<MultiplyOperator<float>, MultiplyOperator<double>, MultiplyOperator<int>, MultiplyOperator<long>>(PrepareInPlace(other, "mul_"), "mul_", true);

    public Tensor MulInPlace(double value) => ScalarInPlace<MultiplyOperator<float>, MultiplyOperator<double>, MultiplyOperator<int>, MultiplyOperator<long>>(value, "mul_", true);

    /// <summary>this /= other (floats). Returns this.</summary>
    public Tensor DivInPlace(Tensor other) =>
        BinaryInPlace<DivideOperator<float>, DivideOperator<double>, NoIntegerOperator<int>, NoIntegerOperator<long>>(PrepareInPlace(other, "div_"), "div_", false);

    public Tensor DivInPlace(double value) => ScalarInPlace<DivideOperator<float>, DivideOperator<double>, NoIntegerOperator<int>, NoIntegerOperator<long>>(value, "div_", false);

    /// <summary>Sets every element to <paramref name="value"/>. Returns this.</summary>
    public Tensor FillInPlace(double value) => FillCore(value, "fill_");

    /// <summary>Sets every element to zero. Returns this.</summary>
    public Tensor ZeroInPlace() => FillCore(0, "zero_");

    /// <summary>Limits every element to [min, max] in place (floats). Returns this.</summary>
    public Tensor ClampInPlace(double? min = null, double? max = null)
    {
        CheckFloat(DType, "clamp_");
        var (lo, hi) = ClampBounds(min, max, "clamp_");
        MarkModifiedInPlace("clamp_");
        var target = IsContiguous ? this : Empty(Shape, DType);
        if (DType == DType.Float32) BroadcastKernels.Unary<float, ClampOperator<float>>(Detach(), target, new ClampOperator<float>((float)lo, (float)hi));
        else BroadcastKernels.Unary<double, ClampOperator<double>>(Detach(), target, new ClampOperator<double>(lo, hi));
        if (!ReferenceEquals(target, this)) WriteBack(target);
        return this;
    }

    private Tensor FillCore(double value, string op)
    {
        CheckInPlaceScalar(value, op);
        MarkModifiedInPlace(op);
        if (IsContiguous) FillRaw(value);
        else WriteBack(Scalar(value, DType));
        return this;
    }

    /// <summary>Validates the operand of an in-place op and returns it in this tensor's dtype.</summary>
    private Tensor PrepareInPlace(Tensor other, string op)
    {
        if (Shape.Broadcast(Shape, other.Shape, op) != Shape)
            throw new ArgumentException($"{op}: operand of shape {other.Shape} cannot be broadcast to the destination's shape {Shape}");
        // PyTorch's rule: the result type may be narrowed within its category (float64 into float32) but not
        // demoted to a lower category (float into an integer destination, an integer into bool).
        var promoted = TypePromotion.ResultType(this, other);
        if (Category(promoted) > Category(DType))
            throw new ArgumentException($"{op}: result type {promoted.Name()} cannot be stored in the {DType.Name()} destination (shape {Shape})");
        var b = other.Detach().To(DType);
        // An operand that overlaps the destination in a different layout (x.AddInPlace(x.T)) would read elements
        // already overwritten; copy it first. The exact same view is safe: each element is read before it is written.
        if (ReferenceEquals(b.Storage, Storage) && !(b.Offset == Offset && b.Shape == Shape && b.Strides.SequenceEqual(Strides)))
            b = b.Clone();
        return b;
    }

    private void CheckInPlaceScalar(double value, string op)
    {
        if (Category(ScalarResultType(DType, value)) > Category(DType) && DType != DType.Bool)
            throw new ArgumentException($"{op}: value {value} cannot be stored in the {DType.Name()} destination (shape {Shape})");
    }

    private static int Category(DType dtype) => dtype == DType.Bool ? 0 : dtype.IsFloatingPoint() ? 2 : 1;

    private Tensor BinaryInPlace<TF, TD, TI, TL>(Tensor operand, string op, bool integers)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double> where TI : IBinaryOperator<int> where TL : IBinaryOperator<long>
    {
        CheckArithmetic(DType, op, integers);
        MarkModifiedInPlace(op);
        if (IsContiguous)
        {
            RunBinary<TF, TD, TI, TL>(this, operand, this);
        }
        else
        {
            var result = Empty(Shape, DType);
            RunBinary<TF, TD, TI, TL>(this, operand, result);
            WriteBack(result);
        }
        return this;
    }

    private Tensor ScalarInPlace<TF, TD, TI, TL>(double value, string op, bool integers)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double> where TI : IBinaryOperator<int> where TL : IBinaryOperator<long>
    {
        CheckArithmetic(DType, op, integers);
        CheckInPlaceScalar(value, op);
        MarkModifiedInPlace(op);
        var target = IsContiguous ? this : Empty(Shape, DType);
        var source = Detach();
        switch (DType)
        {
            case DType.Float32: RunScalar<float, TF>(source, (float)value, false, target); break;
            case DType.Float64: RunScalar<double, TD>(source, value, false, target); break;
            case DType.Int32: RunScalar<int, TI>(source, checked((int)value), false, target); break;
            case DType.Int64: RunScalar<long, TL>(source, checked((long)value), false, target); break;
        }
        if (!ReferenceEquals(target, this)) WriteBack(target);
        return this;
    }

    /// <summary>Copies <paramref name="values"/> into this (possibly strided) tensor without another version check.</summary>
    private void WriteBack(Tensor values)
    {
        using (new NoGrad()) CopyFrom(values);
    }
}
