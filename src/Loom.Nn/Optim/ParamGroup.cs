namespace Loom.Nn;

/// <summary>
/// A set of parameters that share a learning rate and weight decay (e.g. no decay on biases and norms).
/// Values left null take the optimiser's defaults.
/// </summary>
public sealed class ParamGroup
{
    public ParamGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
    {
        Parameters = parameters.ToList();
        if (Parameters.Count == 0) throw new ArgumentException("a parameter group needs at least one parameter");
        LearningRate = learningRate ?? double.NaN;
        WeightDecay = weightDecay ?? double.NaN;
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The current learning rate (schedulers change it).</summary>
    public double LearningRate { get; set; }

    public double WeightDecay { get; set; }

    /// <summary>The learning rate the group started with; schedulers compute from it.</summary>
    public double InitialLearningRate { get; internal set; }
}
