using Loom.Autograd;

namespace Loom.Distributed;

/// <summary>
/// Batch normalisation whose training statistics are those of the whole global batch, over every rank (PyTorch's
/// <c>SyncBatchNorm</c>): N ranks with batch b normalise exactly as one process with batch N·b would. Same
/// parameters, buffers and state-dict names as <see cref="BatchNorm2d"/>/<see cref="BatchNorm1d"/>, so checkpoints move
/// freely between the two; in eval mode it is plain batch norm over the running statistics.
/// </summary>
/// <remarks>
/// Mean and variance are two-pass (Σx, then Σ(x−mean)²), each summed over ranks by the differentiable
/// <see cref="Communicator.AllReduce(Tensor)"/>: autograd then derives the backward, including the cross-rank terms
/// through the shared statistics, with no hand-written gradient. Three small all-reduces per layer per step (the
/// count, the sum, the squares) and their three in backward cost microseconds on shared memory.
/// </remarks>
public sealed class SyncBatchNorm : BatchNormBase
{
    /// <param name="numFeatures">Channels (dimension 1 of the input).</param>
    /// <param name="communicator">The ranks whose batches are normalised together.</param>
    public SyncBatchNorm(int numFeatures, Communicator communicator, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype, [2, 3, 4, 5])
    {
        ArgumentNullException.ThrowIfNull(communicator);
        Communicator = communicator;
    }

    public Communicator Communicator { get; }

    protected override Tensor Normalize(Tensor input, Activation activation)
    {
        CheckInput(input);
        if (!Training && RunningMean is not null)
            return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, false, Momentum, Eps, activation);

        int[] axes = [0, .. Enumerable.Range(2, input.Rank - 2)];
        var statShape = Enumerable.Repeat(1, input.Rank).ToArray();
        statShape[1] = NumFeatures;
        long[] count = [input.Numel / NumFeatures];
        Communicator.AllReduce<long>(count);
        if (count[0] < 2) throw new ArgumentException($"SyncBatchNorm: expected more than 1 value per channel over all ranks when training, got input shape {input.Shape}");
        double n = count[0];

        var mean = Communicator.AllReduce(input.Sum(axes, keepDim: true)).Mul(1.0 / n);
        var centred = input.Sub(mean);
        var variance = Communicator.AllReduce(centred.Mul(centred).Sum(axes, keepDim: true)).Mul(1.0 / n);
        var output = centred.Mul(variance.Add(Eps).Rsqrt());
        if (Weight is not null) output = output.Mul(Weight.Reshape(statShape));
        if (Bias is not null) output = output.Add(Bias.Reshape(statShape));

        if (Training && RunningMean is not null)
            using (new NoGrad())
            {
                // PyTorch's rule: the running variance takes the unbiased estimate.
                RunningMean.CopyFrom(RunningMean.Mul(1 - Momentum).Add(mean.Reshape(NumFeatures).Mul(Momentum)));
                RunningVar!.CopyFrom(RunningVar.Mul(1 - Momentum).Add(variance.Reshape(NumFeatures).Mul(Momentum * n / (n - 1))));
                NumBatchesTracked?.AddInPlace(1);
            }
        return Functional.Activate(output, activation);
    }

    /// <summary>
    /// A synchronised copy of <paramref name="batchNorm"/> (its parameters and running statistics), for a model whose
    /// layers are built with a norm factory.
    /// </summary>
    public static SyncBatchNorm From(BatchNormBase batchNorm, Communicator communicator)
    {
        var sync = new SyncBatchNorm(batchNorm.NumFeatures, communicator, batchNorm.Eps, batchNorm.Momentum, batchNorm.Weight is not null,
            batchNorm.RunningMean is not null, batchNorm.Weight?.DType ?? batchNorm.RunningMean?.DType ?? DType.Float32);
        sync.LoadStateDict(batchNorm.StateDict());
        return sync;
    }

    /// <summary>
    /// Replaces every batch-norm layer inside <paramref name="model"/> with a synchronised copy (PyTorch's
    /// <c>convert_sync_batchnorm</c>); returns how many were replaced. Build the optimiser afterwards: the copies hold
    /// new parameter objects. All or nothing: when a layer's parent keeps it in a typed field and refuses the swap
    /// (<see cref="Module.SetSubmodule"/>), the layers already swapped are put back and an
    /// <see cref="ArgumentException"/> names the layer that could not be swapped.
    /// </summary>
    public static int ConvertAll(Module model, Communicator communicator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(communicator);
        var targets = model.NamedModules().Where(m => m.Name.Length > 0 && m.Module is BatchNormBase and not SyncBatchNorm).ToList();
        var swapped = new List<(string Name, Module Original)>();
        try
        {
            foreach (var (name, layer) in targets)
            {
                model.SetSubmodule(name, From((BatchNormBase)layer, communicator));
                swapped.Add((name, layer));
            }
        }
        catch (NotSupportedException e)
        {
            foreach (var (name, original) in Enumerable.Reverse(swapped)) model.SetSubmodule(name, original);
            throw new ArgumentException($"cannot synchronise the batch norm '{targets[swapped.Count].Name}' of {model.GetType().Name}: {e.Message}", e);
        }
        return targets.Count;
    }
}
