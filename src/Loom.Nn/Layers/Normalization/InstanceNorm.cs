namespace Loom.Nn;

/// <summary>
/// Instance normalisation: each sample's channels normalised over their own spatial positions (PyTorch's
/// InstanceNorm1d/2d share this class). By default without affine parameters and without running statistics, as
/// PyTorch; with <c>trackRunningStats</c>, training updates <c>running_mean</c>/<c>running_var</c> and evaluation
/// normalises with them. Unbatched input (no N) is accepted.
/// </summary>
public abstract class InstanceNormBase : Module<Tensor, Tensor>
{
    private readonly int _spatial;

    private protected InstanceNormBase(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype, int spatial)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{GetType().Name}: num_features must be positive, got {numFeatures}");
        (NumFeatures, Eps, Momentum, _spatial) = (numFeatures, eps, momentum, spatial);
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones(new Shape(numFeatures), dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros(new Shape(numFeatures), dtype)) : null);
        RunningMean = RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros(new Shape(numFeatures), dtype) : null);
        RunningVar = RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones(new Shape(numFeatures), dtype) : null);
        // PyTorch's state dict has it too; instance norm never advances it.
        RegisterBuffer("num_batches_tracked", trackRunningStats ? Tensor.Zeros(new Shape(), DType.Int64) : null);
    }

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

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
        $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={(Weight is null ? "False" : "True")}, track_running_stats={(RunningMean is null ? "False" : "True")}";
}

/// <summary>Instance norm over [N, C, L] (or [C, L]) inputs.</summary>
public sealed class InstanceNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false,
    DType dtype = DType.Float32) : InstanceNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, 1);

/// <summary>Instance norm over [N, C, H, W] (or [C, H, W]) inputs.</summary>
public sealed class InstanceNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false,
    DType dtype = DType.Float32) : InstanceNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, 2);
