namespace Loom.Nn;

/// <summary>What <see cref="Module.LoadStateDict"/> did not load when it ran non-strict.</summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
