namespace Loom.Nn;

/// <summary>RMSprop with optional momentum and centring, as <c>torch.optim.RMSprop</c>.</summary>
public sealed class RmsProp(IEnumerable<ParamGroup> groups, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0,
    double momentum = 0, bool centered = false) : Optimizer(groups, learningRate, weightDecay)
{
    public RmsProp(IEnumerable<Parameter> parameters, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
        : this(OneGroup(parameters), learningRate, alpha, eps, weightDecay, momentum, centered) { }

    public double Alpha { get; } = HyperParameter.NonNegative(alpha, nameof(alpha), "alpha");
    public double Eps { get; } = HyperParameter.NonNegative(eps, nameof(eps), "eps");
    public double Momentum { get; } = HyperParameter.NonNegative(momentum, nameof(momentum), "momentum");
    public bool Centered { get; } = centered;

    protected override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        var sq = state.Buffer("square_avg", parameter);
        var ga = Centered ? state.Buffer("grad_avg", parameter) : null;
        var buf = Momentum > 0 ? state.Buffer("momentum_buffer", parameter) : null;
        Functional.RmsPropUpdate(parameter, grad, sq, ga, buf, group.LearningRate, Alpha, Eps, group.WeightDecay, Momentum);
    }
}
