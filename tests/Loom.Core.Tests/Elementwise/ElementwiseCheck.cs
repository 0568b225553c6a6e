namespace Loom.Tests.Elementwise;

/// <summary>Runs an op on seeded inputs of many layouts and compares it with its ReferenceElementwise definition.</summary>
internal static class ElementwiseCheck
{
    public static readonly DType[] FloatTypes = [DType.Float32, DType.Float64];

    /// <summary>Tolerance for comparing a dtype's result with the double reference.</summary>
    public static double Tol(DType dtype) => dtype == DType.Float32 ? 2e-6 : 1e-12;

    /// <summary>op(x) against f on every odd size, on a strided copy of x, and on a transposed 2-D x.</summary>
    public static void Unary(Func<Tensor, Tensor> op, Func<double, double> f, DType dtype, double low = -4, double high = 4, double? tol = null)
    {
        double t = tol ?? Tol(dtype);
        int seed = 1;
        foreach (int n in TestTensors.OddSizes)
        {
            var x = TestTensors.Uniform(seed++, low, high, dtype, n);
            AssertUnary(op, f, x, t, $"size {n}");
            AssertUnary(op, f, TestTensors.NonContiguous(x), t, $"strided size {n}");
        }
        var m = TestTensors.Uniform(seed, low, high, dtype, 17, 5).Transpose(0, 1);
        AssertUnary(op, f, m, t, "transposed [5, 17]");
        AssertUnary(op, f, Tensor.Scalar(0.5 * (low + high), dtype), t, "scalar");
    }

    public static void AssertUnary(Func<Tensor, Tensor> op, Func<double, double> f, Tensor x, double tol, string what)
    {
        var actual = op(x);
        Assert.Equal(x.Shape, actual.Shape);
        Assert.Equal(x.DType, actual.DType);
        var expected = ReferenceElementwise.Unary(x.ToArray<double>(), f);
        TensorAssert.Close(expected, actual.ToArray<double>(), tol, tol, what + " ");
    }

    /// <summary>op(a, b) against f with broadcasting; a and b are seeded uniform tensors of the given shapes.</summary>
    public static void Binary(Func<Tensor, Tensor, Tensor> op, Func<double, double, double> f, DType dtype, int[] aShape, int[] bShape,
        double low = -3, double high = 3, bool stridedA = false, double? tol = null)
    {
        bool integer = !dtype.IsFloatingPoint();
        var gen = integer ? DType.Float64 : dtype;
        var a = TestTensors.Uniform(aShape.Length + 7 * aShape.Sum(), low, high, gen, aShape);
        var b = TestTensors.Uniform(bShape.Length + 11 * bShape.Sum() + 1, low, high, gen, bShape);
        if (integer)
        {
            a = a.Mul(10).To(dtype);
            b = b.Mul(10).To(dtype);
        }
        if (stridedA) a = TestTensors.NonContiguous(a);
        AssertBinary(op, f, a, b, tol ?? Tol(dtype));
    }

    public static void AssertBinary(Func<Tensor, Tensor, Tensor> op, Func<double, double, double> f, Tensor a, Tensor b, double tol)
    {
        var actual = op(a, b);
        var expected = ReferenceElementwise.Binary(a.ToArray<double>(), a.Shape, b.ToArray<double>(), b.Shape, f, out var shape);
        Assert.Equal(shape, actual.Shape);
        TensorAssert.Close(expected, actual.ToArray<double>(), tol, tol, $"{a.Shape} with {b.Shape} ");
    }

    /// <summary>The broadcasting combinations every binary op is checked on.</summary>
    public static readonly (int[] A, int[] B)[] BroadcastShapes =
    [
        ([3, 1], [1, 4]),
        ([5], [2, 3, 5]),
        ([], [4]),
        ([4], []),
        ([2, 3, 5], [5]),
        ([2, 1, 3], [4, 1]),
        ([6, 1], [6, 33]),
        ([0, 3], [3]),
    ];
}
