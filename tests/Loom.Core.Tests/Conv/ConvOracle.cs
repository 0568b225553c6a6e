namespace Loom.Tests.Conv;

/// <summary>Tensor-level wrappers over the reference convolutions, in float64, plus the weight gradient by its definition.</summary>
internal static class ConvOracle
{
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        var shape = ReferenceConv.Conv2dOutputShape(x.Shape.ToArray(), w.Shape.ToArray(), stride, padding, dilation);
        var y = ReferenceConv.Conv2d<double>(x.ToArray<double>(), x.Shape.ToArray(), w.ToArray<double>(), w.Shape.ToArray(),
            b?.ToArray<double>() ?? [], stride, padding, dilation, groups);
        return Tensor.FromArray(y, shape);
    }

    public static Tensor ConvTranspose2d(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding,
        (int H, int W) dilation, int groups)
    {
        var shape = ReferenceConv.ConvTranspose2dOutputShape(x.Shape.ToArray(), w.Shape.ToArray(), groups, stride, padding, outputPadding, dilation);
        var y = ReferenceConv.ConvTranspose2d<double>(x.ToArray<double>(), x.Shape.ToArray(), w.ToArray<double>(), w.Shape.ToArray(),
            b?.ToArray<double>() ?? [], stride, padding, outputPadding, dilation, groups);
        return Tensor.FromArray(y, shape);
    }

    /// <summary>dW[o, c, ki, kj] = Σ_{n, i, j} dy[n, o, i, j] · x[n, group(o)·C/G + c, i·s − p + ki·d, j·s − p + kj·d].</summary>
    public static Tensor WeightGrad(Tensor x, Tensor dy, int[] weightShape, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oc = weightShape[0], cg = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        int oh = dy.Shape[2], ow = dy.Shape[3], ocg = oc / groups;
        var xd = x.ToArray<double>();
        var gd = dy.ToArray<double>();
        var dw = new double[oc * cg * kh * kw];
        for (int o = 0; o < oc; o++)
            for (int ci = 0; ci < cg; ci++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++)
                    {
                        double sum = 0;
                        int channel = o / ocg * cg + ci;
                        for (int b = 0; b < n; b++)
                            for (int i = 0; i < oh; i++)
                                for (int j = 0; j < ow; j++)
                                {
                                    int y = i * stride.H - padding.H + ki * dilation.H, xx = j * stride.W - padding.W + kj * dilation.W;
                                    if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                                    sum += gd[((b * oc + o) * oh + i) * ow + j] * xd[((b * c + channel) * h + y) * w + xx];
                                }
                        dw[((o * cg + ci) * kh + ki) * kw + kj] = sum;
                    }
        return Tensor.FromArray(dw, weightShape);
    }

    /// <summary>Σ a·b over all elements, in float64.</summary>
    public static double Dot(Tensor a, Tensor b)
    {
        var ad = a.ToArray<double>();
        var bd = b.ToArray<double>();
        Assert.Equal(ad.Length, bd.Length);
        double sum = 0;
        for (int i = 0; i < ad.Length; i++) sum += ad[i] * bd[i];
        return sum;
    }
}
