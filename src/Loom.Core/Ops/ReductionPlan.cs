namespace Loom;

/// <summary>
/// How a reduction over a set of axes maps onto the kernels' layout: a contiguous buffer of
/// [<see cref="Outer"/>, <see cref="Reduce"/>, <see cref="Inner"/>] elements, reduced over the middle dimension.
/// </summary>
/// <remarks>
/// Size-1 dimensions are ignored and neighbouring axes of the same kind merge, so reducing axes {1, 2} of
/// [A, B, C, D] is [A, B·C, D] and reducing the last axis is [rows, n, 1]: both keep the data in place. Only a set
/// of axes that is split by a kept axis ({0, 2} of [A, B, C]) needs <see cref="Permutation"/>, which moves the
/// reduced axes last (one copy) so the layout becomes [kept, reduced, 1]. Either way, the output elements come out
/// in the row-major order of the kept axes.
/// </remarks>
/// <param name="Input">The input's shape.</param>
/// <param name="Output">The result's shape: the kept axes, plus size-1 reduced axes when keepDim.</param>
/// <param name="KeepDimShape">The input's shape with every reduced axis set to 1: the gradient broadcasts back from it.</param>
/// <param name="Count">How many input elements fold into each output element (N).</param>
/// <param name="Outer">Outer extent of the kernels' [outer, reduce, inner] layout.</param>
/// <param name="Reduce">The reduced extent.</param>
/// <param name="Inner">Inner extent.</param>
/// <param name="Permutation">Non-null when the reduced axes must be moved last before the kernel can read them.</param>
internal sealed record ReductionPlan(Shape Input, Shape Output, Shape KeepDimShape, int Count, int Outer, int Reduce, int Inner, int[]? Permutation)
{
    /// <summary>Plans a reduction over one axis.</summary>
    public static ReductionPlan Create(Shape shape, int axis, bool keepDim, string op) => Create(shape, [axis], keepDim, op);

    /// <summary>Plans a reduction over <paramref name="axes"/> (null: every axis).</summary>
    public static ReductionPlan Create(Shape shape, int[]? axes, bool keepDim, string op)
    {
        int rank = shape.Rank;
        var reduced = new bool[rank];
        if (axes is null)
        {
            Array.Fill(reduced, true);
        }
        else
        {
            if (axes.Length == 0)
                throw new ArgumentException($"{op}: the list of axes is empty (shape {shape}); call the overload without axes to reduce over all of them");
            var seen = new HashSet<int>();
            foreach (int axis in axes)
            {
                int a = Shape.NormalizeAxis(axis, rank, op, shape);
                if (!seen.Add(a)) throw new ArgumentException($"{op}: axis {axis} repeats in {Shape.Format(axes)} (shape {shape})");
                if (rank > 0) reduced[a] = true;
            }
        }

        var output = new List<int>();
        var keep = new int[rank];
        long count = 1, kept = 1;
        for (int i = 0; i < rank; i++)
        {
            keep[i] = reduced[i] ? 1 : shape[i];
            if (reduced[i]) count *= shape[i];
            else
            {
                output.Add(shape[i]);
                kept *= shape[i];
            }
        }
        var keepShape = Shape.Wrap(keep);
        var outputShape = keepDim ? keepShape : Shape.Wrap(output.ToArray());

        // Walk the non-trivial dimensions: kept ones before the first reduced block are outer, kept ones after it
        // are inner; a reduced dimension after an inner one means the reduced axes are not one block.
        long outer = 1, reduce = 1, inner = 1;
        int phase = 0; // 0: before the reduced block, 1: inside it, 2: after it
        bool split = false;
        for (int i = 0; i < rank; i++)
        {
            if (shape[i] == 1) continue;
            if (reduced[i])
            {
                if (phase == 2) split = true;
                phase = Math.Max(phase, 1);
                reduce *= shape[i];
            }
            else if (phase == 0) outer *= shape[i];
            else
            {
                phase = 2;
                inner *= shape[i];
            }
        }
        if (!split) return new ReductionPlan(shape, outputShape, keepShape, (int)count, (int)outer, (int)reduce, (int)inner, null);

        var permutation = new int[rank];
        int p = 0;
        for (int i = 0; i < rank; i++) if (!reduced[i]) permutation[p++] = i;
        for (int i = 0; i < rank; i++) if (reduced[i]) permutation[p++] = i;
        return new ReductionPlan(shape, outputShape, keepShape, (int)count, (int)kept, (int)count, 1, permutation);
    }

    /// <summary>
    /// The elements of <paramref name="x"/> as one contiguous buffer in the plan's [outer, reduce, inner] order:
    /// <paramref name="x"/> itself when it is already laid out so, else a copy. No autograd is recorded.
    /// </summary>
    public Tensor Arrange(Tensor x)
    {
        var data = x.Detach();
        if (Permutation is not null) data = data.Permute(Permutation);
        return data.Contiguous();
    }
}
