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
        // log(mean p) = logsumexp(log p) − log N, without leaving log space: a class every member finds unlikely keeps its small value.
        return Tensor.Stack(logProbabilities, 0).LogSumExp(0).Sub(Math.Log(_members.Count)).Mul(_temperature);
    }

    /// <summary>The same computation in ONNX: each member's LogSoftmax(z / T) stacked, ReduceLogSumExp − log N, × T.</summary>
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
