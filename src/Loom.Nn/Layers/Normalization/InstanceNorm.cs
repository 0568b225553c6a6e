namespace Loom.Nn;

/// <summary>
/// Instance normalisation: each sample's channels normalised over their own spatial positions (PyTorch's
/// InstanceNorm1d/2d share this class). By default without affine parameters and without running statistics, as
/// PyTorch; with <c>trackRunningStats</c>, training updates <c>running_mean</c>/<c>running_var</c> and evaluation
/// normalises with them. Unbatched input (no N) is accepted.
/// </summary>
public abstract class InstanceNormBase : NormBase
{
    private readonly int _spatial;

    // PyTorch's state dict has num_batches_tracked too; instance norm never advances it.
    private protected InstanceNormBase(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype, int spatial)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) => _spatial = spatial;

    protected override Tensor ForwardCore(Tensor input)
    {
        bool unbatched = input.Rank == _spatial + 1;
        var x = unbatched ? input.Unsqueeze(0) : input;
        if (x.Rank != _spatial + 2 || x.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input [N, {NumFeatures}, {Spatial()}] or [{NumFeatures}, {Spatial()}], got shape {input.Shape}");
        var y = Functional.InstanceNorm(x, RunningMean, RunningVar, Weight, Bias, useInputStats: Training || RunningMean is null, Momentum, Eps);
        return unbatched ? y.Squeeze(0) : y;
    }

    private string Spatial() => _spatial == 1 ? "L" : "H, W";

    protected override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={Affine}, track_running_stats={(RunningMean is null ? "False" : "True")}";
}

/// <summary>Instance norm over [N, C, L] (or [C, L]) inputs.</summary>
public sealed class InstanceNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false,
    DType dtype = DType.Float32) : InstanceNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, 1);

/// <summary>Instance norm over [N, C, H, W] (or [C, H, W]) inputs.</summary>
public sealed class InstanceNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false,
    DType dtype = DType.Float32) : InstanceNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, 2);
