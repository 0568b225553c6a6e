using System.Runtime.InteropServices;
using Loom;
using Loom.Autograd;
using Loom.Data;
using Loom.Models;
using Loom.Nn;
using Loom.Onnx;
using Loom.Train;

// Open-set verification probes on the held-out validation images of `--task face-verification` (the held-out classes'
// training-split images; no test pair is scored here):
//   frozen DATA SIZE VALUE [--head]   ImageNet ResNet18 (ML.NET's NuGet export) cut at VALUE, input resized to SIZE,
//                                     features average-pooled; EER raw and centred on the training mean; with --head,
//                                     CosFace heads trained on the frozen features of the 7 training classes
//   prelinear RUN DATA                a trained face-verification run: its embedding against the trunk's pooled
//                                     features before the last Linear layer
//   fuse RUN DATA SIZE VALUE          the run's cosine and the frozen features' (centred) averaged with weights 0…1
//   names                             the ResNet18 graph's nodes, to pick VALUE
const int Pairs = 6000, ValidationImages = 3000, TrainingImages = 6000, HeldOut = 3;
string resNet18 = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
    "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

switch (args[0])
{
    case "names":
        foreach (var n in Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(resNet18)).Graph.Node)
            Console.WriteLine($"{n.Name} {n.OpType} {string.Join(",", n.Input)} -> {string.Join(",", n.Output)}");
        break;
    case "frozen":
    {
        var p = Split(args[1]);
        var (val, train, d) = Frozen(p, int.Parse(args[2]), args[3]);
        Console.WriteLine($"frozen {args[3]} at {args[2]}×{args[2]}, {d} features:");
        Report("raw", val, d, p.ValLabels);
        var centred = Centred(val, train, d);
        Report("centred", centred, d, p.ValLabels);
        // AS-norm as the task scores it: a cohort of training images spread evenly, centred the same way.
        var cohort = Centred(Rows(train, d, FaceVerificationEvaluation.CohortSize), train, d);
        foreach (int top in new[] { 10, 200 })
            Report($"centred, AS-norm K {top}", centred, d, p.ValLabels, new CohortNormalization(cohort, d, top));
        if (args.Contains("--head")) TrainHeads(p, val, train, d);
        break;
    }
    case "prelinear":
    {
        var p = Split(args[2]);
        var model = LoadRun(args[1]);
        var (emb, pre, d) = RunFeatures(model, p.Data.Train.Gather(p.ValRows).Inputs);
        var (_, preTrain, _) = RunFeatures(model, p.Data.Train.Gather(p.TrainRows).Inputs);
        Report("embedding", emb, model.Dimension, p.ValLabels);
        Report("before the last Linear, raw", pre, d, p.ValLabels);
        Report("before the last Linear, centred", Centred(pre, preTrain, d), d, p.ValLabels);
        break;
    }
    case "fuse":
    {
        var p = Split(args[2]);
        var model = LoadRun(args[1]);
        var (emb, _, _) = RunFeatures(model, p.Data.Train.Gather(p.ValRows).Inputs);
        var (val, train, d) = Frozen(p, int.Parse(args[3]), args[4]);
        var (a, b) = (new PairScores(emb, model.Dimension), new PairScores(Centred(val, train, d), d));
        var (first, second, same) = FaceVerificationEvaluation.PairIndices(p.ValLabels, Pairs);
        foreach (double w in new[] { 0, 0.25, 0.5, 0.75, 1 })
        {
            var roc = Verification.Roc([.. first.Select((i, k) => w * a[i, second[k]] + (1 - w) * b[i, second[k]])], same);
            Console.WriteLine($"weight {w} on the run's cosine: EER {Verification.EqualErrorRate(roc).Rate:F3}");
        }
        break;
    }
    case "dump":
    {
        // The run's embeddings of the validation images, the held-out test images and the training cohort, as .npy for a quick look elsewhere.
        var p = Split(args[2]);
        var model = LoadRun(args[1]);
        var split = p.Data;
        long[] testTargets = split.Test.Targets.ToArray<long>();
        int[] testRows = [.. Enumerable.Range(0, testTargets.Length).Where(i => testTargets[i] >= p.Trained)];
        void Write(string name, float[] values, int d) => NpyWriter.Write(name, Tensor.FromArray(values, values.Length / d, d));
        int dim = model.Dimension;
        Write("val.npy", FaceVerificationEvaluation.Embed(model, split.Train.Gather(p.ValRows).Inputs), dim);
        Write("val_labels.npy", [.. p.ValLabels.Select(l => (float)l)], 1);
        Write("test.npy", FaceVerificationEvaluation.Embed(model, split.Test.Gather(testRows).Inputs), dim);
        Write("test_labels.npy", [.. testRows.Select(i => (float)(testTargets[i] - p.Trained))], 1);
        Write("train.npy", FaceVerificationEvaluation.Embed(model, split.Train.Gather(p.TrainRows).Inputs), dim);
        Write("train_labels.npy", [.. p.TrainLabels.Select(l => (float)l)], 1);
        break;
    }
    default:
        Console.Error.WriteLine("usage: frozen DATA SIZE VALUE [--head] | prelinear RUN DATA | fuse RUN DATA SIZE VALUE | names");
        return 2;
}
return 0;

// The task's split: classes 0..k−1 train, the last three are held out; validation is the held-out classes' training
// split, spread evenly as FaceVerificationEvaluation spreads it.
Probe Split(string data)
{
    var split = BuiltinDatasets.Load(data);
    int trained = split.Info.ClassNames.Count - HeldOut;
    long[] targets = split.Train.Targets.ToArray<long>();
    int[] Spread(int[] rows, int n) => rows.Length <= n ? rows : [.. Enumerable.Range(0, n).Select(k => rows[(int)((long)k * rows.Length / n)])];
    int[] valRows = Spread([.. Enumerable.Range(0, targets.Length).Where(i => targets[i] >= trained)], ValidationImages);
    int[] trainRows = Spread([.. Enumerable.Range(0, targets.Length).Where(i => targets[i] < trained)], TrainingImages);
    return new Probe(data, split, trained, valRows, trainRows, [.. valRows.Select(i => (int)targets[i] - trained)], [.. trainRows.Select(i => targets[i])]);
}

// Pooled features of the validation and training images; cached in the working folder by data, size and value.
(float[] Val, float[] Train, int Dim) Frozen(Probe p, int size, string value)
{
    var network = OnnxModule.Load(resNet18, [value]);
    network.Eval();
    float[] Features(int[] rows, string tag)
    {
        string cache = $"features-{p.Name}-{size}-{value}-{tag}-{rows.Length}.bin";
        if (File.Exists(cache)) return MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(cache)).ToArray();
        var x = p.Data.Train.Gather(rows).Inputs;
        var result = new List<float>();
        using var noGrad = new NoGrad();
        for (int start = 0; start < rows.Length; start += 64)
        {
            int count = Math.Min(64, rows.Length - start);
            var batch = x.Narrow(0, start, count);
            if (batch.Rank == 3) batch = batch.Unsqueeze(1);
            // Grey → 3 channels, resized, 0–255 minus the channel means of ML.NET's ResNet18 preprocessing.
            batch = Functional.Interpolate(batch.Expand(count, 3, batch.Shape[2], batch.Shape[3]), [size, size], mode: InterpolateMode.Bilinear)
                .Mul(255).Sub(Tensor.FromArray(new double[] { 103.1, 115.9, 123.2 }, 1, 3, 1, 1).To(DType.Float32));
            result.AddRange(network.Forward(batch).Mean([2, 3]).Contiguous().ToArray<float>());
        }
        var features = result.ToArray();
        File.WriteAllBytes(cache, MemoryMarshal.AsBytes(features.AsSpan()).ToArray());
        return features;
    }
    var val = Features(p.ValRows, "val");
    return (val, Features(p.TrainRows, "train"), val.Length / p.ValRows.Length);
}

static float[] Centred(float[] rows, float[] reference, int d)
{
    var mean = new double[d];
    int n = reference.Length / d;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += reference[i * d + j] / n;
    var result = (float[])rows.Clone();
    for (int i = 0; i < result.Length; i++) result[i] -= (float)mean[i % d];
    return result;
}

static float[] Rows(float[] rows, int d, int count)
{
    int n = rows.Length / d;
    if (n <= count) return rows;
    var result = new float[count * d];
    for (int k = 0; k < count; k++) Array.Copy(rows, (int)((long)k * n / count) * d, result, k * d, d);
    return result;
}

static void Report(string what, float[] embeddings, int d, int[] labels, CohortNormalization? norm = null)
{
    var scores = new PairScores(embeddings, d, norm);
    var (first, second, same) = FaceVerificationEvaluation.PairIndices(labels, Pairs);
    var roc = Verification.Roc([.. first.Select((i, k) => scores[i, second[k]])], same);
    Console.WriteLine($"  {what}: validation EER {Verification.EqualErrorRate(roc).Rate:F3}, TAR at FAR 1e-2 {Verification.TrueAcceptRateAt(roc, 1e-2).Rate:F3}, top-1 {Verification.NearestNeighbourAccuracy(scores, labels):F3}");
}

// CosFace (s 16) heads on the frozen features, as the task trains its embedding: input batch norm, [Linear–BN–ReLU],
// Linear to the embedding, batch norm, L2 normalisation; AdamW 3e-3, batch 128, 30 epochs.
static void TrainHeads(Probe p, float[] val, float[] train, int d)
{
    foreach (var (hidden, dimension, margin) in new[] { (0, 64, 0.35), (256, 64, 0.35), (256, 128, 0.2) })
    {
        Loom.Random.Generator.Default.Seed(1);
        var layers = hidden == 0
            ? new Sequential(new BatchNorm1d(d), new Linear(d, dimension), new BatchNorm1d(dimension))
            : new Sequential(new BatchNorm1d(d), new Linear(d, hidden), new BatchNorm1d(hidden), new ReLU(), new Linear(hidden, dimension), new BatchNorm1d(dimension));
        var head = new CosineClassifier(dimension, p.Trained);
        var optimizer = new AdamW(layers.Parameters().Concat(head.Parameters()), 3e-3, weightDecay: 5e-4);
        var (x, y) = (Tensor.FromArray(train, p.TrainLabels.Length, d), Tensor.FromArray(p.TrainLabels, p.TrainLabels.Length));
        var order = new Loom.Random.Generator(5);
        for (int epoch = 1; epoch <= 30; epoch++)
        {
            layers.Train();
            var perm = Enumerable.Range(0, p.TrainLabels.Length).OrderBy(_ => order.NextInt(0, int.MaxValue)).ToArray();
            for (int start = 0; start + 128 <= perm.Length; start += 128)
            {
                var rows = Tensor.FromArray(perm.Skip(start).Take(128).Select(i => (long)i).ToArray(), 128);
                var loss = CosFace.Loss(head.Forward(CosFace.Normalize(layers.Forward(x.IndexSelect(0, rows)))), y.IndexSelect(0, rows), 16, margin);
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
            }
            if (epoch % 10 != 0) continue;
            layers.Eval();
            float[] e;
            using (new NoGrad()) e = CosFace.Normalize(layers.Forward(Tensor.FromArray(val, p.ValLabels.Length, d))).Contiguous().ToArray<float>();
            Report($"CosFace head (hidden {hidden}, embedding {dimension}, margin {margin}), epoch {epoch}", e, dimension, p.ValLabels);
        }
    }
}

static FaceEmbedder LoadRun(string path)
{
    var folder = new RunFolder(path);
    var model = FaceVerificationTask.CreateModel(FaceVerificationData.ReadShape(folder));
    TrainedWeights.Load(model, folder);
    model.Eval();
    return model;
}

// The run's embeddings and its small-CNN trunk's pooled features (every layer of the backbone but the last Linear).
static (float[] Embedding, float[] BeforeLinear, int Dim) RunFeatures(FaceEmbedder model, Tensor images)
{
    var trunk = (Sequential)model.Backbone;
    var (embedding, before) = (new List<float>(), new List<float>());
    int d = 0;
    using var noGrad = new NoGrad();
    for (int start = 0; start < images.Shape[0]; start += 256)
    {
        var x = images.Narrow(0, start, Math.Min(256, images.Shape[0] - start));
        var h = x;
        for (int k = 0; k < trunk.Count - 1; k++) h = trunk[k].Forward(h);
        d = h.Shape[1];
        before.AddRange(h.Contiguous().ToArray<float>());
        embedding.AddRange(model.Embed(x).Contiguous().ToArray<float>());
    }
    return (embedding.ToArray(), before.ToArray(), d);
}

internal sealed record Probe(string Name, DatasetSplit Data, int Trained, int[] ValRows, int[] TrainRows, int[] ValLabels, long[] TrainLabels);
