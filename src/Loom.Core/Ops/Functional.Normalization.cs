namespace Loom;

// Normalisation layers. x̂ = (x − μ) · rstd with rstd = 1/√(σ² + eps) and σ² the biased variance over the
// normalised group of L elements; y = x̂ · w + b. With d = dy ⊙ w, every backward has the same shape:
//   dx = rstd · (d − mean(d) − x̂ · mean(d ⊙ x̂)),   dw = Σ dy ⊙ x̂,   db = Σ dy
//   layer_norm:  the group is each row over the trailing normalizedShape; w, b have that shape.
//   rms_norm:    no centring: x̂ = x · rrms, rrms = 1/√(mean(x²) + eps);  dx = rrms · (d − x̂ · mean(d ⊙ x̂)).
//   group_norm:  x is [N, C, *]; the group is one sample's C/G channels; w, b are per channel [C].
//   batch_norm:  x is [N, C, *]; the group is one channel over the batch and the spatial positions. In training
//                it uses the batch statistics and updates the running ones in place (unbiased variance, momentum m):
//                running = (1 − m) · running + m · batch. In evaluation it uses the running statistics, which are
//                constants: dx = dy · w · rstd.
public static partial class Functional
{
    /// <summary>
    /// Layer normalisation over the trailing <paramref name="normalizedShape"/> dimensions, as
    /// <c>torch.nn.functional.layer_norm</c>. Fused: one kernel computes the per-row mean and rstd (saved for
    /// backward, as llm.c) and writes the normalised, scaled and shifted row.
    /// </summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "layer_norm";
        var (rows, n) = NormalizedRows(input, normalizedShape, op);
        var w = AffineParameter(weight, new Shape(normalizedShape), input, "weight", op);
        var b = AffineParameter(bias, new Shape(normalizedShape), input, "bias", op);
        var x = input.Detach().Contiguous();
        var y = Tensor.Empty(input.Shape, input.DType);
        var mean = Tensor.Empty(new Shape(rows), input.DType);
        var rstd = Tensor.Empty(new Shape(rows), input.DType);
        ParallelHelper.For(rows, Tensor.RowGrain(n), (start, end) =>
        {
            int count = end - start;
            if (input.DType == DType.Float32)
                NormKernels.LayerNorm(x.Data<float>().Slice(start * n, count * n), count, n, Span(w), Span(b), (float)eps,
                    y.Data<float>().Slice(start * n, count * n), mean.Data<float>().Slice(start, count), rstd.Data<float>().Slice(start, count));
            else
                NormKernels.LayerNorm(x.Data<double>().Slice(start * n, count * n), count, n, SpanD(w), SpanD(b), eps,
                    y.Data<double>().Slice(start * n, count * n), mean.Data<double>().Slice(start, count), rstd.Data<double>().Slice(start, count));
        });
        if (!GradMode.ShouldRecord(input, weight, bias)) return y;
        return new LayerNormBackward("layer_norm", input, weight, bias, x, w, mean, rstd, rows, n).Attach(y);
    }

    /// <summary>
    /// RMS normalisation over the trailing <paramref name="normalizedShape"/> dimensions, as
    /// <c>torch.nn.functional.rms_norm</c>: y = x / √(mean(x²) + eps) · w. A null <paramref name="eps"/> uses the
    /// machine epsilon of the dtype, as PyTorch.
    /// </summary>
    public static Tensor RmsNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, double? eps = null)
    {
        const string op = "rms_norm";
        var (rows, n) = NormalizedRows(input, normalizedShape, op);
        var w = AffineParameter(weight, new Shape(normalizedShape), input, "weight", op);
        double e = eps ?? (input.DType == DType.Float32 ? MathF.BitIncrement(1f) - 1f : Math.BitIncrement(1.0) - 1.0);
        var x = input.Detach().Contiguous();
        var y = Tensor.Empty(input.Shape, input.DType);
        var rrms = Tensor.Empty(new Shape(rows), input.DType);
        ParallelHelper.For(rows, Tensor.RowGrain(n), (start, end) =>
        {
            int count = end - start;
            if (input.DType == DType.Float32)
                NormKernels.RmsNorm(x.Data<float>().Slice(start * n, count * n), count, n, Span(w), (float)e,
                    y.Data<float>().Slice(start * n, count * n), rrms.Data<float>().Slice(start, count));
            else
                NormKernels.RmsNorm(x.Data<double>().Slice(start * n, count * n), count, n, SpanD(w), e,
                    y.Data<double>().Slice(start * n, count * n), rrms.Data<double>().Slice(start, count));
        });
        if (!GradMode.ShouldRecord(input, weight, null)) return y;
        return new LayerNormBackward("rms_norm", input, weight, null, x, w, null, rrms, rows, n).Attach(y);
    }

    /// <summary>
    /// Batch normalisation of x [N, C, *] per channel, as <c>torch.nn.functional.batch_norm</c>. In training the
    /// batch statistics normalise (biased variance) and <paramref name="runningMean"/>/<paramref name="runningVar"/>,
    /// when given, are updated in place with the unbiased variance; in evaluation the running statistics normalise.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: false);

    /// <summary>
    /// activation(batch_norm(…)) as one op: the values of <see cref="BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, double, double)"/>
    /// followed by the activation's tensor op. ReLU is fused: it is applied as the normalised values are written, and
    /// its mask is folded into batch norm's backward, which saves a tensor and four passes over memory per layer (a
    /// ResNet spends a quarter of its step in these memory-bound passes). Other activations run as their own op.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps, Activation activation)
    {
        if (activation != Activation.Relu)
            return Activate(BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: false), activation);
        return BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: true);
    }

    private static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps, bool relu)
    {
        const string op = "batch_norm";
        var (n, c, s) = ChannelLayout(input, op);
        var w = AffineParameter(weight, new Shape(c), input, "weight", op);
        var b = AffineParameter(bias, new Shape(c), input, "bias", op);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: give both running_mean and running_var or neither");
        if (runningMean is not null) CheckRunning(runningMean, c, input, "running_mean");
        if (runningVar is not null) CheckRunning(runningVar, c, input, "running_var");
        if (!training && runningMean is null)
            throw new ArgumentException($"{op}: running_mean and running_var are required in evaluation mode (training: false), input shape {input.Shape}");
        long m = (long)n * s;
        if (training && m <= 1)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got input shape {input.Shape}");

        var x = input.Detach().Contiguous();
        var stats = input.DType == DType.Float32
            ? ChannelStats<float>(x, n, c, s, training, runningMean, runningVar, momentum, eps)
            : ChannelStats<double>(x, n, c, s, training, runningMean, runningVar, momentum, eps);
        var y = Tensor.Empty(input.Shape, input.DType);
        var scale = new double[c];
        var shift = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            scale[ch] = stats.Rstd[ch] * (w is null ? 1 : w.GetDouble(ch));
            shift[ch] = (b is null ? 0 : b.GetDouble(ch)) - stats.Mean[ch] * scale[ch];
        }
        if (input.DType == DType.Float32) ApplyChannelAffine<float>(x, y, n, c, s, scale, shift, perRow: false, relu);
        else ApplyChannelAffine<double>(x, y, n, c, s, scale, shift, perRow: false, relu);
        if (!GradMode.ShouldRecord(input, weight, bias)) return y;
        return new ChannelNormBackward(relu ? "batch_norm_relu" : "batch_norm", input, weight, bias, x, w, stats.Mean, stats.Rstd, n, c, s, groups: 0,
            training, relu ? y : null).Attach(y);
    }

    /// <summary>
    /// Group normalisation of x [N, C, *], as <c>torch.nn.functional.group_norm</c>: the C channels of each sample
    /// split into <paramref name="numGroups"/> groups, each normalised over its channels and spatial positions;
    /// <paramref name="weight"/> and <paramref name="bias"/> are per channel.
    /// </summary>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "group_norm";
        var (n, c, s) = ChannelLayout(input, op);
        if (numGroups <= 0 || c % numGroups != 0)
            throw new ArgumentException($"{op}: {c} channels of input shape {input.Shape} cannot be split into {numGroups} equal groups");
        var w = AffineParameter(weight, new Shape(c), input, "weight", op);
        var b = AffineParameter(bias, new Shape(c), input, "bias", op);
        var x = input.Detach().Contiguous();
        int rows = n * numGroups, length = c / numGroups * s;
        // The statistics of each (sample, group) are those of a row of the contiguous input.
        var mean = new double[rows];
        var rstd = new double[rows];
        if (input.DType == DType.Float32) GroupStats<float>(x, rows, length, eps, mean, rstd);
        else GroupStats<double>(x, rows, length, eps, mean, rstd);
        var y = Tensor.Empty(input.Shape, input.DType);
        var scale = new double[n * c];
        var shift = new double[n * c];
        int perGroup = c / numGroups;
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int g = i * numGroups + ch / perGroup;
                scale[i * c + ch] = rstd[g] * (w is null ? 1 : w.GetDouble(ch));
                shift[i * c + ch] = (b is null ? 0 : b.GetDouble(ch)) - mean[g] * scale[i * c + ch];
            }
        }
        if (input.DType == DType.Float32) ApplyChannelAffine<float>(x, y, n, c, s, scale, shift, perRow: true);
        else ApplyChannelAffine<double>(x, y, n, c, s, scale, shift, perRow: true);
        if (!GradMode.ShouldRecord(input, weight, bias)) return y;
        return new ChannelNormBackward("group_norm", input, weight, bias, x, w, mean, rstd, n, c, s, numGroups, training: true).Attach(y);
    }

    // ---------------------------------------------------------------- validation and helpers

    private static (int Rows, int N) NormalizedRows(Tensor input, int[] normalizedShape, string op)
    {
        if (!input.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64)");
        ArgumentNullException.ThrowIfNull(normalizedShape);
        int k = normalizedShape.Length;
        bool ok = k > 0 && k <= input.Rank;
        for (int i = 0; ok && i < k; i++) ok = input.Shape[input.Rank - k + i] == normalizedShape[i];
        if (!ok)
            throw new ArgumentException($"{op}: normalized shape {Shape.Format(normalizedShape)} does not match the last dimensions of input shape {input.Shape}");
        int rows = 1, n = 1;
        for (int i = 0; i < input.Rank - k; i++) rows *= input.Shape[i];
        foreach (int d in normalizedShape) n *= d;
        return (rows, n);
    }

    private static (int N, int C, int S) ChannelLayout(Tensor input, string op)
    {
        if (!input.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64)");
        if (input.Rank < 2) throw new ArgumentException($"{op}: input must be [N, C, *], got shape {input.Shape}");
        int s = 1;
        for (int i = 2; i < input.Rank; i++) s *= input.Shape[i];
        return (input.Shape[0], input.Shape[1], s);
    }

    /// <summary>The weight or bias as a contiguous tensor of the input's dtype, checked against the expected shape.</summary>
    private static Tensor? AffineParameter(Tensor? parameter, Shape expected, Tensor input, string what, string op)
    {
        if (parameter is null) return null;
        if (parameter.Shape != expected)
            throw new ArgumentException($"{op}: {what} of shape {parameter.Shape} does not match {expected} for input shape {input.Shape}");
        if (parameter.DType != input.DType)
            throw new ArgumentException($"{op}: {what} has dtype {parameter.DType.Name()}, the input {input.DType.Name()}");
        return parameter.Detach().Contiguous();
    }

    private static void CheckRunning(Tensor running, int c, Tensor input, string what)
    {
        if (running.Shape != new Shape(c))
            throw new ArgumentException($"batch_norm: {what} of shape {running.Shape} does not match the {c} channels of input shape {input.Shape}");
        if (running.DType != input.DType)
            throw new ArgumentException($"batch_norm: {what} has dtype {running.DType.Name()}, the input {input.DType.Name()}");
        if (!running.IsContiguous) throw new ArgumentException($"batch_norm: {what} must be contiguous to be updated in place");
    }

    private static ReadOnlySpan<float> Span(Tensor? t) => t is null ? default : t.Data<float>();

    private static ReadOnlySpan<double> SpanD(Tensor? t) => t is null ? default : t.Data<double>();

    // Per-row scratch of the channel norms (one value per (sample, channel) row: n·c of them, 2,048 for a batch of 32
    // with 64 channels) comes from the shared array pool: the layer runs every step, and fresh arrays made it the
    // bulk of a CNN step's garbage (Note [Distributed], session 26).
    private static T[] RentRows<T>(int rows) where T : unmanaged => ArrayPool<T>.Shared.Rent(Math.Max(rows, 1));

    private static void ReturnRows<T>(T[] rows) where T : unmanaged => ArrayPool<T>.Shared.Return(rows);

    /// <summary>
    /// Runs a row kernel of batch or group norm over [0, rows) of s elements each, split by whole rows across the threads
    /// above 128 Ki elements per thread. Each row's sums and outputs depend on that row alone and the per-channel totals
    /// are still added in row order afterwards, so the split cannot change a bit. On one thread these passes were a
    /// quarter of resnet-mini's step at both thread counts; split, a 16×28×28 layer at batch 128 takes 1.9 ms instead
    /// of 2.6 at two threads (forward and backward, ReLU fused; Note [Bench], session 36).
    /// </summary>
    private static void ForRows(int rows, int s, Action<int, int> body) => ParallelHelper.For(rows, BroadcastKernels.RowGrain(s), body);

    // Each row's copy of its channel's value: rows[i·c + ch] = perChannel[ch], or perChannel[i·c + ch] when already per row.
    private static void FillRows<T>(Span<T> rows, ReadOnlySpan<double> values, int c, bool perRow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows.Length; r++) rows[r] = T.CreateTruncating(values[perRow ? r : r % c]);
    }

    private readonly record struct ChannelStatistics(double[] Mean, double[] Rstd);

    // Per-channel mean and rstd of x [N, C, S]: batch statistics (two-pass) when training, with the running
    // statistics updated in place; the running statistics otherwise.
    private static ChannelStatistics ChannelStats<T>(Tensor x, int n, int c, int s, bool training, Tensor? runningMean, Tensor? runningVar,
        double momentum, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = new double[c];
        var rstd = new double[c];
        if (!training)
        {
            var rm = runningMean!.Data<T>();
            var rv = runningVar!.Data<T>();
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = double.CreateTruncating(rm[ch]);
                rstd[ch] = 1 / Math.Sqrt(double.CreateTruncating(rv[ch]) + eps);
            }
            return new ChannelStatistics(mean, rstd);
        }

        int rows = n * c;
        double m = (double)n * s;
        Span<double> variance = c <= 256 ? stackalloc double[c] : new double[c];
        variance.Clear();
        T[] perRowArray = RentRows<T>(rows), centersArray = RentRows<T>(rows);
        try
        {
            var perRow = perRowArray.AsSpan(0, rows);
            var centers = centersArray.AsSpan(0, rows);
            ForRows(rows, s, (r0, r1) => NormKernels.RowSums<T>(x.Data<T>()[(r0 * s)..(r1 * s)], r1 - r0, s, perRowArray.AsSpan(r0, r1 - r0)));
            for (int r = 0; r < rows; r++) mean[r % c] += double.CreateTruncating(perRow[r]);
            for (int ch = 0; ch < c; ch++) mean[ch] /= m;
            FillRows<T>(centers, mean, c, perRow: false);
            ForRows(rows, s, (r0, r1) => NormKernels.RowCenteredSquares<T>(x.Data<T>()[(r0 * s)..(r1 * s)], r1 - r0, s,
                centersArray.AsSpan(r0, r1 - r0), perRowArray.AsSpan(r0, r1 - r0)));
            for (int r = 0; r < rows; r++) variance[r % c] += double.CreateTruncating(perRow[r]);
        }
        finally
        {
            ReturnRows(perRowArray);
            ReturnRows(centersArray);
        }
        for (int ch = 0; ch < c; ch++)
        {
            variance[ch] /= m;
            rstd[ch] = 1 / Math.Sqrt(variance[ch] + eps);
        }
        if (runningMean is not null && runningVar is not null)
        {
            using (new NoGrad())
            {
                runningMean.MarkModifiedInPlace("batch_norm");
                runningVar.MarkModifiedInPlace("batch_norm");
            }
            var rm = runningMean.Data<T>();
            var rv = runningVar.Data<T>();
            for (int ch = 0; ch < c; ch++)
            {
                rm[ch] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(rm[ch]) + momentum * mean[ch]);
                rv[ch] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(rv[ch]) + momentum * variance[ch] * m / (m - 1));
            }
        }
        return new ChannelStatistics(mean, rstd);
    }

    private static void GroupStats<T>(Tensor x, int rows, int length, double eps, double[] mean, double[] rstd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] perRowArray = RentRows<T>(rows), centersArray = RentRows<T>(rows);
        try
        {
            var perRow = perRowArray.AsSpan(0, rows);
            NormKernels.RowSums<T>(x.Data<T>(), rows, length, perRow);
            for (int r = 0; r < rows; r++) mean[r] = double.CreateTruncating(perRow[r]) / length;
            FillRows<T>(centersArray.AsSpan(0, rows), mean, rows, perRow: true);
            NormKernels.RowCenteredSquares<T>(x.Data<T>(), rows, length, centersArray.AsSpan(0, rows), perRow);
            for (int r = 0; r < rows; r++) rstd[r] = 1 / Math.Sqrt(double.CreateTruncating(perRow[r]) / length + eps);
        }
        finally
        {
            ReturnRows(perRowArray);
            ReturnRows(centersArray);
        }
    }

    // y = x · scale + shift per (sample, channel) row (then max(·, 0) when relu); scale and shift are per channel, or already per row.
    private static void ApplyChannelAffine<T>(Tensor x, Tensor y, int n, int c, int s, double[] scale, double[] shift, bool perRow, bool relu = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = n * c;
        T[] scaleArray = RentRows<T>(rows), shiftArray = RentRows<T>(rows);
        try
        {
            var scaleRows = scaleArray.AsSpan(0, rows);
            var shiftRows = shiftArray.AsSpan(0, rows);
            FillRows<T>(scaleRows, scale, c, perRow);
            FillRows<T>(shiftRows, shift, c, perRow);
            ForRows(rows, s, (r0, r1) =>
            {
                var input = x.Data<T>()[(r0 * s)..(r1 * s)];
                var output = y.Data<T>()[(r0 * s)..(r1 * s)];
                var scaleRange = scaleArray.AsSpan(r0, r1 - r0);
                var shiftRange = shiftArray.AsSpan(r0, r1 - r0);
                if (relu) NormKernels.RowAffineRelu<T>(input, r1 - r0, s, scaleRange, shiftRange, output);
                else NormKernels.RowAffine<T>(input, r1 - r0, s, scaleRange, shiftRange, output);
            });
        }
        finally
        {
            ReturnRows(scaleArray);
            ReturnRows(shiftArray);
        }
    }

    /// <summary>Backward of layer norm and RMS norm (RMS norm has no mean and no bias).</summary>
    private sealed class LayerNormBackward : BackwardNode
    {
        private readonly SavedTensor _x, _rstd;
        private readonly SavedTensor? _weight, _mean;
        private readonly int _rows, _n;

        public LayerNormBackward(string op, Tensor input, Tensor? weight, Tensor? bias, Tensor x, Tensor? w, Tensor? mean, Tensor rstd, int rows, int n)
            : base(op, input, weight, bias)
        {
            _x = Save(x);
            _weight = w is null ? null : Save(w);
            _mean = mean is null ? null : Save(mean);
            _rstd = Save(rstd);
            (_rows, _n) = (rows, n);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var dy = gradOutput.Contiguous();
            var dx = NeedsGrad(0) ? Tensor.Empty(x.Shape, x.DType) : null;
            // The residual stream's gradient so far (it feeds this norm and an add): added in the kernel's last pass
            // instead of by the engine in a pass of its own.
            var pending = dx is not null && Inputs[0]!.DType == x.DType ? TakePendingGradient(0)?.Contiguous() : null;
            var dw = NeedsGrad(1) ? Tensor.Zeros(InputShape(1), x.DType) : null;
            var db = NeedsGrad(2) ? Tensor.Zeros(InputShape(2), x.DType) : null;
            if (x.DType == DType.Float32) Run<float>(x, dy, dx, dw, db, pending);
            else Run<double>(x, dy, dx, dw, db, pending);
            return [dx, dw, db];
        }

        private void Run<T>(Tensor x, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, Tensor? pending) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = _n;
            var w = _weight?.Value;
            var mean = _mean?.Value;
            var rstd = _rstd.Value;
            // Rows split over threads; each range accumulates its own weight and bias gradients, added in row order.
            var weightSums = dw is null ? null : new OrderedSums<T>(n);
            var biasSums = db is null ? null : new OrderedSums<T>(n);
            ParallelHelper.For(_rows, Tensor.RowGrain(n), (start, end) =>
            {
                int count = end - start;
                var pw = weightSums is null ? default : weightSums.Rent(start);
                var pb = biasSums is null ? default : biasSums.Rent(start);
                var dys = dy.Data<T>().Slice(start * n, count * n);
                var xs = x.Data<T>().Slice(start * n, count * n);
                var dxs = dx is null ? default : dx.Data<T>().Slice(start * n, count * n);
                var ws = w is null ? default : w.Data<T>();
                var adds = pending is null ? default : pending.Data<T>().Slice(start * n, count * n);
                if (mean is null)
                    NormKernels.RmsNormBackward<T>(dys, xs, count, n, ws, rstd.Data<T>().Slice(start, count), dxs, pw, addToDx: adds);
                else
                    NormKernels.LayerNormBackward<T>(dys, xs, count, n, ws, mean.Data<T>().Slice(start, count), rstd.Data<T>().Slice(start, count), dxs, pw, pb,
                        addToDx: adds);
            });
            weightSums?.AddInto(dw!.Data<T>());
            biasSums?.AddInto(db!.Data<T>());
        }
    }

    /// <summary>
    /// Backward of batch norm (groups = 0: statistics per channel over the batch) and group norm (statistics per
    /// sample and group). Both reduce to per-row sums over [N·C, S] followed by dx = dy · k1 + x · k2 + k3 per row.
    /// Batch norm fused with ReLU saves its output: dy is first masked where that output is ≤ 0 (ReLU's backward),
    /// inside the same passes.
    /// </summary>
    private sealed class ChannelNormBackward : BackwardNode
    {
        private readonly SavedTensor _x;
        private readonly SavedTensor? _reluOutput;
        private readonly Tensor? _weight;
        private readonly double[] _mean, _rstd;
        private readonly int _n, _c, _s, _groups;
        private readonly bool _batchStatistics;

        public ChannelNormBackward(string op, Tensor input, Tensor? weight, Tensor? bias, Tensor x, Tensor? w, double[] mean, double[] rstd,
            int n, int c, int s, int groups, bool training, Tensor? reluOutput = null) : base(op, input, weight, bias)
        {
            _x = Save(x);
            _reluOutput = reluOutput is null ? null : Save(reluOutput);
            _weight = w;
            (_mean, _rstd, _n, _c, _s, _groups, _batchStatistics) = (mean, rstd, n, c, s, groups, training);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var dy = gradOutput.Contiguous();
            var dx = NeedsGrad(0) ? Tensor.Empty(x.Shape, x.DType) : null;
            double[] dw, db;
            if (x.DType == DType.Float32) (dw, db) = Run<float>(x, dy, dx);
            else (dw, db) = Run<double>(x, dy, dx);
            return [dx, NeedsGrad(1) ? FromDoubles(dw, x.DType) : null, NeedsGrad(2) ? FromDoubles(db, x.DType) : null];
        }

        private static Tensor FromDoubles(double[] values, DType dtype) => Tensor.FromDoubles(values, new Shape(values.Length), dtype);

        private (double[] Dw, double[] Db) Run<T>(Tensor x, Tensor dy, Tensor? dx) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = _n, c = _c, s = _s, rows = n * c;
            // Six per-row scalars (centres, the two sums, k1..k3) in one pooled block.
            var scratch = RentRows<T>(6 * rows);
            try
            {
                return Run(x, dy, dx, scratch);
            }
            finally
            {
                ReturnRows(scratch);
            }
        }

        private (double[] Dw, double[] Db) Run<T>(Tensor x, Tensor dy, Tensor? dx, T[] scratch) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = _n, c = _c, s = _s, rows = n * c;
            int perGroup = _groups == 0 ? 1 : c / _groups;
            // The mean and rstd that apply to row (i, ch).
            int StatOf(int i, int ch) => _groups == 0 ? ch : i * _groups + ch / perGroup;
            ReadOnlySpan<T> weight = _weight is null ? default : _weight.Data<T>();

            var centers = scratch.AsSpan(0, rows);
            var sumDy = scratch.AsSpan(rows, rows);
            var sumDyCentered = scratch.AsSpan(2 * rows, rows);
            // Row r0..r1 of the per-row block that starts at row `block` · rows of the scratch.
            Span<T> Block(int block, int r0, int r1) => scratch.AsSpan(block * rows + r0, r1 - r0);
            for (int r = 0; r < rows; r++) centers[r] = T.CreateTruncating(_mean[StatOf(r / c, r % c)]);
            var relu = _reluOutput?.Value;
            ForRows(rows, s, (r0, r1) =>
            {
                var dyRange = dy.Data<T>()[(r0 * s)..(r1 * s)];
                var xRange = x.Data<T>()[(r0 * s)..(r1 * s)];
                if (relu is null)
                {
                    NormKernels.RowSums<T>(dyRange, r1 - r0, s, Block(1, r0, r1));
                    NormKernels.RowCenteredDot<T>(dyRange, xRange, r1 - r0, s, Block(0, r0, r1), Block(2, r0, r1));
                }
                else
                {
                    NormKernels.RowMaskedSums<T>(dyRange, relu.Data<T>()[(r0 * s)..(r1 * s)], xRange, r1 - r0, s, Block(0, r0, r1),
                        Block(1, r0, r1), Block(2, r0, r1));
                }
            });

            var dw = new double[c];
            var db = new double[c];
            for (int r = 0; r < rows; r++)
            {
                int ch = r % c;
                dw[ch] += _rstd[StatOf(r / c, ch)] * double.CreateTruncating(sumDyCentered[r]);
                db[ch] += double.CreateTruncating(sumDy[r]);
            }
            if (dx is null) return (dw, db);

            // A = Σ d, B = Σ d ⊙ x̂ over each statistics group, where d = dy · w.
            int statistics = _mean.Length;
            Span<double> a = statistics <= 256 ? stackalloc double[statistics] : new double[statistics];
            Span<double> b = statistics <= 256 ? stackalloc double[statistics] : new double[statistics];
            a.Clear();
            b.Clear();
            for (int r = 0; r < rows; r++)
            {
                int ch = r % c, g = StatOf(r / c, ch);
                double w = weight.IsEmpty ? 1 : double.CreateTruncating(weight[ch]);
                a[g] += w * double.CreateTruncating(sumDy[r]);
                b[g] += w * _rstd[g] * double.CreateTruncating(sumDyCentered[r]);
            }
            double length = _groups == 0 ? (double)n * s : (double)perGroup * s;
            var k1 = scratch.AsSpan(3 * rows, rows);
            var k2 = scratch.AsSpan(4 * rows, rows);
            var k3 = scratch.AsSpan(5 * rows, rows);
            for (int r = 0; r < rows; r++)
            {
                int ch = r % c, g = StatOf(r / c, ch);
                double rstd = _rstd[g], w = weight.IsEmpty ? 1 : double.CreateTruncating(weight[ch]);
                double coefficient2 = _batchStatistics ? -rstd * rstd * b[g] / length : 0;
                double coefficient3 = _batchStatistics ? -rstd * a[g] / length - _mean[g] * coefficient2 : 0;
                k1[r] = T.CreateTruncating(w * rstd);
                k2[r] = T.CreateTruncating(coefficient2);
                k3[r] = T.CreateTruncating(coefficient3);
            }
            ForRows(rows, s, (r0, r1) =>
            {
                var dyRange = dy.Data<T>()[(r0 * s)..(r1 * s)];
                var xRange = x.Data<T>()[(r0 * s)..(r1 * s)];
                var dxRange = dx.Data<T>()[(r0 * s)..(r1 * s)];
                if (relu is null) NormKernels.RowAffine2<T>(dyRange, xRange, r1 - r0, s, Block(3, r0, r1), Block(4, r0, r1), Block(5, r0, r1), dxRange);
                else NormKernels.RowAffine2Masked<T>(dyRange, relu.Data<T>()[(r0 * s)..(r1 * s)], xRange, r1 - r0, s, Block(3, r0, r1),
                    Block(4, r0, r1), Block(5, r0, r1), dxRange);
            });
            return (dw, db);
        }
    }
}
