namespace Loom;

// Optimiser updates, in place, as PyTorch's single-tensor implementations (torch/optim/*.py) compute them: what
// Loom.Nn's optimisers run for each parameter, open to anyone writing their own. Every tensor is contiguous, of the
// parameter's dtype (float32 or float64) and size; hyperparameters are rounded to that dtype first, so a float32
// update is computed in float32 throughout. Writing a parameter that requires grad needs grad mode off (NoGrad), as
// every in-place write does.
public static partial class Functional
{
    /// <summary>
    /// One SGD step in place: g ← grad + weightDecay·param; with a <paramref name="momentumBuffer"/>, buf ← g on the
    /// first step, else momentum·buf + (1 − dampening)·g, and g ← g + momentum·buf (Nesterov) or buf; then
    /// param ← param − learningRate·g.
    /// </summary>
    public static void SgdUpdate(Tensor param, Tensor grad, Tensor? momentumBuffer, double learningRate, double weightDecay = 0,
        double momentum = 0, double dampening = 0, bool nesterov = false, bool firstStep = false)
    {
        CheckUpdate("sgd", param, grad, momentumBuffer);
        if (momentum != 0 && momentumBuffer is null) throw new ArgumentException("sgd: momentum needs a momentum buffer");
        if (param.DType == DType.Float32) Sgd<float>(param, grad, momentumBuffer, learningRate, weightDecay, momentum, dampening, nesterov, firstStep);
        else Sgd<double>(param, grad, momentumBuffer, learningRate, weightDecay, momentum, dampening, nesterov, firstStep);
    }

    private static void Sgd<T>(Tensor param, Tensor grad, Tensor? buffer, double learningRate, double weightDecay, double momentum,
        double dampening, bool nesterov, bool firstStep) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BeginWrite<T>(param, buffer);
        grad.AsReadOnlySpan<T>();
        InChunks(param.Numel, (start, length) =>
            OptimizerKernels.Sgd(param.Data<T>().Slice(start, length), grad.Data<T>().Slice(start, length), SpanOrEmpty<T>(buffer, start, length),
                T.CreateTruncating(learningRate), T.CreateTruncating(weightDecay), T.CreateTruncating(momentum), T.CreateTruncating(dampening), nesterov, firstStep));
    }

    /// <summary>
    /// One Adam (or, with <paramref name="decoupledWeightDecay"/>, AdamW) step in place at step number
    /// <paramref name="step"/> (1 for the first): coupled decay g ← grad + weightDecay·param, or decoupled
    /// param ← param·(1 − learningRate·weightDecay); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; with a
    /// <paramref name="maxExpAvgSq"/> (AMSGrad) vmax ← max(vmax, v) stands in for v; then
    /// param ← param − learningRate/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + eps).
    /// </summary>
    public static void AdamUpdate(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, double learningRate,
        double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
    {
        CheckUpdate("adam", param, grad, expAvg, expAvgSq, maxExpAvgSq);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "adam: step counts from 1");
        if (param.DType == DType.Float32) Adam<float>(param, grad, expAvg, expAvgSq, maxExpAvgSq, step, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
        else Adam<double>(param, grad, expAvg, expAvgSq, maxExpAvgSq, step, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
    }

    private static void Adam<T>(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, double learningRate,
        double beta1, double beta2, double eps, double weightDecay, bool decoupled) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BeginWrite<T>(param, expAvg, expAvgSq, maxExpAvgSq);
        grad.AsReadOnlySpan<T>();
        InChunks(param.Numel, (start, length) =>
            OptimizerKernels.Adam(param.Data<T>().Slice(start, length), grad.Data<T>().Slice(start, length), expAvg.Data<T>().Slice(start, length),
                expAvgSq.Data<T>().Slice(start, length), SpanOrEmpty<T>(maxExpAvgSq, start, length), T.CreateTruncating(learningRate),
                T.CreateTruncating(beta1), T.CreateTruncating(beta2), T.CreateTruncating(eps), T.CreateTruncating(weightDecay), decoupled, step));
    }

    /// <summary>
    /// One Adam (or AdamW) step over a list of parameters at once, as PyTorch's multi-tensor (foreach) Adam: each
    /// parameter i is updated from grads[i], expAvgs[i] and expAvgSqs[i] (and maxExpAvgSqs[i] with AMSGrad) exactly as
    /// <see cref="AdamUpdate(Tensor, Tensor, Tensor, Tensor, Tensor?, long, double, double, double, double, double, bool)"/>
    /// updates it, with the same bits; all share the step number and hyperparameters. The parameters are one pass
    /// over their elements laid end to end, split evenly over the threads, instead of one call (and one parallel
    /// dispatch, or none for a small tensor) per parameter.
    /// </summary>
    public static void AdamUpdate(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs,
        IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, long step, double learningRate, double beta1 = 0.9,
        double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
    {
        int count = parameters.Count;
        if (grads.Count != count || expAvgs.Count != count || expAvgSqs.Count != count || (maxExpAvgSqs is not null && maxExpAvgSqs.Count != count))
            throw new ArgumentException($"adam: {count} parameters need as many gradients, first and second moments (and max second moments), " +
                $"got {grads.Count}, {expAvgs.Count}, {expAvgSqs.Count}" + (maxExpAvgSqs is null ? "" : $", {maxExpAvgSqs.Count}"));
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "adam: step counts from 1");
        if (count == 0) return;
        var dtype = parameters[0].DType;
        for (int i = 0; i < count; i++)
        {
            CheckUpdate("adam", parameters[i], grads[i], expAvgs[i], expAvgSqs[i], maxExpAvgSqs?[i]);
            if (parameters[i].DType != dtype)
                throw new ArgumentException($"adam: parameters of one update share a dtype, got {dtype.Name()} and {parameters[i].DType.Name()}");
        }
        var tensors = new AdamTensors(parameters, grads, expAvgs, expAvgSqs, maxExpAvgSqs);
        if (dtype == DType.Float32) AdamForeach<float>(tensors, step, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
        else AdamForeach<double>(tensors, step, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
    }

    private sealed record AdamTensors(IReadOnlyList<Tensor> Parameters, IReadOnlyList<Tensor> Grads, IReadOnlyList<Tensor> ExpAvgs,
        IReadOnlyList<Tensor> ExpAvgSqs, IReadOnlyList<Tensor>? MaxExpAvgSqs);

    private static void AdamForeach<T>(AdamTensors t, long step, double learningRate, double beta1, double beta2, double eps,
        double weightDecay, bool decoupled) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = t.Parameters.Count;
        // Where each parameter starts in the elements laid end to end, in 64-element blocks (each parameter starts a block).
        var firstBlock = new long[count + 1];
        for (int i = 0; i < count; i++)
        {
            BeginWrite<T>(t.Parameters[i], t.ExpAvgs[i], t.ExpAvgSqs[i], t.MaxExpAvgSqs?[i]);
            t.Grads[i].AsReadOnlySpan<T>();
            firstBlock[i + 1] = firstBlock[i] + (t.Parameters[i].Numel + UpdateBlock - 1) / UpdateBlock;
        }
        var (lr, b1, b2, e, wd) = (T.CreateTruncating(learningRate), T.CreateTruncating(beta1), T.CreateTruncating(beta2), T.CreateTruncating(eps),
            T.CreateTruncating(weightDecay));
        long blocks = firstBlock[count];
        if (blocks > int.MaxValue) throw new NotSupportedException($"adam: {blocks * UpdateBlock} elements in one update are more than it can address");
        int grain = Threads.Count == 1 ? int.MaxValue : ParallelUpdateElements / UpdateBlock;
        ParallelHelper.For((int)blocks, grain, (start, end) =>
        {
            // The parameters this range overlaps, each from its part of the range.
            int i = Array.BinarySearch(firstBlock, (long)start);
            if (i < 0) i = ~i - 1;
            while (i < count && firstBlock[i] < end)
            {
                if (firstBlock[i + 1] > start)
                {
                    int numel = t.Parameters[i].Numel;
                    int from = (int)(Math.Max(start, firstBlock[i]) - firstBlock[i]) * UpdateBlock;
                    int to = (int)Math.Min((Math.Min(end, firstBlock[i + 1]) - firstBlock[i]) * UpdateBlock, numel);
                    int length = to - from;
                    OptimizerKernels.Adam(t.Parameters[i].Data<T>().Slice(from, length), t.Grads[i].Data<T>().Slice(from, length),
                        t.ExpAvgs[i].Data<T>().Slice(from, length), t.ExpAvgSqs[i].Data<T>().Slice(from, length),
                        SpanOrEmpty<T>(t.MaxExpAvgSqs?[i], from, length), lr, b1, b2, e, wd, decoupled, step);
                }
                i++;
            }
        });
    }

    /// <summary>
    /// One RMSprop step in place: g ← grad + weightDecay·param; sq ← α·sq + (1 − α)·g²; centred (with a
    /// <paramref name="gradAvg"/>) ga ← α·ga + (1 − α)·g and avg = √(sq − ga²) + eps, else avg = √sq + eps; with
    /// momentum buf ← momentum·buf + g/avg and param ← param − learningRate·buf, else param ← param − learningRate·g/avg.
    /// </summary>
    public static void RmsPropUpdate(Tensor param, Tensor grad, Tensor squareAvg, Tensor? gradAvg, Tensor? momentumBuffer, double learningRate,
        double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0)
    {
        CheckUpdate("rmsprop", param, grad, squareAvg, gradAvg, momentumBuffer);
        if (momentum > 0 && momentumBuffer is null) throw new ArgumentException("rmsprop: momentum needs a momentum buffer");
        if (param.DType == DType.Float32) RmsProp<float>(param, grad, squareAvg, gradAvg, momentumBuffer, learningRate, alpha, eps, weightDecay, momentum);
        else RmsProp<double>(param, grad, squareAvg, gradAvg, momentumBuffer, learningRate, alpha, eps, weightDecay, momentum);
    }

    private static void RmsProp<T>(Tensor param, Tensor grad, Tensor squareAvg, Tensor? gradAvg, Tensor? buffer, double learningRate,
        double alpha, double eps, double weightDecay, double momentum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BeginWrite<T>(param, squareAvg, gradAvg, buffer);
        grad.AsReadOnlySpan<T>();
        InChunks(param.Numel, (start, length) =>
            OptimizerKernels.RmsProp(param.Data<T>().Slice(start, length), grad.Data<T>().Slice(start, length), squareAvg.Data<T>().Slice(start, length),
                SpanOrEmpty<T>(gradAvg, start, length), SpanOrEmpty<T>(buffer, start, length), T.CreateTruncating(learningRate), T.CreateTruncating(alpha),
                T.CreateTruncating(eps), T.CreateTruncating(weightDecay), T.CreateTruncating(momentum)));
    }

    /// <summary>
    /// One Adagrad step in place at step number <paramref name="step"/> (1 for the first): clr = learningRate /
    /// (1 + (step − 1)·lrDecay); g ← grad + weightDecay·param; sum ← sum + g²; param ← param − clr·g / (√sum + eps).
    /// </summary>
    public static void AdagradUpdate(Tensor param, Tensor grad, Tensor stateSum, long step, double learningRate, double lrDecay = 0,
        double eps = 1e-10, double weightDecay = 0)
    {
        CheckUpdate("adagrad", param, grad, stateSum);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "adagrad: step counts from 1");
        if (param.DType == DType.Float32) Adagrad<float>(param, grad, stateSum, step, learningRate, lrDecay, eps, weightDecay);
        else Adagrad<double>(param, grad, stateSum, step, learningRate, lrDecay, eps, weightDecay);
    }

    private static void Adagrad<T>(Tensor param, Tensor grad, Tensor stateSum, long step, double learningRate, double lrDecay, double eps,
        double weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BeginWrite<T>(param, stateSum);
        grad.AsReadOnlySpan<T>();
        InChunks(param.Numel, (start, length) =>
            OptimizerKernels.Adagrad(param.Data<T>().Slice(start, length), grad.Data<T>().Slice(start, length), stateSum.Data<T>().Slice(start, length),
                T.CreateTruncating(learningRate), T.CreateTruncating(lrDecay), T.CreateTruncating(eps), T.CreateTruncating(weightDecay), step));
    }

    private static Span<T> SpanOrEmpty<T>(Tensor? tensor, int start, int length) where T : unmanaged =>
        tensor is null ? default : tensor.Data<T>().Slice(start, length);

    /// <summary>
    /// Checks, on the calling thread, that each tensor may be written here (grad mode off for a parameter that requires
    /// grad; contiguous) and counts the write in its version: the chunks run on worker threads, outside the caller's
    /// NoGrad scope, and reach the storage directly.
    /// </summary>
    private static void BeginWrite<T>(params ReadOnlySpan<Tensor?> written) where T : unmanaged
    {
        foreach (var tensor in written) tensor?.AsSpan<T>();
    }

    // An update is element by element, so a large tensor splits over the worker threads: streaming a GPT-2's 124 M
    // parameters and their Adam moments is memory-bound, and one core does not saturate the memory bus. Chunks start on
    // 64-element boundaries (aligned vectors); where a chunk ends changes no bit, as every vector width and the scalar
    // tail compute the same (SimdPathTests).
    private const int UpdateBlock = 64, ParallelUpdateElements = 1 << 16;

    private static void InChunks(int length, Action<int, int> update)
    {
        int blocks = (length + UpdateBlock - 1) / UpdateBlock;
        if (length < 2 * ParallelUpdateElements || Threads.Count == 1)
        {
            update(0, length);
            return;
        }
        ParallelHelper.For(blocks, ParallelUpdateElements / UpdateBlock, (first, end) =>
        {
            int start = first * UpdateBlock;
            update(start, Math.Min(end * UpdateBlock, length) - start);
        });
    }

    /// <summary>Every tensor of an update: the parameter's dtype (float32 or float64) and number of elements.</summary>
    private static void CheckUpdate(string op, Tensor param, params ReadOnlySpan<Tensor?> others)
    {
        if (param.DType is not (DType.Float32 or DType.Float64))
            throw new NotSupportedException($"{op}: dtype {param.DType.Name()} is not supported (float32 or float64)");
        foreach (var other in others)
        {
            if (other is null) continue;
            if (other.DType != param.DType || other.Numel != param.Numel)
                throw new ArgumentException($"{op}: a {other.DType.Name()} tensor of shape {other.Shape} does not match the {param.DType.Name()} parameter of shape {param.Shape}");
        }
    }
}
