namespace Loom.Nn;

/// <summary>
/// Batch normalisation over the channel dimension 1 (PyTorch's BatchNorm1d/2d share this class through
/// <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/>): training mode normalises with the batch statistics and
/// updates <c>running_mean</c>/<c>running_var</c> with <c>momentum</c>; eval mode uses the running statistics.
/// A subclass may compute the statistics another way by overriding <see cref="Normalize"/> (Loom.Distributed's
/// <c>SyncBatchNorm</c> takes them over every rank's batch): models that hold their batch norms as this type then
/// accept it in place of theirs.
/// </summary>
public abstract class BatchNormBase : NormBase
{
    private readonly int[] _ranks;

    /// <param name="ranks">The input ranks the layer accepts ([N, C, …] with C = <paramref name="numFeatures"/>).</param>
    protected BatchNormBase(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype, int[] ranks)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) => _ranks = ranks;

    protected override Tensor ForwardCore(Tensor input) => Normalize(input, Activation.None);

    /// <summary>
    /// activation(this layer's output) as one op (<see cref="Functional.BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, double, double, Activation)"/>,
    /// which fuses ReLU into the normalisation and its backward). With hooks registered on this layer, it runs unfused
    /// so that the hooks see the layer's own output.
    /// </summary>
    public Tensor Forward(Tensor input, Activation activation)
    {
        if (activation == Activation.None) return Forward(input);
        if (HasHooks) return Functional.Activate(Forward(input), activation);
        return Normalize(input, activation);
    }

    /// <summary>activation(batch norm of <paramref name="input"/>): what both forwards run.</summary>
    protected virtual Tensor Normalize(Tensor input, Activation activation)
    {
        CheckInput(input);
        bool useBatchStats = Training || RunningMean is null;
        if (Training && NumBatchesTracked is { } n)
            using (new Autograd.NoGrad()) n.AddInPlace(1);
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, Momentum, Eps, activation);
    }

    /// <summary>Throws the layer's one-line error unless <paramref name="input"/> has an accepted rank and the layer's channels.</summary>
    protected void CheckInput(Tensor input)
    {
        if (!_ranks.Contains(input.Rank) || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input of rank {string.Join(" or ", _ranks)} with {NumFeatures} channels in dimension 1, got shape {input.Shape}");
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={Affine}";
}

/// <summary>Batch norm over [N, C] or [N, C, L] inputs.</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, [2, 3]);

/// <summary>Batch norm over [N, C, H, W] inputs.</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, [4]);
