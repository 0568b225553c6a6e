using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Models;

/// <summary>
/// Everything a classification run needs, as `loom train` options; saved as the run folder's config.json so that
/// `loom eval`, `loom predict` and `--resume` can rebuild the same data, model and optimiser.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>A built-in dataset name, a CSV file, an image folder (one sub-folder per class) or a folder of IDX files.</summary>
    public string Data { get; init; } = "digits";

    /// <summary>The label column, for CSV data.</summary>
    public string? Target { get; init; }

    public string Model { get; init; } = "cnn";
    public int Epochs { get; init; } = 8;
    public int BatchSize { get; init; } = 64;
    public string Optimizer { get; init; } = "adam";
    public double LearningRate { get; init; } = 2e-3;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; }

    /// <summary>none, step, cosine, warmup-cosine, onecycle or plateau.</summary>
    public string Schedule { get; init; } = "cosine";

    public double L1 { get; init; }
    public double L2 { get; init; }
    public double Dropout { get; init; } = 0.1;
    public int Hidden { get; init; } = 256;
    public ulong Seed { get; init; } = 42;
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Fraction of the training data held out for validation (stratified).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Early-stopping patience in epochs on validation loss (0: off).</summary>
    public int Patience { get; init; }

    public double? ClipGradNorm { get; init; }

    /// <summary>(height, width) images from an image folder are resized to.</summary>
    public int[] ImageSize { get; init; } = [28, 28];

    /// <summary>1 (grayscale) or 3 (RGB) for image folders.</summary>
    public int ImageChannels { get; init; } = 1;

    /// <summary>Stop after this many optimiser steps (for quick runs and tests).</summary>
    public long? MaxSteps { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainingConfig FromJson(string json, string source) =>
        JsonSerializer.Deserialize<TrainingConfig>(json, Json) ?? throw new InvalidDataException($"{source}: empty training configuration");

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Epochs >= 1, $"--epochs must be at least 1, got {Epochs}");
        Require(BatchSize >= 1, $"--batch-size must be at least 1, got {BatchSize}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be a positive number, got {LearningRate}");
        Require(WeightDecay >= 0, $"--weight-decay must be ≥ 0, got {WeightDecay}");
        Require(L1 >= 0 && L2 >= 0, $"--l1 and --l2 must be ≥ 0, got {L1} and {L2}");
        Require(Dropout >= 0 && Dropout < 1, $"--dropout must be in [0, 1), got {Dropout}");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, $"--val-fraction must be in [0, 1), got {ValidationFraction}");
        Require(Threads >= 1, $"--threads must be at least 1, got {Threads}");
        Require(Hidden >= 1, $"--hidden must be at least 1, got {Hidden}");
        Require(ImageSize.Length == 2 && ImageSize.All(s => s > 0), "--image-size must be HEIGHTxWIDTH with positive sizes");
        Require(ImageChannels is 1 or 3, $"--channels must be 1 or 3, got {ImageChannels}");
        Require(new[] { "sgd", "adam", "adamw", "rmsprop", "adagrad" }.Contains(Optimizer), $"--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got '{Optimizer}'");
        Require(new[] { "none", "step", "cosine", "warmup-cosine", "onecycle", "plateau" }.Contains(Schedule), $"--schedule must be one of none, step, cosine, warmup-cosine, onecycle, plateau; got '{Schedule}'");
        Require(ModelZoo.Models.ContainsKey(Model), $"--model must be one of {string.Join(", ", ModelZoo.Models.Keys)}; got '{Model}'");
    }
}
