using System.Reflection;
using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Loom.Bench;

/// <summary>
/// Imported ONNX models in Loom beside ONNX Runtime on the same file, input and thread count: ResNet18 (ML.NET's
/// CNTK export) at batch 1. Rounds alternate Loom and ORT so that both see the same machine load; the ratio is of
/// the medians (below 1: Loom is faster), and the largest output difference is reported with it.
/// </summary>
public sealed class OnnxBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "onnx";

    public void Run(BenchReport report, BenchOptions options)
    {
        if (!options.Includes("resnet18 onnx batch 1")) return;
        string path = typeof(OnnxBench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ResNet18Onnx").Value!;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing; restore bench/Loom.Bench (its PackageDownload fetches it)", path);
        var model = OnnxModule.Load(path);
        var x = Tensor.Rand(new Shape(1, 3, 224, 224), new Loom.Random.Generator(1)).Mul(255);
        string inputName = model.Inputs[0].Name;
        var ortInput = new[] { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(x.ToArray<float>(), [1, 3, 224, 224])) };
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            using var session = new InferenceSession(path, sessionOptions);
            float[] ortOutput = [];
            void Ort()
            {
                using var results = session.Run(ortInput);
                ortOutput = results.First().AsEnumerable<float>().ToArray();
            }
            Tensor loomOutput = x;
            void Loom()
            {
                using var _ = new NoGrad();
                loomOutput = model.Forward(x);
            }
            int rounds = options.Quick ? 3 : 7, perRound = options.Quick ? 3 : 10;
            for (int i = 0; i < 3; i++) { Loom(); Ort(); }
            var loomTimes = new List<double>();
            var ortTimes = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                loomTimes.Add(Timing.Round(Loom, perRound).MedianSeconds);
                ortTimes.Add(Timing.Round(Ort, perRound).MedianSeconds);
            }
            var loomValues = loomOutput.ToArray<float>();
            double diff = loomValues.Zip(ortOutput, (a, b) => Math.Abs((double)a - b)).Max();
            double loomMs = Median(loomTimes) * 1e3, ortMs = Median(ortTimes) * 1e3;
            report.Add(Name, $"resnet18 onnx batch 1 @{threads}t",
                ("threads", threads), ("loom_ms", loomMs), ("ort_ms", ortMs), ("loom_over_ort", loomMs / ortMs), ("max_abs_diff", diff), ("rounds", rounds));
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
