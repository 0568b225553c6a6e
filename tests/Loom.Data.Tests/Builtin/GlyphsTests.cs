using System.Globalization;

namespace Loom.Data.Tests.Builtin;

/// <summary>Characters rendered from fonts as training identities: which characters, and how they are drawn.</summary>
public sealed class GlyphsTests
{
    internal static readonly InstalledData DejaVu = new("the DejaVu fonts", "apt-get install fonts-dejavu-core fonts-dejavu-extra",
        Path.Combine(Glyphs.DefaultFontFolder, "DejaVuSans.ttf"), Path.Combine(Glyphs.DefaultFontFolder, "DejaVuSerif.ttf"),
        Path.Combine(Glyphs.DefaultFontFolder, "DejaVuSans-Oblique.ttf"));

    // Basic Latin to Greek and Coptic: enough scripts for homoglyphs (Latin A, Greek Alpha) and every kind of number
    // (digits, superscripts, fractions), in a second rather than the full search's tens of seconds.
    private const int LastTested = 0x3FF;

    [Fact]
    public void A_folder_without_fonts_is_one_error_naming_it_and_the_package()
    {
        var empty = Directory.CreateTempSubdirectory("loom-fonts").FullName;
        try
        {
            File.WriteAllText(Path.Combine(empty, "readme.txt"), "not a font");
            var message = Assert.Throws<InvalidOperationException>(() => Glyphs.FindFonts(empty)).Message;
            Assert.Contains(empty, message);
            Assert.Contains("fonts-dejavu-core", message);
            Assert.Contains("no font files", Assert.Throws<InvalidOperationException>(() => Glyphs.FindFonts(Path.Combine(empty, "missing"))).Message);
        }
        finally { Directory.Delete(empty, recursive: true); }
    }

    [DejaVuFontsFact]
    public void Identities_are_letters_and_symbols_never_a_number_nor_two_alike()
    {
        DejaVu.Require();
        var fonts = Glyphs.FindFonts();
        var all = Glyphs.ChooseIdentities(fonts, 100_000, LastTested);
        Assert.True(all.Count > 150, $"{all.Count} identities up to U+03FF");
        Assert.Equal(all.Order(), all);
        Assert.All(all, cp => Assert.DoesNotContain(CharUnicodeInfo.GetUnicodeCategory(cp),
            new[] { UnicodeCategory.DecimalDigitNumber, UnicodeCategory.OtherNumber, UnicodeCategory.LetterNumber, UnicodeCategory.NonSpacingMark, UnicodeCategory.ModifierLetter }));
        // Digits, superscript two, one half; a Greek Alpha and a small o draw as a Latin A and a capital O do.
        Assert.DoesNotContain(all, cp => cp is >= '0' and <= '9' or 0xB2 or 0xBD or 0x391 or 'o');
        Assert.Contains('A', all);
        Assert.Contains('O', all);
        Assert.Contains(0x3B2, all);                                       // Greek beta, unlike any Latin letter
        var references = all.Select(cp => Glyphs.Reference(fonts, cp)!).ToArray();
        var digits = Enumerable.Range('0', 10).Select(d => Glyphs.Reference(fonts, d)!).ToArray();
        for (int i = 0; i < references.Length; i++)
        {
            Assert.All(digits, d => Assert.True(Dot(d, references[i]) < Glyphs.SameShape, $"U+{all[i]:X4} looks like a digit"));
            for (int j = 0; j < i; j++)
                Assert.True(Dot(references[j], references[i]) < Glyphs.SameShape, $"U+{all[i]:X4} looks like U+{all[j]:X4}");
        }
        // Fewer asked for: spread over the list, in order, from its first.
        var ten = Glyphs.ChooseIdentities(fonts, 10, LastTested);
        Assert.Equal(10, ten.Count);
        Assert.Equal(all[0], ten[0]);
        Assert.Equal(ten.Order(), ten);
        Assert.True(ten[^1] > all[all.Count / 2], "the ten reach the second half of the list");
        Assert.All(ten, cp => Assert.Contains(cp, all));
    }

    [DejaVuFontsFact]
    public void Renders_are_seeded_and_laid_out_as_MNIST_digits()
    {
        DejaVu.Require();
        var fonts = Glyphs.FindFonts();
        int[] identities = ['A', 'k', 0x3B2];
        var (data, names) = Glyphs.Render(fonts, identities, perIdentity: 6, seed: 7, firstTarget: 7);
        Assert.Equal(["U+0041 A", "U+006B k", "U+03B2 β"], names);
        Assert.Equal([18, 1, 28, 28], data.Inputs.Shape.ToArray());
        Assert.Equal(Enumerable.Range(7, 3).SelectMany(t => Enumerable.Repeat((long)t, 6)), data.Targets.ToArray<long>());
        Assert.True(Glyphs.Render(fonts, identities, 6, seed: 7, firstTarget: 7).Data.Inputs.Equal(data.Inputs));
        Assert.False(Glyphs.Render(fonts, identities, 6, seed: 8, firstTarget: 7).Data.Inputs.Equal(data.Inputs));
        var pixels = data.Inputs.ToArray<float>();
        Assert.All(pixels, v => Assert.InRange(v, 0f, 1f));
        for (int n = 0; n < data.Count; n++)
        {
            var image = pixels.AsSpan(n * 784, 784);
            double mass = 0, x = 0, y = 0;
            int top = 28, bottom = -1, left = 28, right = -1;
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++)
                {
                    float v = image[r * 28 + c];
                    mass += v; x += v * c; y += v * r;
                    if (v < 0.5f) continue;
                    (top, bottom, left, right) = (Math.Min(top, r), Math.Max(bottom, r), Math.Min(left, c), Math.Max(right, c));
                }
            // Centred by mass to a fraction of a pixel; the solid ink fills the 20-pixel box along its longer side
            // (blur softens the edge by a pixel or so either way).
            Assert.InRange(x / mass, 13.3, 13.7);
            Assert.InRange(y / mass, 13.3, 13.7);
            Assert.InRange(Math.Max(bottom - top, right - left) + 1, 16, 22);
            Assert.True(image[0] == 0 && image[^1] == 0, "the corners stay black");
        }
        // The samples of one identity differ: a font, a slant and a thickness of their own.
        Assert.False(pixels.AsSpan(0, 784).SequenceEqual(pixels.AsSpan(784, 784)));
    }

    [DejaVuFontsFact]
    public void A_character_no_font_draws_is_an_error_naming_it()
    {
        DejaVu.Require();
        Assert.Contains("U+E000", Assert.Throws<ArgumentException>(() => Glyphs.Render(Glyphs.FindFonts(), [0xE000], 1, seed: 1)).Message);
    }

    private static float Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
