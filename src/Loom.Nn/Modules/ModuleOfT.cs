namespace Loom.Nn;

/// <summary>
/// A module with a typed forward. Call <see cref="Forward"/>; subclasses implement <see cref="ForwardCore"/>.
/// Forward runs the pre-hooks, the computation and the hooks, so activation capture works on any module.
/// </summary>
public abstract class Module<TIn, TOut> : Module where TIn : notnull where TOut : notnull
{
    public TOut Forward(TIn input)
    {
        var actualInput = (TIn)RunPreHooks(input);
        var output = ForwardCore(actualInput);
        RunHooks(actualInput, output);
        return output;
    }

    /// <summary>The computation itself, without hooks.</summary>
    protected abstract TOut ForwardCore(TIn input);

    /// <summary>Registers a typed forward hook.</summary>
    public HookHandle RegisterForwardHook(Action<Module, TIn, TOut> hook) =>
        base.RegisterForwardHook((Module m, object i, object o) => hook(m, (TIn)i, (TOut)o));
}
