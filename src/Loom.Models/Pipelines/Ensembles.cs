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
    /// <param name="outOfFold">Average, for each sample, only the members that did not train on it
    /// (<see cref="Ensemble.TrainedOn"/>): each member's training rows are reproduced from its config.json (its split
    /// seed, validation fraction and fold) and recorded, so a later load refuses a member whose split has changed.</param>
    public static TrainedRun Create(IReadOnlyList<RunFolder> members, RunFolder folder, int? threads = null, bool outOfFold = false)
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
        var config = Stored(first, entries, outOfFold);
        var run = Load(folder, config, data: null, threads, recordSplits: true);
        // The members as the load recorded them (with their training splits when out of fold).
        folder.WriteConfig(Pipeline.Stored(config with { Ensemble = run.Config.Ensemble }));
        return run;
    }

    // The ensemble's config.json: the first member's data and task options (how its data is read), no training history.
    private static TrainingConfig Stored(TrainingConfig first, List<EnsembleMember> members, bool outOfFold) => first with
    {
        Model = Ensemble.ModelName,
        Ensemble = members,
        OutOfFold = outOfFold ? true : null,
        SplitSeed = null,
        Fold = null,
        Distillation = null,
        Quantization = null,
        PrunedUnits = null,
        PrunedHeads = null,
    };

    /// <summary>The ensemble <paramref name="folder"/>'s config.json describes, each member checked against its recorded weights.</summary>
    /// <param name="recordSplits">Making the ensemble: an out-of-fold ensemble's members get their training splits
    /// recorded rather than checked.</param>
    internal static TrainedRun Load(RunFolder folder, TrainingConfig saved, string? data, int? threads, bool recordSplits = false)
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
        bool outOfFold = saved.OutOfFold == true;
        if (outOfFold)
        {
            // Another --data is scored with the members' own training data in mind: a sample of it that is a member's
            // training sample is still that member's.
            var own = data is null ? first!.Data : Pipeline.Load(firstFolder!, threads: threads).Data;
            (ensemble.TrainedOn, members) = TrainedOn(folder, members, own, recordSplits);
        }
        // Every member reads the data as the first does (checked), so the first's data is the ensemble's.
        var config = Stored(first!.Config, members, outOfFold) with { Threads = first.Config.Threads };
        return new TrainedRun(config, first.Task, first.Data, ensemble) { Notes = first.Notes };
    }

    /// <summary>
    /// Which members trained on a sample, by its content: each member's training rows reproduced from its config.json
    /// (<see cref="Pipeline.TrainingRows"/>) and checked against (or, when <paramref name="record"/>, recorded in) the
    /// ensemble's config.json, then every training sample's key (<see cref="Compress.TeacherCache.SampleKeys"/>, the key the
    /// distillation's cache uses) mapped to the bit mask of the members that trained on it. Keyed by content because
    /// a model's forward sees the batch, not dataset indices; a sample that appears twice in the data counts as trained
    /// on if either copy was.
    /// </summary>
    private static (Func<Tensor, ulong[]> TrainedOn, List<EnsembleMember> Members) TrainedOn(RunFolder folder, List<EnsembleMember> members, TaskData data, bool record)
    {
        if (members.Count > 64) throw new InvalidDataException($"{folder.ConfigPath}: an out-of-fold ensemble takes at most 64 members, this one lists {members.Count}");
        var train = ((ClassificationData)data).Train;
        var keys = new (ulong, ulong)[train.Count];
        const int chunk = 1024;
        for (int start = 0; start < train.Count; start += chunk)
            Compress.TeacherCache.SampleKeys(train.Inputs.Narrow(0, start, Math.Min(chunk, train.Count - start))).CopyTo(keys, start);
        var masks = new Dictionary<(ulong, ulong), ulong>();
        var recorded = new List<EnsembleMember>(members.Count);
        for (int i = 0; i < members.Count; i++)
        {
            var member = members[i];
            var config = Pipeline.ReadConfig(new RunFolder(member.Run));
            ulong splitSeed = config.SplitSeed ?? config.Seed;
            var trained = Pipeline.TrainingRows(config, data).Train;
            var sha = Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(trained.AsSpan())));
            if (record) member = member with { SplitSeed = splitSeed, Fold = config.Fold, TrainedRowsSha256 = sha };
            else if (member.TrainedRowsSha256 is null)
                throw new InvalidDataException($"{folder.ConfigPath}: the member {member.Run} records no training split (\"trained_rows_sha256\"), which an out-of-fold ensemble needs; make the ensemble again with loom ensemble --out-of-fold");
            else if (member.SplitSeed != splitSeed || member.Fold != config.Fold || member.TrainedRowsSha256 != sha)
                throw new InvalidDataException($"{folder.ConfigPath}: the member {member.Run}'s training split cannot be reproduced: its config.json now gives split seed {splitSeed}, fold {config.Fold?.ToString() ?? "none"}" +
                    $"{(member.TrainedRowsSha256 != sha ? " and other training rows" : "")} than recorded (split seed {member.SplitSeed}, fold {member.Fold?.ToString() ?? "none"}); make the ensemble again with loom ensemble --out-of-fold");
            recorded.Add(member);
            foreach (int row in trained) masks[keys[row]] = masks.GetValueOrDefault(keys[row]) | 1UL << i;
        }
        return (input =>
        {
            var keys = Compress.TeacherCache.SampleKeys(input);
            var result = new ulong[keys.Length];
            for (int b = 0; b < keys.Length; b++) result[b] = masks.GetValueOrDefault(keys[b]);
            return result;
        }, recorded);
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
