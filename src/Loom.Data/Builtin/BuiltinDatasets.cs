namespace Loom.Data;

/// <summary>
/// The registry of datasets Loom can load without downloading anything: data shipped inside Loom (the default,
/// <c>digits</c>) or installed by a package. Each entry names its source and licence and says whether it is on this
/// machine; <c>loom datasets</c> prints this list.
/// </summary>
public static class BuiltinDatasets
{
    /// <summary>The dataset used when none is named: always available.</summary>
    public const string Default = Digits.Name;

    public static IReadOnlyList<string> Names { get; } = [Digits.Name, FashionMnist.Name, SklearnDigits.Name, LfwSubset.Name];

    /// <summary>Every built-in dataset with its availability checked now.</summary>
    public static IReadOnlyList<DatasetInfo> List() => Names.Select(n => Info(n)).ToArray();

    /// <summary>Facts about one dataset; <paramref name="location"/> overrides where it is looked for (a folder or file).</summary>
    public static DatasetInfo Info(string name, string? location = null) => Normalize(name) switch
    {
        Digits.Name => Digits.Info,
        FashionMnist.Name => FashionMnist.GetInfo(location),
        SklearnDigits.Name => SklearnDigits.GetInfo(location),
        LfwSubset.Name => LfwSubset.GetInfo(location),
        _ => throw Unknown(name),
    };

    /// <summary>Loads a dataset's fixed train/test split; <paramref name="location"/> overrides where its files are read from.</summary>
    public static DatasetSplit Load(string name, string? location = null) => Normalize(name) switch
    {
        Digits.Name => Digits.Load(),
        FashionMnist.Name => FashionMnist.Load(location),
        SklearnDigits.Name => SklearnDigits.Load(location),
        LfwSubset.Name => LfwSubset.Load(location),
        _ => throw Unknown(name),
    };

    private static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant().Replace('_', '-');
    }

    private static ArgumentException Unknown(string name) =>
        new($"unknown dataset '{name}'; built-in datasets: {string.Join(", ", Names)}");
}
