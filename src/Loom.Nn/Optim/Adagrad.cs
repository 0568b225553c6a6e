namespace Loom.Nn;

/// <summary>Adagrad with learning-rate decay and an initial accumulator value, as <c>torch.optim.Adagrad</c>.</summary>
public sealed class Adagrad : Optimizer
{
    public Adagrad(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10)
        : this(OneGroup(parameters), learningRate, lrDecay, weightDecay, initialAccumulatorValue, eps) { }

    public Adagrad(IEnumerable<ParamGroup> groups, double learningRate = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(groups, learningRate, weightDecay)
    {
        if (!(lrDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(lrDecay), lrDecay, "lr decay must be ≥ 0");
        if (!(initialAccumulatorValue >= 0)) throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "initial accumulator value must be ≥ 0");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be ≥ 0");
        (LrDecay, InitialAccumulatorValue, Eps) = (lrDecay, initialAccumulatorValue, eps);
    }

    public double LrDecay { get; }
    public double InitialAccumulatorValue { get; }
    public double Eps { get; }

    protected override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var sum = state.Buffer("sum", parameter, InitialAccumulatorValue);
        Functional.AdagradUpdate(parameter, grad, sum, state.Step, group.LearningRate, LrDecay, Eps, group.WeightDecay);
    }
}
