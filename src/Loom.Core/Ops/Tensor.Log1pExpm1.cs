namespace Loom;

// log(1 + x) and eˣ − 1 for small x without cancellation (Kernels/Log1pExpm1Kernels.cs), floats only.
//   log1p:  y = log(1 + x)    dx = dy / (1 + x)
//   expm1:  y = eˣ − 1        dx = dy · (y + 1)     (from the saved output)
public partial class Tensor
{
    /// <summary>log(1 + x), accurate for |x| ≪ 1 where <c>x.Add(1).Log()</c> loses the digits of x (like <c>torch.log1p</c>).</summary>
    public Tensor Log1p()
    {
        var result = MapFloat("log1p", new Log1pOperator(), new Log1pOperator());
        return GradMode.ShouldRecord(this) ? new Log1pBackward(this).Attach(result) : result;
    }

    /// <summary>eˣ − 1, accurate for |x| ≪ 1 where <c>x.Exp().Sub(1)</c> loses the digits of x (like <c>torch.expm1</c>).</summary>
    public Tensor Expm1()
    {
        var result = MapFloat("expm1", new Expm1Operator(), new Expm1Operator());
        return GradMode.ShouldRecord(this) ? new Expm1Backward(this, result).Attach(result) : result;
    }

    private sealed class Log1pBackward : BackwardNode
    {
        private readonly SavedTensor _x;

        public Log1pBackward(Tensor x) : base("log1p", x) => _x = Save(x);

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Div(_x.Value.Add(1))];
    }

    private sealed class Expm1Backward : BackwardNode
    {
        private readonly SavedTensor _y;

        public Expm1Backward(Tensor x, Tensor y) : base("expm1", x) => _y = Save(y);

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Mul(_y.Value.Add(1))];
    }
}
