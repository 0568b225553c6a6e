using System.Globalization;
using System.Text;

namespace Loom;

public partial class Tensor
{
    private const int SummariseAbove = 1000;
    private const int EdgeItems = 3;

    /// <summary>
    /// PyTorch-style text: <c>tensor([[1.0000, 2.0000], …], dtype=float64, requires_grad=True)</c>. Tensors with
    /// more than 1,000 elements show the first and last three entries of each dimension.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        var t = Contiguous();
        bool summarise = Numel > SummariseAbove;
        bool isFloat = DType.IsFloatingPoint();
        bool allIntegral = true;
        if (isFloat)
        {
            var values = t.ToArray<double>();
            foreach (var v in values) if (!double.IsFinite(v) || v != Math.Floor(v)) { allIntegral = false; break; }
        }
        Format(sb, t, new int[Rank], 0, summarise, isFloat, allIntegral, indent: 7);
        if (DType != DType.Float32 && DType != DType.Int64) sb.Append(", dtype=").Append(DType.Name());
        if (RequiresGrad) sb.Append(GradFn is { } fn ? $", grad_fn=<{fn}>" : ", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private static void Format(StringBuilder sb, Tensor t, int[] index, int axis, bool summarise, bool isFloat, bool integral, int indent)
    {
        if (t.Rank == 0)
        {
            sb.Append(FormatValue(t.GetDouble(), isFloat, integral, t.DType));
            return;
        }
        int n = t.Shape[axis];
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (summarise && n > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(axis == t.Rank - 1 ? "..., " : "...,\n" + new string(' ', indent + axis + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            index[axis] = i;
            if (axis == t.Rank - 1) sb.Append(FormatValue(t.GetDouble(index), isFloat, integral, t.DType));
            else Format(sb, t, index, axis + 1, summarise, isFloat, integral, indent);
            if (i < n - 1)
            {
                if (axis == t.Rank - 1) sb.Append(", ");
                else sb.Append(',').Append('\n', t.Rank - 1 - axis).Append(' ', indent + axis + 1);
            }
        }
        sb.Append(']');
    }

    private static string FormatValue(double v, bool isFloat, bool integral, DType dtype)
    {
        if (dtype == DType.Bool) return v != 0 ? "True" : "False";
        if (!isFloat) return ((long)v).ToString(CultureInfo.InvariantCulture);
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        if (integral) return v.ToString("0", CultureInfo.InvariantCulture) + ".";
        double a = Math.Abs(v);
        return a != 0 && (a >= 1e8 || a < 1e-4)
            ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
            : v.ToString("0.0000", CultureInfo.InvariantCulture);
    }
}
