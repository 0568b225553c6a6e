using System.Text.Json.Nodes;
using Loom.Nn.Serialization;

namespace Loom.Models;

/// <summary>
/// Reads a Hugging Face GPT-2 <c>model.safetensors</c> (any size: 124M, medium, large, xl, or a fine-tuned one) into a
/// <see cref="Gpt"/>. The names are GPT-2's, optionally under "transformer."; the four Conv1D weights of each block
/// (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are stored [in, out] and are transposed into Loom's [out, in]
/// Linear layout; the attn.bias and attn.masked_bias entries are GPT-2's causal-mask buffers, not weights, and are
/// skipped. Sizes come from the tensors; the head count from a config.json beside the file (n_head), else width / 64
/// as in every released GPT-2.
/// </summary>
public static class Gpt2Checkpoint
{
    private static readonly string[] Conv1D = [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"];

    /// <summary>The model in <paramref name="path"/>, in eval mode; every problem is an <see cref="InvalidDataException"/> of one line naming the file and tensor.</summary>
    /// <param name="dropout">Dropout for fine-tuning (GPT-2 trained with 0.1); generation ignores it.</param>
    public static Gpt Load(string path, int? heads = null, double dropout = 0)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--weights {path}: no such file", path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in SafeTensors.Load(path).Tensors)
        {
            string key = name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
            if (key.EndsWith(".attn.bias", StringComparison.Ordinal) || key.EndsWith(".attn.masked_bias", StringComparison.Ordinal)) continue;
            tensors[key] = tensor;
        }
        var config = InferConfig(path, tensors, heads) with { Dropout = dropout };
        if (tensors.TryGetValue("lm_head.weight", out var head) && tensors["wte.weight"].Shape == head.Shape && Same(head, tensors["wte.weight"]))
            tensors.Remove("lm_head.weight"); // tied: the same matrix stored twice
        if (tensors.ContainsKey("lm_head.weight")) config = config with { TiedEmbeddings = false };

        var model = new Gpt(config);
        var own = model.StateDict();
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{path}: missing tensor {missing[0]}{More(missing)}; a GPT-2 checkpoint of {config.Layers} layers needs it");
        var extra = tensors.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{path}: unexpected tensor {extra[0]}{More(extra)}; not part of GPT-2 (names as in Hugging Face's GPT2Model)");
        using (new NoGrad())
        {
            foreach (var (key, target) in own)
            {
                var source = tensors[key];
                bool conv1D = Conv1D.Any(s => key.EndsWith(s, StringComparison.Ordinal));
                var expected = conv1D ? new Shape(target.Shape[1], target.Shape[0]) : target.Shape;
                if (source.Shape != expected)
                    throw new InvalidDataException($"{path}: tensor {key} is {source.Shape}, but a GPT-2 of width {config.Dim} and vocabulary {config.Vocab} needs {expected}{(conv1D ? " (Conv1D, stored [in, out])" : "")}");
                target.CopyFrom((conv1D ? source.Transpose(0, 1) : source).To(target.DType));
            }
        }
        model.Eval();
        return model;
    }

    /// <summary>
    /// Writes <paramref name="model"/> in Hugging Face GPT-2's layout (names without a prefix, Conv1D weights [in, out],
    /// no lm_head when tied), which <see cref="Load"/> and transformers' GPT2LMHeadModel read; rotary models have no
    /// GPT-2 equivalent.
    /// </summary>
    public static void Save(Gpt model, string path)
    {
        if (model.Config.Positions != GptPositions.Learned) throw new ArgumentException("GPT-2's format has learned positions only; this model is rotary");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (new NoGrad())
            foreach (var (key, tensor) in model.StateDict())
                tensors[key] = Conv1D.Any(s => key.EndsWith(s, StringComparison.Ordinal)) ? tensor.Transpose(0, 1).Contiguous() : tensor;
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static GptConfig InferConfig(string path, Dictionary<string, Tensor> tensors, int? heads)
    {
        Tensor Require(string name) => tensors.TryGetValue(name, out var t) && t.Rank == 2 ? t
            : throw new InvalidDataException($"{path}: {(tensors.ContainsKey(name) ? $"tensor {name} must be a matrix, got {tensors[name].Shape}" : $"missing tensor {name}")}; is this a GPT-2 checkpoint?");
        var wte = Require("wte.weight");
        var wpe = Require("wpe.weight");
        int vocab = wte.Shape[0], dim = wte.Shape[1], context = wpe.Shape[0];
        if (wpe.Shape[1] != dim) throw new InvalidDataException($"{path}: tensor wpe.weight is {wpe.Shape}, but wte.weight says width {dim}");
        int layers = 0;
        while (tensors.Keys.Any(k => k.StartsWith($"h.{layers}.", StringComparison.Ordinal))) layers++;
        if (layers == 0) throw new InvalidDataException($"{path}: no blocks (h.0.…); is this a GPT-2 checkpoint?");
        int h = heads ?? HeadsFromConfig(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "config.json")) ?? Math.Max(1, dim / 64);
        if (dim % h != 0) throw new InvalidDataException($"{path}: width {dim} is not divisible by {h} heads");
        return new GptConfig(vocab, dim, layers, h, context, Dropout: 0, GptPositions.Learned, TiedEmbeddings: true, GeluTanh: true);
    }

    private static int? HeadsFromConfig(string configPath)
    {
        if (!File.Exists(configPath)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(configPath))?["n_head"]?.GetValue<int>();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{configPath}: not a valid GPT-2 config.json ({e.Message})");
        }
    }

    private static bool Same(Tensor a, Tensor b) => a.To(DType.Float32).ToArray<float>().AsSpan().SequenceEqual(b.To(DType.Float32).ToArray<float>());

    private static string More(List<string> names) => names.Count > 1 ? $" (and {names.Count - 1} more: {string.Join(", ", names.Skip(1).Take(3))}{(names.Count > 4 ? ", …" : "")})" : "";
}
