namespace Loom.Models.Tests.Tasks;

/// <summary>Labelled text picks the text-classification task; vocabularies are fitted on training text only; the lexicon baseline is VADER's rules by hand.</summary>
public sealed class TextClassificationTaskTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_csv_of_texts_and_labels_is_text_classification_with_textcnn_while_a_table_stays_classification()
    {
        var text = _temp.File("reviews.csv");
        File.WriteAllText(text, "label,text\npos,a warm and funny film with heart\nneg,the plot drags on and on and on\n");
        var resolved = Models.Tasks.Resolve(new TrainingConfig { Data = text });
        Assert.Equal(("text-classification", "textcnn"), (resolved.Config.Task, resolved.Config.Model));
        Assert.Equal(resolved.Config.ToJson(), Models.Tasks.Resolve(resolved.Config).Config.ToJson());
        var table = _temp.File("table.csv");
        File.WriteAllText(table, "x,y,label\n1,2,a\n3,4,b\n");
        Assert.Equal("classification", Models.Tasks.Resolve(new TrainingConfig { Data = table }).Config.Task);
    }

    [Fact]
    public void A_cross_validation_fold_fits_its_vocabulary_on_its_own_training_texts()
    {
        var data = new TextClassificationData(["good film", "bad film", "fine acting", "poor acting"], [1, 0, 1, 0], [], [], ["neg", "pos"], 50, 1, "test");
        Assert.NotNull(data.Tokenizer!.Id("poor"));
        var fold = data.Fold([0, 1, 2], [3]);
        Assert.Null(fold.Tokenizer!.Id("poor")); // only in the held-out row
        Assert.NotNull(fold.Tokenizer!.Id("fine"));
        Assert.Equal(["poor acting"], fold.TestTexts);
        // Its held-out text is encoded with the fold's vocabulary: poor is unknown there.
        Assert.Equal(SpecialTokens.Reserved.Unk, (int)fold.Test.Inputs.ToArray<long>()[0]);
    }

    [Fact]
    public void The_lexicon_score_sums_valences_flipping_negated_words_and_weighting_around_but()
    {
        var lexicon = SentimentLexicon.Vader;
        double good = lexicon.Valence("good"), bad = lexicon.Valence("bad");
        Assert.True(good > 0 && bad < 0, "VADER rates good positive and bad negative");
        Assert.Equal(good, lexicon.Score("Good."), 12);
        Assert.Equal(-0.74 * good, lexicon.Score("not good"), 12);
        Assert.Equal(-0.74 * good, lexicon.Score("it isn't really very good"), 12); // isn't is three words before good
        Assert.Equal(good, lexicon.Score("not xyzzy plugh frob good"), 12);       // not is four words before: out of reach
        Assert.Equal(0.5 * good + 1.5 * bad, lexicon.Score("good but bad"), 12);
        Assert.Equal(0, lexicon.Score("xyzzy plugh"));
    }

    [Fact]
    public void The_lexicon_baseline_learns_which_class_is_positive_and_the_best_threshold_from_training_texts()
    {
        var lexicon = SentimentLexicon.Vader;
        // Class 1 holds the clearly positive texts; the mildly positive "okay" belongs to class 0, so the best
        // threshold lies between okay's score and good's, not at 0.
        string[] texts = ["great", "good", "okay", "bad", "awful"];
        Assert.True(lexicon.Score("okay") > 0 && lexicon.Score("okay") < lexicon.Score("good"));
        var baseline = LexiconBaseline.Fit(lexicon, texts, [1, 1, 0, 0, 0]);
        Assert.Equal(1, baseline.Positive);
        Assert.Equal((lexicon.Score("okay") + lexicon.Score("good")) / 2, baseline.Threshold, 12);
        Assert.Equal([1, 1, 0, 0, 0], texts.Select(baseline.Predict));
        var flipped = LexiconBaseline.Fit(lexicon, texts, [0, 0, 1, 1, 1]);
        Assert.Equal(0, flipped.Positive);
        Assert.Equal([0, 0, 1, 1, 1], texts.Select(flipped.Predict));
    }
}
