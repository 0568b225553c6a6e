namespace Loom.Nn;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and (coupled) weight decay, as <c>torch.optim.SGD</c>.</summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : this(OneGroup(parameters), learningRate, momentum, dampening, weightDecay, nesterov) { }

    public Sgd(IEnumerable<ParamGroup> groups, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(groups, learningRate, weightDecay)
    {
        Momentum = HyperParameter.NonNegative(momentum, nameof(momentum), "momentum");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening");
        Dampening = dampening;
        Nesterov = nesterov;
    }

    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }

    protected override void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state)
    {
        bool first = !state.Buffers.ContainsKey("momentum_buffer");
        var buf = Momentum != 0 ? state.Buffer("momentum_buffer", parameter) : null;
        Functional.SgdUpdate(parameter, grad, buf, group.LearningRate, group.WeightDecay, Momentum, Dampening, Nesterov, first);
    }
}
