using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// In-place initialisers, as <c>torch.nn.init</c>. Each writes every element of the tensor under NoGrad and returns
/// it. Fans follow PyTorch: for a weight [out, in, k…], fan_in = in·∏k and fan_out = out·∏k.
/// </summary>
public static class Init
{
    /// <summary>The recommended gain for a nonlinearity (e.g. √2 for ReLU, 5/3 for tanh).</summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double negativeSlope = 0.01) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Conv or Nonlinearity.Sigmoid => 1.0,
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + negativeSlope * negativeSlope)),
        Nonlinearity.Selu => 3.0 / 4,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
    };

    /// <summary>(fan_in, fan_out) of a weight of rank ≥ 2.</summary>
    public static (int FanIn, int FanOut) CalculateFans(Tensor tensor)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape {tensor.Shape})");
        int receptive = 1;
        for (int i = 2; i < tensor.Rank; i++) receptive *= tensor.Shape[i];
        return (tensor.Shape[1] * receptive, tensor.Shape[0] * receptive);
    }

    public static Tensor Uniform(Tensor tensor, double low = 0, double high = 1, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        return Fill(tensor, () => low + (high - low) * g.NextDouble());
    }

    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        return Fill(tensor, () => mean + std * g.NextNormal());
    }

    /// <summary>Normal(mean, std) redrawn until inside [a, b] (absolute bounds, as PyTorch's trunc_normal_).</summary>
    public static Tensor TruncatedNormal(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        if (a >= b) throw new ArgumentException($"TruncatedNormal: lower bound {a} must be below upper bound {b}");
        var g = generator ?? Generator.Default;
        return Fill(tensor, () =>
        {
            for (int tries = 0; tries < 10_000; tries++)
            {
                double v = mean + std * g.NextNormal();
                if (v >= a && v <= b) return v;
            }
            throw new ArgumentException($"TruncatedNormal: [{a}, {b}] is too far from N({mean}, {std}) to sample");
        });
    }

    public static Tensor Constant(Tensor tensor, double value) => Fill(tensor, () => value);

    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>Glorot uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        double a = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, -a, a, generator);
    }

    /// <summary>Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    /// <summary>He uniform: U(−b, b) with b = gain·√(3 / fan), gain from the nonlinearity (with slope <paramref name="a"/> for leaky ReLU).</summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        double std = KaimingStd(tensor, a, mode, nonlinearity);
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>He normal: N(0, std²) with std = gain / √fan.</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Normal(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), generator);

    private static double KaimingStd(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0) throw new ArgumentException($"Kaiming initialisation of a tensor with zero fan (shape {tensor.Shape})");
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }

    /// <summary>
    /// A (semi-)orthogonal matrix: the Q of a QR decomposition of a normal matrix, with signs fixed by R's diagonal so
    /// the result is uniformly distributed (as PyTorch). Dimensions after the first are flattened.
    /// </summary>
    public static Tensor Orthogonal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        if (tensor.Rank < 2) throw new ArgumentException($"Orthogonal: needs at least 2 dimensions, got shape {tensor.Shape}");
        var g = generator ?? Generator.Default;
        int rows = tensor.Shape[0], cols = tensor.Numel / rows;
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols; // m ≥ n: QR of an m×n matrix
        var a = new double[m, n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                a[i, j] = g.NextNormal();
        // Modified Gram–Schmidt in double precision: Q (m×n) with orthonormal columns, R's diagonal kept for signs.
        var q = new double[m, n];
        for (int j = 0; j < n; j++)
        {
            var v = new double[m];
            for (int i = 0; i < m; i++) v[i] = a[i, j];
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < m; i++) dot += q[i, k] * v[i];
                for (int i = 0; i < m; i++) v[i] -= dot * q[i, k];
            }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += v[i] * v[i];
            norm = Math.Sqrt(norm);
            // R[j, j] = norm > 0, so the sign correction of PyTorch (multiply by sign(diag R)) is already applied.
            for (int i = 0; i < m; i++) q[i, j] = v[i] / norm;
        }
        var values = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                values[r * cols + c] = gain * (transpose ? q[c, r] : q[r, c]);
        int next = 0;
        return Fill(tensor, () => values[next++]);
    }

    /// <summary>Writes <paramref name="next"/>() into every element in row-major order, in place, without autograd.</summary>
    private static Tensor Fill(Tensor tensor, Func<double> next)
    {
        if (!tensor.DType.IsFloatingPoint()) throw new ArgumentException($"initialisers need a floating-point tensor, got {tensor.DType.Name()}");
        using var noGrad = new NoGrad();
        if (tensor.IsContiguous && tensor.DType is DType.Float32 or DType.Float64)
        {
            // Straight into the parameter: a double copy of GPT-2's embedding would be 300 MB that the GC then keeps
            // resident. Same values as the copy below (each double rounded to the tensor's type once).
            if (tensor.DType == DType.Float32)
            {
                var floats = tensor.AsSpan<float>();
                for (int i = 0; i < floats.Length; i++) floats[i] = (float)next();
            }
            else
            {
                var doubles = tensor.AsSpan<double>();
                for (int i = 0; i < doubles.Length; i++) doubles[i] = next();
            }
            return tensor;
        }
        var values = new double[tensor.Numel];
        for (int i = 0; i < values.Length; i++) values[i] = next();
        tensor.CopyFrom(Tensor.FromArray(values, tensor.Shape.ToArray()));
        return tensor;
    }
}
