using System.Globalization;
using System.Numerics.Tensors;
using SkiaSharp;

namespace Loom.Data;

/// <summary>
/// Characters rendered from installed fonts as many extra identities for open-set metric learning on 28×28
/// handwriting-like images: every letter or symbol the fonts draw that is not a digit and does not look like one is an
/// identity; its samples are renders in the font files that have it, each with a random affine distortion (slant,
/// rotation, aspect), stroke thickening and blur, laid out as MNIST lays out a digit (the ink scaled to fit a 20×20 box
/// keeping its aspect, then centred by its centre of mass in 28×28). Nothing is written to disk.
/// </summary>
/// <remarks>
/// Which characters are identities depends only on the fonts, not on the seed: candidates are the Basic Multilingual
/// Plane's letters and symbols below U+3000 (no number of any kind — digits, superscripts, fractions, circled or
/// Roman numerals — no compatibility variants, no combining or modifier marks) drawn by at least
/// <see cref="MinFonts"/> of the files; each is drawn undistorted in every file that has it and the draws averaged (its
/// reference); a candidate whose reference correlates at <see cref="SameShape"/> or more with a digit's reference (O
/// against 0, l against 1) is dropped, as is one that correlates that much with a candidate kept before it in code
/// point order (Greek Α and Cyrillic А after Latin A, o after O), so no two identities look alike. The samples depend
/// on the seed alone.
/// </remarks>
public static class Glyphs
{
    public const string Name = "glyphs";

    /// <summary>Where the DejaVu fonts are installed on Debian (fonts-dejavu-core, fonts-dejavu-extra).</summary>
    public const string DefaultFontFolder = "/usr/share/fonts/truetype/dejavu";

    /// <summary>Side of a rendered image, as MNIST's.</summary>
    public const int Size = 28;

    /// <summary>Side of the box the ink is scaled to fit, as MNIST's.</summary>
    public const int Box = 20;

    /// <summary>Fewest font files a character must be drawn by to be an identity, so its samples vary in style.</summary>
    public const int MinFonts = 3;

    /// <summary>The correlation of two references at and above which they count as one shape.</summary>
    public const double SameShape = 0.9;

    private const int LastCodePoint = 0x2FFF;

    /// <summary>
    /// The .ttf and .otf files of <paramref name="folder"/> (default <see cref="DefaultFontFolder"/>), sorted by name;
    /// an <see cref="InvalidOperationException"/> naming the folder and the package to install when there are none.
    /// </summary>
    public static IReadOnlyList<string> FindFonts(string? folder = null)
    {
        folder ??= DefaultFontFolder;
        string[] files = Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)]
            : [];
        return files.Length > 0 ? files
            : throw new InvalidOperationException($"glyphs: no font files (.ttf, .otf) in {folder}; install fonts-dejavu-core and fonts-dejavu-extra (apt-get install fonts-dejavu-core fonts-dejavu-extra) or name another folder");
    }

    /// <summary>
    /// <paramref name="count"/> identities (code points) spread evenly over every distinct, non-digit-like character the
    /// fonts draw (see the remarks of <see cref="Glyphs"/>), in code point order; all of them when there are fewer.
    /// </summary>
    public static IReadOnlyList<int> ChooseIdentities(IReadOnlyList<string> fontFiles, int count) => ChooseIdentities(fontFiles, count, LastCodePoint);

    /// <summary><see cref="ChooseIdentities(IReadOnlyList{string}, int)"/> among code points up to <paramref name="lastCodePoint"/> (tests look at a few scripts only).</summary>
    internal static IReadOnlyList<int> ChooseIdentities(IReadOnlyList<string> fontFiles, int count, int lastCodePoint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var distinct = Distinct(fontFiles, lastCodePoint);
        if (distinct.Length <= count) return distinct;
        return [.. Enumerable.Range(0, count).Select(i => distinct[(int)((long)i * distinct.Length / count)])];
    }

    // Drawing every candidate in every font takes tens of seconds; a process that loads the identities twice (a test
    // run, training and then evaluating) draws them once.
    private static readonly Dictionary<string, int[]> DistinctCache = [];

    /// <summary>Every distinct, non-digit-like character the fonts draw, in code point order (see the remarks of <see cref="Glyphs"/>).</summary>
    private static int[] Distinct(IReadOnlyList<string> fontFiles, int lastCodePoint)
    {
        string key = $"{lastCodePoint}\n{string.Join("\n", fontFiles)}";
        lock (DistinctCache)
        {
            if (DistinctCache.TryGetValue(key, out var cached)) return cached;
            using var fonts = new FontSet(fontFiles);
            var digits = Enumerable.Range('0', 10).Select(fonts.Reference).OfType<float[]>().ToList();
            var kept = new List<(int CodePoint, float[] Reference)>();
            for (int cp = 0x21; cp <= lastCodePoint; cp++)
            {
                if (!IsCandidate(cp) || fonts.Covering(cp).Count < MinFonts || fonts.Reference(cp) is not { } reference) continue;
                if (digits.Any(d => TensorPrimitives.Dot(d, reference) >= SameShape)) continue;
                if (kept.Any(k => TensorPrimitives.Dot(k.Reference, reference) >= SameShape)) continue;
                kept.Add((cp, reference));
            }
            return DistinctCache[key] = [.. kept.Select(k => k.CodePoint)];
        }
    }

    /// <summary>
    /// The standardised (<see cref="Standardized"/>) mean undistorted render of <paramref name="codePoint"/> over the
    /// fonts that draw it, whose dot products decide which characters look alike; null when no font draws it with ink.
    /// </summary>
    internal static float[]? Reference(IReadOnlyList<string> fontFiles, int codePoint)
    {
        using var fonts = new FontSet(fontFiles);
        return fonts.Reference(codePoint);
    }

    /// <summary>
    /// <paramref name="perIdentity"/> random renders of each of <paramref name="identities"/>: inputs Float32
    /// [N, 1, 28, 28] in 0..1 (ink bright on black, as MNIST), targets Int64 [N] numbered from
    /// <paramref name="firstTarget"/> in the order given; names are "U+0041 A".
    /// </summary>
    public static (TensorDataset Data, IReadOnlyList<string> Names) Render(IReadOnlyList<string> fontFiles, IReadOnlyList<int> identities, int perIdentity, ulong seed, int firstTarget = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perIdentity, 1);
        using var fonts = new FontSet(fontFiles);
        var generator = new Generator(seed);
        int n = identities.Count * perIdentity;
        var pixels = new float[n * Size * Size];
        var targets = new long[n];
        for (int i = 0; i < identities.Count; i++)
        {
            var covering = fonts.Covering(identities[i]);
            if (covering.Count == 0) throw new ArgumentException($"glyphs: no font of {fontFiles.Count} draws U+{identities[i]:X4}");
            for (int s = 0; s < perIdentity; s++)
            {
                int row = i * perIdentity + s;
                var face = covering[generator.NextInt(0, covering.Count)];
                fonts.Draw(face, identities[i], Distortion.Draw(generator), pixels.AsSpan(row * Size * Size, Size * Size));
                targets[row] = firstTarget + i;
            }
        }
        var names = identities.Select(cp => $"U+{cp:X4} {char.ConvertFromUtf32(cp)}").ToArray();
        return (new TensorDataset(Tensor.FromArray(pixels, n, 1, Size, Size), Tensor.FromArray(targets, n)), names);
    }

    /// <summary>Letters and symbols; no number of any kind, no mark, no compatibility variant (fullwidth, superscript, ligature).</summary>
    private static bool IsCandidate(int cp)
    {
        if (cp is >= 0xD800 and <= 0xDFFF) return false;
        var category = CharUnicodeInfo.GetUnicodeCategory(cp);
        if (category is not (UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.OtherLetter or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.OtherSymbol)) return false;
        string text = char.ConvertFromUtf32(cp);
        string compatible = text.Normalize(NormalizationForm.FormKD);
        if (compatible != text.Normalize(NormalizationForm.FormD)) return false;
        return !compatible.EnumerateRunes().Any(r => Rune.GetUnicodeCategory(r) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.OtherNumber or UnicodeCategory.LetterNumber);
    }

    /// <summary>
    /// The image minus its mean, scaled to unit length: the dot product of two is their Pearson correlation. A flat
    /// image (no ink, or all ink) is all zeros, which correlates with nothing.
    /// </summary>
    internal static float[] Standardized(float[] image)
    {
        var centred = new float[image.Length];
        TensorPrimitives.Subtract(image, TensorPrimitives.Sum(image) / image.Length, centred);
        float norm = TensorPrimitives.Norm(centred);
        if (norm > 1e-6f) TensorPrimitives.Divide(centred, norm, centred);
        else Array.Clear(centred);
        return centred;
    }

    /// <summary>
    /// One sample's random distortion: slant (horizontal shear), rotation, aspect (width over height), the thickening in
    /// final pixels added around the outline, and the Gaussian blur's σ in final pixels.
    /// </summary>
    internal readonly record struct Distortion(double Shear, double RotationDegrees, double Aspect, double StrokePixels, double BlurPixels)
    {
        public static readonly Distortion None = new(0, 0, 1, 0, 0);

        public static Distortion Draw(Generator g) => new(
            Shear: -0.3 + 0.6 * g.NextDouble(),
            RotationDegrees: -12 + 24 * g.NextDouble(),
            Aspect: Math.Exp(Math.Log(0.75) + (Math.Log(1.33) - Math.Log(0.75)) * g.NextDouble()),
            StrokePixels: 1.6 * g.NextDouble(),
            BlurPixels: g.NextDouble() < 0.5 ? 0 : 0.8 * g.NextDouble());
    }

    /// <summary>The font files opened once, with which of them draw each character.</summary>
    private sealed class FontSet : IDisposable
    {
        private const float EmSize = 64;
        private readonly List<(SKTypeface Face, SKFont Font)> faces = [];
        private readonly SKBitmap canvasBitmap = new(new SKImageInfo(Size, Size, SKColorType.Alpha8, SKAlphaType.Premul));
        private readonly SKCanvas canvas;

        public FontSet(IReadOnlyList<string> files)
        {
            if (files.Count == 0) throw new ArgumentException("glyphs: no font files given");
            foreach (var file in files)
            {
                var face = SKTypeface.FromFile(file) ?? throw new InvalidDataException($"{file}: not a font Skia can read");
                faces.Add((face, new SKFont(face, EmSize)));
            }
            canvas = new SKCanvas(canvasBitmap);
        }

        public List<int> Covering(int cp) => [.. Enumerable.Range(0, faces.Count).Where(f => faces[f].Face.GetGlyph(cp) != 0)];

        /// <summary>The standardised mean undistorted render over every file that draws <paramref name="cp"/> with ink; null when none does.</summary>
        public float[]? Reference(int cp)
        {
            var sum = new float[Size * Size];
            var one = new float[Size * Size];
            int drawn = 0;
            foreach (int f in Covering(cp))
            {
                if (!Draw(f, cp, Distortion.None, one)) continue;
                TensorPrimitives.Add(sum, one, sum);
                drawn++;
            }
            return drawn == 0 ? null : Standardized(sum);
        }

        /// <summary>Renders one sample into <paramref name="into"/> (Size×Size, 0..1); false (and zeros) when the glyph has no ink.</summary>
        public bool Draw(int face, int cp, Distortion d, Span<float> into)
        {
            into.Clear();
            var font = faces[face].Font;
            using var path = font.GetGlyphPath(faces[face].Face.GetGlyph(cp));
            if (path is null || path.IsEmpty) return false;
            var shape = SKMatrix.CreateRotationDegrees((float)d.RotationDegrees)
                .PreConcat(SKMatrix.CreateSkew((float)d.Shear, 0))
                .PreConcat(SKMatrix.CreateScale((float)Math.Sqrt(d.Aspect), (float)(1 / Math.Sqrt(d.Aspect))));
            path.Transform(shape);
            var bounds = path.TightBounds;
            float extent = Math.Max(bounds.Width, bounds.Height);
            if (!(extent > 0)) return false;
            // The thickening adds half its width on every side, so the outline is scaled to leave room for it in the box.
            float scale = (float)((Box - d.StrokePixels) / extent);
            using var paint = new SKPaint
            {
                IsAntialias = true,
                Color = SKColors.Black,
                Style = d.StrokePixels > 0 ? SKPaintStyle.StrokeAndFill : SKPaintStyle.Fill,
                StrokeWidth = (float)(d.StrokePixels / scale),
                StrokeJoin = SKStrokeJoin.Round,
                StrokeCap = SKStrokeCap.Round,
                MaskFilter = d.BlurPixels > 0 ? SKMaskFilter.CreateBlur(SKBlurStyle.Normal, (float)d.BlurPixels) : null,
            };
            float dx = Size / 2f, dy = Size / 2f;
            for (int pass = 0; pass < 2; pass++)
            {
                canvas.Clear(SKColors.Transparent);
                canvas.SetMatrix(SKMatrix.CreateTranslation(dx, dy).PreConcat(SKMatrix.CreateScale(scale, scale)).PreConcat(SKMatrix.CreateTranslation(-bounds.MidX, -bounds.MidY)));
                canvas.DrawPath(path, paint);
                canvas.Flush();
                var (mass, cx, cy) = Read(into);
                if (mass <= 0) return false;
                // MNIST centres the centre of mass; a second pass draws the outline shifted by what the first one measured.
                dx += (float)(Size / 2.0 - 0.5 - cx);
                dy += (float)(Size / 2.0 - 0.5 - cy);
            }
            return true;
        }

        private (double Mass, double X, double Y) Read(Span<float> into)
        {
            var bytes = canvasBitmap.GetPixelSpan();
            int stride = canvasBitmap.RowBytes;
            double mass = 0, sx = 0, sy = 0;
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    float v = bytes[y * stride + x] / 255f;
                    into[y * Size + x] = v;
                    mass += v; sx += v * x; sy += v * y;
                }
            return mass > 0 ? (mass, sx / mass, sy / mass) : (0, 0, 0);
        }

        public void Dispose()
        {
            canvas.Dispose();
            canvasBitmap.Dispose();
            foreach (var (face, font) in faces) { font.Dispose(); face.Dispose(); }
        }
    }
}
