namespace Loom.Cli.Commands;

/// <summary>
/// `loom prune RUN --sparsity S [--structured] [--finetune-epochs N]`: magnitude pruning of a trained run into a new
/// run folder that eval and predict take. Unstructured: the smallest weights are masked (global by default); with
/// fine-tuning the sparsity ramps up cubically over the first two thirds of the steps while the masks stay applied.
/// Structured: that fraction of hidden neurons and conv channels is cut, giving a smaller dense model (config.json
/// records the sizes). With --heads F instead: that fraction of all attention heads goes, the lowest by their mean
/// contribution on calibration batches (<see cref="HeadPruning"/>), each attention layer sliced to its remaining heads
/// (config.json records the counts). Prints metrics, multiply-adds, bytes on disk and latency before and after; report.md adds the
/// per-layer sparsity.
/// </summary>
internal static class PruneCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var sparsity = new Option<double?>("--sparsity") { Description = "fraction of weights (or, with --structured, of units) to remove" };
        var heads = new Option<double?>("--heads") { Description = "instead of --sparsity: fraction of all attention heads to remove, the least important on calibration batches (transformer, GPT)" };
        var calibrate = new Option<int>("--calibrate") { Description = "--heads: training samples that score the heads", DefaultValueFactory = _ => 512 };
        var structured = new Option<bool>("--structured") { Description = "remove whole neurons and channels (a smaller dense model) instead of single weights" };
        var finetune = new Option<int>("--finetune-epochs") { Description = "epochs of training after (or, unstructured, while) pruning", DefaultValueFactory = _ => 0 };
        var layerWise = new Option<bool>("--layer-wise") { Description = "the same sparsity in every layer instead of one global threshold" };
        var output = new Option<string?>("--out") { Description = "the new run folder (default: RUN-pruned beside RUN)" };
        var run = new RunOptions(console, "evaluate before and after on this labelled data instead of the run's test split");
        var command = run.Command("prune", "Prune a trained run's weights (magnitude, unstructured or structured) or attention heads into a new run folder", sparsity, structured, finetune, layerWise, output, heads, calibrate);
        command.SetAction(parse =>
        {
            double? headFraction = parse.GetValue(heads);
            if ((parse.GetValue(sparsity) is null) == (headFraction is null)) throw new UserErrorException("give one of --sparsity (weights or units) and --heads (attention heads)");
            double s = parse.GetValue(sparsity) ?? headFraction!.Value;
            int epochs = parse.GetValue(finetune);
            if (!(s > 0 && s < 1)) throw new UserErrorException($"{(headFraction is null ? "--sparsity" : "--heads")} must be in (0, 1), got {s}");
            if (headFraction is not null && (parse.GetValue(structured) || parse.GetValue(layerWise)))
                throw new UserErrorException("--heads removes whole heads: --structured and --layer-wise do not apply");
            if (parse.GetValue(calibrate) < 1) throw new UserErrorException($"--calibrate must be at least 1, got {parse.GetValue(calibrate)}");
            if (epochs < 0) throw new UserErrorException($"--finetune-epochs must be at least 0, got {epochs}");
            var source = run.Folder(parse);
            var trained = run.Load(parse);
            if (trained.Config.Quantization is not null) throw new UserErrorException($"{source.Path} is quantised; prune the float run it came from");
            var before = CompressedRun.Measure(trained, source.ModelPath);
            (long parameters, long nonZero) = (trained.Model.ParameterCount(), SparsityReport.Of(trained.Model).NonZero); // pruning changes the model in place
            var sample = Pipeline.Batches(trained.Data.Test, 1).First().Inputs;
            long multiplyAdds = MultiplyAdds.PerSample(trained.Model, sample);
            var scope = parse.GetValue(layerWise) ? PruningScope.LayerWise : PruningScope.Global;

            var config = source.ReadConfig();
            var model = trained.Model;
            if (headFraction is not null)
            {
                config["pruned_heads"] = PruneHeads(trained, model, s, parse.GetValue(calibrate));
            }
            else if (parse.GetValue(structured))
            {
                if (model is not Sequential sequential) throw new UserErrorException($"structured pruning takes a sequence of layers; the {trained.Config.Model} is not one");
                var cut = StructuredPruning.Prune(sequential, s);
                if (cut.Count == 0) throw new UserErrorException($"the {trained.Config.Model} has no layer whose outputs feed another layer: nothing to cut");
                var units = new JsonObject();
                foreach (var c in cut) units[c.Layer] = c.After;
                config["pruned_units"] = units;
            }
            else if (epochs == 0)
            {
                PruningMasks.Magnitude(model, s, scope);
            }
            if (epochs > 0) model = FineTune(trained, config, model, epochs, parse.GetValue(structured) || headFraction is not null ? null : (s, scope));

            var target = CompressedRun.NewFolder(source, parse.GetValue(output), "pruned");
            CompressedRun.CopyRunFiles(source, target);
            target.WriteConfig(config);
            SafeTensors.Save(target.ModelPath, model.StateDict());
            var reloaded = Pipeline.Load(target, parse.GetValue(run.Data), threads: parse.GetValue(run.Threads));
            var after = CompressedRun.Measure(reloaded, target.ModelPath);
            var rows = CompressedRun.Rows(before, after);
            rows.Insert(0, new CompressedRun.Row("parameters", $"{parameters:N0}", $"{reloaded.Model.ParameterCount():N0}", ""));
            var report = SparsityReport.Of(reloaded.Model);
            rows.Insert(1, new CompressedRun.Row("non-zero weights", $"{nonZero:N0}", $"{report.NonZero:N0}", $"{report.Sparsity * 100:F1}% zero"));
            // Unstructured zeros still run through the dense kernels: only structured pruning lowers this count.
            long multiplyAddsAfter = MultiplyAdds.PerSample(reloaded.Model, sample);
            rows.Insert(2, new CompressedRun.Row("multiply-adds per sample", $"{multiplyAdds:N0}", $"{multiplyAddsAfter:N0}", $"{(double)multiplyAdds / multiplyAddsAfter:F2}× fewer"));
            string kind = headFraction is not null ? "attention-head" : parse.GetValue(structured) ? "structured" : scope == PruningScope.Global ? "global" : "layer-wise";
            string title = $"{trained.Config.Model}: {kind} pruning {s:P0}{(epochs > 0 ? $", {epochs} epochs fine-tuned" : "")}";
            CompressedRun.Write(console, title, "before", "after", rows);
            File.WriteAllText(target.ReportPath, string.Join('\n', new[] { $"# {title}", "", $"Pruned from `{source.Path}` by `loom prune`.", "" }
                .Concat(CompressedRun.Markdown("before", "after", rows)).Concat(["", "## Sparsity per layer", "", report.Markdown()])));
            console.WriteOneLine($"pruned run: {target.Path}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Scores the heads on the first <paramref name="samples"/> training samples (in the run's batch size), removes
    /// <paramref name="fraction"/> of them, prints each layer's counts and returns them for config.json.
    /// </summary>
    private static JsonObject PruneHeads(TrainedRun trained, Module<Tensor, Tensor> model, double fraction, int samples)
    {
        if (!model.Modules().Any(m => m is IHeadPrunable)) throw new UserErrorException($"the {trained.Config.Model} has no attention heads to remove");
        int batch = Math.Min(samples, trained.Config.BatchSize ?? 64);
        var calibration = Pipeline.Batches(trained.Data.Train, batch).Take((samples + batch - 1) / batch).Select(b => b.Inputs);
        IReadOnlyList<PrunedHeads> cut;
        try
        {
            cut = HeadPruning.Prune(model, fraction, HeadPruning.Importance(model, calibration));
        }
        catch (NotSupportedException e)
        {
            throw new UserErrorException($"the {trained.Config.Model} cannot take smaller attention layers: {e.Message}");
        }
        var counts = new JsonObject();
        foreach (var c in cut) counts[c.Layer] = c.After;
        return counts;
    }

    /// <summary>
    /// Trains the pruned model for <paramref name="epochs"/> with the run's recipe; unstructured pruning happens
    /// during it (cubic ramp to the target over the first two thirds of the steps, masks re-applied after each step).
    /// </summary>
    private static Module<Tensor, Tensor> FineTune(TrainedRun trained, JsonObject config, Module<Tensor, Tensor> model, int epochs,
        (double Sparsity, PruningScope Scope)? unstructured)
    {
        // The training run's step limit is not the fine-tuning's: --finetune-epochs says how long.
        var recipe = TrainingConfig.FromJson(config.ToJsonString(), "config.json") with { Epochs = epochs, MaxSteps = null };
        var callbacks = new List<ICallback>();
        PruningCallback? pruning = null;
        if (unstructured is { } u)
        {
            long steps = epochs * (long)Math.Ceiling(trained.Data.Train.Count / (double)(recipe.BatchSize ?? 64));
            callbacks.Add(pruning = new PruningCallback(new SparsitySchedule(0, u.Sparsity, 0, Math.Max(1, steps * 2 / 3), Math.Max(1, steps / 30)), u.Scope));
        }
        var setup = Pipeline.Prepare(recipe, null, callbacks, trained.Data);
        setup.Model.LoadStateDict(model.StateDict());
        setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        // Stopped before the ramp's end (Ctrl-C, a smaller batch count than estimated): the target is reached anyway.
        if (unstructured is { } target && (pruning?.Masks?.Sparsity ?? 0) < target.Sparsity - 1e-9)
            PruningMasks.Magnitude(setup.Model, target.Sparsity, target.Scope, pruning?.Masks);
        setup.Model.Eval();
        return setup.Model;
    }
}
