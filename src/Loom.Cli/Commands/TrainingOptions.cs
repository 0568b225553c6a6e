using System.CommandLine;
using System.Globalization;
using Loom.Models;

namespace Loom.Cli.Commands;

/// <summary>The options `loom train` and `loom cv` share, and their mapping onto a <see cref="TrainingConfig"/>.</summary>
internal sealed class TrainingOptions
{
    private static readonly TrainingConfig Defaults = new();

    public Option<string> Data { get; } = new("--data") { Description = "built-in dataset name, a CSV file (with --target), an image folder (one sub-folder per class) or a folder of IDX files", DefaultValueFactory = _ => Defaults.Data };
    public Option<string?> Target { get; } = new("--target") { Description = "label column of a CSV file" };
    public Option<string> Model { get; } = new("--model") { Description = $"model: {string.Join(", ", ModelZoo.Models.Keys)}", DefaultValueFactory = _ => Defaults.Model };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "passes over the training data", DefaultValueFactory = _ => Defaults.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "samples per batch", DefaultValueFactory = _ => Defaults.BatchSize };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, adam, adamw, rmsprop or adagrad", DefaultValueFactory = _ => Defaults.Optimizer };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "learning rate", DefaultValueFactory = _ => Defaults.LearningRate };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "none, step, cosine, warmup-cosine, onecycle or plateau", DefaultValueFactory = _ => Defaults.Schedule };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "weight decay (decoupled for adamw)", DefaultValueFactory = _ => Defaults.WeightDecay };
    public Option<double> L1 { get; } = new("--l1") { Description = "L1 penalty on weights", DefaultValueFactory = _ => 0 };
    public Option<double> L2 { get; } = new("--l2") { Description = "L2 penalty on weights", DefaultValueFactory = _ => 0 };
    public Option<double> Dropout { get; } = new("--dropout") { Description = "dropout probability", DefaultValueFactory = _ => Defaults.Dropout };
    public Option<int> Hidden { get; } = new("--hidden") { Description = "hidden width of the MLP", DefaultValueFactory = _ => Defaults.Hidden };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "random seed (same seed, same numbers)", DefaultValueFactory = _ => Defaults.Seed };
    public Option<int> Threads { get; } = new("--threads") { Description = "threads for kernels", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<double> ValidationFraction { get; } = new("--val-fraction") { Description = "fraction of the training data held out for validation", DefaultValueFactory = _ => Defaults.ValidationFraction };
    public Option<int> Patience { get; } = new("--patience") { Description = "stop when validation loss has not improved for this many epochs (0: never)", DefaultValueFactory = _ => 0 };
    public Option<string> ImageSize { get; } = new("--image-size") { Description = "HEIGHTxWIDTH images of an image folder are resized to", DefaultValueFactory = _ => "28x28" };
    public Option<int> Channels { get; } = new("--channels") { Description = "1 (grayscale) or 3 (RGB) for image folders", DefaultValueFactory = _ => 1 };
    public Option<long?> MaxSteps { get; } = new("--max-steps") { Description = "stop after this many optimiser steps" };

    public IEnumerable<Option> All => [Data, Target, Model, Epochs, BatchSize, Optimizer, LearningRate, Schedule, WeightDecay, L1, L2, Dropout, Hidden, Seed, Threads, ValidationFraction, Patience, ImageSize, Channels, MaxSteps];

    public TrainingConfig Read(ParseResult parse)
    {
        var size = parse.GetValue(ImageSize)!.Split('x');
        if (size.Length != 2 || !int.TryParse(size[0], NumberStyles.None, CultureInfo.InvariantCulture, out int h) || !int.TryParse(size[1], NumberStyles.None, CultureInfo.InvariantCulture, out int w))
            throw new UserErrorException($"--image-size expects HEIGHTxWIDTH such as 28x28, got '{parse.GetValue(ImageSize)}'");
        var config = new TrainingConfig
        {
            Data = parse.GetValue(Data)!,
            Target = parse.GetValue(Target),
            Model = parse.GetValue(Model)!,
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            Optimizer = parse.GetValue(Optimizer)!,
            LearningRate = parse.GetValue(LearningRate),
            Schedule = parse.GetValue(Schedule)!,
            WeightDecay = parse.GetValue(WeightDecay),
            L1 = parse.GetValue(L1),
            L2 = parse.GetValue(L2),
            Dropout = parse.GetValue(Dropout),
            Hidden = parse.GetValue(Hidden),
            Seed = parse.GetValue(Seed),
            Threads = parse.GetValue(Threads),
            ValidationFraction = parse.GetValue(ValidationFraction),
            Patience = parse.GetValue(Patience),
            ImageSize = [h, w],
            ImageChannels = parse.GetValue(Channels),
            MaxSteps = parse.GetValue(MaxSteps),
        };
        config.Validate();
        return config;
    }
}
