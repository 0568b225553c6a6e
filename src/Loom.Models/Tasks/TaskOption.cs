using System.Text.Json.Nodes;

namespace Loom.Models;

/// <summary>
/// An option a task adds to `loom train` and `loom cv` (--target, --image-size…), declared without a command-line
/// library. The CLI makes one option per distinct <see cref="Name"/> across the tasks and stores each value given,
/// parsed, under <see cref="Key"/> in <see cref="TrainingConfig.TaskOptions"/>; resolving the task keeps only its own.
/// </summary>
/// <param name="Name">The command-line name, "--image-size".</param>
/// <param name="Key">The snake_case key in config.json, "image_size" (the task's options record names the property ImageSize).</param>
/// <param name="Description">One line of help.</param>
/// <param name="DefaultText">The default as the user would type it, for the help; null if there is none.</param>
/// <param name="Parse">The command-line text to its JSON value; throws an <see cref="ArgumentException"/> naming the option.</param>
public sealed record TaskOption(string Name, string Key, string Description, string? DefaultText, Func<string, JsonNode?> Parse)
{
    /// <summary>An option given without a value (--quick), stored as true; the CLI passes "true" to <see cref="Parse"/> when it is given.</summary>
    public bool IsFlag { get; init; }

    public static TaskOption Flag(string name, string key, string description) =>
        new(name, key, description, null, value => bool.TryParse(value, out bool b)
            ? JsonValue.Create(b)
            : throw new ArgumentException($"{name} takes no value, got '{value}'")) { IsFlag = true };

    public static TaskOption Text(string name, string key, string description, string? defaultText = null) =>
        new(name, key, description, defaultText, value => JsonValue.Create(value));

    public static TaskOption Integer(string name, string key, string description, int defaultValue) =>
        new(name, key, description, defaultValue.ToString(CultureInfo.InvariantCulture), value =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                ? JsonValue.Create(n)
                : throw new ArgumentException($"{name} expects a whole number, got '{value}'"));

    public static TaskOption Number(string name, string key, string description, double defaultValue) =>
        new(name, key, description, defaultValue.ToString(CultureInfo.InvariantCulture), value =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x)
                ? JsonValue.Create(x)
                : throw new ArgumentException($"{name} expects a number, got '{value}'"));

    /// <summary>Names separated by commas, such as zip,colour, stored as a list of strings.</summary>
    public static TaskOption List(string name, string key, string description) =>
        new(name, key, description, null, value =>
        {
            var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (items.Length == 0) throw new ArgumentException($"{name} expects names separated by commas, such as a,b; got '{value}'");
            return new JsonArray(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
        });

    /// <summary>HEIGHTxWIDTH, such as 28x28, stored as [height, width].</summary>
    public static TaskOption Size(string name, string key, string description, int[] defaultValue) =>
        new(name, key, description, $"{defaultValue[0]}x{defaultValue[1]}", value =>
        {
            var parts = value.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int w))
                throw new ArgumentException($"{name} expects HEIGHTxWIDTH such as 28x28, got '{value}'");
            return new JsonArray(h, w);
        });
}
