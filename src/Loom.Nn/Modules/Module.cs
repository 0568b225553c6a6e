using System.Text;
using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// Base of every layer and model: owns named parameters, buffers (saved state that is not trained, such as
/// BatchNorm's running mean) and child modules, in registration order. State dicts use PyTorch's dotted names
/// (<c>encoder.layers.0.attn.q_proj.weight</c>) so checkpoints interchange with PyTorch.
/// </summary>
/// <remarks>
/// Components are registered explicitly (<see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/>,
/// <see cref="RegisterModule{T}"/>) in the constructor, which fixes their order and names without reflection.
/// Forward signatures live in <see cref="Module{TIn, TOut}"/>.
/// </remarks>
public abstract class Module
{
    private readonly List<(string Name, Parameter? Value)> _parameters = [];
    private readonly List<(string Name, Tensor? Value, bool Persistent)> _buffers = [];
    private readonly List<(string Name, Module Value)> _modules = [];
    private readonly List<(string Name, PackedWeight Value)> _packed = [];
    private readonly List<Func<Module, object, object?>> _preHooks = [];
    private readonly List<Action<Module, object, object>> _hooks = [];

    /// <summary>True in training mode (dropout active, batch norm uses batch statistics).</summary>
    public bool Training { get; private set; } = true;

    // ---------------------------------------------------------------- registration

    /// <summary>Registers a parameter under <paramref name="name"/> (null registers an absent optional parameter, e.g. no bias).</summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name);
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a buffer: state saved in the state dict (unless not persistent) but not trained.</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckName(name);
        _buffers.Add((name, buffer is null ? null : Persist(buffer), persistent));
        return buffer is null ? null : _buffers[^1].Value;
    }

    /// <summary>Registers a child module under <paramref name="name"/> and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        _modules.Add((name, module));
        return module;
    }

    /// <summary>
    /// Replaces the descendant at the dotted path <paramref name="target"/> (<c>"0"</c>, <c>"encoder.fc"</c>) with
    /// <paramref name="module"/>, as PyTorch's <c>set_submodule</c>: how compression swaps a layer for its quantised
    /// or pruned form. The parent must accept the swap (<see cref="OnChildReplacing"/>); nothing changes when it refuses.
    /// </summary>
    public void SetSubmodule(string target, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int dot = target.LastIndexOf('.');
        var parent = dot < 0 ? this : GetSubmodule(target[..dot]);
        string name = target[(dot + 1)..];
        int index = parent._modules.FindIndex(m => m.Name == name);
        if (index < 0) throw new ArgumentException($"{parent.GetType().Name} has no child module '{name}' (looking for '{target}')");
        parent.OnChildReplacing(name, parent._modules[index].Value, module);
        parent._modules[index] = (name, module);
    }

    /// <summary>The descendant at the dotted path <paramref name="target"/> ("" is this module).</summary>
    public Module GetSubmodule(string target)
    {
        var current = this;
        if (target.Length == 0) return current;
        foreach (var part in target.Split('.'))
        {
            var found = current._modules.Find(m => m.Name == part).Value;
            current = found ?? throw new ArgumentException($"{current.GetType().Name} has no child module '{part}' (looking for '{target}')");
        }
        return current;
    }

    /// <summary>
    /// Called before <see cref="SetSubmodule"/> swaps child <paramref name="name"/>. A module that keeps its children
    /// in typed fields would go on calling the old one, so the default refuses; modules that look their children up
    /// through the registration (such as <see cref="Sequential"/>) override this to update their own references.
    /// </summary>
    protected virtual void OnChildReplacing(string name, Module current, Module replacement) =>
        throw new NotSupportedException($"{GetType().Name} keeps its child '{name}' ({current.GetType().Name}) in a field and cannot swap it for {replacement.GetType().Name}");

    /// <summary>
    /// Replaces the parameter at the dotted path <paramref name="target"/> (<c>"fc.weight"</c>) with
    /// <paramref name="weight"/>, a packed inference form of it (Loom.Compress's int8): how dynamic quantisation
    /// converts a layer in place, so that a parent holding the layer in a typed field keeps working. The parameter
    /// leaves the module (nothing is left to train), <paramref name="weight"/>'s <see cref="PackedWeight.State"/>
    /// takes its place in the state dict (its name plus each suffix), and the layer multiplies through the packed
    /// weight. The owning layer must accept (<see cref="OnParameterPacking"/>); nothing changes when it refuses.
    /// </summary>
    public void PackParameter(string target, PackedWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int dot = target.LastIndexOf('.');
        var owner = dot < 0 ? this : GetSubmodule(target[..dot]);
        string name = target[(dot + 1)..];
        int index = owner._parameters.FindIndex(p => p.Name == name && p.Value is not null);
        if (index < 0) throw new ArgumentException($"{owner.GetType().Name} has no parameter '{name}' (looking for '{target}')");
        var current = owner._parameters[index].Value!;
        if (current.Shape != new Shape(weight.OutFeatures, weight.InFeatures))
            throw new ArgumentException($"{owner.GetType().Name}: parameter '{target}' is {current.Shape}, the packed weight [{weight.OutFeatures}, {weight.InFeatures}]");
        foreach (var (suffix, _) in weight.State)
        {
            string key = name + suffix;
            if ((suffix.Length > 0 && owner._parameters.Exists(p => p.Name == key)) || owner._buffers.Exists(b => b.Name == key) || owner._modules.Exists(m => m.Name == key))
                throw new ArgumentException($"{owner.GetType().Name}: packing '{target}' would store '{key}', which is already registered");
        }
        owner.OnParameterPacking(name, current, weight);
        owner._parameters.RemoveAt(index);
        foreach (var (suffix, tensor) in weight.State) owner._buffers.Add((name + suffix, tensor, true));
        owner._packed.Add((name, weight));
    }

    /// <summary>
    /// Called before <see cref="PackParameter"/> replaces parameter <paramref name="name"/>: a layer that can multiply
    /// through a <see cref="PackedWeight"/> switches its forward to it here. The default refuses (the layer would go on
    /// reading the float parameter).
    /// </summary>
    protected virtual void OnParameterPacking(string name, Parameter current, PackedWeight weight) =>
        throw new NotSupportedException($"{GetType().Name} reads its parameter '{name}' directly and cannot run it packed");

    /// <summary>Every packed weight (<see cref="PackParameter"/>) under the dotted name of the parameter it replaced.</summary>
    public IEnumerable<(string Name, PackedWeight Weight)> NamedPackedWeights()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, w) in m._packed)
                yield return (Join(prefix, name), w);
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: component name '{name}' must be non-empty and contain no '.'");
        if (_parameters.Exists(p => p.Name == name) || _buffers.Exists(b => b.Name == name) || _modules.Exists(m => m.Name == name))
            throw new ArgumentException($"{GetType().Name}: a component named '{name}' is already registered");
    }

    private static Tensor Persist(Tensor t)
    {
        using (Memory.MemoryScope.Persistent())
        using (new NoGrad())
            return t.Detach().Clone();
    }

    // ---------------------------------------------------------------- traversal

    /// <summary>Direct children with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _modules.Select(m => (m.Name, m.Value));

    public IEnumerable<Module> Children() => _modules.Select(m => m.Value);

    /// <summary>This module and every descendant, with dotted names ("" for this one); each module once.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk(this, "", seen);

        static IEnumerable<(string, Module)> Walk(Module m, string prefix, HashSet<Module> seen)
        {
            if (!seen.Add(m)) yield break;
            yield return (prefix, m);
            foreach (var (name, child) in m._modules)
                foreach (var item in Walk(child, prefix.Length == 0 ? name : prefix + "." + name, seen))
                    yield return item;
        }
    }

    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    /// <summary>Every parameter with its dotted name, each parameter once (a tied weight appears under its first name).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, p) in m._parameters)
                if (p is not null && seen.Add(p))
                    yield return (Join(prefix, name), p);
    }

    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Parameters registered directly on this module (not its children).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> OwnParameters() =>
        _parameters.Where(p => p.Value is not null).Select(p => (p.Name, p.Value!));

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, b, _) in m._buffers)
                if (b is not null) yield return (Join(prefix, name), b);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Number of parameter elements (each shared parameter counted once).</summary>
    public long ParameterCount(bool trainableOnly = false) =>
        Parameters().Where(p => !trainableOnly || p.RequiresGrad).Sum(p => (long)p.Numel);

    // ---------------------------------------------------------------- modes and gradients

    /// <summary>Sets training mode on this module and all descendants; returns this module.</summary>
    public Module Train(bool mode = true)
    {
        foreach (var m in Modules()) m.Training = mode;
        return this;
    }

    /// <summary>Evaluation mode: same as <c>Train(false)</c>.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears the gradients of all parameters: sets them to null (PyTorch's default) or zeroes them in place.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters()) p.ZeroGrad(setToNone);
    }

    /// <summary>Freezes (false) or unfreezes (true) every parameter of this subtree.</summary>
    public Module RequiresGrad_(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Calls <paramref name="fn"/> on every descendant, children first, then on this module (as PyTorch's apply).</summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var (_, child) in _modules) child.Apply(fn);
        fn(this);
        return this;
    }

    // ---------------------------------------------------------------- state dict

    /// <summary>Parameters and persistent buffers by dotted name, in registration order. The tensors are the live ones (not copies).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules())
        {
            foreach (var (name, p) in m._parameters)
                if (p is not null) dict[Join(prefix, name)] = p;
            foreach (var (name, b, persistent) in m._buffers)
                if (b is not null && persistent) dict[Join(prefix, name)] = b;
        }
        return dict;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and buffers (in place, so optimisers
    /// keep working). Strict mode throws a <see cref="StateDictMismatchException"/> listing every missing, unexpected
    /// and mis-shaped key; non-strict mode skips missing and unexpected keys (but never loads a mis-shaped tensor).
    /// Nothing is modified when it throws.
    /// </summary>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var misShaped = own.Where(kv => state.TryGetValue(kv.Key, out var t) && t.Shape != kv.Value.Shape)
            .Select(kv => $"{kv.Key} (checkpoint {state[kv.Key].Shape}, model {kv.Value.Shape})").ToList();
        if (misShaped.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var sb = new StringBuilder($"Error(s) in loading state dict for {GetType().Name}:");
            if (missing.Count > 0) sb.Append("\n  missing keys: ").Append(string.Join(", ", missing));
            if (unexpected.Count > 0) sb.Append("\n  unexpected keys: ").Append(string.Join(", ", unexpected));
            if (misShaped.Count > 0) sb.Append("\n  size mismatch: ").Append(string.Join(", ", misShaped));
            if (missing.Count > 0 || unexpected.Count > 0) sb.Append("\n  (pass strict: false to load the keys that match)");
            throw new StateDictMismatchException(sb.ToString(), missing, unexpected, misShaped);
        }
        using (new NoGrad())
        {
            foreach (var (key, target) in own)
                if (state.TryGetValue(key, out var source))
                    target.CopyFrom(source);
        }
        return new LoadStateDictResult(missing, unexpected);
    }

    // ---------------------------------------------------------------- hooks

    /// <summary>
    /// Registers a hook called after every forward with (module, input, output). Used to capture activations.
    /// </summary>
    public HookHandle RegisterForwardHook(Action<Module, object, object> hook)
    {
        _hooks.Add(hook);
        return new HookHandle(() => _hooks.Remove(hook));
    }

    /// <summary>Registers a hook called before every forward with (module, input); a non-null return replaces the input.</summary>
    public HookHandle RegisterForwardPreHook(Func<Module, object, object?> hook)
    {
        _preHooks.Add(hook);
        return new HookHandle(() => _preHooks.Remove(hook));
    }

    /// <summary>Whether forward hooks or pre-hooks are registered: a container may fuse this module with the next only when neither has any.</summary>
    internal bool HasHooks => _preHooks.Count > 0 || _hooks.Count > 0;

    private protected object RunPreHooks(object input)
    {
        if (_preHooks.Count == 0) return input;
        foreach (var hook in _preHooks.ToArray())
            input = hook(this, input) ?? input;
        return input;
    }

    private protected void RunHooks(object input, object output)
    {
        if (_hooks.Count == 0) return;
        foreach (var hook in _hooks.ToArray()) hook(this, input, output);
    }

    /// <summary>
    /// The hook protocol of a Forward overload that takes more than its one main input: the pre-hooks on
    /// <paramref name="input"/>, <paramref name="forward"/> on what they return, then the hooks with that input and the output.
    /// </summary>
    private protected Tensor RunWithHooks(Tensor input, Func<Tensor, Tensor> forward)
    {
        var actual = (Tensor)RunPreHooks(input);
        var output = forward(actual);
        RunHooks(actual, output);
        return output;
    }

    // ---------------------------------------------------------------- printing

    /// <summary>The arguments shown in this module's line of <see cref="ToString"/>, e.g. "in_features=784, out_features=10, bias=True".</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>A tree like PyTorch's, with each leaf's parameter shapes and the total parameter count at the top.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Render(sb, 0);
        sb.Append($"\nTotal parameters: {ParameterCount():N0} (trainable: {ParameterCount(trainableOnly: true):N0})");
        return sb.ToString();
    }

    private void Render(StringBuilder sb, int indent)
    {
        sb.Append(GetType().Name).Append('(').Append(ExtraRepr());
        if (_modules.Count == 0)
        {
            var shapes = _parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}: {p.Value!.Shape}").ToList();
            if (shapes.Count > 0) sb.Append(ExtraRepr().Length > 0 ? "; " : "").Append(string.Join(", ", shapes));
            sb.Append(')');
            return;
        }
        foreach (var (name, child) in _modules)
        {
            sb.Append('\n').Append(' ', indent + 2).Append('(').Append(name).Append("): ");
            child.Render(sb, indent + 2);
        }
        sb.Append('\n').Append(' ', indent).Append(')');
    }
}
