namespace Loom.Data.Tests.Builtin;

/// <summary>The installed data sets the built-in loaders read.</summary>
internal static class TestDatasets
{
    public static readonly InstalledData FashionMnist = new("Fashion-MNIST", "apt-get install dataset-fashion-mnist",
        Data.FashionMnist.Files.Select(f => Path.Combine(Data.FashionMnist.DefaultFolder, f)));

    public static readonly InstalledData SklearnDigits = new("scikit-learn's digits", "apt-get install python3-sklearn", Data.SklearnDigits.DefaultPath);

    public static readonly InstalledData LfwSubset = new("scikit-image's LFW subset", "apt-get install python3-skimage", Data.LfwSubset.DefaultPath);
}

public sealed class FashionMnistFactAttribute() : InstalledDataFactAttribute(TestDatasets.FashionMnist);

public sealed class SklearnDigitsFactAttribute() : InstalledDataFactAttribute(TestDatasets.SklearnDigits);

public sealed class LfwSubsetFactAttribute() : InstalledDataFactAttribute(TestDatasets.LfwSubset);

/// <summary>A test of <see cref="Data.Glyphs"/> on the DejaVu fonts (fonts-dejavu-core and fonts-dejavu-extra).</summary>
public sealed class DejaVuFontsFactAttribute() : InstalledDataFactAttribute(GlyphsTests.DejaVu);
