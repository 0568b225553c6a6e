namespace Loom.Nn;

/// <summary>
/// Connectionist temporal classification loss, as <c>torch.nn.CTCLoss</c>: the negative log-likelihood of unaligned
/// targets under per-frame log-probabilities, summed over every alignment. It takes four tensors: call
/// <see cref="Forward(Tensor, Tensor, Tensor, Tensor)"/> (forward hooks see them as a <c>Tensor[]</c>).
/// </summary>
/// <remarks>Shapes: log-probabilities [T, N, C] (e.g. <c>LogSoftmax(2)</c> of the network's output); targets [N, S]
/// padded or 1-D concatenated (Int64/Int32, never the blank); input and target lengths [N] (Int64/Int32); output [] or,
/// with <see cref="Reduction.None"/>, [N]. <see cref="Reduction.Mean"/> averages each sample's loss divided by its
/// target length, as PyTorch.</remarks>
public sealed class CTCLoss : Loss
{
    /// <param name="blank">The blank class.</param>
    /// <param name="zeroInfinity">Give samples no alignment fits loss 0 and gradient 0 instead of +∞.</param>
    public CTCLoss(int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        if (blank < 0) throw new ArgumentOutOfRangeException(nameof(blank), blank, "CTCLoss: blank must be a class index (≥ 0)");
        (Blank, Reduction, ZeroInfinity) = (blank, reduction, zeroInfinity);
    }

    public int Blank { get; }
    public Reduction Reduction { get; }
    public bool ZeroInfinity { get; }

    /// <summary>The loss of <paramref name="logProbs"/> against <paramref name="targets"/> with per-sample lengths.</summary>
    public Tensor Forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths)
    {
        var args = (Tensor[])RunPreHooks(new[] { logProbs, targets, inputLengths, targetLengths });
        var output = Functional.CtcLoss(args[0], args[1], args[2], args[3], Blank, Reduction, ZeroInfinity);
        RunHooks(args, output);
        return output;
    }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => throw FourTensors();

    protected override Tensor ForwardCore(Tensor a, Tensor b, Tensor c) => throw FourTensors();

    private static InvalidOperationException FourTensors() =>
        new("CTCLoss takes four tensors; call Forward(logProbs, targets, inputLengths, targetLengths)");

    protected override string ExtraRepr() => $"blank={Blank}, reduction={Repr(Reduction)}, zero_infinity={ZeroInfinity}";
}
