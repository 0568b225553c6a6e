namespace Loom.Models;

/// <summary>
/// How `--width` turns a layer's channel or unit count into a narrower (or wider) one. One rule for every network that
/// takes the option, so a cnn and a resnet-mini of the same width round alike.
/// </summary>
internal static class WidthFactor
{
    /// <summary><paramref name="units"/> × <paramref name="factor"/>, rounded half away from zero, at least 1.</summary>
    public static int Scale(int units, double factor) => Math.Max(1, (int)Math.Round(units * factor, MidpointRounding.AwayFromZero));
}
