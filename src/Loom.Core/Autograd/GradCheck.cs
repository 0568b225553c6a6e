using System.Text;

namespace Loom.Autograd;

/// <summary>
/// Compares the gradients that autograd computes with central differences, (f(x+ε) − f(x−ε)) / 2ε, perturbing one
/// input element at a time, as <c>torch.autograd.gradcheck</c> does. Use Float64 inputs: in Float32 the finite
/// differences are too noisy for a meaningful comparison.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks every input that requires grad. Returns null when all Jacobian entries agree within
    /// |analytic − numeric| ≤ atol + rtol·|numeric|, else a report naming the first mismatches.
    /// </summary>
    public static string? Run(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        foreach (var x in inputs)
        {
            if (x.RequiresGrad && x.DType != DType.Float64)
                throw new ArgumentException($"GradCheck: inputs that require grad must be float64 (finite differences in float32 are too noisy), got {x.DType.Name()} of shape {x.Shape}");
            if (x.RequiresGrad && (!x.IsLeaf || !x.IsContiguous))
                throw new ArgumentException($"GradCheck: inputs that require grad must be contiguous leaves, got shape {x.Shape}");
        }

        Tensor output;
        using (new NoGrad()) output = function(inputs);
        int m = output.Numel;
        var analytic = new double[inputs.Length][][]; // [input][output element][input element]
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].RequiresGrad) analytic[i] = new double[m][];

        for (int j = 0; j < m; j++)
        {
            foreach (var x in inputs) x.Grad = null;
            var y = function(inputs);
            if (!y.RequiresGrad) throw new ArgumentException("GradCheck: the function's output does not require grad; do the inputs?");
            var seed = Tensor.Zeros(y.Shape, y.DType);
            seed.Data<double>()[j] = 1;
            y.Backward(seed);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].RequiresGrad) continue;
                analytic[i][j] = inputs[i].Grad?.Contiguous().Data<double>().ToArray() ?? new double[inputs[i].Numel];
            }
        }
        foreach (var x in inputs) x.Grad = null;

        var report = new StringBuilder();
        int failures = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            if (!x.RequiresGrad) continue;
            var data = x.Data<double>();
            for (int e = 0; e < x.Numel; e++)
            {
                double saved = data[e];
                double[] plus, minus;
                using (new NoGrad())
                {
                    // Each perturbation is an in-place write: bumping the version tells caches of values derived
                    // from x (an imported network's folded BatchNorm weights) that x changed.
                    data[e] = saved + eps;
                    x.Storage.BumpVersion();
                    plus = function(inputs).Contiguous().To(DType.Float64).Data<double>().ToArray();
                    data[e] = saved - eps;
                    x.Storage.BumpVersion();
                    minus = function(inputs).Contiguous().To(DType.Float64).Data<double>().ToArray();
                    data[e] = saved;
                    x.Storage.BumpVersion();
                }
                for (int j = 0; j < m; j++)
                {
                    double numeric = (plus[j] - minus[j]) / (2 * eps);
                    double a = analytic[i][j][e];
                    if (!(Math.Abs(a - numeric) <= atol + rtol * Math.Abs(numeric)))
                    {
                        if (++failures <= 10)
                            report.AppendLine($"  input {i} (shape {x.Shape}) element {e}, output element {j}: analytic {a:G9}, numeric {numeric:G9}");
                    }
                }
            }
        }
        if (failures == 0) return null;
        return $"GradCheck failed for {failures} Jacobian entries (output shape {output.Shape}):\n{report}";
    }
}
