namespace Loom.Nn;

/// <summary>
/// What batch and instance normalisation share (PyTorch's <c>_NormBase</c>): per-channel affine <c>weight</c> and
/// <c>bias</c>, and the running statistics <c>running_mean</c>, <c>running_var</c> and <c>num_batches_tracked</c>, with
/// PyTorch's state-dict names.
/// </summary>
public abstract class NormBase : Module<Tensor, Tensor>
{
    private protected NormBase(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{GetType().Name}: num_features must be positive, got {numFeatures}");
        (NumFeatures, Eps, Momentum) = (numFeatures, eps, momentum);
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones(new Shape(numFeatures), dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros(new Shape(numFeatures), dtype)) : null);
        // LoadStateDict copies into these tensors in place, so the references stay valid for the module's life.
        RunningMean = RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros(new Shape(numFeatures), dtype) : null);
        RunningVar = RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones(new Shape(numFeatures), dtype) : null);
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", trackRunningStats ? Tensor.Zeros(new Shape(), DType.Int64) : null);
    }

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

    /// <summary>Training batches seen (a 0-d int64 tensor); null without running statistics.</summary>
    public Tensor? NumBatchesTracked { get; }

    private protected string Affine => Weight is null ? "False" : "True";
}
