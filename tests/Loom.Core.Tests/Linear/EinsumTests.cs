namespace Loom.Tests.Linear;

/// <summary>Einsum's equation errors (its values are in the OpInfo table).</summary>
public class EinsumTests
{
    private static readonly Tensor A = Tensor.Zeros(3, 4), B = Tensor.Zeros(5, 6);

    [Fact]
    public void Errors_quote_the_equation_and_say_what_does_not_fit()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("ij,jk->ik", A), "\"ij,jk->ik\"", "2 operand terms for 1 operands");
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("ij,jk->ik", A, B), "label 'j'", "size 4", "5");
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("ijk->i", A), "does not fit operand 0 of shape [3, 4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("i1->i", A), "'1'", "not a letter");
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("ij->iz", A), "'z'", "appears in no operand");
        TensorAssert.Throws<ArgumentException>(() => Functional.Einsum("ii->i", A), "repeats over axes of sizes 3 and 4");
    }
}
