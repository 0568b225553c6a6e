namespace Loom.Train;

/// <summary>The loss became NaN or infinite; the message names the epoch, batch and global step.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
