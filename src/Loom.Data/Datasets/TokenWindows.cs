namespace Loom.Data;

/// <summary>
/// A token stream cut into training windows for a language model: sample i is the <c>context</c> tokens starting at
/// i·stride as input and the same span shifted by one as target (the next token at every position). The windows of a
/// stream lie inside it, so streams split by position (<see cref="SplitByPosition"/>) share no window.
/// </summary>
public static class TokenWindows
{
    /// <summary>Inputs and targets [N, context] (Int64), N = ⌊(tokens − 1 − context) / stride⌋ + 1 (0 when the stream is too short).</summary>
    public static TensorDataset Create(ReadOnlySpan<int> tokens, int context, int? stride = null)
    {
        if (context < 1) throw new ArgumentException($"TokenWindows: the context must be at least 1 token, got {context}");
        int step = stride ?? context;
        if (step < 1) throw new ArgumentException($"TokenWindows: the stride must be at least 1 token, got {step}");
        int n = Count(tokens.Length, context, step);
        var inputs = new long[n * context];
        var targets = new long[n * context];
        for (int i = 0; i < n; i++)
        {
            var window = tokens.Slice(i * step, context + 1);
            for (int t = 0; t < context; t++)
            {
                inputs[i * context + t] = window[t];
                targets[i * context + t] = window[t + 1];
            }
        }
        return new TensorDataset(Tensor.FromArray(inputs, n, context), Tensor.FromArray(targets, n, context));
    }

    /// <summary>How many windows <see cref="Create"/> makes of a stream of <paramref name="length"/> tokens.</summary>
    public static int Count(int length, int context, int stride) => length < context + 1 ? 0 : (length - 1 - context) / stride + 1;

    /// <summary>
    /// The stream cut into three consecutive parts, training first, then validation, then test (the last
    /// <paramref name="testFraction"/> of the tokens), so no text of one part appears in another.
    /// </summary>
    public static (int[] Train, int[] Validation, int[] Test) SplitByPosition(ReadOnlySpan<int> tokens, double validationFraction, double testFraction)
    {
        if (!(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1))
            throw new ArgumentException($"TokenWindows.SplitByPosition: the validation ({validationFraction}) and test ({testFraction}) fractions must be ≥ 0 and leave some training text");
        int n = tokens.Length;
        int test = (int)Math.Round(n * testFraction), validation = (int)Math.Round(n * validationFraction);
        int trainEnd = n - test - validation;
        return (tokens[..trainEnd].ToArray(), tokens[trainEnd..(n - test)].ToArray(), tokens[(n - test)..].ToArray());
    }
}
