namespace Loom.Nn;

/// <summary>
/// Batch normalisation over the channel dimension 1 (PyTorch's BatchNorm1d/2d share this class through
/// <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/>): training mode normalises with the batch statistics and
/// updates <c>running_mean</c>/<c>running_var</c> with <c>momentum</c>; eval mode uses the running statistics.
/// </summary>
public abstract class BatchNormBase : NormBase
{
    private readonly int[] _ranks;

    private protected BatchNormBase(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype, int[] ranks)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) => _ranks = ranks;

    protected override Tensor ForwardCore(Tensor input)
    {
        if (!_ranks.Contains(input.Rank) || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input of rank {string.Join(" or ", _ranks)} with {NumFeatures} channels in dimension 1, got shape {input.Shape}");
        bool useBatchStats = Training || RunningMean is null;
        if (Training && NumBatchesTracked is { } n)
            using (new Autograd.NoGrad()) n.AddInPlace(1);
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, Momentum, Eps);
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={Affine}";
}

/// <summary>Batch norm over [N, C] or [N, C, L] inputs.</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, [2, 3]);

/// <summary>Batch norm over [N, C, H, W] inputs.</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, [4]);
