using System.Reflection;
using System.Text;
using Loom.Autograd;
using Loom.Models;
using Loom.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Loom.Bench;

/// <summary>
/// Imported ONNX models in Loom beside ONNX Runtime on the same file, inputs and thread count: ResNet18 (ML.NET's
/// CNTK export) at batch 1, and the all-MiniLM-L6-v2 sentence encoder on real sentences at batch 1 and 32. Rounds
/// alternate Loom and ORT so that both see the same machine load; ratios are of the medians (below 1: Loom is
/// faster), and the largest output difference is reported with them.
/// </summary>
public sealed class OnnxBench : IBenchmark
{
    // Pang & Lee's sentence polarity set (Debian python3-pattern, /work/shared/DATA.md); a few of its sentences
    // stand in where the package is missing.
    private const string SentenceFile = "/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang&lee2.csv";

    private static readonly string[] FallbackSentences =
    [
        "the rock is destined to be the 21st century's new \" conan \" and that he's going to make a splash even greater than arnold schwarzenegger .",
        "simplistic , silly and tedious .",
        "it's so laddish and juvenile , only teenage boys could possibly find it funny .",
        "a gorgeous , witty , seductive movie .",
    ];

    public string Suite => "train";

    public string Name => "onnx";

    public void Run(BenchReport report, BenchOptions options)
    {
        if (options.Includes("resnet18 onnx batch 1")) ResNet18(report, options);
        if (options.Includes("minilm onnx")) MiniLmThroughput(report, options);
    }

    private void ResNet18(BenchReport report, BenchOptions options)
    {
        string path = typeof(OnnxBench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ResNet18Onnx").Value!;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing; restore bench/Loom.Bench (its PackageDownload fetches it)", path);
        var model = OnnxModule.Load(path);
        var x = Tensor.Rand(new Shape(1, 3, 224, 224), new Loom.Random.Generator(1)).Mul(255);
        string inputName = model.Inputs[0].Name;
        var ortInput = new[] { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(x.ToArray<float>(), [1, 3, 224, 224])) };
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            using var session = Session(File.ReadAllBytes(path), threads);
            float[] ortOutput = [];
            Tensor loomOutput = x;
            var (loomMs, ortMs, rounds) = Alternate(options,
                () =>
                {
                    using var _ = new NoGrad();
                    loomOutput = model.Forward(x);
                },
                () =>
                {
                    using var results = session.Run(ortInput);
                    ortOutput = results.First().AsEnumerable<float>().ToArray();
                });
            double diff = loomOutput.ToArray<float>().Zip(ortOutput, (a, b) => Math.Abs((double)a - b)).Max();
            report.Add(Name, $"resnet18 onnx batch 1 @{threads}t",
                ("threads", threads), ("loom_ms", loomMs), ("ort_ms", ortMs), ("loom_over_ort", loomMs / ortMs), ("max_abs_diff", diff), ("rounds", rounds));
        }
    }

    /// <summary>
    /// Sentences per second through the encoder graph (input ids, attention mask and token types in; hidden states
    /// out: the same work in both): 32 sentences one at a time, each at its own length, and the same 32 as one batch
    /// padded to the longest.
    /// </summary>
    private void MiniLmThroughput(BenchReport report, BenchOptions options)
    {
        var encoder = MiniLm.Load();
        var sentences = Sentences().Take(32).ToArray();
        var windows = sentences.Select(s => encoder.Windows(s)[0]).ToArray();
        var single = windows.Select(w => Inputs([w])).ToArray();
        var batch = Inputs(windows);
        byte[] file = MiniLm.ReadFiles().Model;
        string output = encoder.Encoder.Outputs[0].Name;
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            using var session = Session(file, threads);
            foreach (var (name, inputs) in new[] { ("batch 1", single), ("batch 32", [batch]) })
            {
                var hidden = new Tensor[inputs.Length];
                var (loomMs, ortMs, rounds) = Alternate(options,
                    () =>
                    {
                        using var _ = new NoGrad();
                        for (int i = 0; i < inputs.Length; i++) hidden[i] = encoder.Encoder.Run(inputs[i].Loom)[output];
                    },
                    () =>
                    {
                        foreach (var i in inputs) i.Ort(session);
                    },
                    calls: 3); // each call is 32 sentences: about a second
                double diff = inputs.Select((i, k) => MaxDiff(hidden[k], i.Ort(session))).Max();
                report.Add(Name, $"minilm onnx {name} @{threads}t",
                    ("threads", threads), ("sentences", sentences.Length), ("loom_sentences_per_s", sentences.Length / loomMs * 1e3),
                    ("ort_sentences_per_s", sentences.Length / ortMs * 1e3), ("loom_over_ort", loomMs / ortMs), ("max_abs_diff", diff), ("rounds", rounds));
            }
        }
    }

    private sealed record EncoderInputs(Dictionary<string, Tensor> Loom, NamedOnnxValue[] OrtValues)
    {
        public float[] Ort(InferenceSession session)
        {
            using var results = session.Run(OrtValues);
            return results.First().AsEnumerable<float>().ToArray();
        }
    }

    /// <summary>Ids padded with 0 to the longest window, mask 1 on the word pieces, token types 0.</summary>
    private static EncoderInputs Inputs(IReadOnlyList<int[]> windows)
    {
        int width = windows.Max(w => w.Length);
        var ids = new long[windows.Count * width];
        var mask = new long[ids.Length];
        for (int r = 0; r < windows.Count; r++)
            for (int j = 0; j < windows[r].Length; j++)
            {
                ids[r * width + j] = windows[r][j];
                mask[r * width + j] = 1;
            }
        var types = new long[ids.Length];
        var loom = new Dictionary<string, Tensor>
        {
            ["input_ids"] = Tensor.FromArray(ids, windows.Count, width),
            ["attention_mask"] = Tensor.FromArray(mask, windows.Count, width),
            ["token_type_ids"] = Tensor.FromArray(types, windows.Count, width),
        };
        var ort = loom.Select(p => NamedOnnxValue.CreateFromTensor(p.Key, new DenseTensor<long>(p.Value.ToArray<long>(), [windows.Count, width]))).ToArray();
        return new EncoderInputs(loom, ort);
    }

    private static double MaxDiff(Tensor loom, float[] ort) => loom.ToArray<float>().Zip(ort, (a, b) => Math.Abs((double)a - b)).Max();

    private static InferenceSession Session(byte[] model, int threads)
    {
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        return new InferenceSession(model, sessionOptions);
    }

    /// <summary>Warms both up, then alternates rounds of each; the medians over rounds of per-call medians, in ms.</summary>
    private static (double LoomMs, double OrtMs, int Rounds) Alternate(BenchOptions options, Action loom, Action ort, int calls = 10)
    {
        int rounds = options.Quick ? 3 : 7, perRound = options.Quick ? 3 : calls;
        for (int i = 0; i < 3; i++) { loom(); ort(); }
        var loomTimes = new List<double>();
        var ortTimes = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            loomTimes.Add(Timing.Round(loom, perRound).MedianSeconds);
            ortTimes.Add(Timing.Round(ort, perRound).MedianSeconds);
        }
        return (Median(loomTimes) * 1e3, Median(ortTimes) * 1e3, rounds);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static IEnumerable<string> Sentences()
    {
        if (!File.Exists(SentenceFile)) return Enumerable.Repeat(FallbackSentences, 8).SelectMany(s => s);
        // Records are "label","text" with "" for a quote inside the text; the text may end in a newline.
        var text = File.ReadAllText(SentenceFile).TrimStart('\uFEFF');
        var result = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, second = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { second = true; field.Clear(); }
            else if (c == '\n' && second)
            {
                result.Add(field.ToString().Trim());
                field.Clear();
                second = false;
            }
        }
        // Alternate the two halves (positive, then negative sentences) so that both are in the first 32.
        int half = result.Count / 2;
        return result.Take(half).Zip(result.Skip(half), (p, n) => new[] { p, n }).SelectMany(pair => pair);
    }
}
