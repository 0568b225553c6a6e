using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace Loom.Data;

/// <summary>
/// BERT's WordPiece over a pretrained model's vocab.txt (one token a line, the line number its id), as
/// Microsoft.ML.Tokenizers implements it: basic tokenization (punctuation split off, Chinese characters one by one),
/// lower-casing and accent stripping for uncased models, then the longest vocabulary pieces ("##" continuing a word).
/// The ids are the ones the pretrained model was trained with, so its embeddings read text as they were trained to.
/// </summary>
public sealed class WordPieceTokenizer
{
    private readonly BertTokenizer _tokenizer;

    private readonly bool _stripAccents;

    private WordPieceTokenizer(BertTokenizer tokenizer, int vocabSize, bool stripAccents)
    {
        _tokenizer = tokenizer;
        VocabSize = vocabSize;
        _stripAccents = stripAccents;
    }

    /// <summary>
    /// The tokenizer of the vocabulary in <paramref name="vocab"/> (UTF-8 vocab.txt). <paramref name="lowerCase"/>:
    /// an uncased model (bert-base-uncased, all-MiniLM-L6-v2), whose tokenizer also strips accents.
    /// </summary>
    public static WordPieceTokenizer FromVocab(byte[] vocab, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        // Counted here because the tokenizer keeps its vocabulary to itself; every line is one id, empty ones included.
        int lines = 0;
        foreach (byte b in vocab) if (b == (byte)'\n') lines++;
        if (vocab.Length > 0 && vocab[^1] != (byte)'\n') lines++;
        var options = new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase };
        using var stream = new MemoryStream(vocab, writable: false);
        return new WordPieceTokenizer(BertTokenizer.Create(stream, options), lines, lowerCase);
    }

    public int VocabSize { get; }

    /// <summary>[CLS], which starts every sequence.</summary>
    public int Cls => _tokenizer.ClassificationTokenId;

    /// <summary>[SEP], which ends every sequence.</summary>
    public int Sep => _tokenizer.SeparatorTokenId;

    /// <summary>[PAD], which fills batches (masked out of attention).</summary>
    public int Pad => _tokenizer.PaddingTokenId;

    /// <summary>The word pieces of <paramref name="text"/>, without [CLS] and [SEP].</summary>
    public int[] Encode(string text)
    {
        // Hugging Face strips accents from the canonical decomposition (é → e + U+0301, the mark then dropped); the
        // tokenizer here left a precomposed "café" whole, an [UNK], so the accents go before it sees the text.
        if (_stripAccents) text = StripAccents(text);
        return [.. _tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true)];
    }

    private static string StripAccents(string text)
    {
        var kept = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue; // a decomposed accent
            kept.Append(c switch
            {
                >= LatinFirst and <= LatinLast => LatinBases[c - LatinFirst],
                >= LatinAdditionalFirst and <= LatinAdditionalLast => LatinAdditionalBases[c - LatinAdditionalFirst],
                _ => c,
            });
        }
        return kept.ToString();
    }

    // Loom runs with invariant globalization, where string.Normalize(FormD) left "café" precomposed (the BERT-ids
    // test caught it), so the decomposition Hugging Face uses (NFD, then the marks dropped) is tabled here for the Latin letters: each
    // precomposed letter of U+00C0–U+024F and U+1E00–U+1EFF maps to the base letter of its canonical decomposition
    // (itself where it has none, as Æ, Ø and ß do). Generated from Python's unicodedata.
    private const char LatinFirst = '\u00C0', LatinLast = '\u024F', LatinAdditionalFirst = '\u1E00', LatinAdditionalLast = '\u1EFF';
    private const string LatinBases = "AAAAAA\u00C6CEEEEIIII\u00D0NOOOOO\u00D7\u00D8UUUUY\u00DE\u00DFaaaaaa\u00E6ceeeeiiii\u00F0nooooo\u00F7\u00F8uuuuy\u00FEyAaAaAaCcCcCcCcDd\u0110\u0111EeEeEeEeEeGgGgGgGgHh\u0126\u0127IiIiIiIiI\u0131\u0132\u0133JjKk\u0138LlLlLl\u013F\u0140\u0141\u0142NnNnNn\u0149\u014A\u014BOoOoOo\u0152\u0153RrRrRrSsSsSsSsTtTt\u0166\u0167UuUuUuUuUuUuWwYyYZzZzZz\u017F\u0180\u0181\u0182\u0183\u0184\u0185\u0186\u0187\u0188\u0189\u018A\u018B\u018C\u018D\u018E\u018F\u0190\u0191\u0192\u0193\u0194\u0195\u0196\u0197\u0198\u0199\u019A\u019B\u019C\u019D\u019E\u019FOo\u01A2\u01A3\u01A4\u01A5\u01A6\u01A7\u01A8\u01A9\u01AA\u01AB\u01AC\u01AD\u01AEUu\u01B1\u01B2\u01B3\u01B4\u01B5\u01B6\u01B7\u01B8\u01B9\u01BA\u01BB\u01BC\u01BD\u01BE\u01BF\u01C0\u01C1\u01C2\u01C3\u01C4\u01C5\u01C6\u01C7\u01C8\u01C9\u01CA\u01CB\u01CCAaIiOoUuUuUuUuUu\u01DDAaAa\u00C6\u00E6\u01E4\u01E5GgKkOoOo\u01B7\u0292j\u01F1\u01F2\u01F3Gg\u01F6\u01F7NnAa\u00C6\u00E6\u00D8\u00F8AaAaEeEeIiIiOoOoRrRrUuUuSsTt\u021C\u021DHh\u0220\u0221\u0222\u0223\u0224\u0225AaEeOoOoOoOoYy\u0234\u0235\u0236\u0237\u0238\u0239\u023A\u023B\u023C\u023D\u023E\u023F\u0240\u0241\u0242\u0243\u0244\u0245\u0246\u0247\u0248\u0249\u024A\u024B\u024C\u024D\u024E\u024F";
    private const string LatinAdditionalBases = "AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMmMmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVvWwWwWwWwWwXxXxYyZzZzZzhtwy\u1E9A\u017F\u1E9C\u1E9D\u1E9E\u1E9FAaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEeEeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy\u1EFA\u1EFB\u1EFC\u1EFD\u1EFE\u1EFF";

    /// <summary>The text of <paramref name="ids"/>, word pieces joined back into words.</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids) ?? "";
}
