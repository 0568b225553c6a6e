namespace Loom.Train;

/// <summary>A callback whose state (best value, patience counter…) is saved in checkpoints so a resumed run behaves the same.</summary>
public interface IStatefulCallback : ICallback
{
    /// <summary>Unique key of this callback in the checkpoint.</summary>
    string StateKey { get; }

    Dictionary<string, double> GetState();

    void SetState(IReadOnlyDictionary<string, double> state);
}
