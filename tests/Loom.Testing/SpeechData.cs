namespace Loom.Testing;

/// <summary>The speech synthesisers and real recordings that speech tests need from Debian's packages (see shared DATA.md).</summary>
public static class SpeechData
{
    public const string AsteriskDigits = "/usr/share/asterisk/sounds/en_US_f_Allison/digits";

    /// <summary>espeak-ng, flite and festival with the three US English voices the generator uses.</summary>
    public static InstalledData Synthesizers { get; } = new("the speech synthesisers",
        "apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
        "/usr/bin/espeak-ng", "/usr/bin/flite", "/usr/bin/festival",
        "/usr/share/festival/voices/english/kal_diphone", "/usr/share/festival/voices/english/ked_diphone",
        "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts");

    /// <summary>espeak-ng alone, for the quick tests.</summary>
    public static InstalledData Espeak { get; } = new("espeak-ng", "apt-get install espeak-ng", "/usr/bin/espeak-ng");

    /// <summary>A real speaker's digits 0–9 at 8 kHz (asterisk-core-sounds-en-wav, CC-BY-SA-3.0).</summary>
    public static InstalledData Asterisk { get; } = new("asterisk-core-sounds-en-wav", "apt-get install asterisk-core-sounds-en-wav",
        Enumerable.Range(0, 10).Select(d => Path.Combine(AsteriskDigits, $"{d}.wav")));
}

/// <summary>A [Fact] needing espeak-ng, flite and festival.</summary>
public sealed class SynthesizersFactAttribute() : InstalledDataFactAttribute(SpeechData.Synthesizers);

/// <summary>A [Fact] needing espeak-ng.</summary>
public sealed class EspeakFactAttribute() : InstalledDataFactAttribute(SpeechData.Espeak);

/// <summary>A [Fact] needing espeak-ng and the asterisk recordings.</summary>
public sealed class EspeakAndAsteriskFactAttribute() : InstalledDataFactAttribute(new InstalledData("espeak-ng and asterisk-core-sounds-en-wav",
    "apt-get install espeak-ng asterisk-core-sounds-en-wav", [.. SpeechData.Espeak.Paths, .. SpeechData.Asterisk.Paths]));
