namespace Loom.Testing;

/// <summary>The Pang &amp; Lee movie-review polarity sets in Debian's python3-pattern (research use).</summary>
public static class PangLee
{
    public const string Folder = "/usr/share/doc/python3-pattern/test/corpora/";
    public const string Sentences = Folder + "polarity-en-pang&lee2.csv", Reviews = Folder + "polarity-en-pang&lee1.csv";

    public static readonly InstalledData Data = new("Pang & Lee movie-review polarity (4,000 sentences, 1,500 reviews)", "apt-get install python3-pattern", Sentences, Reviews);
}

public sealed class PangLeeFactAttribute() : InstalledDataFactAttribute(PangLee.Data);
