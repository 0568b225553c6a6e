using Loom.Random;

namespace Loom.Tests.Kernels;

/// <summary>
/// The int8 convolution (channels-last im2col over every forced GEMM path, fused requantisation) against a direct
/// integer convolution written from the definition on NCHW data: padded positions are real 0 (the zero point), so
/// they add nothing. The cases hold NCHW input and [out, C, kH, kW] weights, as a float layer and a checkpoint do, and
/// convert on the way in and out, so a layout slip in the kernel or in <see cref="Int8Conv2d.PackWeights"/> fails.
/// </summary>
[Collection(GlobalSettings.Name)]
public class Int8Conv2dTests
{
    /// <summary>Odd geometries: 1×1 and 3×3 kernels, stride 2, asymmetric padding, dilation, a depth not a multiple of 4.</summary>
    private static readonly (int N, int Out, Int8ConvGeometry G)[] Cases =
    [
        (1, 1, new(1, 5, 5, 3, 3, PadH: 1, PadW: 1)),
        (2, 33, new(3, 7, 6, 3, 3, 2, 2, 1, 0)),
        (3, 17, new(5, 9, 8, 1, 1)),
        (2, 40, new(4, 10, 11, 3, 2, 1, 2, 2, 1, 2, 1)),
        (1, 64, new(32, 6, 6, 3, 3, PadH: 1, PadW: 1)),
    ];

    [Int8PathFact(Int8GemmPath.AvxVnni)]
    public void AvxVnni_path_matches_direct_convolution() => CheckPath(Int8GemmPath.AvxVnni);

    [Int8PathFact(Int8GemmPath.Avx512BW)]
    public void Avx512BW_path_matches_direct_convolution() => CheckPath(Int8GemmPath.Avx512BW);

    [Int8PathFact(Int8GemmPath.Avx2)]
    public void Avx2_path_matches_direct_convolution() => CheckPath(Int8GemmPath.Avx2);

    [Int8PathFact(Int8GemmPath.Scalar)]
    public void Scalar_path_matches_direct_convolution() => CheckPath(Int8GemmPath.Scalar);

    private static void CheckPath(Int8GemmPath path) => Int8GemmTests.WithPath(path, () =>
    {
        int seed = 10;
        foreach (var (n, outputs, g) in Cases)
        {
            var c = new ConvCase(n, outputs, g, ++seed);
            Assert.Equal(c.ReferenceDequantized(), c.RunDequantize()); // bit for bit: same int32 sums, same epilogue steps
            Assert.Equal(c.ReferenceRequantized(), c.RunRequantize());
        }
        return 0;
    });

    [Fact]
    public void Requantising_with_zero_point_0_clamps_negative_values_to_0_as_a_fused_relu()
    {
        var c = new ConvCase(2, 9, new(3, 6, 6, 3, 3, PadH: 1, PadW: 1), 5);
        var floats = c.RunDequantize();
        var bytes = c.RunRequantize(new QuantParams(0.05f, 0));
        Assert.Contains(floats, v => v < 0);
        for (int i = 0; i < floats.Length; i++)
        {
            int expected = floats[i] <= 0 ? 0 : Math.Min(127, (int)MathF.Round(floats[i] * (1f / 0.05f)));
            Assert.Equal(expected, bytes[i]);
        }
    }

    [Fact]
    public void Mismatched_weights_and_short_buffers_are_refused()
    {
        var g = new Int8ConvGeometry(2, 4, 4, 3, 3);
        var w = new Int8PackedWeights(new sbyte[3 * 17], 3, 17, 17);
        var bad = new sbyte[3 * 18];
        bad[18 + 1 * 9 + 1 * 3 + 2] = sbyte.MinValue;
        TensorAssert.Throws<ArgumentException>(() => Int8Conv2d.PackWeights(bad, 3, 2, 3, 3), "weight [1, 1, 1, 2] is -128");
        TensorAssert.Throws<ArgumentException>(() => Int8Conv2d.ForwardDequantize(1, new byte[32], g, new(1, 0), w, new float[3], [], new float[12]), "depth 17", "18");
        var w18 = new Int8PackedWeights(new sbyte[3 * 18], 3, 18, 18);
        TensorAssert.Throws<ArgumentException>(() => Int8Conv2d.ForwardDequantize(1, new byte[31], g, new(1, 0), w18, new float[3], [], new float[12]), "needs 32 bytes");
        TensorAssert.Throws<ArgumentException>(() => Int8Conv2d.ForwardDequantize(1, new byte[4], new(1, 2, 2, 3, 3), new(1, 0), w18, new float[3], [], new float[12]), "does not fit");
        // Short by less than a stride: 2 − 3 < 0 would truncate to an output row of 1 with stride 2, reading past the image.
        Assert.Equal((0, 0), (new Int8ConvGeometry(1, 2, 2, 3, 3, StrideH: 2, StrideW: 2).OutHeight, new Int8ConvGeometry(1, 2, 2, 3, 3, StrideH: 2, StrideW: 2).OutWidth));
    }

    /// <summary>One seeded convolution: u8 input in [0, 127], int8 weights in [−127, 127], per-channel scales, a bias.</summary>
    private sealed class ConvCase
    {
        private readonly int _n, _out;
        private readonly Int8ConvGeometry _g;
        private readonly byte[] _x;
        private readonly sbyte[] _w;
        private readonly float[] _scaleW, _bias;
        private readonly QuantParams _input = new(0.02f, 37);
        private readonly QuantParams _output = new(0.3f, 11);

        public ConvCase(int n, int outputs, Int8ConvGeometry g, int seed)
        {
            (_n, _out, _g) = (n, outputs, g);
            var rng = new Generator((ulong)seed);
            _x = Enumerable.Range(0, n * g.Channels * g.Height * g.Width).Select(_ => (byte)(rng.NextUInt64() % 128)).ToArray();
            _w = Enumerable.Range(0, outputs * g.Depth).Select(_ => (sbyte)((int)(rng.NextUInt64() % 255) - 127)).ToArray();
            _scaleW = Enumerable.Range(0, outputs).Select(j => 0.001f * (1 + j % 7)).ToArray();
            _bias = Enumerable.Range(0, outputs).Select(j => 0.25f * (j % 5) - 0.5f).ToArray();
        }

        private Int8PackedWeights Packed => Int8Conv2d.PackWeights(_w, _out, _g.Channels, _g.KernelH, _g.KernelW);
        private int OutLength => _n * _out * _g.Positions;

        /// <summary>The input channels-last, as the kernel takes it.</summary>
        private byte[] InputNhwc => ChannelsLast(_x, _n, _g.Channels, _g.Height * _g.Width);

        public float[] RunDequantize()
        {
            var y = new float[OutLength];
            Int8Conv2d.ForwardDequantize(_n, InputNhwc, _g, _input, Packed, _scaleW, _bias, y);
            return y;
        }

        /// <summary>The requantised output, which the kernel writes channels-last, in NCHW order.</summary>
        public byte[] RunRequantize(QuantParams? output = null)
        {
            var y = new byte[OutLength];
            Int8Conv2d.ForwardRequantize(_n, InputNhwc, _g, _input, Packed, _scaleW, _bias, output ?? _output, y);
            var nchw = new byte[OutLength];
            int positions = _g.Positions;
            for (int i = 0; i < _n; i++)
                for (int p = 0; p < positions; p++)
                    for (int o = 0; o < _out; o++) nchw[(i * _out + o) * positions + p] = y[(i * positions + p) * _out + o];
            return nchw;
        }

        private static byte[] ChannelsLast(byte[] nchw, int n, int channels, int pixels)
        {
            var nhwc = new byte[nchw.Length];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++)
                    for (int p = 0; p < pixels; p++) nhwc[(i * pixels + p) * channels + c] = nchw[(i * channels + c) * pixels + p];
            return nhwc;
        }

        /// <summary>Direct loops over output positions and kernel taps; out-of-image taps skipped (real 0).</summary>
        private int[] ReferenceSums()
        {
            var g = _g;
            var sums = new int[OutLength];
            for (int i = 0; i < _n; i++)
                for (int o = 0; o < _out; o++)
                    for (int oy = 0; oy < g.OutHeight; oy++)
                        for (int ox = 0; ox < g.OutWidth; ox++)
                        {
                            int sum = 0;
                            for (int c = 0; c < g.Channels; c++)
                                for (int ky = 0; ky < g.KernelH; ky++)
                                    for (int kx = 0; kx < g.KernelW; kx++)
                                    {
                                        int iy = oy * g.StrideH - g.PadH + ky * g.DilationH, ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                                        if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                        int xv = _x[((i * g.Channels + c) * g.Height + iy) * g.Width + ix] - _input.ZeroPoint;
                                        sum += xv * _w[((o * g.Channels + c) * g.KernelH + ky) * g.KernelW + kx];
                                    }
                            sums[((i * _out + o) * g.OutHeight + oy) * g.OutWidth + ox] = sum;
                        }
            return sums;
        }

        public float[] ReferenceDequantized()
        {
            var sums = ReferenceSums();
            int positions = _g.Positions;
            return sums.Select((s, idx) =>
            {
                int o = idx / positions % _out;
                return (float)s * (_scaleW[o] * _input.Scale) + _bias[o];
            }).ToArray();
        }

        public byte[] ReferenceRequantized() => ReferenceDequantized()
            .Select(v => (byte)Math.Clamp((int)MathF.Round(v * (1f / _output.Scale)) + _output.ZeroPoint, 0, 127)).ToArray();
    }
}
