using Loom.Autograd;
using Loom.Nn;

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
public sealed class SyncBatchNorm : Module<Tensor, Tensor>
{
    private readonly Tensor? _numBatchesTracked;

    /// <param name="numFeatures">Channels (dimension 1 of the input).</param>
    /// <param name="communicator">The ranks whose batches are normalised together.</param>
    public SyncBatchNorm(int numFeatures, Communicator communicator, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
    {
        if (numFeatures <= 0) throw new ArgumentException($"SyncBatchNorm: num_features must be positive, got {numFeatures}");
        ArgumentNullException.ThrowIfNull(communicator);
        (NumFeatures, Eps, Momentum, Communicator) = (numFeatures, eps, momentum, communicator);
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones(new Shape(numFeatures), dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros(new Shape(numFeatures), dtype)) : null);
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(new Shape(numFeatures), dtype))!;
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(new Shape(numFeatures), dtype))!;
        _numBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(new Shape(), DType.Int64));
    }

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Communicator Communicator { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank < 2 || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"SyncBatchNorm: expected input [N, {NumFeatures}, …] with {NumFeatures} channels in dimension 1, got shape {input.Shape}");
        if (!Training) return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, false, Momentum, Eps);

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

        using (new NoGrad())
        {
            // PyTorch's rule: the running variance takes the unbiased estimate.
            RunningMean.CopyFrom(RunningMean.Mul(1 - Momentum).Add(mean.Reshape(NumFeatures).Mul(Momentum)));
            RunningVar.CopyFrom(RunningVar.Mul(1 - Momentum).Add(variance.Reshape(NumFeatures).Mul(Momentum * n / (n - 1))));
            _numBatchesTracked?.AddInPlace(1);
        }
        return output;
    }

    /// <summary>
    /// A synchronised copy of <paramref name="batchNorm"/> (its parameters and running statistics), for a model whose
    /// layers are built with a norm factory.
    /// </summary>
    public static SyncBatchNorm From(BatchNormBase batchNorm, Communicator communicator)
    {
        var sync = new SyncBatchNorm(batchNorm.NumFeatures, communicator, batchNorm.Eps, batchNorm.Momentum, batchNorm.Weight is not null, batchNorm.RunningMean?.DType ?? DType.Float32);
        sync.LoadStateDict(batchNorm.StateDict(), strict: false);
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
        var targets = model.NamedModules().Where(m => m.Name.Length > 0 && m.Module is BatchNormBase).ToList();
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

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={(Weight is null ? "False" : "True")}";
}
