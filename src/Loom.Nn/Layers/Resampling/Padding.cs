namespace Loom.Nn;

// Padding layers (torch.nn.ConstantPad2d, ZeroPad2d, ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad2d): the
// amounts as (left, right) for one dimension or (left, right, top, bottom) for two, over Functional.Pad.

/// <summary>Pads the last dimensions with a mode and amounts given as in <see cref="Functional.Pad"/>.</summary>
public class Pad : Module<Tensor, Tensor>
{
    public Pad(int[] padding, PadMode mode = PadMode.Constant, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(padding);
        if (padding.Length == 0 || padding.Length % 2 != 0) throw new ArgumentException($"{GetType().Name}: padding needs (left, right) pairs, got {padding.Length} values");
        (Padding, Mode, Value) = (padding, mode, value);
    }

    public int[] Padding { get; }
    public PadMode Mode { get; }
    public double Value { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Pad(input, Padding, Mode, Value);

    protected override string ExtraRepr() => $"({string.Join(", ", Padding)})" + (Mode == PadMode.Constant && Value != 0 ? $", value={Value}" : "");
}

/// <summary>Constant padding of the last two dimensions by (left, right, top, bottom).</summary>
public sealed class ConstantPad2d((int Left, int Right, int Top, int Bottom) padding, double value) : Pad([padding.Left, padding.Right, padding.Top, padding.Bottom], PadMode.Constant, value)
{
    public ConstantPad2d(int padding, double value) : this((padding, padding, padding, padding), value) { }
}

/// <summary>Zero padding of the last two dimensions by (left, right, top, bottom).</summary>
public sealed class ZeroPad2d((int Left, int Right, int Top, int Bottom) padding) : Pad([padding.Left, padding.Right, padding.Top, padding.Bottom])
{
    public ZeroPad2d(int padding) : this((padding, padding, padding, padding)) { }
}

/// <summary>Mirror padding of the last dimension by (left, right), without repeating the edge.</summary>
public sealed class ReflectionPad1d((int Left, int Right) padding) : Pad([padding.Left, padding.Right], PadMode.Reflect)
{
    public ReflectionPad1d(int padding) : this((padding, padding)) { }
}

/// <summary>Mirror padding of the last two dimensions by (left, right, top, bottom), without repeating the edge.</summary>
public sealed class ReflectionPad2d((int Left, int Right, int Top, int Bottom) padding) : Pad([padding.Left, padding.Right, padding.Top, padding.Bottom], PadMode.Reflect)
{
    public ReflectionPad2d(int padding) : this((padding, padding, padding, padding)) { }
}

/// <summary>Edge padding of the last dimension by (left, right).</summary>
public sealed class ReplicationPad1d((int Left, int Right) padding) : Pad([padding.Left, padding.Right], PadMode.Replicate)
{
    public ReplicationPad1d(int padding) : this((padding, padding)) { }
}

/// <summary>Edge padding of the last two dimensions by (left, right, top, bottom).</summary>
public sealed class ReplicationPad2d((int Left, int Right, int Top, int Bottom) padding) : Pad([padding.Left, padding.Right, padding.Top, padding.Bottom], PadMode.Replicate)
{
    public ReplicationPad2d(int padding) : this((padding, padding, padding, padding)) { }
}

/// <summary>Wrap-around padding of the last two dimensions by (left, right, top, bottom).</summary>
public sealed class CircularPad2d((int Left, int Right, int Top, int Bottom) padding) : Pad([padding.Left, padding.Right, padding.Top, padding.Bottom], PadMode.Circular)
{
    public CircularPad2d(int padding) : this((padding, padding, padding, padding)) { }
}
