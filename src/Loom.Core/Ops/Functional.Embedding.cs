namespace Loom;

// Lookups by index.
//   embedding:  y[i, :] = weight[index_i, :]        dweight[v, :] = Σ_{i: index_i = v} dy[i, :], except v = paddingIdx
//               (max_norm first renormalises the referenced rows in place: Functional.Embedding.MaxNorm.cs)
//   one_hot:    y[..., c] = [index = c]             (Int64, not differentiable)
public static partial class Functional
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> [V, D] for integer <paramref name="indices"/> (Int32 or Int64, any
    /// shape), giving [..., D], as <c>torch.nn.functional.embedding</c>. The backward scatter-adds into the weight
    /// gradient; the row <paramref name="paddingIdx"/> (negative counts from the end) receives no gradient.
    /// </summary>
    /// <param name="maxNorm">When given, each referenced row whose <paramref name="normType"/>-norm exceeds it is first
    /// scaled down to that norm, in place in <paramref name="weight"/> (PyTorch's max_norm).</param>
    public static Tensor Embedding(Tensor indices, Tensor weight, int? paddingIdx = null, double? maxNorm = null, double normType = 2)
    {
        const string op = "embedding";
        if (weight.Rank != 2) throw new ArgumentException($"{op}: weight must be [num_embeddings, embedding_dim], got shape {weight.Shape}");
        if (!weight.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: weight dtype {weight.DType.Name()} is not supported (float32 or float64)");
        int v = weight.Shape[0], d = weight.Shape[1];
        int? padding = null;
        if (paddingIdx is int pad)
        {
            if (pad < -v || pad >= v) throw new ArgumentException($"{op}: padding index {pad} is out of range for {v} embeddings (weight shape {weight.Shape})");
            padding = pad < 0 ? pad + v : pad;
        }
        var index = CheckedIndices(indices, v, op, $"for {v} embeddings (weight shape {weight.Shape})");
        if (maxNorm is double max) RenormReferencedRows(weight, index, max, normType);
        var w = weight.Detach().Contiguous();
        var y = Tensor.Empty(new Shape([.. indices.Shape.Dims, d]), weight.DType);
        var ix = index.Data<long>();
        if (weight.DType == DType.Float32) Gather<float>(ix, w.Data<float>(), d, y.Data<float>());
        else Gather<double>(ix, w.Data<double>(), d, y.Data<double>());
        return GradMode.ShouldRecord(weight) ? new EmbeddingBackward(weight, index, padding).Attach(y) : y;
    }

    /// <summary>
    /// One-hot encoding of integer <paramref name="indices"/> (any shape) as Int64 [..., numClasses], as
    /// <c>torch.nn.functional.one_hot</c>; numClasses = −1 uses the largest index + 1.
    /// </summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        const string op = "one_hot";
        if (numClasses < -1) throw new ArgumentException($"{op}: numClasses must be positive or -1 (inferred), got {numClasses}");
        if (numClasses == -1)
        {
            var all = CheckedIndices(indices, int.MaxValue, op, "");
            if (all.Numel == 0) throw new ArgumentException($"{op}: cannot infer the number of classes from an empty tensor (shape {indices.Shape})");
            numClasses = (int)TensorPrimitives.Max<long>(all.Data<long>()) + 1;
        }
        var index = CheckedIndices(indices, numClasses, op, $"for {numClasses} classes");
        var result = Tensor.Zeros(new Shape([.. indices.Shape.Dims, numClasses]), DType.Int64);
        var y = result.Data<long>();
        var ix = index.Data<long>();
        for (int i = 0; i < ix.Length; i++) y[i * numClasses + (int)ix[i]] = 1;
        return result;
    }

    // The indices as contiguous Int64, each checked to lie in [0, count).
    private static Tensor CheckedIndices(Tensor indices, int count, string op, string range)
    {
        if (indices.DType is not (DType.Int64 or DType.Int32))
            throw new ArgumentException($"{op}: indices must be int64 or int32, got {indices.DType.Name()} of shape {indices.Shape}");
        var index = indices.To(DType.Int64).Contiguous();
        var ix = index.Data<long>();
        for (int i = 0; i < ix.Length; i++)
            if ((ulong)ix[i] >= (ulong)count)
                throw new ArgumentException($"{op}: index {ix[i]} (at position {i}) is out of range {range}".TrimEnd());
        return index;
    }

    private static void Gather<T>(ReadOnlySpan<long> index, ReadOnlySpan<T> weight, int d, Span<T> destination) where T : unmanaged
    {
        for (int i = 0; i < index.Length; i++) weight.Slice((int)index[i] * d, d).CopyTo(destination.Slice(i * d, d));
    }

    private sealed class EmbeddingBackward : BackwardNode
    {
        private readonly SavedTensor _index;
        private readonly int? _padding;

        public EmbeddingBackward(Tensor weight, Tensor index, int? padding) : base("embedding", weight)
        {
            _index = Save(index);
            _padding = padding;
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var shape = InputShape(0);
            var dy = gradOutput.Contiguous();
            var ix = _index.Value.Data<long>();
            if (Inputs[0]!.InPlaceGradTarget(shape, dy.DType, out bool assign) is { } grad)
            {
                // The weight's gradient exists (a training loop that zeroes rather than drops it): the batch's rows go
                // straight into it, as accumulation would put them. A dense [V, C] gradient would be cleared, written
                // and added for the few rows a batch touches: 154 MB three times per step for GPT-2's embedding.
                // A deferred zero is written here: the rows the batch does not touch must read zero.
                if (dy.DType == DType.Float32) ScatterAdd<float>(ix, dy.Data<float>(), shape[1], grad.Data<float>(), assign);
                else ScatterAdd<double>(ix, dy.Data<double>(), shape[1], grad.Data<double>(), assign);
                Inputs[0]!.GradWritten();
                return [null];
            }
            var dw = Tensor.Zeros(shape, dy.DType);
            if (dy.DType == DType.Float32) ScatterAdd<float>(ix, dy.Data<float>(), shape[1], dw.Data<float>());
            else ScatterAdd<double>(ix, dy.Data<double>(), shape[1], dw.Data<double>());
            return [dw];
        }

        private void ScatterAdd<T>(ReadOnlySpan<long> index, ReadOnlySpan<T> dy, int d, Span<T> dw, bool clearFirst = false) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (clearFirst) dw.Clear();
            for (int i = 0; i < index.Length; i++)
            {
                int row = (int)index[i];
                if (row == _padding) continue;
                var target = dw.Slice(row * d, d);
                TensorPrimitives.Add(target, dy.Slice(i * d, d), target);
            }
        }
    }
}
