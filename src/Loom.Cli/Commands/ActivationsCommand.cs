namespace Loom.Cli.Commands;

/// <summary>
/// `loom activations RUN [--layer NAME] [--samples N]`: what each layer of a trained run does over its test split
/// (mean, variance, zeros, dead units, saturation), a PCA picture of one layer coloured by class and, for images, the
/// test images that most excite its first units; a table on the console and a section of RUN/explain.md.
/// `--attention [--text "…"]` instead draws the attention maps of a transformer run (text classifier or GPT), one
/// picture per layer with a token × token panel per head.
/// </summary>
internal static class ActivationsCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new RunOptions(console, "run this data (read as the run's training data was) instead of the run's test split");
        var layer = new Option<string?>("--layer") { Description = "the layer to project with PCA and whose top-activating examples to show (default: the input of the last linear layer)" };
        var samples = new Option<int>("--samples") { Description = "test samples to run through the model", DefaultValueFactory = _ => 1000 };
        var attention = new Option<bool>("--attention") { Description = "draw the attention maps (per layer and head) of a transformer run instead of the statistics" };
        var text = new Option<string?>("--text") { Description = "with --attention: the text to attend over (default: the start of the first test sample)" };
        var command = run.Command("activations", "Per-layer activation statistics (dead units, saturation) of a trained run, a PCA picture and top-activating examples", layer, samples, attention, text);
        command.SetAction(parse =>
        {
            if (parse.GetValue(samples) < 1) throw new UserErrorException($"--samples must be at least 1, got {parse.GetValue(samples)}");
            if (parse.GetValue(text) is not null && !parse.GetValue(attention)) throw new UserErrorException("--text goes with --attention (the text whose attention maps to draw)");
            var trained = run.Load(parse);
            var folder = run.Folder(parse).Path;
            if (parse.GetValue(attention))
            {
                var path = ExplainReport.WriteSection(folder, "attention", AttentionMaps.Draw(trained, parse.GetValue(text), folder, console));
                console.WriteOneLine($"wrote {path}");
                return 0;
            }
            var (classNames, sequence) = trained.Data switch
            {
                TextClassificationData text => (text.ClassNames, true),
                ClassificationData data => (data.ClassNames, false),
                _ => throw new UserErrorException($"loom activations analyses classification and text-classification runs; this run's task is {trained.Config.Task}"),
            };
            var model = trained.Model;
            var layers = model.NamedModules().Where(m => m.Name.Length > 0 && !m.Module.Children().Any()).Select(m => m.Name).ToList();
            var chosen = parse.GetValue(layer) ?? DefaultLayer(model);
            if (!model.NamedModules().Any(m => m.Name == chosen))
                throw new UserErrorException($"--layer {chosen}: the model has no such layer; its layers are: {string.Join(", ", layers)}");
            if (!layers.Contains(chosen)) layers.Add(chosen);
            var test = trained.Data.Test;
            int n = Math.Min(parse.GetValue(samples), test.Count);
            var inputs = ExplainCommand.Spread(test.Count, n).ToArray<long>().Select(i => test[(int)i]).ToList();
            var batches = Enumerable.Range(0, (n + 255) / 256).Select(b =>
            {
                var rows = inputs.Skip(b * 256).Take(256).ToList();
                return (Tensor.Stack(rows.Select(r => r.Input).ToList()), (Tensor?)Tensor.Stack(rows.Select(r => r.Target).ToList()));
            }).ToList();
            var stats = ActivationStatistics.Collect(model, batches, layers, classes: classNames.Count, channelsLast: sequence);
            var md = new StringBuilder($"## Activations\n\n{n} test samples through {stats.Count} layers. A unit is a channel (convolutions) or a feature; dead = zero for every sample and position.\n\n");
            md.Append("| layer | kind | units | mean | variance | zeros | dead units | saturated |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
            var table = new Table().Title("activations").AddColumns("layer", "kind", "units", "mean", "variance", "zeros", "dead units", "saturated");
            foreach (var s in stats)
            {
                string dead = s.DeadUnits.Length == 0 ? "0" : $"{s.DeadUnits.Length} ({string.Join(", ", s.DeadUnits.Take(8))}{(s.DeadUnits.Length > 8 ? ", …" : "")})";
                string saturated = s.LayerSaturationFraction is { } f ? $"{100 * f:F1} %" : "";
                string[] cells = [s.Name, s.Kind, s.Units.ToString(CultureInfo.InvariantCulture), s.LayerMean.ToString("G4", CultureInfo.InvariantCulture),
                    s.LayerVariance.ToString("G4", CultureInfo.InvariantCulture), $"{100 * s.LayerZeroFraction:F1} %", dead, saturated];
                table.AddRow(cells.Select(Markup.Escape).ToArray());
                md.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
            }
            console.Write(table);
            var explainFolder = ExplainReport.Folder(folder);
            var withUnits = stats.Where(s => s.DeadUnits.Length > 0 || s.Kind.Contains("ReLU", StringComparison.Ordinal)).ToList();
            if (withUnits.Count > 0)
            {
                ExplainPlots.Bars(withUnits.Select(s => $"{s.Name} ({s.Kind})").ToList(), withUnits.Select(s => (double)s.DeadUnits.Length / s.Units).ToList(), null,
                    Path.Combine(explainFolder, "dead_units.png"), "fraction of dead units per layer", "dead units / units");
                md.Append("\n![dead units](explain/dead_units.png)\n");
            }
            // PCA of the chosen layer's whole output per sample, coloured by true class.
            var outputs = new List<Tensor>();
            foreach (var (x, _) in batches)
                outputs.Add(ActivationCapture.Outputs(model, x, [chosen])[chosen].Reshape(x.Shape[0], -1).To(DType.Float64));
            var features = Tensor.Cat(outputs, 0);
            var labels = batches.SelectMany(b => b.Item2!.To(DType.Int64).ToArray<long>()).ToList();
            if (features.Shape[1] >= 2 && n >= 3)
            {
                var (projection, _, ratio) = Pca.Fit(features);
                var name = $"pca_{chosen.Replace('.', '_')}.png";
                ExplainPlots.Scatter(projection, labels, classNames, Path.Combine(explainFolder, name),
                    $"PCA of layer {chosen} ({features.Shape[1]} values per sample): {100 * ratio[0]:F1} % + {100 * ratio[1]:F1} % of the variance");
                md.Append($"\n### Layer {chosen}\n\nPCA of its {features.Shape[1]} values per sample, coloured by true class: the first two components explain {100 * ratio[0]:F1} % and {100 * ratio[1]:F1} % of the variance.\n\n![PCA](explain/{name})\n");
                console.WriteOneLine($"PCA of {chosen}: {100 * ratio[0]:F1} % + {100 * ratio[1]:F1} % of the variance");
            }
            var chosenStats = stats.First(s => s.Name == chosen);
            if (!sequence && test[0].Input.Rank >= 2)
            {
                // The test images that most excite the first live units of the layer: one row of up to 8 per unit.
                var units = Enumerable.Range(0, chosenStats.Units).Except(chosenStats.DeadUnits).Take(8).ToList();
                var picked = units.SelectMany(u => chosenStats.TopExamples[u].Take(8)).ToList();
                if (picked.Count > 0)
                {
                    var images = Tensor.Stack(picked.Select(i => inputs[i].Input).ToList());
                    var name = $"top_{chosen.Replace('.', '_')}.png";
                    ExplainPlots.HeatmapOverlays(images, Tensor.ZerosLike(images), Path.Combine(explainFolder, name), columns: Math.Min(8, chosenStats.TopExamples[units[0]].Length));
                    md.Append($"\nTop-activating test images of units {string.Join(", ", units)} of layer {chosen}, one row per unit:\n\n![top examples](explain/{name})\n");
                }
            }
            var report = ExplainReport.WriteSection(folder, "activations", md.ToString());
            console.WriteOneLine($"wrote {report}");
            return 0;
        });
        return command;
    }

    /// <summary>The input of the model's last linear layer (the features the classifier reads), else its last layer.</summary>
    private static string DefaultLayer(Module model)
    {
        var leaves = model.NamedModules().Where(m => m.Name.Length > 0 && !m.Module.Children().Any()).ToList();
        int last = leaves.FindLastIndex(m => m.Module is Linear);
        return last > 0 ? leaves[last - 1].Name : leaves[^1].Name;
    }
}
