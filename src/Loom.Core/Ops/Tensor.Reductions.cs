namespace Loom;

// Reductions over a set of axes (every axis when none is given); keepDim keeps each reduced axis with size 1.
// N is the number of elements folded into each output; broadcast(t) spreads t back over the reduced axes.
//   sum:        y = Σ x                                 dx = broadcast(dy)
//   mean:       y = Σ x / N                             dx = broadcast(dy) / N
//   var:        y = Σ (x − x̄)² / (N − correction)      dx = broadcast(dy) · 2 (x − x̄) / (N − correction)
//   std:        y = √var                                dx = broadcast(dy) · (x − x̄) / ((N − correction) · y), and 0 where y = 0
//   logsumexp:  y = m + log Σ exp(x − m), m = max x     dx = broadcast(dy) · exp(x − y)
//   max, min:   y = max x (min x)                       dx = broadcast(dy) · [x = y] / #{x = y}
//               Tie rule: elements that tie for the extreme share its gradient equally (as torch.amax; for a
//               two-way tie this is also what central differences measure).
//   argmax, argmin: Int64 index of the first extreme element along one axis; not differentiable.
// Sum of Int32/Int64/UInt8/Int8/Bool gives Int64 (Bool counts the true elements); Max/Min/ArgMax/ArgMin also take
// Int32 and Int64. Everything else is float32 or float64.
public partial class Tensor
{
    private enum ReduceOp { Sum, Mean, Var, Std, LogSumExp, Max, Min }

    /// <summary>The sum of all elements, as a scalar tensor.</summary>
    public Tensor Sum() => Reduce(ReduceOp.Sum, null, false);

    /// <summary>The sum along <paramref name="axis"/> (negative counts from the end).</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Reduce(ReduceOp.Sum, [axis], keepDim);

    /// <summary>The sum over <paramref name="axes"/>.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false) => Reduce(ReduceOp.Sum, axes, keepDim);

    /// <summary>The mean of all elements, as a scalar tensor.</summary>
    public Tensor Mean() => Reduce(ReduceOp.Mean, null, false);

    public Tensor Mean(int axis, bool keepDim = false) => Reduce(ReduceOp.Mean, [axis], keepDim);

    public Tensor Mean(int[] axes, bool keepDim = false) => Reduce(ReduceOp.Mean, axes, keepDim);

    /// <summary>
    /// The variance over <paramref name="axes"/> (null: all), Σ (x − mean)² / (N − <paramref name="correction"/>):
    /// correction 1 is the unbiased estimate (PyTorch's default), 0 the population variance.
    /// </summary>
    public Tensor Var(int[]? axes = null, bool keepDim = false, int correction = 1) => Reduce(ReduceOp.Var, axes, keepDim, correction);

    public Tensor Var(int axis, bool keepDim = false, int correction = 1) => Reduce(ReduceOp.Var, [axis], keepDim, correction);

    /// <summary>The standard deviation, √<see cref="Var(int[], bool, int)"/>.</summary>
    public Tensor Std(int[]? axes = null, bool keepDim = false, int correction = 1) => Reduce(ReduceOp.Std, axes, keepDim, correction);

    public Tensor Std(int axis, bool keepDim = false, int correction = 1) => Reduce(ReduceOp.Std, [axis], keepDim, correction);

    /// <summary>log Σ exp(x) over all elements, computed stably (max-subtracted).</summary>
    public Tensor LogSumExp() => Reduce(ReduceOp.LogSumExp, null, false);

    public Tensor LogSumExp(int axis, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, [axis], keepDim);

    public Tensor LogSumExp(int[] axes, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, axes, keepDim);

    /// <summary>The largest element (NaN if any element is NaN). Tied maxima share the gradient equally.</summary>
    public Tensor Max() => Reduce(ReduceOp.Max, null, false);

    /// <summary>The largest values along <paramref name="axis"/> (values only, like <c>torch.amax</c>; see <see cref="ArgMax(int, bool)"/> for indices).</summary>
    public Tensor Max(int axis, bool keepDim = false) => Reduce(ReduceOp.Max, [axis], keepDim);

    public Tensor Max(int[] axes, bool keepDim = false) => Reduce(ReduceOp.Max, axes, keepDim);

    /// <summary>The smallest element (NaN if any element is NaN). Tied minima share the gradient equally.</summary>
    public Tensor Min() => Reduce(ReduceOp.Min, null, false);

    public Tensor Min(int axis, bool keepDim = false) => Reduce(ReduceOp.Min, [axis], keepDim);

    public Tensor Min(int[] axes, bool keepDim = false) => Reduce(ReduceOp.Min, axes, keepDim);

    /// <summary>Int64 indices of the maxima along <paramref name="axis"/>: the first on ties, the first NaN if any.</summary>
    public Tensor ArgMax(int axis, bool keepDim = false) => ArgExtreme(axis, keepDim, max: true);

    /// <summary>The index of the largest element of the flattened tensor, as an Int64 scalar.</summary>
    public Tensor ArgMax() => Reshape(-1).ArgExtreme(0, false, max: true);

    /// <summary>Int64 indices of the minima along <paramref name="axis"/>: the first on ties, the first NaN if any.</summary>
    public Tensor ArgMin(int axis, bool keepDim = false) => ArgExtreme(axis, keepDim, max: false);

    /// <summary>The index of the smallest element of the flattened tensor, as an Int64 scalar.</summary>
    public Tensor ArgMin() => Reshape(-1).ArgExtreme(0, false, max: false);

    private static string Name(ReduceOp op) => op switch
    {
        ReduceOp.Sum => "sum",
        ReduceOp.Mean => "mean",
        ReduceOp.Var => "var",
        ReduceOp.Std => "std",
        ReduceOp.LogSumExp => "logsumexp",
        ReduceOp.Max => "max",
        _ => "min",
    };

    private Tensor Reduce(ReduceOp op, int[]? axes, bool keepDim, int correction = 0)
    {
        string name = Name(op);
        var plan = ReductionPlan.Create(Shape, axes, keepDim, name);
        bool extreme = op is ReduceOp.Max or ReduceOp.Min;
        if (extreme && plan.Count == 0 && plan.Output.Numel > 0)
            throw new ArgumentException($"{name}: cannot reduce over zero elements (shape {Shape}); the operation has no identity");
        if (!DType.IsFloatingPoint())
        {
            if (op == ReduceOp.Sum) return IntegerSum(plan);
            if (extreme && DType is DType.Int32 or DType.Int64) return IntegerExtreme(plan, op == ReduceOp.Max);
            throw new NotSupportedException($"{name}: dtype {DType.Name()} is not supported (float32 or float64{(extreme ? ", int32, int64" : "")})");
        }

        var src = plan.Arrange(this);
        var result = Empty(plan.Output, DType);
        if (DType == DType.Float32) RunReduction<float>(op, src, plan, correction, result);
        else RunReduction<double>(op, src, plan, correction, result);

        if (!GradMode.ShouldRecord(this)) return result;
        BackwardNode node = op switch
        {
            ReduceOp.Sum => new SumBackward(this, plan, scale: 1),
            ReduceOp.Mean => new SumBackward(this, plan, scale: 1.0 / plan.Count),
            ReduceOp.Var or ReduceOp.Std => new VarianceBackward(this, plan, correction, op == ReduceOp.Std ? result : null),
            ReduceOp.LogSumExp => new LogSumExpBackward(this, plan, result),
            _ => new ExtremeBackward(name, this, plan, result, nanSpoilsSlice: axes is not null),
        };
        return node.Attach(result);
    }

    // Splits the outer rows over threads when there is enough work; each kernel call sees whole rows.
    private static void RunReduction<T>(ReduceOp op, Tensor src, ReductionPlan plan, int correction, Tensor result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = plan.Reduce * plan.Inner, inner = plan.Inner;
        ParallelHelper.For(plan.Outer, RowGrain(size), (start, end) =>
        {
            var x = src.Data<T>().Slice(start * size, (end - start) * size);
            var y = result.Data<T>().Slice(start * inner, (end - start) * inner);
            int rows = end - start;
            switch (op)
            {
                case ReduceOp.Sum: ReductionKernels.Sum(x, rows, plan.Reduce, inner, y); break;
                case ReduceOp.Mean: ReductionKernels.Mean(x, rows, plan.Reduce, inner, y); break;
                case ReduceOp.Var: ReductionKernels.Variance(x, rows, plan.Reduce, inner, correction, y); break;
                case ReduceOp.Std:
                    ReductionKernels.Variance(x, rows, plan.Reduce, inner, correction, y);
                    TensorPrimitives.Sqrt<T>(y, y);
                    break;
                case ReduceOp.LogSumExp: ReductionKernels.LogSumExp(x, rows, plan.Reduce, inner, y); break;
                case ReduceOp.Max: ReductionKernels.Extreme(x, rows, plan.Reduce, inner, y, max: true); break;
                case ReduceOp.Min: ReductionKernels.Extreme(x, rows, plan.Reduce, inner, y, max: false); break;
            }
        });
    }

    /// <summary>Rows per thread so that each thread gets at least ~32K elements: below that a dispatch costs more than it saves.</summary>
    internal static int RowGrain(int rowLength) => Math.Max(1, (1 << 15) / Math.Max(1, rowLength));

    private Tensor IntegerSum(ReductionPlan plan)
    {
        var src = plan.Arrange(this);
        var result = Empty(plan.Output, DType.Int64);
        var y = result.Data<long>();
        switch (DType)
        {
            case DType.Int32: ReductionKernels.SumToInt64<int>(src.Data<int>(), plan.Outer, plan.Reduce, plan.Inner, y); break;
            case DType.Int64: ReductionKernels.SumToInt64<long>(src.Data<long>(), plan.Outer, plan.Reduce, plan.Inner, y); break;
            case DType.UInt8: ReductionKernels.SumToInt64<byte>(src.Data<byte>(), plan.Outer, plan.Reduce, plan.Inner, y); break;
            case DType.Int8: ReductionKernels.SumToInt64<sbyte>(src.Data<sbyte>(), plan.Outer, plan.Reduce, plan.Inner, y); break;
            case DType.Bool:
                // A bool is stored as one byte holding 0 or 1, so counting is summing those bytes.
                ReductionKernels.SumToInt64<byte>(MemoryMarshal.Cast<bool, byte>(src.Data<bool>()), plan.Outer, plan.Reduce, plan.Inner, y);
                break;
            default: throw new NotSupportedException($"sum: dtype {DType.Name()} is not supported");
        }
        return result;
    }

    private Tensor IntegerExtreme(ReductionPlan plan, bool max)
    {
        var src = plan.Arrange(this);
        var result = Empty(plan.Output, DType);
        if (DType == DType.Int32) ReductionKernels.Extreme<int>(src.Data<int>(), plan.Outer, plan.Reduce, plan.Inner, result.Data<int>(), max);
        else ReductionKernels.Extreme<long>(src.Data<long>(), plan.Outer, plan.Reduce, plan.Inner, result.Data<long>(), max);
        return result;
    }

    private Tensor ArgExtreme(int axis, bool keepDim, bool max)
    {
        string name = max ? "argmax" : "argmin";
        var plan = ReductionPlan.Create(Shape, axis, keepDim, name);
        if (plan.Count == 0)
            throw new ArgumentException($"{name}: cannot reduce over zero elements (axis {axis} of shape {Shape})");
        var src = plan.Arrange(this);
        var result = Empty(plan.Output, DType.Int64);
        var y = result.Data<long>();
        switch (DType)
        {
            case DType.Float32: ArgKernel<float>(src, plan, y, max); break;
            case DType.Float64: ArgKernel<double>(src, plan, y, max); break;
            case DType.Int32: ArgKernel<int>(src, plan, y, max); break;
            case DType.Int64: ArgKernel<long>(src, plan, y, max); break;
            default: throw new NotSupportedException($"{name}: dtype {DType.Name()} is not supported (float32, float64, int32 or int64)");
        }
        return result;
    }

    private static void ArgKernel<T>(Tensor src, ReductionPlan plan, Span<long> destination, bool max) where T : unmanaged, INumber<T>
    {
        ReductionKernels.ArgExtreme(src.Data<T>(), plan.Outer, plan.Reduce, plan.Inner, destination, max);
    }

    /// <summary>
    /// A fresh contiguous tensor of the reduction's input shape holding <paramref name="reduced"/> (output-shaped)
    /// repeated along the reduced axes; the caller may overwrite it. The copy runs row by row (a fill where the
    /// innermost axis was reduced, a span copy where it was kept).
    /// </summary>
    private static Tensor SpreadOver(Tensor reduced, ReductionPlan plan)
    {
        var expanded = reduced.Reshape(plan.KeepDimShape.ToArray()).Expand(plan.Input.ToArray());
        var result = Empty(plan.Input, reduced.DType);
        expanded.CopyInto(result);
        return result;
    }

    /// <summary>Sum and mean: dx = broadcast(dy) · scale.</summary>
    private sealed class SumBackward(Tensor input, ReductionPlan plan, double scale) : BackwardNode(scale == 1 ? "sum" : "mean", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dx = SpreadOver(gradOutput, plan);
            if (scale != 1)
            {
                if (dx.DType == DType.Float32) TensorPrimitives.Multiply(dx.Data<float>(), (float)scale, dx.Data<float>());
                else TensorPrimitives.Multiply(dx.Data<double>(), scale, dx.Data<double>());
            }
            return [dx];
        }
    }

    /// <summary>Var and std: dx = broadcast(c) · (x − x̄) with c = 2 dy / (N − correction) for var, dy / ((N − correction) · std) for std.</summary>
    private sealed class VarianceBackward : BackwardNode
    {
        private readonly ReductionPlan _plan;
        private readonly int _correction;
        private readonly SavedTensor _input;
        private readonly SavedTensor? _std;

        public VarianceBackward(Tensor input, ReductionPlan plan, int correction, Tensor? std) : base(std is null ? "var" : "std", input)
        {
            _plan = plan;
            _correction = correction;
            _input = Save(input);
            _std = std is null ? null : Save(std);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _input.Value.Detach().Contiguous();
            var coefficient = gradOutput.Clone();
            var mean = Empty(_plan.Output, x.DType);
            if (x.DType == DType.Float32) return [Compute<float>(x, coefficient, mean)];
            return [Compute<double>(x, coefficient, mean)];
        }

        private Tensor Compute<T>(Tensor x, Tensor coefficient, Tensor mean) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var c = coefficient.Data<T>();
            T dof = T.CreateTruncating(Math.Max(0, _plan.Count - _correction));
            if (_std is null)
            {
                TensorPrimitives.Multiply(c, T.CreateTruncating(2) / dof, c);
            }
            else
            {
                var std = _std.Value.Contiguous().Data<T>();
                // PyTorch masks the gradient where std = 0 instead of producing 0/0.
                for (int i = 0; i < c.Length; i++) c[i] = std[i] == T.Zero ? T.Zero : c[i] / (dof * std[i]);
            }
            var arranged = _plan.Arrange(x);
            ReductionKernels.Mean(arranged.Data<T>(), _plan.Outer, _plan.Reduce, _plan.Inner, mean.Data<T>());
            var dx = SpreadOver(mean, _plan);
            var d = dx.Data<T>();
            TensorPrimitives.Subtract(x.Data<T>(), d, d);
            TensorPrimitives.Multiply(d, SpreadOver(coefficient, _plan).Data<T>(), d);
            return dx;
        }
    }

    /// <summary>dx = broadcast(dy) · exp(x − broadcast(y)).</summary>
    private sealed class LogSumExpBackward : BackwardNode
    {
        private readonly ReductionPlan _plan;
        private readonly SavedTensor _input;
        private readonly SavedTensor _output;

        public LogSumExpBackward(Tensor input, ReductionPlan plan, Tensor output) : base("logsumexp", input)
        {
            _plan = plan;
            _input = Save(input);
            _output = Save(output);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _input.Value.Detach().Contiguous();
            var dx = SpreadOver(_output.Value, _plan);
            var dy = SpreadOver(gradOutput, _plan);
            if (x.DType == DType.Float32) Compute<float>(x, dy, dx);
            else Compute<double>(x, dy, dx);
            return [dx];
        }

        private static void Compute<T>(Tensor x, Tensor dy, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var d = dx.Data<T>();
            TensorPrimitives.Subtract(x.Data<T>(), d, d);
            ExpKernels.Exp(d, d);
            TensorPrimitives.Multiply(d, dy.Data<T>(), d);
        }
    }

    /// <summary>
    /// Max and min: dx = broadcast(dy / count) · mask, where mask marks the elements equal to the result (NaN equal to
    /// NaN) and count sums it. PyTorch differs by form at a NaN maximum, and so does this: the whole-tensor max()
    /// gives the gradient to the NaN elements (its evenly_distribute_backward), while amax over axes compares with ==
    /// and so makes the whole slice NaN (nanSpoilsSlice).
    /// </summary>
    private sealed class ExtremeBackward : BackwardNode
    {
        private readonly ReductionPlan _plan;
        private readonly SavedTensor _input;
        private readonly SavedTensor _output;
        private readonly bool _nanSpoilsSlice;

        public ExtremeBackward(string op, Tensor input, ReductionPlan plan, Tensor output, bool nanSpoilsSlice) : base(op, input)
        {
            _plan = plan;
            _input = Save(input);
            _output = Save(output);
            _nanSpoilsSlice = nanSpoilsSlice;
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _input.Value.Detach().Contiguous();
            var mask = SpreadOver(_output.Value, _plan);
            var share = gradOutput.Clone();
            if (x.DType == DType.Float32) Compute<float>(x, mask, share);
            else Compute<double>(x, mask, share);
            var dx = SpreadOver(share, _plan);
            if (x.DType == DType.Float32) TensorPrimitives.Multiply(dx.Data<float>(), mask.Data<float>(), dx.Data<float>());
            else TensorPrimitives.Multiply(dx.Data<double>(), mask.Data<double>(), dx.Data<double>());
            return [dx];
        }

        // mask (holding the spread result) becomes [x = y]; share (holding dy) becomes dy / count.
        private void Compute<T>(Tensor x, Tensor mask, Tensor share) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var m = mask.Data<T>();
            ReductionKernels.EqualMask<T>(x.Data<T>(), m, m);
            var count = Empty(_plan.Output, x.DType);
            ReductionKernels.Sum(_plan.Arrange(mask).Data<T>(), _plan.Outer, _plan.Reduce, _plan.Inner, count.Data<T>());
            var d = share.Data<T>();
            TensorPrimitives.Divide<T>(d, count.Data<T>(), d);
            if (!_nanSpoilsSlice) return;
            var y = _output.Value.Contiguous().Data<T>();
            for (int i = 0; i < d.Length; i++)
                if (T.IsNaN(y[i])) d[i] = T.NaN; // NaN · mask: NaN over the slice
        }
    }
}
