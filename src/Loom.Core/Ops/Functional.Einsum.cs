namespace Loom;

// Einstein summation, composed from differentiable ops (so gradients need no rule of their own):
//   1. each operand: a label repeated within it takes the diagonal (the two axes moved last, flattened, every
//      (n + 1)-th element kept by IndexSelect); a label found in no other operand and not in the output is summed out;
//   2. operands contract left to right, as PyTorch does without opt_einsum: labels in both that are still needed
//      (by the output or a later operand) are batch axes, the others are summed by one batched Matmul of
//      [batch…, left-only, shared] × [batch…, shared, right-only];
//   3. labels the output lacks are summed out and the rest permuted into the output's order.
// "..." stands for the same broadcast axes in every operand, aligned from the right. Without "->" the output is "..."
// followed by the labels that occur once, in alphabetical order (upper case first), as in PyTorch.
public static partial class Functional
{
    private const int EllipsisLabel = 1000; // labels of broadcast axes: EllipsisLabel + i, after the 52 letters

    /// <summary>
    /// Sums the product of <paramref name="operands"/> over the indices that <paramref name="equation"/> names (like
    /// <c>torch.einsum</c>): "ij,jk->ik" is a matrix product, "ii->i" a diagonal, "bij,bjk->bik" a batched product,
    /// "...ij->...ji" a transpose of the last two axes.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        ArgumentNullException.ThrowIfNull(operands);
        const string op = "einsum";
        var (inputs, output) = ParseEinsum(equation, operands, op);

        var terms = new List<(Tensor T, List<int> Labels)>();
        for (int i = 0; i < operands.Length; i++)
        {
            var (t, labels) = TakeDiagonals(operands[i], inputs[i], equation, op);
            var keep = new HashSet<int>(output);
            for (int j = 0; j < operands.Length; j++) if (j != i) keep.UnionWith(inputs[j]);
            terms.Add(SumOut(t, labels, keep));
        }

        var (result, current) = terms[0];
        for (int i = 1; i < terms.Count; i++)
        {
            var needed = new HashSet<int>(output);
            for (int j = i + 1; j < terms.Count; j++) needed.UnionWith(terms[j].Labels);
            (result, current) = Contract(result, current, terms[i].T, terms[i].Labels, needed, equation, op);
        }
        (result, current) = SumOut(result, current, new HashSet<int>(output));
        return result.Permute([.. output.Select(l => current.IndexOf(l))]).Contiguous();
    }

    /// <summary>Each operand's labels (ellipsis axes as EllipsisLabel + i, right-aligned) and the output's.</summary>
    private static (List<int>[] Inputs, List<int> Output) ParseEinsum(string equation, Tensor[] operands, string op)
    {
        string eq = equation.Replace(" ", "", StringComparison.Ordinal);
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var lhs = arrow < 0 ? eq : eq[..arrow];
        var terms = lhs.Split(',');
        if (terms.Length != operands.Length)
            throw new ArgumentException($"{op}: equation \"{equation}\" has {terms.Length} operand terms for {operands.Length} operands");
        int ellipsisRank = 0;
        var inputs = new List<int>[terms.Length];
        for (int i = 0; i < terms.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(operands[i], $"operands[{i}]");
            var (letters, hasEllipsis, position) = Letters(terms[i], equation, op);
            int rank = operands[i].Rank, broadcast = rank - letters.Count;
            if (hasEllipsis ? broadcast < 0 : broadcast != 0)
                throw new ArgumentException($"{op}: term \"{terms[i]}\" of \"{equation}\" does not fit operand {i} of shape {operands[i].Shape}");
            ellipsisRank = Math.Max(ellipsisRank, hasEllipsis ? broadcast : 0);
            inputs[i] = letters;
            if (hasEllipsis) inputs[i].InsertRange(position, Enumerable.Range(0, broadcast).Select(k => -1 - (broadcast - k))); // placeholders: −1 − distance from the right
        }
        for (int i = 0; i < inputs.Length; i++)
            inputs[i] = [.. inputs[i].Select(l => l < 0 ? EllipsisLabel + ellipsisRank + l + 1 : l)];

        List<int> output;
        var ellipsis = Enumerable.Range(EllipsisLabel, ellipsisRank).ToList();
        if (arrow >= 0)
        {
            var (letters, hasEllipsis, position) = Letters(eq[(arrow + 2)..], equation, op);
            if (letters.Distinct().Count() != letters.Count) throw new ArgumentException($"{op}: the output of \"{equation}\" repeats a label");
            var all = inputs.SelectMany(l => l).ToHashSet();
            foreach (var l in letters)
                if (!all.Contains(l)) throw new ArgumentException($"{op}: output label '{Label(l)}' of \"{equation}\" appears in no operand");
            output = letters;
            if (hasEllipsis) output.InsertRange(position, ellipsis); // without one, the broadcast axes are summed out
        }
        else
        {
            var counts = inputs.SelectMany(l => l).Where(l => l < EllipsisLabel).GroupBy(l => l).Where(g => g.Count() == 1).Select(g => g.Key).Order();
            output = [.. ellipsis, .. counts];
        }
        return (inputs, output);
    }

    private static (List<int> Letters, bool Ellipsis, int Position) Letters(string term, string equation, string op)
    {
        var letters = new List<int>();
        int at = term.IndexOf("...", StringComparison.Ordinal);
        if (at >= 0 && term.IndexOf("...", at + 3, StringComparison.Ordinal) >= 0)
            throw new ArgumentException($"{op}: term \"{term}\" of \"{equation}\" has more than one ellipsis");
        string plain = at < 0 ? term : term.Remove(at, 3);
        foreach (char c in plain)
        {
            if (c is >= 'A' and <= 'Z') letters.Add(c - 'A');
            else if (c is >= 'a' and <= 'z') letters.Add(26 + c - 'a');
            else throw new ArgumentException($"{op}: '{c}' in \"{equation}\" is not a letter (subscripts are a–z and A–Z, plus one '...' per term)");
        }
        return (letters, at >= 0, at < 0 ? 0 : term[..at].Count(char.IsLetter));
    }

    private static string Label(int l) => l < 26 ? ((char)('A' + l)).ToString() : ((char)('a' + l - 26)).ToString();

    private static (Tensor, List<int>) TakeDiagonals(Tensor t, List<int> labels, string equation, string op)
    {
        labels = [.. labels];
        for (int i = 0; i < labels.Count; i++)
        {
            int j = labels.IndexOf(labels[i], i + 1);
            if (j < 0) continue;
            int n = t.Shape[i];
            if (t.Shape[j] != n)
                throw new ArgumentException($"{op}: label '{Label(labels[i])}' of \"{equation}\" repeats over axes of sizes {n} and {t.Shape[j]} (shape {t.Shape})");
            // Move axes i and j last, flatten them, and keep positions k·(n + 1): the diagonal, as a new last axis.
            var order = Enumerable.Range(0, t.Rank).Where(d => d != i && d != j).Append(i).Append(j).ToArray();
            var moved = t.Permute(order);
            var dims = moved.Shape.ToArray()[..^2];
            t = moved.Reshape([.. dims, n * n]).IndexSelect(-1, Tensor.FromArray(Enumerable.Range(0, n).Select(k => (long)k * (n + 1)).ToArray()));
            int label = labels[i];
            labels = [.. order[..^2].Select(d => labels[d]), label];
            i = -1; // labels moved: look again from the start
        }
        return (t, labels);
    }

    /// <summary>Sums out the axes whose labels are not in <paramref name="keep"/>.</summary>
    private static (Tensor, List<int>) SumOut(Tensor t, List<int> labels, ISet<int> keep)
    {
        var drop = Enumerable.Range(0, labels.Count).Where(d => !keep.Contains(labels[d])).ToArray();
        if (drop.Length == 0) return (t, labels);
        return (t.Sum(drop), [.. labels.Where(l => keep.Contains(l))]);
    }

    private static (Tensor, List<int>) Contract(Tensor a, List<int> la, Tensor b, List<int> lb, HashSet<int> needed, string equation, string op)
    {
        var shared = la.Where(lb.Contains).ToList();
        var batch = shared.Where(needed.Contains).ToList();
        var summed = shared.Where(l => !needed.Contains(l)).ToList();
        // Labels on one side only that nothing later needs are summed before the product.
        (a, la) = SumOut(a, la, new HashSet<int>(needed.Concat(lb)));
        (b, lb) = SumOut(b, lb, new HashSet<int>(needed.Concat(la)));
        var left = la.Where(l => !lb.Contains(l)).ToList();
        var right = lb.Where(l => !la.Contains(l)).ToList();
        foreach (var l in summed)
            if (a.Shape[la.IndexOf(l)] != b.Shape[lb.IndexOf(l)])
                throw new ArgumentException($"{op}: label '{Label(l)}' of \"{equation}\" has size {a.Shape[la.IndexOf(l)]} in one operand and {b.Shape[lb.IndexOf(l)]} in another");

        int Size(Tensor t, List<int> labels, List<int> group) => group.Aggregate(1, (p, l) => p * t.Shape[labels.IndexOf(l)]);
        int[] Dims(Tensor t, List<int> labels, List<int> group) => [.. group.Select(l => t.Shape[labels.IndexOf(l)])];

        var ab = Dims(a, la, batch);
        var bb = Dims(b, lb, batch);
        var am = a.Permute([.. batch.Concat(left).Concat(summed).Select(l => la.IndexOf(l))]).Reshape([.. ab, Size(a, la, left), Size(a, la, summed)]);
        var bm = b.Permute([.. batch.Concat(summed).Concat(right).Select(l => lb.IndexOf(l))]).Reshape([.. bb, Size(b, lb, summed), Size(b, lb, right)]);
        var product = am.Matmul(bm);
        var batchDims = product.Shape.ToArray()[..batch.Count];
        var result = product.Reshape([.. batchDims, .. Dims(a, la, left), .. Dims(b, lb, right)]);
        return (result, [.. batch, .. left, .. right]);
    }
}
