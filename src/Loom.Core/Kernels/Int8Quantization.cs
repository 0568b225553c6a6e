namespace Loom.Kernels;

/// <summary>Affine quantisation parameters: real = scale · (q − zeroPoint).</summary>
public readonly record struct QuantParams(float Scale, int ZeroPoint);

/// <summary>
/// Float ↔ int8 conversions for <see cref="Int8Gemm"/>: activations asymmetric per tensor in [0, 127] (u7, see
/// <see cref="Int8Gemm"/> for why 7 bits), weights symmetric per output channel in [−127, 127]. Rounding is half to
/// even everywhere (the vector rounding instructions' mode), so the vector and scalar parts agree exactly.
/// </summary>
public static unsafe class Int8Quantization
{
    /// <summary>
    /// Activation parameters for values in [min, max]: the range is widened to hold 0 (so that zero padding and ReLU
    /// zeros are exact) and mapped onto [0, 127]. A range of width 0 gets scale 1.
    /// </summary>
    public static QuantParams ActivationParams(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max)) throw new ArgumentException("quantize: activation range is NaN");
        float lo = MathF.Min(min, 0f), hi = MathF.Max(max, 0f);
        float scale = (hi - lo) / Int8Gemm.ActivationMax;
        if (!(scale > 0) || !float.IsFinite(scale)) scale = scale > 0 ? float.MaxValue : 1f;
        int zero = Math.Clamp((int)MathF.Round(-lo / scale), 0, Int8Gemm.ActivationMax);
        return new QuantParams(scale, zero);
    }

    /// <summary>
    /// Dynamic quantisation of activations x [m, k] (row stride <paramref name="ldx"/>) into q (row stride
    /// <paramref name="ldq"/>): parameters from the tensor's own min and max, computed on the fly. Bytes k..ldq of each
    /// row of q are set to zero.
    /// </summary>
    public static QuantParams QuantizeActivations(ReadOnlySpan<float> x, int m, int k, int ldx, Span<byte> q, int ldq)
    {
        CheckMatrix("quantize", "x", m, k, ldx, x.Length);
        CheckMatrix("quantize", "q", m, k, ldq, q.Length);
        if (m == 0 || k == 0) return new QuantParams(1f, 0);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < m; i++)
        {
            var row = x.Slice(i * ldx, k);
            min = MathF.Min(min, TensorPrimitives.Min(row));
            max = MathF.Max(max, TensorPrimitives.Max(row));
        }
        var qp = ActivationParams(min, max);
        for (int i = 0; i < m; i++)
        {
            Quantize(x.Slice(i * ldx, k), qp, q.Slice(i * ldq, k));
            q.Slice(i * ldq + k, Math.Min(ldq, q.Length - i * ldq) - k).Clear();
        }
        return qp;
    }

    /// <summary>q = clamp(round(x / scale) + zeroPoint, 0, 127), with x / scale computed as x · (1 / scale).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> x, QuantParams qp, Span<byte> q)
    {
        if (q.Length < x.Length) throw new ArgumentException($"quantize: destination holds {q.Length} values, source has {x.Length}");
        float inv = 1f / qp.Scale;
        int n = x.Length, i = 0;
        fixed (float* px = x)
        fixed (byte* pq = q)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                var vInv = Vector256.Create(inv);
                var vZero = Vector256.Create(qp.ZeroPoint);
                var vMax = Vector256.Create(Int8Gemm.ActivationMax);
                for (; i + 32 <= n; i += 32)
                {
                    var r0 = Step(Vector256.Load(px + i), vInv, vZero, vMax);
                    var r1 = Step(Vector256.Load(px + i + 8), vInv, vZero, vMax);
                    var r2 = Step(Vector256.Load(px + i + 16), vInv, vZero, vMax);
                    var r3 = Step(Vector256.Load(px + i + 24), vInv, vZero, vMax);
                    var bytes = Vector256.Narrow(Vector256.Narrow(r0, r1), Vector256.Narrow(r2, r3));
                    bytes.AsByte().Store(pq + i);
                }
            }
            for (; i < n; i++)
                pq[i] = (byte)Math.Clamp((int)MathF.Round(px[i] * inv) + qp.ZeroPoint, 0, Int8Gemm.ActivationMax);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<float> x, Vector256<float> inv, Vector256<int> zero, Vector256<int> max) =>
        Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(x * inv)) + zero, Vector256<int>.Zero), max);

    /// <summary>x = scale · (q − zeroPoint).</summary>
    public static void Dequantize(ReadOnlySpan<byte> q, QuantParams qp, Span<float> x)
    {
        if (x.Length < q.Length) throw new ArgumentException($"dequantize: destination holds {x.Length} values, source has {q.Length}");
        for (int i = 0; i < q.Length; i++) x[i] = qp.Scale * (q[i] - qp.ZeroPoint);
    }

    /// <summary>
    /// Symmetric per-output-channel quantisation of weights w [n, k]: scale[j] = max|w[j, :]| / 127 (1 for an all-zero
    /// row), q[j, p] = clamp(round(w[j, p] / scale[j]), −127, 127).
    /// </summary>
    public static void QuantizeWeightsPerChannel(ReadOnlySpan<float> w, int n, int k, Span<sbyte> q, Span<float> scales)
    {
        CheckMatrix("quantize weights", "w", n, k, k, w.Length);
        CheckMatrix("quantize weights", "q", n, k, k, q.Length);
        if (scales.Length < n) throw new ArgumentException($"quantize weights: {n} channels need {n} scales, span has {scales.Length}");
        for (int j = 0; j < n; j++)
        {
            var row = w.Slice(j * k, k);
            float maxAbs = k == 0 ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(row)); // MaxMagnitude keeps the sign
            if (!float.IsFinite(maxAbs)) throw new ArgumentException($"quantize weights: row {j} holds a non-finite value");
            float scale = maxAbs > 0 ? maxAbs / Int8Gemm.WeightMax : 1f;
            scales[j] = scale;
            var qRow = q.Slice(j * k, k);
            for (int p = 0; p < k; p++)
                qRow[p] = (sbyte)Math.Clamp((int)MathF.Round(row[p] / scale), -Int8Gemm.WeightMax, Int8Gemm.WeightMax);
        }
    }

    private static void CheckMatrix(string op, string name, int rows, int cols, int ld, int length)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"{op}: {name} sizes must not be negative ([{rows}, {cols}])");
        if (ld < cols) throw new ArgumentException($"{op}: {name} [{rows}, {cols}] needs a row stride >= {cols}, got {ld}");
        if (rows > 0 && cols > 0 && length < (long)(rows - 1) * ld + cols)
            throw new ArgumentException($"{op}: {name} [{rows}, {cols}] with row stride {ld} needs {(long)(rows - 1) * ld + cols} values, span has {length}");
    }
}
