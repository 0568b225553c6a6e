namespace Loom.Nn;

/// <summary>Adagrad with learning-rate decay and an initial accumulator value, as <c>torch.optim.Adagrad</c>.</summary>
public sealed class Adagrad(IEnumerable<ParamGroup> groups, double learningRate = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0,
    double eps = 1e-10) : Optimizer(groups, learningRate, weightDecay)
{
    public Adagrad(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10)
        : this(OneGroup(parameters), learningRate, lrDecay, weightDecay, initialAccumulatorValue, eps) { }

    public double LrDecay { get; } = HyperParameter.NonNegative(lrDecay, nameof(lrDecay), "lr decay");
    public double InitialAccumulatorValue { get; } = HyperParameter.NonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue), "initial accumulator value");
    public double Eps { get; } = HyperParameter.NonNegative(eps, nameof(eps), "eps");

    protected override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var sum = state.Buffer("sum", parameter, InitialAccumulatorValue);
        Functional.AdagradUpdate(parameter, grad, sum, state.Step, group.LearningRate, LrDecay, Eps, group.WeightDecay);
    }
}
