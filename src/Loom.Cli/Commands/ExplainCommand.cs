using Loom.Autograd;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom explain RUN --method ig|saliency|smoothgrad|occlusion|permutation|shap [--input FILE | --samples N]`: which
/// parts of the input a trained run's predictions rest on, as pictures in RUN/explain/ and a section of RUN/explain.md.
/// Images get heat-map overlays, tables bar charts per feature, texts coloured token strips (attributions on the
/// embeddings).
/// </summary>
internal static class ExplainCommand
{
    private static readonly string[] Methods = ["ig", "saliency", "smoothgrad", "occlusion", "permutation", "shap"];

    public static Command Build(IAnsiConsole console)
    {
        var run = new RunOptions(console, "explain samples of this data (read as the run's training data was) instead of the run's test split");
        var method = new Option<string>("--method") { Description = "ig (integrated gradients), saliency, smoothgrad, occlusion, permutation (tables), shap (KernelSHAP, tables)", DefaultValueFactory = _ => "ig" };
        method.AcceptOnlyFromAmong(Methods);
        var input = new Option<string?>("--input") { Description = "explain the samples of this file or folder (as --data)" };
        var samples = new Option<int>("--samples") { Description = "samples to explain (permutation importance uses the whole test split)", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "integration steps for ig (Gauss–Legendre)", DefaultValueFactory = _ => IntegratedGradients.DefaultSteps };
        var tolerance = new Option<double?>("--ig-tolerance") { Description = "for ig: integrate the samples whose completeness error exceeds this fraction again with doubled steps (up to 32× --steps)" };
        var command = run.Command("explain", "Explain a trained run's predictions: attributions and feature importance, as pictures and explain.md", method, input, samples, steps, tolerance);
        command.SetAction(parse =>
        {
            if (parse.GetValue(samples) < 1) throw new UserErrorException($"--samples must be at least 1, got {parse.GetValue(samples)}");
            if (parse.GetValue(steps) < 1) throw new UserErrorException($"--steps must be at least 1, got {parse.GetValue(steps)}");
            if (parse.GetValue(input) is not null && parse.GetValue(run.Data) is not null) throw new UserErrorException("give the data either with --input or with --data, not both");
            if (parse.GetValue(tolerance) is { } t && (parse.GetValue(method) != "ig" || !(t > 0 && t < 1)))
                throw new UserErrorException($"--ig-tolerance goes with --method ig and is a fraction in (0, 1), e.g. 0.01; got {t} with --method {parse.GetValue(method)}");
            var trained = run.Load(parse, data: parse.GetValue(input));
            var folder = run.Folder(parse).Path;
            var options = new Options(parse.GetValue(method)!, parse.GetValue(samples), parse.GetValue(steps), parse.GetValue(tolerance));
            var section = trained.Data switch
            {
                TextClassificationData text => ExplainText(trained, text, options, folder, console),
                ClassificationData data => ExplainClassification(trained, data, options, folder, console),
                _ => throw new UserErrorException($"loom explain explains classification and text-classification runs; this run's task is {trained.Config.Task}"),
            };
            var report = ExplainReport.WriteSection(folder, options.Method, section);
            console.WriteOneLine($"wrote {report}");
            return 0;
        });
        return command;
    }

    private sealed record Options(string Method, int Samples, int Steps, double? Tolerance);

    private static string ExplainClassification(TrainedRun trained, ClassificationData data, Options options, string folder, IAnsiConsole console)
    {
        var model = trained.Model;
        var test = data.Test;
        bool table = test.Inputs.Rank == 2;
        var names = table ? FeatureNames(data, test.Inputs.Shape[1]) : [];
        var md = new StringBuilder();
        if (options.Method is "permutation" or "shap" && !table)
            throw new UserErrorException($"--method {options.Method} ranks the columns of tabular data; for images use ig, saliency, smoothgrad or occlusion");
        var picture = Path.Combine(ExplainReport.Folder(folder), options.Method + ".png");
        var clock = Stopwatch.StartNew();
        if (options.Method == "permutation")
        {
            var result = PermutationImportance.Compute(PermutationImportance.Accuracy(model), test.Inputs, test.Targets, repeats: 5, seed: trained.Config.Seed);
            ExplainPlots.Bars(names, result.Mean, result.Std, picture, "permutation importance (held-out accuracy drop, mean ± std of 5 shuffles)", "accuracy drop");
            md.Append($"## Permutation importance\n\nHeld-out accuracy {result.BaselineScore:F4} on {test.Count} test rows; each feature shuffled 5 times ({clock.Elapsed.TotalSeconds:F1} s).\n\n");
            md.Append("| rank | feature | accuracy drop | ± std |\n|---:|---|---:|---:|\n");
            foreach (var (f, rank) in result.Ranking.Take(15).Select((f, r) => (f, r + 1)))
                md.Append(CultureInfo.InvariantCulture, $"| {rank} | {names[f]} | {result.Mean[f]:F4} | {result.Std[f]:F4} |\n");
            md.Append($"\n![permutation importance](explain/{options.Method}.png)\n");
            console.WriteOneLine($"permutation importance: top features {string.Join(", ", result.Ranking.Take(5).Select(f => $"{names[f]} ({result.Mean[f]:F4} ± {result.Std[f]:F4})"))}");
            return md.ToString();
        }
        int n = Math.Min(options.Samples, test.Count);
        var picked = Spread(test.Count, n);
        var inputs = test.Inputs.IndexSelect(0, picked);
        var labels = test.Targets.IndexSelect(0, picked);
        Tensor predicted;
        using (new NoGrad()) predicted = model.Forward(inputs).ArgMax(1);
        var (attributions, summary, ig) = Attribute(model, inputs, predicted, options, table, trained.Config.Seed);
        double seconds = clock.Elapsed.TotalSeconds;
        string title = Title(options.Method);
        md.Append($"## {title}\n\n{n} test samples, each explained for its predicted class ({seconds:F1} s). {summary}\n\n");
        if (ig is not null) md.Append(Completeness(ig, picked.ToArray<long>(), predicted.ToArray<long>(), folder));
        console.WriteOneLine($"{title} of {n} samples in {seconds:F1} s. {summary}");
        if (table)
        {
            var meanAbs = attributions.Abs().To(DType.Float64).Mean(0).ToArray<double>();
            ExplainPlots.Bars(names, meanAbs, null, picture, $"{title}: mean |attribution| over {n} samples", "mean |attribution|");
            md.Append("| feature | mean abs attribution |\n|---|---:|\n");
            foreach (var f in Enumerable.Range(0, names.Count).OrderByDescending(f => meanAbs[f]).Take(15))
                md.Append(CultureInfo.InvariantCulture, $"| {names[f]} | {meanAbs[f]:G4} |\n");
        }
        else
        {
            var truth = labels.ToArray<long>();
            var guess = predicted.ToArray<long>();
            // A picture of the first 32: more tiles are too small to read.
            int shown = Math.Min(n, 32);
            var captions = Enumerable.Range(0, shown).Select(i => truth[i] == guess[i] ? data.ClassNames[(int)guess[i]] : $"{data.ClassNames[(int)guess[i]]}≠{data.ClassNames[(int)truth[i]]}").ToList();
            var (w, h) = ExplainPlots.HeatmapOverlays(inputs.Narrow(0, 0, shown), attributions.Narrow(0, 0, shown), picture, captions: captions);
            md.Append($"Red: evidence for the predicted class, blue: against it; captions give the prediction (≠ the true class when wrong). The first {shown} samples, {w}×{h} px.\n");
        }
        md.Append($"\n![{title}](explain/{options.Method}.png)\n");
        return md.ToString();
    }

    /// <summary>The attributions of one method for the predicted classes, one line about them and, for ig, the completeness check.</summary>
    private static (Tensor Attributions, string Summary, IntegratedGradientsResult? Ig) Attribute(Module<Tensor, Tensor> model, Tensor inputs, Tensor targets, Options options, bool table, ulong seed)
    {
        switch (options.Method)
        {
            case "ig":
                var result = new IntegratedGradients(model) { Steps = options.Steps, Tolerance = options.Tolerance }.Explain(inputs, targets);
                var first = result.FirstPassRelativeError;
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"Completeness (Σ attributions = f(x) − f(0)) with {options.Steps} Gauss–Legendre steps: relative error mean {100 * first.Average():F3} %, max {100 * first.Max():F3} %");
                if (options.Tolerance is { } tolerance)
                {
                    int refined = result.Steps.Count(k => k > options.Steps);
                    line += string.Create(CultureInfo.InvariantCulture,
                        $"; after integrating the {refined} samples above {100 * tolerance:G3} % again with doubled steps (up to {result.Steps.Max()}): mean {100 * result.MeanRelativeError:F3} %, max {100 * result.MaxRelativeError:F3} %");
                }
                return (result.Attributions, line + string.Create(CultureInfo.InvariantCulture, $", over all samples {100 * result.TotalRelativeError:F3} %."), result);
            case "saliency":
                return (new Saliency(model).Attribute(inputs, targets), "Absolute gradient of the class score.", null);
            case "smoothgrad":
                var range = inputs.Max().Item() - inputs.Min().Item();
                var tunnel = new NoiseTunnel(new Saliency(model)) { Samples = 20, Stdev = 0.15 * range, Generator = new Random.Generator(seed) };
                return (tunnel.Attribute(inputs, targets), $"Saliency averaged over 20 copies with noise σ = 15 % of the input range ({0.15 * range:G3}).", null);
            case "occlusion":
                int[] window = table ? [1] : inputs.Rank == 4 ? [inputs.Shape[1], Math.Max(1, inputs.Shape[2] / 7), Math.Max(1, inputs.Shape[3] / 7)] : [Math.Max(1, inputs.Shape[1] / 7), Math.Max(1, inputs.Shape[2] / 7)];
                int[] strides = table ? [1] : window.Select((s, d) => d == 0 && inputs.Rank == 4 ? s : Math.Max(1, s / 2)).ToArray();
                return (new Occlusion(model, window, strides).Attribute(inputs, targets), $"Class score drop when a window of [{string.Join("×", window)}] (stride [{string.Join("×", strides)}]) is set to 0.", null);
            case "shap":
                var shap = new KernelShap(model) { Samples = 512, Generator = new Random.Generator(seed) };
                return (shap.Attribute(inputs, targets), "KernelSHAP with 512 coalitions per sample against the all-zero (training mean) baseline.", null);
            default:
                throw new UserErrorException($"unknown --method {options.Method}");
        }
    }

    /// <summary>
    /// Captum's convergence delta per sample into explain/ig_completeness.csv, and the worst samples as a table.
    /// </summary>
    private static string Completeness(IntegratedGradientsResult ig, long[] testIndices, long[] classes, string folder)
    {
        var relative = ig.RelativeError;
        var csv = new StringBuilder("test_index,class,output_difference,delta,relative_error,first_pass_relative_error,steps\n");
        for (int i = 0; i < relative.Length; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{testIndices[i]},{classes[i]},{ig.OutputDifference[i]:R},{ig.Delta[i]:R},{relative[i]:R},{ig.FirstPassRelativeError[i]:R},{ig.Steps[i]}\n");
        File.WriteAllText(Path.Combine(ExplainReport.Folder(folder), "ig_completeness.csv"), csv.ToString());
        var md = new StringBuilder("Per-sample completeness (Captum's convergence delta δ = Σ attributions − (f(x) − f(0))) is in [explain/ig_completeness.csv](explain/ig_completeness.csv); the worst samples:\n\n");
        md.Append("| test sample | f(x) − f(0) | δ | relative error | first pass | steps |\n|---:|---:|---:|---:|---:|---:|\n");
        foreach (int i in Enumerable.Range(0, relative.Length).OrderByDescending(i => ig.FirstPassRelativeError[i]).Take(5))
            md.Append(CultureInfo.InvariantCulture, $"| {testIndices[i]} | {ig.OutputDifference[i]:G4} | {ig.Delta[i]:G3} | {100 * relative[i]:F3} % | {100 * ig.FirstPassRelativeError[i]:F3} % | {ig.Steps[i]} |\n");
        return md.Append('\n').ToString();
    }

    /// <summary>
    /// <paramref name="n"/> indices spread evenly over <paramref name="count"/> samples: a test split may be ordered by
    /// class (the built-in digits are), and its first samples would then all be zeros.
    /// </summary>
    internal static Tensor Spread(int count, int n) => Tensor.FromArray(Enumerable.Range(0, n).Select(i => (long)i * count / n).ToArray());

    private static string Title(string method) => method switch
    {
        "ig" => "Integrated gradients",
        "saliency" => "Saliency",
        "smoothgrad" => "SmoothGrad",
        "occlusion" => "Occlusion",
        "shap" => "KernelSHAP",
        _ => method,
    };

    private static IReadOnlyList<string> FeatureNames(ClassificationData data, int count) =>
        data.Schema?.FeatureNames is { } names && names.Count == count ? names : Enumerable.Range(0, count).Select(i => $"x{i}").ToArray();

    /// <summary>Token attributions of a text classifier: integrated gradients on its word embeddings, summed over the embedding, drawn as token strips.</summary>
    private static string ExplainText(TrainedRun trained, TextClassificationData data, Options options, string folder, IAnsiConsole console)
    {
        if (options.Method is not ("ig" or "saliency"))
            throw new UserErrorException($"for a text-classification run, --method ig or saliency (attributions on the word embeddings); {options.Method} is for images or tables");
        if (options.Tolerance is not null)
            throw new UserErrorException("--ig-tolerance refines integrated gradients on images and tables; text runs integrate on the embeddings with --steps");
        var model = trained.Model;
        var embedding = model.Modules().OfType<Embedding>().FirstOrDefault()
            ?? throw new UserErrorException($"the run's model ({trained.Config.Model}) has no embedding layer to attribute to");
        var tokenizer = data.Tokenizer ?? throw new UserErrorException($"the run's model ({trained.Config.Model}) reads a pretrained encoder's sentence embeddings, not words of its own vocabulary");
        int n = Math.Min(options.Samples, data.Test.Count);
        var picked = Spread(data.Test.Count, n);
        var ids = data.Test.Inputs.IndexSelect(0, picked);
        Tensor predicted;
        using (new NoGrad()) predicted = model.Forward(ids).ArgMax(1);
        var clock = Stopwatch.StartNew();
        // Saliency on embeddings is integrated gradients with one step at the end of the path: the gradient there times the embedding.
        var result = new LayerIntegratedGradients(model, embedding) { Steps = options.Method == "ig" ? options.Steps : 1, Method = options.Method == "ig" ? IntegrationMethod.GaussLegendre : IntegrationMethod.RiemannRight }.Explain(ids, predicted);
        var perToken = result.Attributions.Sum(-1).To(DType.Float64).ToArray<double>();
        int t = ids.Shape[1];
        var idValues = ids.To(DType.Int64).ToArray<long>();
        var guess = predicted.ToArray<long>();
        var truth = data.Test.Targets.IndexSelect(0, picked).ToArray<long>();
        var md = new StringBuilder($"## Token attributions ({(options.Method == "ig" ? "integrated gradients" : "gradient × embedding")})\n\n{n} test texts, attributions on the word embeddings summed per token ({clock.Elapsed.TotalSeconds:F1} s); completeness relative error mean {100 * result.MeanRelativeError:F3} %. Red pushes towards the predicted class, blue away.\n\n");
        var explainFolder = ExplainReport.Folder(folder);
        for (int i = 0; i < Math.Min(n, 12); i++)
        {
            var tokens = new List<string>();
            var scores = new List<double>();
            for (int k = 0; k < t; k++)
            {
                int id = (int)idValues[i * t + k];
                if (id == tokenizer.Special.Pad) continue;
                tokens.Add(tokenizer.Decode([id]));
                scores.Add(perToken[i * t + k]);
            }
            string name = $"{options.Method}_text{i}.png";
            string title = $"predicted {data.ClassNames[(int)guess[i]]}, true {data.ClassNames[(int)truth[i]]}";
            ExplainPlots.TokenStrip(tokens, scores, Path.Combine(explainFolder, name), title: title);
            md.Append($"![{title}](explain/{name})\n\n");
        }
        console.WriteOneLine($"token attributions of {n} texts; completeness relative error mean {100 * result.MeanRelativeError:F3} %");
        return md.ToString();
    }
}
