using System.Security.Cryptography;

namespace Loom.Models;

/// <summary>
/// Ensemble runs: a run folder whose config.json names member runs (<see cref="TrainingConfig.Ensemble"/>) instead of
/// holding weights. <see cref="Pipeline.Load"/> loads one as an <see cref="Ensemble"/> of its members, so eval, predict,
/// distillation and the compression report take it like any classifier run.
/// </summary>
public static class Ensembles
{
    /// <summary>The SHA-256 of a file, lower-case hex: how a run's weights are recognised later.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Writes the ensemble of <paramref name="members"/> into <paramref name="folder"/> (its config.json only: the
    /// members keep their weights) and returns it loaded. Members must be finished classification runs of the same
    /// data (same classes and input shape, read the same way); anything else is an <see cref="InvalidDataException"/>
    /// of one line.
    /// </summary>
    public static TrainedRun Create(IReadOnlyList<RunFolder> members, RunFolder folder, int? threads = null)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member run", nameof(members));
        var entries = new List<EnsembleMember>();
        foreach (var member in members)
        {
            if (Pipeline.ReadConfig(member).Ensemble is not null)
                throw new InvalidDataException($"{member.Path} is itself an ensemble: give its member runs instead");
            if (!File.Exists(member.ModelPath))
                throw new FileNotFoundException($"{member.Path} has no model.safetensors (it has not finished training); an ensemble member is a trained run", member.ModelPath);
            entries.Add(new EnsembleMember(Path.GetFullPath(member.Path), Sha256(member.ModelPath)));
        }
        var first = Pipeline.ReadConfig(members[0]);
        var config = Stored(first, entries);
        var run = Load(folder, config, data: null, threads);
        folder.WriteConfig(Pipeline.Stored(config));
        return run;
    }

    // The ensemble's config.json: the first member's data and task options (how its data is read), no training history.
    private static TrainingConfig Stored(TrainingConfig first, List<EnsembleMember> members) => first with
    {
        Model = Ensemble.ModelName,
        Ensemble = members,
        Distillation = null,
        Quantization = null,
        PrunedUnits = null,
        PrunedHeads = null,
    };

    /// <summary>The ensemble <paramref name="folder"/>'s config.json describes, each member checked against its recorded weights.</summary>
    internal static TrainedRun Load(RunFolder folder, TrainingConfig saved, string? data, int? threads)
    {
        var members = saved.Ensemble ?? throw new ArgumentException("not an ensemble run", nameof(saved));
        if (members.Count == 0) throw new InvalidDataException($"{folder.ConfigPath}: \"ensemble\" lists no member runs");
        TrainedRun? first = null;
        RunFolder? firstFolder = null;
        var models = new List<Module<Tensor, Tensor>>();
        foreach (var member in members)
        {
            // Checked before a RunFolder is made of it, which would create the folder.
            var weights = Path.Combine(member.Run, RunFolder.ModelFile);
            if (!File.Exists(weights))
                throw new FileNotFoundException($"{folder.ConfigPath}: the member run {member.Run} is gone (no model.safetensors); the ensemble cannot be loaded without it", weights);
            var memberFolder = new RunFolder(member.Run);
            // Before loading: other weights may not even fit the member's model, and the change is the news.
            if (Sha256(weights) != member.Sha256)
                throw new InvalidDataException($"{folder.ConfigPath}: the member {member.Run} has changed since the ensemble was made (its model.safetensors is not the one recorded); make the ensemble again with loom ensemble");
            if (Pipeline.ReadConfig(memberFolder).Ensemble is not null)
                throw new InvalidDataException($"{folder.ConfigPath}: the member {member.Run} is itself an ensemble; list its member runs instead");
            var run = Pipeline.Load(memberFolder, data, threads: threads);
            if (first is null)
            {
                if (run.Data is not ClassificationData)
                    throw new InvalidDataException($"{member.Run} is a {run.Task.Name} run; an ensemble averages class probabilities, so its members are classification runs");
                (first, firstFolder) = (run, memberFolder);
            }
            else Compatible(firstFolder!, first, memberFolder, run);
            models.Add(run.Model);
        }
        var ensemble = new Ensemble(models);
        ensemble.Eval();
        // Every member reads the data as the first does (checked), so the first's data is the ensemble's.
        var config = Stored(first!.Config, members) with { Threads = first.Config.Threads };
        return new TrainedRun(config, first.Task, first.Data, ensemble) { Notes = first.Notes };
    }

    // The members score the first member's batches: they must have been trained on the same classes from samples of the
    // same shape, read the same way (a table's standardisation is fitted per run and kept in its folder).
    private static void Compatible(RunFolder firstFolder, TrainedRun first, RunFolder otherFolder, TrainedRun other)
    {
        string Differ(string what) => $"ensemble members differ in {what}: {firstFolder.Path} against {otherFolder.Path}; members must be classifiers of the same task and data";
        if (first.Task.Name != other.Task.Name) throw new InvalidDataException(Differ($"task ({first.Task.Name}, {other.Task.Name})"));
        var (x, y) = ((ClassificationData)first.Data, (ClassificationData)other.Data);
        if (!x.InputShape.SequenceEqual(y.InputShape))
            throw new InvalidDataException(Differ($"input shape ([{string.Join(", ", x.InputShape)}], [{string.Join(", ", y.InputShape)}])"));
        if (!x.ClassNames.SequenceEqual(y.ClassNames))
            throw new InvalidDataException(Differ($"classes ({string.Join(", ", x.ClassNames)}; {string.Join(", ", y.ClassNames)})"));
        if (x.Description != y.Description || x.Test.Count != y.Test.Count) throw new InvalidDataException(Differ($"data ({x.Description}; {y.Description})"));
        foreach (var file in new[] { ClassificationData.StandardizeFile, ClassificationData.FeaturesFile })
        {
            string p = firstFolder.File(file), q = otherFolder.File(file);
            if (File.Exists(p) != File.Exists(q) || File.Exists(p) && File.ReadAllText(p) != File.ReadAllText(q))
                throw new InvalidDataException(Differ($"how their features are read ({file})"));
        }
    }

}
