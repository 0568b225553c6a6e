using Loom.Nn;
using Loom.Nn.Serialization;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// What a task's own verb (`loom detect`, `listen`, `faces verify`) needs of a run folder without its data: the run's
/// config, checked to be of that task, and its trained weights.
/// </summary>
public static class TrainedWeights
{
    /// <summary>The run's config.json (checked as <see cref="Pipeline.ReadConfig"/> does); a run of another task is one line naming both.</summary>
    public static TrainingConfig ReadConfig(RunFolder folder, string task, string verb)
    {
        var config = Pipeline.ReadConfig(folder);
        if (config.Task != task) throw new ArgumentException($"loom {verb} needs a {task} run; {folder.Path} is a {config.Task} run");
        return config;
    }

    /// <summary>Loads the run's model.safetensors (best.safetensors when <paramref name="best"/> and there is one) into <paramref name="model"/>.</summary>
    public static void Load(Module model, RunFolder folder, bool best = false)
    {
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
    }
}
