using Loom.Random;
using Loom.Train;

namespace Loom.Compress;

/// <summary>
/// The FitNets hint loss (Romero et al. 2015): the student's features, mapped to the teacher's feature width by a linear
/// regressor trained with the student, match the teacher's features in mean squared error. The logits say what the
/// teacher concludes; its features say how it represents the input, which a student of another architecture (an MLP
/// taught by a CNN) cannot get from the logits alone. The regressor is not part of the student: train its
/// <see cref="Module.Parameters"/> with the student's optimiser and leave it out of the saved model. Given to the trainer
/// as a callback, its weights go into checkpoints (they are in no model's state dict), so a resumed run continues with
/// the regressor it had instead of a fresh one.
/// </summary>
public sealed class FeatureHint : Module, IStatefulCallback
{
    public FeatureHint(int studentFeatures, int teacherFeatures, Generator? generator = null, DType dtype = DType.Float32)
    {
        if (studentFeatures <= 0 || teacherFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(studentFeatures), $"hint: feature widths must be positive, got {studentFeatures} → {teacherFeatures}");
        Regressor = RegisterModule("regressor", new Linear(studentFeatures, teacherFeatures, dtype: dtype, generator: generator));
    }

    /// <summary>The student-to-teacher map, Linear(student features, teacher features).</summary>
    public Linear Regressor { get; }

    /// <summary>mean((regressor(student) − teacher)²) over samples and features; the teacher's features carry no gradient.</summary>
    /// <param name="student">Student features [N, ...], flattened to [N, student features].</param>
    /// <param name="teacher">Teacher features [N, ...], flattened to [N, teacher features].</param>
    public Tensor Loss(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (student.Rank == 0 || teacher.Rank == 0 || student.Shape[0] != teacher.Shape[0])
            throw new ArgumentException($"hint: student features {student.Shape} and teacher features {teacher.Shape} need the same batch");
        var s = student.Flatten(1);
        var t = teacher.Detach().Flatten(1);
        if (s.Shape[1] != Regressor.InFeatures || t.Shape[1] != Regressor.OutFeatures)
            throw new ArgumentException($"hint: the regressor maps {Regressor.InFeatures} student features to {Regressor.OutFeatures} teacher features, got {s.Shape[1]} and {t.Shape[1]}");
        return Functional.MseLoss(Regressor.Forward(s), t.To(s.DType));
    }

    public string StateKey => "hint_regressor";

    // Checkpoint states are doubles, which hold every float32 weight exactly: one entry per weight, "name[i]".
    public Dictionary<string, double> GetState()
    {
        var state = new Dictionary<string, double>();
        foreach (var (name, tensor) in StateDict())
        {
            var values = tensor.ToArray<double>();
            for (int i = 0; i < values.Length; i++) state[$"{name}[{i}]"] = values[i];
        }
        return state;
    }

    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        var restored = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in StateDict())
        {
            var values = new double[tensor.Shape.Numel];
            for (int i = 0; i < values.Length; i++)
                values[i] = state.TryGetValue($"{name}[{i}]", out var v) ? v
                    : throw new InvalidDataException($"hint: the checkpoint's regressor lacks {name}[{i}]; it was written for a regressor of another size");
            restored[name] = Tensor.FromArray(values, tensor.Shape.ToArray()).To(tensor.DType);
        }
        LoadStateDict(restored);
    }

    /// <summary>
    /// The features a classifier's last <see cref="Linear"/> layer reads (the penultimate representation), captured at
    /// every forward of <paramref name="model"/>. Null for a model with no Linear layer.
    /// </summary>
    public static FeatureTap? TapPenultimate(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var last = model.Modules().OfType<Linear>().LastOrDefault();
        return last is null ? null : new FeatureTap(last);
    }
}

/// <summary>The input of one <see cref="Linear"/> layer at its latest forward (<see cref="FeatureHint.TapPenultimate"/>).</summary>
public sealed class FeatureTap : IDisposable
{
    private readonly HookHandle _hook;

    internal FeatureTap(Linear layer)
    {
        Width = layer.InFeatures;
        _hook = layer.RegisterForwardPreHook((_, x) =>
        {
            Features = (Tensor)x;
            return null;
        });
    }

    /// <summary>Features per sample.</summary>
    public int Width { get; }

    /// <summary>The layer's input at its latest forward, with its graph (null before the first).</summary>
    public Tensor? Features { get; private set; }

    public void Dispose() => _hook.Remove();
}
