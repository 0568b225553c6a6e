using System.Globalization;
using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// Base of the optimisers: owns parameter groups and per-parameter state (created lazily on the first step, as in
/// PyTorch), and runs <see cref="Update"/> for every parameter that has a gradient, with autograd off. Subclasses
/// validate their hyperparameters at construction and implement the update as a pure span kernel.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups;
    private readonly Dictionary<Parameter, ParameterState> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParamGroup> groups, double learningRate, double weightDecay)
    {
        HyperParameter.NonNegative(learningRate, nameof(learningRate), "learning rate");
        HyperParameter.NonNegative(weightDecay, nameof(weightDecay), "weight decay");
        _groups = groups.ToList();
        if (_groups.Count == 0) throw new ArgumentException("optimiser got an empty parameter list");
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups)
        {
            if (double.IsNaN(g.LearningRate)) g.LearningRate = learningRate;
            if (double.IsNaN(g.WeightDecay)) g.WeightDecay = weightDecay;
            HyperParameter.NonNegative(g.LearningRate, nameof(groups), "group learning rate");
            HyperParameter.NonNegative(g.WeightDecay, nameof(groups), "group weight decay");
            g.InitialLearningRate = g.LearningRate;
            foreach (var p in g.Parameters)
                if (!seen.Add(p)) throw new ArgumentException($"a parameter of shape {p.Shape} appears in more than one parameter group");
        }
    }

    protected static IEnumerable<ParamGroup> OneGroup(IEnumerable<Parameter> parameters) => [new ParamGroup(parameters)];

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The first group's learning rate; setting it sets every group's.</summary>
    public double LearningRate
    {
        get => _groups[0].LearningRate;
        set
        {
            foreach (var g in _groups) g.LearningRate = value;
        }
    }

    public IEnumerable<Parameter> Parameters => _groups.SelectMany(g => g.Parameters);

    /// <summary>
    /// Clears every parameter's gradient: sets it to null (PyTorch's default), or with <paramref name="setToNone"/>
    /// false zeroes it in place, so the next backward accumulates into the same arrays (no allocation per step); the
    /// zeros are deferred to that backward's first write (<see cref="Tensor.ZeroGrad"/>).
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = new NoGrad();
        foreach (var group in _groups)
        {
            _updates.Clear();
            foreach (var p in group.Parameters)
            {
                if (p.Grad is not { } grad) continue;
                if (grad.Shape != p.Shape) throw new InvalidOperationException($"gradient of shape {grad.Shape} does not match its parameter's shape {p.Shape}");
                if (!_state.TryGetValue(p, out var state)) _state[p] = state = new ParameterState();
                state.Step++;
                _updates.Add(new ParameterUpdate(p, grad.Contiguous(), state));
            }
            UpdateGroup(group, _updates);
        }
        _updates.Clear();
    }

    private readonly List<ParameterUpdate> _updates = [];

    /// <summary>A parameter to update, its (contiguous) gradient and its state, the step already counted.</summary>
    private protected readonly record struct ParameterUpdate(Parameter Parameter, Tensor Grad, ParameterState State);

    /// <summary>
    /// Updates a group's parameters that have a gradient, in order: one <see cref="Update"/> each, unless the
    /// optimiser updates them together (Adam: one pass over all of them, split over the threads).
    /// </summary>
    private protected virtual void UpdateGroup(ParamGroup group, IReadOnlyList<ParameterUpdate> updates)
    {
        foreach (var u in updates) Update(group, u.Parameter, u.Grad, u.State);
    }

    /// <summary>
    /// Updates one parameter in place from its (contiguous) gradient, with autograd off: write through
    /// <see cref="Tensor.AsSpan{T}"/> (which bumps the version autograd checks) and read through
    /// <see cref="Tensor.AsReadOnlySpan{T}"/>.
    /// </summary>
    protected abstract void Update(ParamGroup group, Parameter parameter, Tensor grad, ParameterState state);

    /// <summary>The state of a parameter (null before its first step).</summary>
    public ParameterState? StateOf(Parameter parameter) => _state.GetValueOrDefault(parameter);

    // ---------------------------------------------------------------- state dict

    /// <summary>
    /// The optimiser's state as tensors, named <c>state.{index}.{buffer}</c> and <c>state.{index}.step</c> by the
    /// parameter's position across groups, and <c>param_groups.{g}.lr</c> / <c>.weight_decay</c> / <c>.initial_lr</c>,
    /// so it saves to safetensors beside the model.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        int index = 0;
        foreach (var p in Parameters)
        {
            if (_state.TryGetValue(p, out var s))
            {
                dict[$"state.{index}.step"] = Tensor.Scalar(s.Step, DType.Int64);
                foreach (var (name, t) in s.Buffers) dict[$"state.{index}.{name}"] = t;
            }
            index++;
        }
        for (int g = 0; g < _groups.Count; g++)
        {
            dict[$"param_groups.{g}.lr"] = Tensor.Scalar(_groups[g].LearningRate, DType.Float64);
            dict[$"param_groups.{g}.weight_decay"] = Tensor.Scalar(_groups[g].WeightDecay, DType.Float64);
            dict[$"param_groups.{g}.initial_lr"] = Tensor.Scalar(_groups[g].InitialLearningRate, DType.Float64);
        }
        return dict;
    }

    /// <summary>Restores state saved by <see cref="StateDict"/> for the same parameters in the same order.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> dict)
    {
        var parameters = Parameters.ToList();
        var restored = new Dictionary<Parameter, ParameterState>(ReferenceEqualityComparer.Instance);
        foreach (var (key, value) in dict)
        {
            var parts = key.Split('.');
            if (parts.Length == 3 && parts[0] == "state" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int i))
            {
                if (i >= parameters.Count) throw new ArgumentException($"optimiser state has an entry for parameter {i}, but the optimiser has {parameters.Count} parameters");
                var p = parameters[i];
                if (!restored.TryGetValue(p, out var s)) restored[p] = s = new ParameterState();
                if (parts[2] == "step") s.Step = (long)value.Item();
                else
                {
                    if (value.Shape != p.Shape) throw new ArgumentException($"optimiser state {key} has shape {value.Shape}, but parameter {i} has shape {p.Shape}");
                    using (Memory.MemoryScope.Persistent()) s.Buffers[parts[2]] = value.To(p.DType).Detach().Clone();
                }
            }
            else if (parts.Length == 3 && parts[0] == "param_groups" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int g))
            {
                if (g >= _groups.Count) throw new ArgumentException($"optimiser state has parameter group {g}, but the optimiser has {_groups.Count}");
                switch (parts[2])
                {
                    case "lr": _groups[g].LearningRate = value.Item(); break;
                    case "weight_decay": _groups[g].WeightDecay = value.Item(); break;
                    case "initial_lr": _groups[g].InitialLearningRate = value.Item(); break;
                    default: throw new ArgumentException($"unknown optimiser state key '{key}'");
                }
            }
            else
            {
                throw new ArgumentException($"unknown optimiser state key '{key}'");
            }
        }
        _state.Clear();
        foreach (var (p, s) in restored) _state[p] = s;
    }
}
