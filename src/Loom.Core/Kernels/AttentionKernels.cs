namespace Loom.Kernels;

// Fused multi-head self-attention over a packed projection, flash-attention style on CPU (Dao et al. 2022, FA-2's
// loop order). Legend: B batch, T tokens, H heads, D head size, C = H·D.
//   qkv [B, T, 3C]: row (b, t) holds q | k | v, head h at columns h·D of each third (GPT-2's c_attn output)
//   out [B, T, C]:  head h at columns h·D (what c_proj reads: no transpose back)
//   lse [B, H, T]:  log Σ_j exp(s_ij) per query, all backward needs to rebuild the weights
// Forward, per (b, h, tile of Br queries): for each tile of Bc keys up to the causal end,
//   S = scale · Q·Kᵀ (GEMM), m' = max(m, rowmax S), P = exp(S − m'), l = l·e^(m−m') + Σ P,
//   O = O·e^(m−m') + P·V (GEMM), and at the end O /= l, lse = m + log l.
// Only a Br×Bc tile of scores exists at a time: no T×T matrix per head, and the tiles above the diagonal are never
// computed (a causal step does about half the unfused score work).
// Backward, per (b, h), recomputing P = exp(S − lse) tile by tile, with Dᵢ = Σ dOᵢ ⊙ Oᵢ:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D),  dQ += scale · dS·K,  dK += scale · dSᵀ·Q      (all GEMMs)
// Each (b, h) owns its own columns of dqkv, so threads never write the same element; dqkv is not cleared first: the
// first product into a row of it writes (beta 0), later ones accumulate.
// The products: float heads whose size is a multiple of 16 run them in place through AttentionTileGemm (no packing;
// each (b, h) transposes its K, and in backward its V, once, for Q·Kᵀ and dO·Vᵀ); others through Loom's GEMM.
// The row work between them (max, exponentials, dS, D) on that path is AttentionRows' whole-vector passes;
// others make a TensorPrimitives / ExpKernels call per row and operation.
// Masking: causal hides key j from query i when j > i; a key mask hides key j of batch row b everywhere. A query
// that sees no key at all outputs zeros and passes no gradient (lse = +∞ makes its weights exp(−∞) = 0), where the
// unfused softmax(−∞, …) gives NaN.
internal static class AttentionKernels
{
    private const int TileLength = 64 * 256; // a score tile: 64 KiB of float, which stays in L2

    private readonly record struct Problem<T>(int Batch, int Tokens, int Heads, int HeadDim, T Scale, bool Causal)
    {
        public int Width => Heads * HeadDim;        // C
        public int Stride => 3 * Heads * HeadDim;   // a row of qkv

        // Br × Bc: 64 queries against up to 256 keys, or for T ≤ 128 the head's whole score matrix as one 128 × 128
        // tile. One query tile per head means one pass of the key-row products (dV, dK) over all queries instead of
        // two that accumulate, and score rows 128 floats apart instead of 256.
        public int QueryTile { get; } = Tokens <= 128 ? 128 : 64;
        public int KeyTile { get; } = Tokens <= 128 ? 128 : 256;
    }

    /// <summary>out and lse from qkv; <paramref name="keyMask"/> ([B·T], true = hidden) may be empty.</summary>
    public static unsafe void Forward<T>(ReadOnlySpan<T> qkv, ReadOnlySpan<bool> keyMask, Span<T> output, Span<T> lse,
        int batch, int tokens, int heads, int headDim, T scale, bool causal)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = new Problem<T>(batch, tokens, heads, headDim, scale, causal);
        fixed (T* q = qkv, o = output, l = lse)
        fixed (bool* mask = keyMask)
        {
            // One item per (batch, head): the head's keys are transposed once for all its query tiles.
            var state = (p, (nint)q, (nint)mask, (nint)o, (nint)l);
            ParallelHelper.For(batch * heads, 1, state, static (s, start, end) =>
            {
                var (p, q, mask, o, l) = s;
                var keysT = TransposedHeads(p, 1);
                T[] scratch = ArrayPool<T>.Shared.Rent(TileLength + 2 * p.QueryTile + keysT.Length);
                try
                {
                    for (int item = start; item < end; item++)
                    {
                        var transposed = keysT.Transpose(p, item, (T*)q, scratch, TileLength + 2 * p.QueryTile);
                        for (int i0 = 0; i0 < p.Tokens; i0 += p.QueryTile)
                            ForwardTile(p, item, i0, (T*)q, (bool*)mask, (T*)o, (T*)l, scratch, transposed);
                    }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(scratch);
                }
            });
        }
    }

    private static unsafe void ForwardTile<T>(Problem<T> p, int batchHead, int i0, T* qkv, bool* keyMask, T* output, T* lse, T[] scratch,
        Transposed<T> keysT)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = batchHead / p.Heads, h = batchHead % p.Heads, d = p.HeadDim, c = p.Width, ld = p.Stride, tokens = p.Tokens;
        int rows = Math.Min(p.QueryTile, tokens - i0), keyEnd = p.Causal ? i0 + rows : tokens;
        var qkvRows = new ReadOnlySpan<T>(qkv + (long)b * tokens * ld, tokens * ld);
        var queries = qkvRows[(i0 * ld + h * d)..];
        var outRows = new Span<T>(output + ((long)b * tokens + i0) * c + h * d, (rows - 1) * c + d);
        var scores = scratch.AsSpan(0, TileLength);
        var max = scratch.AsSpan(TileLength, rows);
        var sum = scratch.AsSpan(TileLength + p.QueryTile, rows);
        max.Fill(T.NegativeInfinity);
        sum.Clear();
        // Causal: scores past the diagonal are never read (each row stops at its last visible key), weights there are 0.
        var (columnSkip, depthSkip, _) = Skips(p.Causal);
        bool fastRows = keysT.Fast; // the row passes of AttentionRows: whole vectors, no call per row and op
        for (int j0 = 0; j0 < keyEnd; j0 += p.KeyTile)
        {
            int keys = Math.Min(p.KeyTile, keyEnd - j0);
            bool first = j0 == 0;
            ScoreProduct(keysT, 0, rows, keys, d, p.Scale, queries, ld, qkvRows[(j0 * ld + c + h * d)..], ld, j0, scores, p.KeyTile, columnSkip, i0 - j0);
            for (int r = 0; r < rows; r++)
            {
                var row = scores.Slice(r * p.KeyTile, keys);
                int seen = Visible(p, i0 + r, j0, keys);
                if (keyMask != null) HideMasked(row[..seen], new ReadOnlySpan<bool>(keyMask + (long)b * tokens + j0, seen));
                T rowMax = seen == 0 ? T.NegativeInfinity : fastRows ? RowMax(row, seen) : TensorPrimitives.Max(row[..seen]);
                T newMax = T.Max(max[r], rowMax);
                if (T.IsNegativeInfinity(newMax))
                {
                    row.Clear(); // nothing visible yet: P = 0, and O (zero or untouched) needs no rescale
                    continue;
                }
                T rowSum;
                if (fastRows)
                    rowSum = RowExpShifted(row, seen, keys, newMax);
                else
                {
                    rowSum = ExpShifted(row[..seen], newMax);
                    row[seen..].Clear();
                }
                T factor = T.IsNegativeInfinity(max[r]) ? T.Zero : T.Exp(max[r] - newMax); // the first visible keys: no call
                sum[r] = sum[r] * factor + rowSum;
                max[r] = newMax;
                if (!first && factor != T.One)
                {
                    var o = outRows.Slice(r * c, d);
                    TensorPrimitives.Multiply(o, factor, o);
                }
            }
            Product(keysT.Fast, false, rows, d, keys, T.One, scores, p.KeyTile, qkvRows[(j0 * ld + 2 * c + h * d)..], ld, first ? T.Zero : T.One, outRows, c,
                depthSkip, i0 - j0);
        }
        var rowLse = new Span<T>(lse + (long)batchHead * tokens + i0, rows);
        for (int r = 0; r < rows; r++)
        {
            var o = outRows.Slice(r * c, d);
            if (sum[r] == T.Zero)
            {
                o.Clear();
                rowLse[r] = T.PositiveInfinity;
                continue;
            }
            if (fastRows)
                fixed (T* po = o) AttentionRows.Scale((float*)po, d, float.CreateTruncating(T.One / sum[r]));
            else
                TensorPrimitives.Multiply(o, T.One / sum[r], o);
            rowLse[r] = max[r] + T.Log(sum[r]);
        }
    }

    /// <summary>
    /// dqkv (every element written, none read: it may hold anything) from qkv, out, lse and dout; each (b, h) recomputes its weights tile by tile.
    /// </summary>
    public static unsafe void Backward<T>(ReadOnlySpan<T> qkv, ReadOnlySpan<bool> keyMask, ReadOnlySpan<T> output, ReadOnlySpan<T> lse,
        ReadOnlySpan<T> gradOutput, Span<T> gradQkv, int batch, int tokens, int heads, int headDim, T scale, bool causal)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = new Problem<T>(batch, tokens, heads, headDim, scale, causal);
        fixed (T* q = qkv, o = output, l = lse, dout = gradOutput, dq = gradQkv)
        fixed (bool* mask = keyMask)
        {
            var state = (p, (nint)q, (nint)mask, (nint)o, (nint)l, (nint)dout, (nint)dq);
            ParallelHelper.For(batch * heads, 1, state, static (s, start, end) =>
            {
                var (p, q, mask, o, l, dout, dq) = s;
                var transposedHeads = TransposedHeads(p, 2);
                T[] scratch = ArrayPool<T>.Shared.Rent(2 * TileLength + p.Tokens + transposedHeads.Length);
                try
                {
                    for (int item = start; item < end; item++)
                        BackwardHead(p, item, (T*)q, (bool*)mask, (T*)o, (T*)l, (T*)dout, (T*)dq, scratch,
                            transposedHeads.Transpose(p, item, (T*)q, scratch, 2 * TileLength + p.Tokens),
                            transposedHeads.Fast && item + 1 < end ? item + 1 : -1);
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(scratch);
                }
            });
        }
    }

    private static unsafe void BackwardHead<T>(Problem<T> p, int batchHead, T* qkv, bool* keyMask, T* output, T* lse, T* gradOutput, T* gradQkv, T[] scratch,
        Transposed<T> keysValuesT, int nextItem)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = batchHead / p.Heads, h = batchHead % p.Heads, d = p.HeadDim, c = p.Width, ld = p.Stride, tokens = p.Tokens;
        var qkvRows = new ReadOnlySpan<T>(qkv + (long)b * tokens * ld, tokens * ld);
        var gradRows = new Span<T>(gradQkv + (long)b * tokens * ld, tokens * ld);
        var outRows = new ReadOnlySpan<T>(output + (long)b * tokens * c, tokens * c);
        var dOutRows = new ReadOnlySpan<T>(gradOutput + (long)b * tokens * c, tokens * c);
        var rowLse = new ReadOnlySpan<T>(lse + (long)batchHead * tokens, tokens);
        var weights = scratch.AsSpan(0, TileLength);
        var gradScores = scratch.AsSpan(TileLength, TileLength);
        var delta = scratch.AsSpan(2 * TileLength, tokens);
        int qCol = h * d, kCol = c + h * d, vCol = 2 * c + h * d;
        bool fastRows = keysValuesT.Fast;
        if (fastRows)
        {
            float* dO = (float*)gradOutput + (long)b * tokens * c + h * d, o = (float*)output + (long)b * tokens * c + h * d;
            for (int i = 0; i < tokens; i++)
                delta[i] = T.CreateTruncating(AttentionRows.Dot(dO + (long)i * c, o + (long)i * c, d));
        }
        else
        {
            for (int i = 0; i < tokens; i++)
                delta[i] = TensorPrimitives.Dot(dOutRows.Slice(i * c + h * d, d), outRows.Slice(i * c + h * d, d));
        }
        var (columnSkip, depthSkip, transposedSkip) = Skips(p.Causal);
        // The next item's rows, asked for one token per row of the exponentials' pass (see PrefetchRow).
        float* next = nextItem < 0 ? null : (float*)HeadRows(p, nextItem, qkv);
        float* nextOut = nextItem < 0 ? null : (float*)output + (long)(nextItem / p.Heads) * tokens * c + nextItem % p.Heads * d;
        float* nextDOut = nextItem < 0 ? null : (float*)gradOutput + (long)(nextItem / p.Heads) * tokens * c + nextItem % p.Heads * d;
        for (int i0 = 0; i0 < tokens; i0 += p.QueryTile)
        {
            int rows = Math.Min(p.QueryTile, tokens - i0), keyEnd = p.Causal ? i0 + rows : tokens;
            // d(qkv) is never cleared: the first product into a row writes it (beta 0), later ones accumulate. dQ's rows
            // are this tile's (written at the first key tile); dK's and dV's rows are keys, and the earlier query
            // tiles have written the keys before i0 (causal: each saw keys up to its last query) or all of them.
            int written = p.Causal ? i0 : i0 > 0 ? tokens : 0;
            var queries = qkvRows[(i0 * ld + qCol)..];
            var dOut = dOutRows[(i0 * c + h * d)..];
            for (int j0 = 0; j0 < keyEnd; j0 += p.KeyTile)
            {
                int keys = Math.Min(p.KeyTile, keyEnd - j0);
                var keyRows = qkvRows[(j0 * ld + kCol)..];
                var valueRows = qkvRows[(j0 * ld + vCol)..];
                ScoreProduct(keysValuesT, 0, rows, keys, d, p.Scale, queries, ld, keyRows, ld, j0, weights, p.KeyTile, columnSkip, i0 - j0);
                for (int r = 0; r < rows; r++)
                {
                    if (next != null && j0 == 0)
                        PrefetchRow(next + (long)(i0 + r) * ld, c, d, nextOut + (long)(i0 + r) * c, nextDOut + (long)(i0 + r) * c);
                    var row = weights.Slice(r * p.KeyTile, keys);
                    int seen = Visible(p, i0 + r, j0, keys);
                    if (keyMask != null) HideMasked(row[..seen], new ReadOnlySpan<bool>(keyMask + (long)b * tokens + j0, seen));
                    if (fastRows)
                        RowExpShifted(row, seen, keys, rowLse[i0 + r]);
                    else
                    {
                        ExpShifted(row[..seen], rowLse[i0 + r]);
                        row[seen..].Clear();
                    }
                }
                // dV_j += Pᵀ·dO_i
                KeyRowsProduct(keysValuesT.Fast, written, j0, keys, d, rows, T.One, weights, p.KeyTile, dOut, c, gradRows[vCol..], ld, transposedSkip, j0 - i0);
                // dP = dO_i·V_jᵀ, then dS = P ⊙ (dP − D) in place
                ScoreProduct(keysValuesT, 1, rows, keys, d, T.One, dOut, c, valueRows, ld, j0, gradScores, p.KeyTile, columnSkip, i0 - j0);
                for (int r = 0; r < rows; r++)
                {
                    // Past the last visible key P is 0, and a causal dP was not computed there: dS = 0 explicitly.
                    int seen = Visible(p, i0 + r, j0, keys);
                    var dS = gradScores.Slice(r * p.KeyTile, keys);
                    // (dP + (−D)) ⊙ P in one pass: the same two roundings as dP − D, then the product.
                    if (fastRows)
                        fixed (T* pds = dS, pw = weights.Slice(r * p.KeyTile))
                            AttentionRows.ScoreGradient((float*)pds, (float*)pw, seen, keys, float.CreateTruncating(delta[i0 + r]));
                    else
                    {
                        TensorPrimitives.AddMultiply(dS[..seen], -delta[i0 + r], weights.Slice(r * p.KeyTile, seen), dS[..seen]);
                        dS[seen..].Clear();
                    }
                }
                // dQ_i += scale·dS·K_j,  dK_j += scale·dSᵀ·Q_i
                Product(keysValuesT.Fast, false, rows, d, keys, p.Scale, gradScores, p.KeyTile, keyRows, ld, j0 > 0 ? T.One : T.Zero,
                    gradRows[(i0 * ld + qCol)..], ld, depthSkip, i0 - j0);
                KeyRowsProduct(keysValuesT.Fast, written, j0, keys, d, rows, p.Scale, gradScores, p.KeyTile, queries, ld, gradRows[kCol..], ld, transposedSkip, j0 - i0);
            }
        }
    }

    /// <summary>
    /// Key rows j0 … j0 + <paramref name="keys"/> of one head's d(qkv) columns (<paramref name="head"/> starts at the
    /// column) get alpha·Aᵀ·B, A a tile of score rows <paramref name="lda"/> apart. d(qkv) is never cleared: rows an
    /// earlier query tile has written (those before <paramref name="written"/>) accumulate, the rest are written (beta 0).
    /// </summary>
    private static void KeyRowsProduct<T>(bool fast, int written, int j0, int keys, int d, int rows, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, Span<T> head, int ld, CausalSkip skip, int diagonal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int old = Math.Clamp(written - j0, 0, keys);
        if (old > 0)
            Product(fast, true, old, d, rows, alpha, a, lda, b, ldb, T.One, head[(j0 * ld)..], ld, skip, diagonal);
        if (old < keys)
            Product(fast, true, keys - old, d, rows, alpha, a[old..], lda, b, ldb, T.Zero, head[((j0 + old) * ld)..], ld, skip, diagonal + old);
    }

    /// <summary>Row 0 of head <paramref name="batchHead"/>'s queries in qkv (its keys and values follow at C and 2C).</summary>
    private static unsafe T* HeadRows<T>(Problem<T> p, int batchHead, T* qkv) where T : unmanaged, IFloatingPointIeee754<T> =>
        qkv + (long)(batchHead / p.Heads) * p.Tokens * p.Stride + batchHead % p.Heads * p.HeadDim;

    /// <summary>
    /// Asks for one token's q, k and v of the next head, and its output and output-gradient rows, to be brought into
    /// L2 while this head computes: they are 256-byte pieces of 3 KiB (qkv) and 1 KiB rows, which the hardware
    /// prefetchers do not follow, so the next head's K/V transpose and first products would wait on them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRow(float* qkvRow, int width, int d, float* outRow, float* dOutRow)
    {
        for (int part = 0; part < 3; part++)
            for (int v = 0; v < d; v += 16)
                System.Runtime.Intrinsics.X86.Sse.Prefetch1(qkvRow + part * width + v);
        for (int v = 0; v < d; v += 16)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch1(outRow + v);
            System.Runtime.Intrinsics.X86.Sse.Prefetch1(dOutRow + v);
        }
    }

    /// <summary>
    /// What a causal tile lets the in-place products skip (GEMM ignores it and computes whole tiles): the scores
    /// past the diagonal, the weights past it as depth of P·V and dS·K, and before it as depth of Pᵀ·dO and dSᵀ·Q.
    /// </summary>
    private static (CausalSkip Columns, CausalSkip Depth, CausalSkip TransposedDepth) Skips(bool causal) => causal
        ? (CausalSkip.ColumnsPastDiagonal, CausalSkip.DepthPastDiagonal, CausalSkip.DepthBeforeDiagonal)
        : (CausalSkip.None, CausalSkip.None, CausalSkip.None);

    /// <summary>How many of the tile's keys (from <paramref name="j0"/>) query <paramref name="i"/> may see before masks.</summary>
    private static int Visible<T>(Problem<T> p, int i, int j0, int keys) =>
        p.Causal ? Math.Clamp(i - j0 + 1, 0, keys) : keys;

    private static void HideMasked<T>(Span<T> row, ReadOnlySpan<bool> hidden) where T : IFloatingPointIeee754<T>
    {
        for (int j = 0; j < row.Length; j++)
            if (hidden[j]) row[j] = T.NegativeInfinity;
    }

    /// <summary>
    /// max of the row's first <paramref name="seen"/> scores on the in-place path (float, whole vectors: the row's slot
    /// is at least the key count rounded up to 16 long).
    /// </summary>
    private static unsafe T RowMax<T>(Span<T> row, int seen) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* r = row)
            return T.CreateTruncating(AttentionRows.Max((float*)r, seen));
    }

    /// <summary>As <see cref="AttentionRows.ExpShifted"/> on the in-place path: exp(row − shift) over seen, zeros to keys.</summary>
    private static unsafe T RowExpShifted<T>(Span<T> row, int seen, int keys, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* r = row)
            return T.CreateTruncating(AttentionRows.ExpShifted((float*)r, seen, keys, float.CreateTruncating(shift)));
    }

    /// <summary>row = exp(row − shift) in place; returns Σ row. Float goes through softmax's one-pass kernel.</summary>
    private static T ExpShifted<T>(Span<T> row, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var values = MemoryMarshal.Cast<T, float>(row);
            return T.CreateTruncating(ExpKernels.ExpShiftedSum(values, float.CreateTruncating(shift), values));
        }
        TensorPrimitives.Subtract(row, shift, row);
        TensorPrimitives.Exp(row, row);
        return TensorPrimitives.Sum<T>(row);
    }

    /// <summary>
    /// Where a (batch, head) item keeps the transposes of its keys (part 0) and values (part 1) for the score-shaped
    /// products Q·Kᵀ and dO·Vᵀ of <see cref="AttentionTileGemm"/>: [D, Tpad] each, T rounded up to 16 with zero
    /// columns, so a tile's last vector of scores reads zeros past the keys. Empty (Fast false) when the products go
    /// through GEMM, which packs Kᵀ itself.
    /// </summary>
    private readonly record struct Transposed<T>(bool Fast, int Parts, int Padded, int PartLength, int Offset = 0, T[]? Buffer = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Length => Parts * PartLength;

        /// <summary>Transposes item's keys (and values) into <paramref name="scratch"/> from <paramref name="offset"/> on.</summary>
        public unsafe Transposed<T> Transpose(Problem<T> p, int batchHead, T* qkv, T[] scratch, int offset)
        {
            if (!Fast) return this;
            int b = batchHead / p.Heads, h = batchHead % p.Heads;
            fixed (T* dst = scratch)
            {
                for (int part = 0; part < Parts; part++)
                {
                    T* source = qkv + (long)b * p.Tokens * p.Stride + (part + 1) * p.Width + h * p.HeadDim;
                    // op(B) = Kᵀ stored as K's rows: one panel of Padded columns, k = D deep, is exactly [D, Padded].
                    GemmPacking.PackB(true, source, p.Stride, p.HeadDim, p.Tokens, Padded, dst + offset + part * PartLength);
                }
            }
            return this with { Offset = offset, Buffer = scratch };
        }

        public Span<T> Part(int part) => Buffer.AsSpan(Offset + part * PartLength, PartLength);
    }

    private static Transposed<T> TransposedHeads<T>(Problem<T> p, int parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool fast = typeof(T) == typeof(float) && AttentionTileGemm.Fits(p.HeadDim);
        int padded = (p.Tokens + 15) / 16 * 16;
        return new Transposed<T>(fast, parts, padded, fast ? p.HeadDim * padded : 0);
    }

    /// <summary>
    /// scores[rows × keys] = alpha · A · (keys or values j0.. of the head)ᵀ: through <see cref="AttentionTileGemm"/> on
    /// the transposed copy of part <paramref name="part"/> (columns rounded up to 16: zeros past the last key), or GEMM
    /// on the rows themselves.
    /// </summary>
    private static void ScoreProduct<T>(Transposed<T> transposed, int part, int rows, int keys, int d, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> keyRows, int ldk, int j0, Span<T> scores, int ldc, CausalSkip skip, int diagonal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!transposed.Fast)
        {
            Gemm(false, true, rows, keys, d, alpha, a, lda, keyRows, ldk, T.Zero, scores, ldc);
            return;
        }
        int columns = (keys + 15) / 16 * 16;
        Product(true, false, rows, columns, d, alpha, a, lda, transposed.Part(part)[j0..], transposed.Padded, T.Zero, scores, ldc, skip, diagonal);
    }

    /// <summary>
    /// C = alpha · op(A) · B + beta · C with B's rows contiguous: in place through <see cref="AttentionTileGemm"/> when
    /// <paramref name="fast"/> (float), else GEMM.
    /// </summary>
    private static unsafe void Product<T>(bool fast, bool transA, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, CausalSkip skip = CausalSkip.None, int diagonal = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!fast)
        {
            Gemm(transA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        // The same extents GEMM's bound checks ask for, checked here since the kernel takes raw pointers.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        if ((aRows - 1) * (long)lda + aCols > a.Length || (k - 1) * (long)ldb + n > b.Length || (m - 1) * (long)ldc + n > c.Length)
            throw new InvalidOperationException($"attention: tile product {m}×{n}×{k} runs past its operands");
        fixed (T* pa = a, pb = b, pc = c)
            AttentionTileGemm.Run(m, n, k, float.CreateTruncating(alpha), (float*)pa, transA ? 1 : lda, transA ? lda : 1,
                (float*)pb, ldb, float.CreateTruncating(beta), (float*)pc, ldc, skip, diagonal);
    }

    /// <summary>Loom's GEMM for float or double on spans that start at each operand's first element.</summary>
    private static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The spans run to the end of their buffers; trim them to the last element each matrix touches, which is all
        // GEMM's bound checks ask for.
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        a = a[..((aRows - 1) * lda + aCols)];
        b = b[..((bRows - 1) * ldb + bCols)];
        c = c[..((m - 1) * ldc + n)];
        if (typeof(T) == typeof(float))
            Kernels.Gemm.Sgemm(transA, transB, m, n, k, float.CreateTruncating(alpha), MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, float.CreateTruncating(beta), MemoryMarshal.Cast<T, float>(c), ldc);
        else
            Kernels.Gemm.Dgemm(transA, transB, m, n, k, double.CreateTruncating(alpha), MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, double.CreateTruncating(beta), MemoryMarshal.Cast<T, double>(c), ldc);
    }
}
