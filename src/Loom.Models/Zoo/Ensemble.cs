using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// Classifiers of the same task and data averaged in probability space: the ensemble's class probabilities are the
/// mean of its members' softmax outputs. It returns log-probabilities scaled by <see cref="Temperature"/> T, namely
/// T · log(mean over members of softmax(z / T)), so that softmax(output / T) is exactly that mean: at T = 1 its output
/// is the log of the averaged probabilities, which every classification loss, metric and prediction reads as logits;
/// a distillation at temperature T sets T and gets the mean of the members' softened distributions (Hinton, Vinyals
/// and Dean 2015 distil an ensemble this way) rather than the average re-softened.
/// </summary>
/// <remarks>Children: <c>member0</c>, <c>member1</c>…; its parameters are the sum of the members'.</remarks>
public sealed class Ensemble : Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>The model name a run folder of an ensemble has in config.json (written by `loom ensemble`).</summary>
    public const string ModelName = "ensemble";

    private readonly List<Module<Tensor, Tensor>> _members = [];
    private double _temperature = 1;

    public Ensemble(IReadOnlyList<Module<Tensor, Tensor>> members)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member", nameof(members));
        for (int i = 0; i < members.Count; i++) _members.Add(RegisterModule($"member{i}", members[i]));
    }

    public IReadOnlyList<Module<Tensor, Tensor>> Members => _members;

    /// <summary>The temperature at which the members' probabilities are averaged (1: their ordinary softmax).</summary>
    public double Temperature
    {
        get => _temperature;
        set => _temperature = value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "ensemble: the temperature must be positive");
    }

    /// <summary>
    /// Out-of-fold averaging (cross-fitted members): for each sample of a batch, a bit mask of the members that trained
    /// on it (bit i: member i). The output for a sample then averages only the members whose bit is clear, so a
    /// member's training sample gets the answers of members that never fitted it; a sample with no clear bit (or when
    /// this is null) gets every member's. At most 64 members.
    /// </summary>
    public Func<Tensor, ulong[]>? TrainedOn
    {
        get => _trainedOn;
        set => _trainedOn = value is null || _members.Count <= 64 ? value : throw new InvalidOperationException($"ensemble: out-of-fold averaging takes at most 64 members, this one has {_members.Count}");
    }

    private Func<Tensor, ulong[]>? _trainedOn;

    protected override Tensor ForwardCore(Tensor input)
    {
        var logProbabilities = new List<Tensor>(_members.Count);
        foreach (var member in _members)
        {
            var logits = member.Forward(input);
            if (logits.Shape.Rank != 2) throw new InvalidOperationException($"ensemble: a member gave {logits.Shape}; members must give class logits [batch, classes]");
            if (logProbabilities.Count > 0 && logits.Shape != logProbabilities[0].Shape)
                throw new InvalidOperationException($"ensemble: members gave {logProbabilities[0].Shape} and {logits.Shape}; they must score the same classes");
            logProbabilities.Add(logits.Div(_temperature).LogSoftmax(-1));
        }
        var stacked = Tensor.Stack(logProbabilities, 0);
        // log(mean p) = logsumexp(log p) − log N, without leaving log space: a class every member finds unlikely keeps its small value.
        if (_trainedOn is null) return stacked.LogSumExp(0).Sub(Math.Log(_members.Count)).Mul(_temperature);
        return stacked.Add(LogWeights(_trainedOn(input), stacked)).LogSumExp(0).Mul(_temperature);
    }

    // [members, batch, 1]: log(1 / m) for the m members that did not train on the sample, a log-weight far below any
    // log-probability (its exp is exactly 0) for those that did, so the logsumexp over members is log of the mean over
    // the m; a sample every member trained on weighs them all alike.
    private Tensor LogWeights(ulong[] trainedOn, Tensor stacked)
    {
        int n = _members.Count, batch = stacked.Shape[1];
        if (trainedOn.Length != batch) throw new InvalidOperationException($"ensemble: TrainedOn gave {trainedOn.Length} masks for a batch of {batch}");
        ulong all = n == 64 ? ulong.MaxValue : (1UL << n) - 1;
        var weights = new float[n * batch];
        for (int b = 0; b < batch; b++)
        {
            ulong excluded = trainedOn[b] & all;
            if (excluded == all) excluded = 0;
            float share = -MathF.Log(n - System.Numerics.BitOperations.PopCount(excluded));
            for (int i = 0; i < n; i++) weights[i * batch + b] = (excluded >> i & 1) != 0 ? -1e30f : share;
        }
        var tensor = Tensor.FromArray(weights, [n, batch, 1]);
        return tensor.DType == stacked.DType ? tensor : tensor.To(stacked.DType);
    }

    /// <summary>
    /// The same computation in ONNX: each member's LogSoftmax(z / T) stacked, ReduceLogSumExp − log N, × T. Out-of-fold
    /// averaging is not exported: the exported model scores new samples, which no member trained on, and for those the
    /// mean over every member is what it computes.
    /// </summary>
    public string ExportOnnx(OnnxExportContext onnx, string input)
    {
        var stacked = new List<string>(_members.Count);
        foreach (var member in _members)
        {
            var logits = onnx.Module(member, input);
            if (_temperature != 1) logits = onnx.Op("Div", [logits, onnx.Scalar("temperature", _temperature)]);
            stacked.Add(onnx.Unsqueeze(onnx.Op("LogSoftmax", [logits], OnnxExportContext.Int("axis", -1)), 0));
        }
        var lse = onnx.Op("ReduceLogSumExp", [onnx.Op("Concat", stacked, OnnxExportContext.Int("axis", 0))],
            OnnxExportContext.Ints("axes", 0), OnnxExportContext.Int("keepdims", 0));
        var mean = onnx.Op("Sub", [lse, onnx.Scalar("log_members", Math.Log(_members.Count))]);
        return _temperature == 1 ? mean : onnx.Op("Mul", [mean, onnx.Scalar("temperature", _temperature)]);
    }
}
