using System.Text.Json;
using Loom.Nn.Serialization;
using Loom.Random;

namespace Loom.Train;

// A checkpoint is one safetensors file: the model's state dict under "model.", the optimiser's under "optimizer.",
// gradients still waiting for an accumulated optimiser step under "grad." (only when a run stops between the batches
// of one step: without them the resumed step would miss those batches), and the rest of the trainer's state (counters, scheduler, RNG, data-loader position, history, callback states) as
// JSON in the metadata entry "loom.trainer". It is written atomically, so a run killed while saving keeps the
// previous checkpoint.
public sealed partial class Trainer
{
    private const string MetadataKey = "loom.trainer";
    private const string GradPrefix = "grad.";
    private DataLoaderState _lastLoaderState;

    /// <summary>Writes the full training state to <paramref name="path"/> (atomically).</summary>
    public void SaveCheckpoint(string path, DataLoaderState loaderState)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in Model.StateDict()) tensors["model." + k] = v;
        foreach (var (k, v) in Optimizer.StateDict()) tensors["optimizer." + k] = v;
        if (_accumulated > 0)
            foreach (var (k, p) in Model.NamedParameters())
                if (p.Grad is { } g) tensors[GradPrefix + k] = g;
        var rng = Generator.Default.GetState();
        var state = new JsonObject
        {
            ["epoch"] = Epoch,
            ["batch_in_epoch"] = BatchInEpoch,
            ["global_step"] = GlobalStep,
            ["accumulated"] = _accumulated,
            ["epoch_loss_sum"] = _epochLossSum,
            ["epoch_samples"] = _epochSamples,
            ["loader"] = new JsonObject { ["seed"] = loaderState.Seed.ToString(), ["epoch"] = loaderState.Epoch, ["batch"] = loaderState.Batch },
            ["rng"] = new JsonObject
            {
                ["s0"] = rng.S0.ToString(), ["s1"] = rng.S1.ToString(), ["s2"] = rng.S2.ToString(), ["s3"] = rng.S3.ToString(),
                ["has_spare"] = rng.HasSpareNormal, ["spare"] = rng.SpareNormal,
            },
            ["scheduler"] = Scheduler is null ? null : ToJson(Scheduler.StateDict()),
            ["history"] = new JsonArray(_history.Select(h => (JsonNode)new JsonObject
            {
                ["epoch"] = h.Epoch,
                ["global_step"] = h.GlobalStep,
                ["seconds"] = h.Duration.TotalSeconds,
                ["values"] = ToJson(h.Values),
            }).ToArray()),
            ["callbacks"] = new JsonObject(Callbacks.OfType<IStatefulCallback>().Select(c => KeyValuePair.Create(c.StateKey, (JsonNode?)ToJson(c.GetState())))),
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { [MetadataKey] = state.ToJsonString() });
    }

    /// <summary>Writes a checkpoint with the data-loader position the trainer last saw (for callbacks).</summary>
    public void SaveCheckpoint(string path) => SaveCheckpoint(path, _lastLoaderState);

    /// <summary>
    /// Restores a checkpoint written by <see cref="SaveCheckpoint(string, DataLoaderState)"/>. The next
    /// <see cref="Fit{T}"/> continues where the saved run stopped, on the same batches.
    /// </summary>
    public void LoadCheckpoint(string path)
    {
        var file = SafeTensors.Load(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out var json))
            throw new InvalidDataException($"{path} is a safetensors file but not a Loom training checkpoint (no '{MetadataKey}' metadata); load model weights with Module.LoadStateDict instead");
        JsonNode state;
        try
        {
            state = JsonNode.Parse(json) ?? throw new InvalidDataException("empty trainer state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the trainer state in the checkpoint is not valid JSON ({e.Message})");
        }
        var model = file.Tensors.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value);
        var optimizer = file.Tensors.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["optimizer.".Length..], kv => kv.Value);
        try
        {
            Model.LoadStateDict(model);
            Optimizer.LoadStateDict(optimizer);
            foreach (var (k, p) in Model.NamedParameters())
            {
                if (!file.Tensors.TryGetValue(GradPrefix + k, out var grad)) continue;
                if (grad.Shape != p.Shape) throw new InvalidDataException($"{path}: the saved gradient of {k} has shape {grad.Shape}, but the parameter has shape {p.Shape}");
                using (Memory.MemoryScope.Persistent()) p.Grad = grad.To(p.DType).Clone();
            }
            Epoch = (int)state["epoch"]!;
            BatchInEpoch = (int)state["batch_in_epoch"]!;
            GlobalStep = (long)state["global_step"]!;
            _accumulated = (int)state["accumulated"]!;
            _epochLossSum = (double)state["epoch_loss_sum"]!;
            _epochSamples = (long)state["epoch_samples"]!;
            var loader = state["loader"]!;
            _pendingLoaderState = new DataLoaderState(ulong.Parse((string)loader["seed"]!), (int)loader["epoch"]!, (int)loader["batch"]!);
            var rng = state["rng"]!;
            Generator.Default.SetState(new GeneratorState(ulong.Parse((string)rng["s0"]!), ulong.Parse((string)rng["s1"]!), ulong.Parse((string)rng["s2"]!),
                ulong.Parse((string)rng["s3"]!), (bool)rng["has_spare"]!, (double)rng["spare"]!));
            if (Scheduler is not null && state["scheduler"] is JsonObject s) Scheduler.LoadStateDict(FromJson(s));
            _history.Clear();
            foreach (var h in state["history"]!.AsArray())
                _history.Add(new EpochSummary((int)h!["epoch"]!, (long)h["global_step"]!, FromJson(h["values"]!.AsObject()), TimeSpan.FromSeconds((double)h["seconds"]!)));
            if (state["callbacks"] is JsonObject callbacks)
                foreach (var c in Callbacks.OfType<IStatefulCallback>())
                    if (callbacks[c.StateKey] is JsonObject cs) c.SetState(FromJson(cs));
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or OverflowException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: the trainer state in the checkpoint is incomplete or malformed ({e.Message})");
        }
    }

    /// <summary>Called by the loop so that callbacks can save checkpoints without holding the loader.</summary>
    internal void NoteLoaderState(DataLoaderState state) => _lastLoaderState = state;

    private static JsonObject ToJson(IReadOnlyDictionary<string, double> values) =>
        new(values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)(double.IsFinite(kv.Value) ? JsonValue.Create(kv.Value) : JsonValue.Create(kv.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture))))));

    private static Dictionary<string, double> FromJson(JsonObject o) =>
        o.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue v && v.TryGetValue(out string? s)
            ? double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)
            : (double)kv.Value!);
}
