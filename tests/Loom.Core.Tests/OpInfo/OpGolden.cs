using System.Collections.Concurrent;
using System.Text.Json;

namespace Loom.Tests.OpInfo;

/// <summary>One sample of an op's golden file.</summary>
/// <remarks><see cref="Differentiable"/> lists the outputs that carry gradients in PyTorch (not, say, the running
/// statistics that batch_norm updates).</remarks>
internal sealed record GoldenSample(string Name, SampleArgs Args, Tensor[] Inputs, Tensor[] Outputs, Tensor?[] Probes, Tensor?[] Grads,
    int[] Differentiable, bool Exact, bool Sweep)
{
    /// <summary>Whether every float input is finite (GradCheck's finite differences need that).</summary>
    public bool Finite => Inputs.All(x => !x.DType.IsFloatingPoint() || !x.HasNonFinite());

    public bool HasGrads => Grads.Any(g => g is not null);
}

/// <summary>The golden file of one op (tests/golden/ops/&lt;op&gt;.safetensors), loaded once.</summary>
internal sealed class OpGolden
{
    private static readonly ConcurrentDictionary<string, Lazy<OpGolden>> Cache = new();

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "golden", "ops");

    public static bool Exists(string op) => File.Exists(Path.Combine(Folder, op + ".safetensors"));

    public static OpGolden Load(string op) =>
        Cache.GetOrAdd(op, name => new Lazy<OpGolden>(() => new OpGolden(name))).Value;

    private OpGolden(string op)
    {
        var file = GoldenTensors.Load(Path.Combine(Folder, op + ".safetensors"));
        using var meta = JsonDocument.Parse(file.Metadata["samples"]);
        var samples = new List<GoldenSample>();
        foreach (var s in meta.RootElement.EnumerateArray())
        {
            string name = s.GetProperty("name").GetString()!;
            var inputs = Indexed(file, name, "in");
            var outputs = Indexed(file, name, "out");
            var probes = outputs.Select((_, j) => file.Tensors.GetValueOrDefault($"{name}.probe.{j}")).ToArray();
            var grads = inputs.Select((_, i) => file.Tensors.GetValueOrDefault($"{name}.grad.{i}")).ToArray();
            bool sweep = s.TryGetProperty("sweep", out var sw) && sw.GetBoolean();
            int[] differentiable = s.TryGetProperty("differentiable", out var d) ? [.. d.EnumerateArray().Select(e => e.GetInt32())] : [];
            samples.Add(new GoldenSample(name, new SampleArgs(s.GetProperty("args").Clone()), inputs, outputs, probes, grads, differentiable,
                s.GetProperty("exact").GetBoolean(), sweep));
        }
        Samples = samples;
    }

    public IReadOnlyList<GoldenSample> Samples { get; }

    public GoldenSample Sample(string name) =>
        Samples.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"no sample '{name}'");

    private static Tensor[] Indexed(GoldenTensors file, string sample, string part)
    {
        var list = new List<Tensor>();
        while (file.Tensors.TryGetValue($"{sample}.{part}.{list.Count}", out var t)) list.Add(t);
        return [.. list];
    }
}
