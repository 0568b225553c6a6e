namespace Loom.Data;

/// <summary>One item of a supervised dataset: an input tensor (e.g. [C, H, W]) and its target (e.g. a scalar class index).</summary>
public readonly record struct Sample(Tensor Input, Tensor Target);
