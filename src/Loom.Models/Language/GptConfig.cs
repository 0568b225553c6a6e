namespace Loom.Models;

/// <summary>Sizes of a <see cref="Gpt"/>: vocabulary, width, depth, heads and context length.</summary>
public sealed record GptConfig(int Vocab = 4096, int Dim = 256, int Layers = 4, int Heads = 4, int Context = 128, double Dropout = 0)
{
    public void Validate()
    {
        if (Vocab <= 0 || Dim <= 0 || Layers <= 0 || Heads <= 0 || Context <= 0)
            throw new ArgumentException($"GPT sizes must be positive: {this}");
        if (Dim % Heads != 0) throw new ArgumentException($"GPT: width {Dim} is not divisible by {Heads} heads");
    }
}
