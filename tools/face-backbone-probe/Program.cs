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
//   spatial RUN DATA                  the trunk's feature map before global pooling, pooled to grids of cells, each
//                                     cell normalised; and the embedding averaged over shifted copies
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
    case "spatial":
    {
        // The trunk's last feature map before global pooling ([N, 128, 7, 7] for the small CNN), pooled to grids of
        // cells, each cell raw / centred / standardised on the training images, L2-normalised and concatenated; and
        // test-time augmentation (the embedding averaged over shifted copies). Validation as the task cuts it.
        var model = LoadRun(args[1]);
        var (valImages, valLabels, trainImages) = TaskValidation(args[2]);
        var trunk = (Sequential)model.Backbone;
        int pooled = trunk.Count - 3; // the layers before AdaptiveAvgPool2d, Flatten, Linear
        Tensor Map(Tensor images)
        {
            var maps = new List<Tensor>();
            using var noGrad = new NoGrad();
            for (int start = 0; start < images.Shape[0]; start += 256)
            {
                var h = images.Narrow(0, start, Math.Min(256, images.Shape[0] - start));
                for (int k = 0; k < pooled; k++) h = trunk[k].Forward(h);
                maps.Add(h.Contiguous());
            }
            return Tensor.Cat(maps);
        }
        var (valMap, trainMap) = (Map(valImages), Map(trainImages));
        Console.WriteLine($"feature map {valMap.Shape}; {valLabels.Length} validation images, {trainMap.Shape[0]} training images");
        var emb = FaceVerificationEvaluation.Embed(model, valImages);
        Report("the run's embedding", emb, model.Dimension, valLabels);
        int c = valMap.Shape[1];
        var linear = (Linear)trunk[trunk.Count - 1];
        foreach (var (gh, gw) in new[] { (1, 1), (2, 1), (3, 1), (1, 2), (1, 3), (2, 2), (3, 3), (7, 7) })
        {
            // [N, cells, C] per grid.
            float[] Cells(Tensor map) => Functional.AdaptiveAvgPool2d(map, (gh, gw)).Reshape(map.Shape[0], c, gh * gw).Transpose(1, 2).Contiguous().ToArray<float>();
            var (v, t) = (Cells(valMap), Cells(trainMap));
            int cells = gh * gw;
            foreach (var mode in new[] { "raw", "centred", "standardised" })
            {
                var x = PerCell(v, t, cells, c, mode);
                Report($"grid {gh}×{gw}, cells {mode}, each normalised", NormaliseCells(x, cells, c), cells * c, valLabels);
                if (mode == "raw" && cells > 1) Report($"grid {gh}×{gw}, raw, whole vector normalised", NormaliseCells(x, 1, cells * c), cells * c, valLabels);
            }
            if (cells == 1 || cells == 49) continue;
            // Each cell through the trained Linear and the embedding's batch norm: part embeddings in the run's space.
            var parts = PartEmbeddings(model, linear, v, cells, c);
            Report($"grid {gh}×{gw}, cells through the trained Linear + BN, each normalised", parts, cells * model.Dimension, valLabels);
            Report($"grid {gh}×{gw}, the same + the global embedding (MGN-style)", Concat(emb, model.Dimension, parts, cells * model.Dimension), (cells + 1) * model.Dimension, valLabels);
        }
        // Test-time augmentation: the embedding averaged over shifted copies, renormalised.
        foreach (var shifts in new[] { new[] { (0, 0), (1, 0), (-1, 0), (0, 1), (0, -1) }, new[] { (0, 0), (2, 0), (-2, 0), (0, 2), (0, -2) },
            new[] { (0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1) } })
        {
            int d = model.Dimension;
            var sum = new double[emb.Length];
            foreach (var (dx, dy) in shifts)
            {
                var shifted = Functional.Pad(valImages, [dx, -dx, dy, -dy]);
                var e = FaceVerificationEvaluation.Embed(model, shifted);
                for (int i = 0; i < e.Length; i++) sum[i] += e[i];
            }
            Report($"TTA: mean embedding over {shifts.Length} shifts up to {shifts.Max(s => Math.Abs(s.Item1) + Math.Abs(s.Item2))} px (L1)", NormaliseCells([.. sum.Select(x => (float)x)], 1, d), d, valLabels);
        }
        break;
    }
    case "parts":
    {
        // PCB / MGN trained jointly: the small CNN's trunk up to its last feature map, then per grid in args[2] (e.g.
        // "1x1", "3x1", "1x1+2x1+3x1") one branch per cell: pooled over the cell, its own Linear → 64, batch norm and
        // CosFace head (s 16, m 0.35) on the 7 training classes; the loss is the branches' mean. Verification embeds by
        // the concatenation of the branches' L2-normalised embeddings (cosine = the mean of the parts' cosines).
        // 5 epochs, AdamW 3e-3 (weight decay 5e-4), cosine schedule per step, batch 128, --augment crop: the task's defaults.
        var (valImages, valLabels, _) = TaskValidation(args[1]);
        int seed = args.Length > 3 ? int.Parse(args[3]) : 1, epochs = args.Length > 4 ? int.Parse(args[4]) : 5;
        var grids = args[2].Split('+').Select(g => g.Split('x')).Select(g => (int.Parse(g[0]), int.Parse(g[1]))).ToArray();
        var split = BuiltinDatasets.Load(args[1]);
        int trained = split.Info.ClassNames.Count - HeldOut;
        long[] targets = split.Train.Targets.ToArray<long>();
        int[] rows = [.. Enumerable.Range(0, targets.Length).Where(i => targets[i] < trained)];
        float[] images = split.Train.Gather(rows).Inputs.Contiguous().ToArray<float>();
        int[] shape = split.Info.InputShape;
        int size = shape[0] * shape[1] * shape[2];
        Loom.Random.Generator.Default.Seed((ulong)seed);
        var net = new PartNet(shape[0], trained, grids);
        var augment = ImageAugmentation.Create(["crop"], shape[1], shape[2], (ulong)seed)!;
        var optimizer = new AdamW(net.Parameters(), 3e-3, weightDecay: 5e-4);
        int batch = 128, steps = epochs * ((rows.Length + batch - 1) / batch);
        var schedule = new CosineAnnealingLR(optimizer, steps);
        var order = new Loom.Random.Generator((ulong)seed + 7);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            net.Train();
            var perm = Enumerable.Range(0, rows.Length).OrderBy(_ => order.NextInt(0, int.MaxValue)).ToArray();
            double total = 0;
            int batches = 0;
            for (int start = 0; start < perm.Length; start += batch)
            {
                using var scope = new Loom.Memory.MemoryScope();
                int count = Math.Min(batch, perm.Length - start);
                var x = new float[count * size];
                var y = new long[count];
                for (int k = 0; k < count; k++)
                {
                    int i = perm[start + k];
                    augment.Apply(images.AsSpan(i * size, size).ToArray(), shape).CopyTo(x, k * size);
                    y[k] = targets[rows[i]];
                }
                var yt = Tensor.FromArray(y, count);
                var losses = net.Forward(Tensor.FromArray(x, count, shape[0], shape[1], shape[2])).Select(c => CosFace.Loss(c, yt, 16, 0.35)).ToList();
                var loss = losses.Aggregate((a, b) => a + b) / losses.Count;
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
                schedule.Step();
                total += loss.Item<float>();
                batches++;
            }
            Console.WriteLine($"epoch {epoch}: loss {total / batches:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        net.Eval();
        var parts = net.PartEmbeddings(valImages);
        int d = PartNet.Dimension, p = parts.Count;
        for (int k = 0; k < p && p > 1; k++) Report($"{args[2]}, part {k} ({net.PartNames[k]}) alone", parts[k], d, valLabels);
        var all = new float[parts[0].Length * p];
        int n = parts[0].Length / d;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < p; k++)
                for (int j = 0; j < d; j++) all[(i * p + k) * d + j] = (float)(parts[k][i * d + j] / Math.Sqrt(p));
        Report($"{args[2]} (seed {seed}, {epochs} epochs), the {p} parts concatenated", all, p * d, valLabels);
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
        Console.Error.WriteLine("usage: frozen DATA SIZE VALUE [--head] | prelinear RUN DATA | spatial RUN DATA | dump RUN DATA | fuse RUN DATA SIZE VALUE | names");
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

// Validation as the task cuts it (FaceVerificationData.SplitHeldOut: the held-out classes' training-split images,
// spread to 3,000, the odd rows labelled), and up to 6,000 labelled training images spread evenly for centring.
(Tensor Images, int[] Labels, Tensor Train) TaskValidation(string data)
{
    var split = BuiltinDatasets.Load(data);
    int trained = split.Info.ClassNames.Count - HeldOut;
    long[] targets = split.Train.Targets.ToArray<long>();
    int[] held = [.. Enumerable.Range(0, targets.Length).Where(i => targets[i] >= trained)];
    var heldOut = new TensorDataset(split.Train.Gather(held).Inputs, Tensor.FromArray(held.Select(i => targets[i] - trained).ToArray(), held.Length));
    var (_, validation) = FaceVerificationData.SplitHeldOut(heldOut);
    int[] trainRows = [.. Enumerable.Range(0, targets.Length).Where(i => targets[i] < trained)];
    if (trainRows.Length > TrainingImages) trainRows = [.. Enumerable.Range(0, TrainingImages).Select(k => trainRows[(int)((long)k * trainRows.Length / TrainingImages)])];
    var images = validation.Inputs.Rank == 3 ? validation.Inputs.Unsqueeze(1) : validation.Inputs;
    var train = split.Train.Gather(trainRows).Inputs;
    return (images, [.. validation.Targets.ToArray<long>().Select(t => (int)t)], train.Rank == 3 ? train.Unsqueeze(1) : train);
}

// Rows [N, cells, C]: raw, centred on the training rows' per-cell mean, or standardised by its per-cell std too.
static float[] PerCell(float[] rows, float[] train, int cells, int c, string mode)
{
    if (mode == "raw") return rows;
    int d = cells * c, n = train.Length / d;
    var (mean, sq) = (new double[d], new double[d]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) { double x = train[i * d + j]; mean[j] += x / n; sq[j] += x * x / n; }
    var result = new float[rows.Length];
    for (int i = 0; i < rows.Length; i++)
    {
        int j = i % d;
        double x = rows[i] - mean[j];
        result[i] = (float)(mode == "centred" ? x : x / Math.Sqrt(Math.Max(sq[j] - mean[j] * mean[j], 1e-12)));
    }
    return result;
}

// Each consecutive block of c values scaled to unit length, then the whole scaled by 1/√cells, so the cosine of two
// rows is the mean of their cells' cosines.
static float[] NormaliseCells(float[] rows, int cells, int c)
{
    var result = new float[rows.Length];
    for (int start = 0; start < rows.Length; start += c)
    {
        double norm = 0;
        for (int j = 0; j < c; j++) norm += (double)rows[start + j] * rows[start + j];
        double scale = 1 / Math.Max(Math.Sqrt(norm), 1e-12) / Math.Sqrt(cells);
        for (int j = 0; j < c; j++) result[start + j] = (float)(rows[start + j] * scale);
    }
    return result;
}

// Cells [N, cells, C] through the run's last Linear and embedding batch norm (eval statistics), each normalised.
static float[] PartEmbeddings(FaceEmbedder model, Linear linear, float[] cellRows, int cells, int c)
{
    using var noGrad = new NoGrad();
    int n = cellRows.Length / (cells * c);
    var e = linear.Forward(Tensor.FromArray(cellRows, n * cells, c));
    if (model.EmbeddingNorm is { } bn) e = bn.Forward(e);
    return NormaliseCells(e.Contiguous().ToArray<float>(), cells, model.Dimension);
}

static float[] Concat(float[] a, int da, float[] b, int db)
{
    int n = a.Length / da;
    var result = new float[n * (da + db)];
    double wa = Math.Sqrt(1.0 / 2), wb = Math.Sqrt(1.0 / 2);
    for (int i = 0; i < n; i++)
    {
        for (int j = 0; j < da; j++) result[i * (da + db) + j] = (float)(a[i * da + j] * wa);
        for (int j = 0; j < db; j++) result[i * (da + db) + da + j] = (float)(b[i * db + j] * wb);
    }
    return result;
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

// The small CNN's trunk (three Conv–BatchNorm–ReLU blocks, two max-pools) and, per cell of each grid, a branch: the
// cell's average-pooled channels, a Linear to the embedding, a batch norm and a CosFace head (PCB; several grids: MGN).
internal sealed class PartNet : Module<Tensor, IReadOnlyList<Tensor>>
{
    public const int Dimension = 64;
    private readonly Sequential _trunk;
    private readonly (int H, int W)[] _grids;
    private readonly List<(Linear Linear, BatchNorm1d Norm, CosineClassifier Head)> _branches = [];

    public PartNet(int channels, int classes, (int H, int W)[] grids)
    {
        _grids = grids;
        _trunk = RegisterModule("trunk", new Sequential(
            new Conv2d(channels, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Conv2d(64, 128, 3, padding: 1, bias: false), new BatchNorm2d(128), new ReLU()));
        foreach (var (h, w) in grids)
            for (int cell = 0; cell < h * w; cell++)
            {
                int k = _branches.Count;
                _branches.Add((RegisterModule($"linear{k}", new Linear(128, Dimension)), RegisterModule($"norm{k}", new BatchNorm1d(Dimension)),
                    RegisterModule($"head{k}", new CosineClassifier(Dimension, classes))));
                PartNames.Add($"{h}x{w} cell {cell}");
            }
    }

    public List<string> PartNames { get; } = [];

    // Each branch's batch-normalised embedding [N, 64] (before L2 normalisation).
    private List<Tensor> Embeddings(Tensor x)
    {
        var map = _trunk.Forward(x);
        var result = new List<Tensor>();
        int n = map.Shape[0], c = map.Shape[1];
        foreach (var (h, w) in _grids)
        {
            var cells = Functional.AdaptiveAvgPool2d(map, (h, w)).Reshape(n, c, h * w);
            for (int cell = 0; cell < h * w; cell++)
            {
                var (linear, norm, _) = _branches[result.Count];
                result.Add(norm.Forward(linear.Forward(cells.Narrow(2, cell, 1).Reshape(n, c))));
            }
        }
        return result;
    }

    protected override IReadOnlyList<Tensor> ForwardCore(Tensor x) => [.. Embeddings(x).Select((e, k) => _branches[k].Head.Forward(CosFace.Normalize(e)))];

    public List<float[]> PartEmbeddings(Tensor images)
    {
        var parts = _branches.Select(_ => new List<float>()).ToList();
        using var noGrad = new NoGrad();
        for (int start = 0; start < images.Shape[0]; start += 256)
        {
            var e = Embeddings(images.Narrow(0, start, Math.Min(256, images.Shape[0] - start)));
            for (int k = 0; k < e.Count; k++) parts[k].AddRange(CosFace.Normalize(e[k]).Contiguous().ToArray<float>());
        }
        return [.. parts.Select(p => p.ToArray())];
    }
}
