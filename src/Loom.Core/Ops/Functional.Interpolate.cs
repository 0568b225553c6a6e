namespace Loom;

// Resampling of the spatial dimensions of [N, C, *], one dimension at a time (both methods are separable), composed
// from differentiable ops: nearest is x.IndexSelect(d, source), linear is
//   y = x.IndexSelect(d, i0)·(1 − λ) + x.IndexSelect(d, i1)·λ,   i0 = ⌊s⌋, i1 = min(i0 + 1, n − 1), λ = s − i0,
// so the backward spreads each output's gradient onto its one or two sources. The source coordinate s of output j, as
// PyTorch computes it (scale = 1/scale_factor when one is given, else in/out):
//   nearest:        ⌊j·scale⌋ in float32 arithmetic, as PyTorch's nearest_idx (in = out: j; out = 2·in: j/2)
//   nearest-exact:  ⌊(j + ½)·scale⌋
//   linear:         (j + ½)·scale − ½ clamped at 0, or with align_corners j·(in − 1)/(out − 1)
public static partial class Functional
{
    /// <summary>
    /// Resizes the spatial dimensions of <paramref name="input"/> [N, C, *] to <paramref name="size"/>, or by
    /// <paramref name="scaleFactor"/> (⌊in·factor⌋), like <c>torch.nn.functional.interpolate</c>. One value stands for
    /// every spatial dimension.
    /// </summary>
    /// <param name="alignCorners">Linear modes only: map the corner pixels' centres onto each other (true) or the
    /// corners of the pixel grid (false, the default, as PyTorch).</param>
    public static Tensor Interpolate(Tensor input, int[]? size = null, double[]? scaleFactor = null, InterpolateMode mode = InterpolateMode.Nearest,
        bool? alignCorners = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        const string op = "interpolate";
        int spatial = input.Rank - 2;
        if (spatial < 1 || spatial > 3) throw new ArgumentException($"{op}: expected input [N, C, *] with 1 to 3 spatial dimensions, got shape {input.Shape}");
        if ((size is null) == (scaleFactor is null)) throw new ArgumentException($"{op}: give exactly one of size and scale factor (input {input.Shape})");
        bool linear = mode is InterpolateMode.Linear or InterpolateMode.Bilinear;
        if (!linear && alignCorners is not null)
            throw new ArgumentException($"{op}: align corners applies to the linear modes only, not {mode}");
        if (mode == InterpolateMode.Linear && spatial != 1 || mode == InterpolateMode.Bilinear && spatial != 2)
            throw new ArgumentException($"{op}: {mode} mode needs {(mode == InterpolateMode.Linear ? "[N, C, L]" : "[N, C, H, W]")} input, got shape {input.Shape}");
        Tensor.CheckFloat(input.DType, op);
        var sizes = Expand(size, spatial, "size", op);
        var factors = Expand(scaleFactor, spatial, "scale factor", op);

        var x = input;
        for (int s = 0; s < spatial; s++)
        {
            int axis = 2 + s, n = input.Shape[axis];
            double? factor = factors?[s];
            if (factor is double f && !(f > 0)) throw new ArgumentException($"{op}: scale factors must be positive, got {f}");
            int outSize = sizes?[s] ?? (int)Math.Floor(n * factor!.Value);
            if (outSize <= 0) throw new ArgumentException($"{op}: output size {outSize} along dimension {axis} of input {input.Shape} must be positive");
            if (n == 0) throw new ArgumentException($"{op}: input {input.Shape} is empty along dimension {axis}");
            x = linear
                ? LinearAlong(x, axis, n, outSize, factor, alignCorners ?? false)
                : x.IndexSelect(axis, Tensor.FromArray(NearestSources(n, outSize, factor, exact: mode == InterpolateMode.NearestExact)));
        }
        return x;
    }

    private static T[]? Expand<T>(T[]? values, int count, string what, string op)
    {
        if (values is null) return null;
        if (values.Length == 1) return [.. Enumerable.Repeat(values[0], count)];
        if (values.Length != count) throw new ArgumentException($"{op}: {what} has {values.Length} values for {count} spatial dimensions");
        return values;
    }

    /// <summary>PyTorch's nearest_idx / nearest_exact_idx: the scale and the product in float32.</summary>
    private static long[] NearestSources(int n, int outSize, double? factor, bool exact)
    {
        float scale = factor is double f ? (float)(1.0 / f) : (float)n / outSize;
        var src = new long[outSize];
        for (int j = 0; j < outSize; j++)
        {
            if (!exact && outSize == n) src[j] = j;
            else if (!exact && outSize == 2 * n) src[j] = j >> 1;
            else src[j] = Math.Min((long)MathF.Floor((exact ? j + 0.5f : j) * scale), n - 1);
        }
        return src;
    }

    private static Tensor LinearAlong(Tensor x, int axis, int n, int outSize, double? factor, bool alignCorners)
    {
        var i0 = new long[outSize];
        var i1 = new long[outSize];
        var lambda = new double[outSize];
        // The coordinates in the tensor's own precision, as PyTorch's opmath (so float32 rounds its indices alike).
        bool single = x.DType == DType.Float32;
        double scale = alignCorners
            ? outSize > 1 ? Round(single, (double)(n - 1) / (outSize - 1)) : 0
            : factor is double f ? Round(single, 1.0 / f) : Round(single, (double)n / outSize);
        for (int j = 0; j < outSize; j++)
        {
            double s = alignCorners ? Round(single, scale * j) : Math.Max(Round(single, Round(single, scale * (j + 0.5)) - 0.5), 0);
            i0[j] = Math.Min((long)s, n - 1);
            i1[j] = Math.Min(i0[j] + 1, n - 1);
            lambda[j] = Round(single, s - i0[j]);
        }
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[axis] = outSize;
        var w1 = Tensor.FromArray(lambda, shape).To(x.DType);
        var w0 = w1.RSub(1);
        return x.IndexSelect(axis, Tensor.FromArray(i0)).Mul(w0).Add(x.IndexSelect(axis, Tensor.FromArray(i1)).Mul(w1));
    }

    private static double Round(bool single, double v) => single ? (float)v : v;
}
