namespace Loom;

// One layer of a recurrent network in one direction, over the whole sequence, as a single autograd op.
//   Inputs: gx = x·W_ihᵀ + b_ih for every step (one GEMM, in RecurrentLayer), W_hh [G·H, H], b_hh, h0, c0.
//   Step s, with hg = h_{s−1}·W_hhᵀ + b_hh (one GEMM per step):
//     RNN   h = tanh(gx + hg) or relu(gx + hg)
//     LSTM  i, f, g, o = σ, σ, tanh, σ of (gx + hg);  c = f⊙c_{s−1} + i⊙g;  h = o⊙tanh(c)
//     GRU   r, z = σ(gx + hg);  n = tanh(gx_n + r⊙hg_n);  h = (1 − z)⊙n + z⊙h_{s−1}
//   Backward, from the last step down: the cell's local derivatives give dA_s = dL/dhg_s (RecurrentKernels), then
//     dh_{s−1} = dA_s·W_hh + direct path (GRU: dh⊙z; LSTM's cell state: dc_{s−1} = dc⊙f)
//     dgx_s = dA_s, except GRU's n gate, where the reset gate sits between them: dA_n = dgx_n⊙r
//   and once for the whole sequence: dW_hh = Σ_s dA_sᵀ·h_{s−1} (one GEMM with inner dimension T·B), db_hh = Σ_s dA_s.
// Why one op: a composed graph records ~15 small nodes per step; here a step costs one GEMM and one pass over the
// gates each way, and the weight gradient is a single large GEMM instead of T small ones.
//
// The op has one output, the flat z = [output (T·B·H) | h_T (B·H) | c_T (B·H, LSTM)]; the tensors returned are views
// of it, so gradients arriving through any of them meet in this one backward node.
//
// Lengths (padded batches, like packed sequences): row b is active for steps s < len_b, at time s (forward) or
// len_b − 1 − s (reverse). An inactive row keeps its state, its output stays zero, and in backward its gradients pass
// through unchanged (its dA row is zero).
public static partial class Functional
{
    /// <summary>
    /// One layer of a recurrent network (RNN, LSTM or GRU, by <paramref name="cell"/>) in one direction over a whole
    /// sequence, as one autograd op: the recurrence inside PyTorch's <c>torch.nn.RNN</c>, <c>LSTM</c> and <c>GRU</c>
    /// (and ONNX's single-layer RNN, LSTM and GRU operators). Stacking, bidirectionality, dropout between layers
    /// and unbatched input are the modules' business.
    /// </summary>
    /// <param name="input">[T, B, in], or [B, T, in] with <paramref name="batchFirst"/>; T ≥ 1.</param>
    /// <param name="weightIh">[G·H, in], G = <see cref="RecurrentCellExtensions.GateCount"/> gate blocks in PyTorch's order.</param>
    /// <param name="weightHh">[G·H, H].</param>
    /// <param name="biasIh">[G·H] or null.</param>
    /// <param name="biasHh">[G·H] or null.</param>
    /// <param name="h0">Initial hidden state [B, H], or null for zeros.</param>
    /// <param name="c0">Initial LSTM cell state [B, H], or null for zeros; must be null for the other cells.</param>
    /// <param name="reverse">Run from the last step to the first (the backward direction of a bidirectional layer).</param>
    /// <param name="lengths">Per-sequence lengths for a padded batch (in place of PyTorch's packed sequences), each in
    /// [0, T]: sequence b uses its first lengths[b] steps, its later outputs are zero, its final state is the one
    /// after its last valid step, and in reverse it starts at step lengths[b] − 1. Null means all T.</param>
    /// <returns>The output [T, B, H] (or [B, T, H]), the final hidden state [B, H] and, for LSTM, the final cell
    /// state [B, H] (null otherwise). All three are views of one result, so gradients through any of them meet in
    /// one backward.</returns>
    public static (Tensor Output, Tensor H, Tensor? C) RecurrentLayer(RecurrentCell cell, Tensor input, Tensor weightIh, Tensor weightHh,
        Tensor? biasIh = null, Tensor? biasHh = null, Tensor? h0 = null, Tensor? c0 = null, bool batchFirst = false, bool reverse = false,
        int[]? lengths = null)
    {
        if (!Enum.IsDefined(cell)) throw new ArgumentOutOfRangeException(nameof(cell), cell, "recurrent layer: unknown cell");
        CheckRecurrentLayer(cell, input, weightIh.Shape, weightHh.Shape, biasIh, biasHh, h0, c0, batchFirst, lengths);
        foreach (var (what, weight) in new[] { ("weight_ih", weightIh), ("weight_hh", weightHh) })
            if (weight.DType != input.DType)
                throw new ArgumentException($"{cell.OpName()}: {what} dtype {weight.DType.Name()} does not match the input's {input.DType.Name()}");
        var gatesX = Linear(input, weightIh, biasIh);
        return RecurrentSequence.Run(cell, gatesX, weightHh, null, biasHh, h0, c0, batchFirst, reverse, lengths);
    }

    /// <summary>
    /// <see cref="RecurrentLayer(RecurrentCell, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/>
    /// with packed (int8) weights, for inference: the input projection of the whole sequence is one packed product,
    /// the hidden projection one packed product per step (each step's h quantised on the fly), the cell math is the
    /// float layer's. Float32 only; nothing records a gradient.
    /// </summary>
    public static (Tensor Output, Tensor H, Tensor? C) RecurrentLayer(RecurrentCell cell, Tensor input, PackedWeight weightIh, PackedWeight weightHh,
        Tensor? biasIh = null, Tensor? biasHh = null, Tensor? h0 = null, Tensor? c0 = null, bool batchFirst = false, bool reverse = false,
        int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(weightIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        if (!Enum.IsDefined(cell)) throw new ArgumentOutOfRangeException(nameof(cell), cell, "recurrent layer: unknown cell");
        CheckRecurrentLayer(cell, input, new Shape(weightIh.OutFeatures, weightIh.InFeatures), new Shape(weightHh.OutFeatures, weightHh.InFeatures),
            biasIh, biasHh, h0, c0, batchFirst, lengths);
        if (input.DType != DType.Float32) throw new ArgumentException($"{cell.OpName()}: packed weights take float32 input, got {input.DType.Name()}");
        var gatesX = Linear(input, weightIh, biasIh);
        return RecurrentSequence.Run(cell, gatesX, null, weightHh, biasHh, h0, c0, batchFirst, reverse, lengths);
    }

    /// <summary>Checks the shapes of a layer's inputs and the dtypes of all but the weights (the callers check those).</summary>
    private static void CheckRecurrentLayer(RecurrentCell cell, Tensor input, Shape weightIh, Shape weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, bool batchFirst, int[]? lengths)
    {
        string op = cell.OpName();
        if (!input.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {input.DType.Name()} is not supported (float32 or float64)");
        if (input.Rank != 3)
            throw new ArgumentException($"{op}: expected input {(batchFirst ? "[B, T, in]" : "[T, B, in]")}, got shape {input.Shape}");
        int steps = input.Shape[batchFirst ? 1 : 0], batch = input.Shape[batchFirst ? 0 : 1];
        if (steps == 0) throw new ArgumentException($"{op}: the sequence length must be positive, got input of shape {input.Shape}");
        if (weightHh.Rank != 2 || weightHh[1] <= 0 || weightHh[0] != cell.GateCount() * weightHh[1])
            throw new ArgumentException($"{op}: weight_hh must be [{cell.GateCount()}·H, H], got shape {weightHh}");
        int hidden = weightHh[1], gates = weightHh[0];
        var state = new Shape(batch, hidden);
        if (weightIh != new Shape(gates, input.Shape[2]))
            throw new ArgumentException($"{op}: expected weight_ih of shape {new Shape(gates, input.Shape[2])} for input of shape {input.Shape} and weight_hh of shape {weightHh}, got {weightIh}");
        Check("bias_ih", biasIh, new Shape(gates));
        Check("bias_hh", biasHh, new Shape(gates));
        Check("h0", h0, state);
        if (c0 is not null && cell != RecurrentCell.Lstm) throw new ArgumentException($"{op}: only an LSTM has a cell state c0");
        Check("c0", c0, state);
        if (lengths is null) return;
        if (lengths.Length != batch)
            throw new ArgumentException($"{op}: lengths has {lengths.Length} entries but input of shape {input.Shape} holds {batch} sequence(s)");
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] < 0 || lengths[b] > steps)
                throw new ArgumentException($"{op}: lengths[{b}] = {lengths[b]} is outside [0, {steps}] for input of shape {input.Shape}");

        void Check(string what, Tensor? tensor, Shape expected)
        {
            if (tensor is null) return;
            if (tensor.Shape != expected)
                throw new ArgumentException($"{op}: expected {what} of shape {expected} for input of shape {input.Shape} and weight_hh of shape {weightHh}, got {tensor.Shape}");
            if (tensor.DType != input.DType)
                throw new ArgumentException($"{op}: {what} dtype {tensor.DType.Name()} does not match the input's {input.DType.Name()}");
        }
    }
}

internal static class RecurrentSequence
{
    /// <summary>
    /// Runs one layer in one direction. <paramref name="gatesX"/> is [T, B, G·H] ([B, T, G·H] when
    /// <paramref name="batchFirst"/>); h0 and c0 are [B, H] or null for zeros. Returns the output in the input's layout
    /// ([T, B, H] or [B, T, H]) and the final states [B, H] (C only for LSTM). Shapes are validated by
    /// <see cref="Functional.RecurrentLayer(RecurrentCell, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, bool, int[])"/>.
    /// </summary>
    /// <param name="weightHh">The float W_hh, or null with <paramref name="packedHh"/> (inference, nothing recorded).</param>
    public static (Tensor Output, Tensor H, Tensor? C) Run(RecurrentCell cell, Tensor gatesX, Tensor? weightHh, PackedWeight? packedHh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, bool batchFirst, bool reverse, int[]? lengths)
    {
        int steps = gatesX.Shape[batchFirst ? 1 : 0], batch = gatesX.Shape[batchFirst ? 0 : 1], hidden = weightHh?.Shape[1] ?? packedHh!.InFeatures;
        var plan = new SequencePlan(cell, steps, batch, hidden, batchFirst, reverse, lengths);
        var inputs = new List<Tensor> { gatesX };
        if (weightHh is not null) inputs.Add(weightHh);
        if (biasHh is not null) inputs.Add(biasHh);
        if (h0 is not null) inputs.Add(h0);
        if (c0 is not null) inputs.Add(c0);
        bool record = packedHh is null && GradMode.ShouldRecord(inputs);

        var tape = new SequenceTape(plan, gatesX.DType, record);
        int outputSize = plan.OutputElements + (cell == RecurrentCell.Lstm ? 2 : 1) * batch * hidden;
        var z = plan.HasPadding ? Tensor.Zeros(new Shape(outputSize), gatesX.DType) : Tensor.Empty(new Shape(outputSize), gatesX.DType);
        var gx = gatesX.Detach().Contiguous();
        // W_hhᵀ [H, G·H] stored row-major once per call: GEMM packs a row-major B with vector copies, a transposed one
        // element by element, and with only B rows per step that packing is repeated every step.
        Tensor? w = null;
        if (weightHh is not null)
            using (new NoGrad()) w = weightHh.Detach().Transpose(0, 1).Contiguous();
        var b = biasHh?.Detach().Contiguous();
        var h = h0?.Detach().Contiguous();
        var c = c0?.Detach().Contiguous();
        if (gx.DType == DType.Float32) Forward<float>(plan, tape, gx, w, packedHh, b, h, c, z);
        else Forward<double>(plan, tape, gx, w, null, b, h, c, z);
        if (record) z = new SequenceBackward(plan, tape, gatesX, weightHh!, biasHh, h0, c0).Attach(z);

        int bh = batch * hidden;
        var output = z.Narrow(0, 0, plan.OutputElements).Reshape(batchFirst ? [batch, steps, hidden] : [steps, batch, hidden]);
        var hN = z.Narrow(0, plan.OutputElements, bh).Reshape(batch, hidden);
        var cN = cell == RecurrentCell.Lstm ? z.Narrow(0, plan.OutputElements + bh, bh).Reshape(batch, hidden) : null;
        return (output, hN, cN);
    }

    // Gate elements per thread below which a step's cell math stays on one thread (a dispatch costs microseconds).
    private const int ParallelGateElements = 1 << 14;

    private static int RowGrain(SequencePlan p) => Math.Max(1, ParallelGateElements / Math.Max(1, p.GateWidth));

    private static void Forward<T>(SequencePlan p, SequenceTape tape, Tensor gatesX, Tensor? weightHhT, PackedWeight? packedHh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = p.Batch, n = p.Hidden, width = p.GateWidth, bh = batch * n;
        var wT = weightHhT is null ? default : weightHhT.Data<T>();
        var bias = biasHh is null ? default : biasHh.Data<T>();
        var hAll = tape.H.Data<T>();
        if (h0 is null) hAll[..bh].Clear(); else h0.Data<T>().CopyTo(hAll);
        if (tape.C is not null)
        {
            if (c0 is null) tape.C.Data<T>()[..bh].Clear(); else c0.Data<T>().CopyTo(tape.C.Data<T>());
        }

        var rows = new StepRows<T>(p, tape) { GatesX = gatesX, Output = z, HiddenGates = ArrayPool<T>.Shared.Rent(batch * width) };
        try
        {
            var hg = rows.HiddenGates.AsSpan(0, batch * width);
            int grain = RowGrain(p);
            for (int s = 0; s < p.Steps; s++)
            {
                var hPrev = hAll.Slice(tape.StateSlot(s) * bh, bh);
                if (packedHh is not null)
                {
                    // Float32 only (checked by the packed RecurrentLayer); the whole step's h is one quantised tensor.
                    packedHh.Multiply(MemoryMarshal.Cast<T, float>(hPrev), batch, MemoryMarshal.Cast<T, float>(bias), MemoryMarshal.Cast<T, float>(hg));
                }
                else
                {
                    if (!bias.IsEmpty) BiasKernels.FillRows<T>(bias, hg);
                    TypedGemm.Run<T>(false, false, batch, width, n, hPrev, n, wT, width, accumulate: !bias.IsEmpty, hg, width);
                }
                ParallelHelper.For(batch, grain, (rows, s), static (st, b0, b1) => st.rows.Forward(st.s, b0, b1));
            }
            var output = z.Data<T>();
            hAll.Slice(tape.StateSlot(p.Steps) * bh, bh).CopyTo(output.Slice(p.OutputElements, bh));
            if (tape.C is not null) tape.C.Data<T>().Slice(tape.StateSlot(p.Steps) * bh, bh).CopyTo(output.Slice(p.OutputElements + bh, bh));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rows.HiddenGates);
        }
    }

    /// <summary>
    /// The cell math of one step for a range of batch rows, forward and backward. Rows are independent within a step,
    /// so a step's rows can be split across threads; buffers are held as tensors and arrays because spans cannot be
    /// handed to the parallel loop.
    /// </summary>
    private sealed class StepRows<T>(SequencePlan plan, SequenceTape tape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Forward: gx in, z (output | h_T | c_T) out, hg = h·W_hhᵀ + b_hh of the current step.
        public Tensor? GatesX, Output;
        public T[] HiddenGates = [];
        // Backward: dz in, dgx out (null when not needed), dA of every step, and the running dh, dh_prev, dc ([B, H]).
        public Tensor? GradOutput, GradGatesX, GradHidden;
        public T[] Dh = [], DhPrev = [], Dc = [];

        public void Forward(int s, int b0, int b1)
        {
            int batch = plan.Batch, n = plan.Hidden, width = plan.GateWidth, bh = batch * n;
            var gx = GatesX!.Data<T>();
            var output = Output!.Data<T>();
            var hPrev = tape.H.Data<T>().Slice(tape.StateSlot(s) * bh, bh);
            var hNext = tape.H.Data<T>().Slice(tape.StateSlot(s + 1) * bh, bh);
            var cPrev = tape.C is null ? default : tape.C.Data<T>().Slice(tape.StateSlot(s) * bh, bh);
            var cNext = tape.C is null ? default : tape.C.Data<T>().Slice(tape.StateSlot(s + 1) * bh, bh);
            var gates = tape.Gates is null ? default : tape.Gates.Data<T>().Slice(tape.StepSlot(s) * batch * width, batch * width);
            var hgN = tape.HgN is null ? default : tape.HgN.Data<T>().Slice(tape.StepSlot(s) * bh, bh);
            for (int b = b0; b < b1; b++)
            {
                var hp = hPrev.Slice(b * n, n);
                var hb = hNext.Slice(b * n, n);
                int t = plan.TimeAt(s, b);
                if (t < 0)
                {
                    hp.CopyTo(hb);
                    if (!cPrev.IsEmpty) cPrev.Slice(b * n, n).CopyTo(cNext.Slice(b * n, n));
                    continue;
                }
                int row = plan.Row(t, b);
                var gxRow = gx.Slice(row * width, width);
                var hgRow = HiddenGates.AsSpan(b * width, width);
                switch (plan.Cell)
                {
                    case RecurrentCell.Lstm:
                        RecurrentKernels.LstmForward(gxRow, hgRow, cPrev.Slice(b * n, n), gates.Slice(b * width, width), cNext.Slice(b * n, n), hb);
                        break;
                    case RecurrentCell.Gru:
                        RecurrentKernels.GruForward(gxRow, hgRow, hp, gates.Slice(b * width, width), hb);
                        if (!hgN.IsEmpty) hgRow.Slice(2 * n, n).CopyTo(hgN.Slice(b * n, n));
                        break;
                    default:
                        RecurrentKernels.RnnForward(gxRow, hgRow, plan.Cell == RecurrentCell.RnnRelu, hb);
                        break;
                }
                hb.CopyTo(output.Slice(row * n, n));
            }
        }

        /// <summary>
        /// Adds the output's gradient into dh, then writes dA (and dgx) for step s and the direct part of dh_prev
        /// (the GRU's dh⊙z; zero otherwise; all of dh for rows past their length, which also keep their dc).
        /// </summary>
        public void Backward(int s, int b0, int b1)
        {
            int batch = plan.Batch, n = plan.Hidden, width = plan.GateWidth, bh = batch * n;
            var dy = GradOutput!.Data<T>()[..plan.OutputElements];
            var dgx = GradGatesX is null ? default : GradGatesX.Data<T>();
            var dA = GradHidden!.Data<T>().Slice(s * batch * width, batch * width);
            var hAll = tape.H.Data<T>();
            var cAll = tape.C is null ? default : tape.C.Data<T>();
            var gates = tape.Gates is null ? default : tape.Gates.Data<T>().Slice(s * batch * width, batch * width);
            var hgN = tape.HgN is null ? default : tape.HgN.Data<T>().Slice(s * bh, bh);
            var scratchArray = ArrayPool<T>.Shared.Rent(width);
            try
            {
                var scratch = scratchArray.AsSpan(0, width);
                for (int b = b0; b < b1; b++)
                {
                    var dh = Dh.AsSpan(b * n, n);
                    var dhPrev = DhPrev.AsSpan(b * n, n);
                    var dAb = dA.Slice(b * width, width);
                    int t = plan.TimeAt(s, b);
                    if (t < 0)
                    {
                        dAb.Clear();
                        dh.CopyTo(dhPrev);
                        continue;
                    }
                    int row = plan.Row(t, b), state = s * bh + b * n;
                    TensorPrimitives.Add(dh, dy.Slice(row * n, n), dh);
                    switch (plan.Cell)
                    {
                        case RecurrentCell.Lstm:
                            RecurrentKernels.LstmBackward<T>(gates.Slice(b * width, width), cAll.Slice(state + bh, n), cAll.Slice(state, n), dh,
                                Dc.AsSpan(b * n, n), scratch[..n], dAb);
                            dhPrev.Clear();
                            break;
                        case RecurrentCell.Gru:
                            RecurrentKernels.GruBackward<T>(gates.Slice(b * width, width), hgN.Slice(b * n, n), hAll.Slice(state, n), dh,
                                dgx.IsEmpty ? scratch : dgx.Slice(row * width, width), dAb, dhPrev);
                            break;
                        default:
                            RecurrentKernels.RnnBackward<T>(hAll.Slice(state + bh, n), dh, plan.Cell == RecurrentCell.RnnRelu, dAb);
                            dhPrev.Clear();
                            break;
                    }
                    if (plan.Cell != RecurrentCell.Gru && !dgx.IsEmpty) dAb.CopyTo(dgx.Slice(row * width, width));
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratchArray);
            }
        }
    }

    /// <summary>Backward of <see cref="Run"/>: inputs gx, W_hh, b_hh, h0, c0 (in that order; absent ones are null).</summary>
    private sealed class SequenceBackward : BackwardNode
    {
        private readonly SequencePlan _plan;
        private readonly SavedTensor _weightHh;
        private readonly SavedTensor _h;
        private readonly SavedTensor? _c;
        private readonly SavedTensor? _gates;
        private readonly SavedTensor? _hgN;
        private readonly Shape _gatesXShape;

        public SequenceBackward(SequencePlan plan, SequenceTape tape, Tensor gatesX, Tensor weightHh, Tensor? biasHh, Tensor? h0, Tensor? c0)
            : base(plan.Cell.OpName(), gatesX, weightHh, biasHh, h0, c0)
        {
            _plan = plan;
            _gatesXShape = gatesX.Shape;
            _weightHh = Save(weightHh);
            _h = Save(tape.H);
            if (tape.C is not null) _c = Save(tape.C);
            if (tape.Gates is not null) _gates = Save(tape.Gates);
            if (tape.HgN is not null) _hgN = Save(tape.HgN);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dz = gradOutput.Contiguous();
            return dz.DType == DType.Float32 ? Backward<float>(dz) : Backward<double>(dz);
        }

        private Tensor?[] Backward<T>(Tensor gradOutput) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var p = _plan;
            int batch = p.Batch, n = p.Hidden, width = p.GateWidth, bh = batch * n;
            var dtype = gradOutput.DType;
            var dz = gradOutput.Data<T>();
            var w = _weightHh.Value.Detach().Contiguous().Data<T>();
            var hAll = _h.Value.Data<T>();
            // Reading the saved tensors checks that nothing modified them since the forward.
            var tape = new SequenceTape(_h.Value, _c?.Value, _gates?.Value, _hgN?.Value);

            var pool = ArrayPool<T>.Shared;
            var rows = new StepRows<T>(p, tape)
            {
                GradOutput = gradOutput,
                GradGatesX = NeedsGrad(0) ? (p.HasPadding ? Tensor.Zeros(_gatesXShape, dtype) : Tensor.Empty(_gatesXShape, dtype)) : null,
                // dA of every step, kept for the weight and bias gradients at the end.
                GradHidden = Tensor.Empty(new Shape(p.Steps * batch, width), dtype),
                Dh = pool.Rent(bh),
                DhPrev = pool.Rent(bh),
                Dc = pool.Rent(bh),
            };
            try
            {
                dz.Slice(p.OutputElements, bh).CopyTo(rows.Dh);
                if (p.Cell == RecurrentCell.Lstm) dz.Slice(p.OutputElements + bh, bh).CopyTo(rows.Dc);
                var dAAll = rows.GradHidden.Data<T>();
                int grain = RowGrain(p);
                for (int s = p.Steps - 1; s >= 0; s--)
                {
                    ParallelHelper.For(batch, grain, (rows, s), static (st, b0, b1) => st.rows.Backward(st.s, b0, b1));
                    // dh_prev += dA·W_hh; the gradient reaching h0 is only needed when h0 wants one.
                    if (s > 0 || NeedsGrad(3))
                        TypedGemm.Run<T>(false, false, batch, n, width, dAAll.Slice(s * batch * width, batch * width), width, w, n, accumulate: true,
                            rows.DhPrev.AsSpan(0, bh), n);
                    (rows.Dh, rows.DhPrev) = (rows.DhPrev, rows.Dh);
                }

                Tensor? dw = null, db = null, dh0 = null, dc0 = null;
                if (NeedsGrad(1))
                {
                    dw = Tensor.Empty(new Shape(width, n), dtype);
                    TypedGemm.Run<T>(true, false, width, n, p.Steps * batch, dAAll, width, hAll[..(p.Steps * bh)], n, accumulate: false, dw.Data<T>(), n);
                }
                if (NeedsGrad(2))
                {
                    db = Tensor.Empty(new Shape(width), dtype);
                    BiasKernels.ColumnSums<T>(dAAll, db.Data<T>());
                }
                if (NeedsGrad(3)) dh0 = Tensor.FromSpan<T>(rows.Dh.AsSpan(0, bh), batch, n);
                if (NeedsGrad(4)) dc0 = Tensor.FromSpan<T>(rows.Dc.AsSpan(0, bh), batch, n);
                return [rows.GradGatesX, dw, db, dh0, dc0];
            }
            finally
            {
                pool.Return(rows.Dh);
                pool.Return(rows.DhPrev);
                pool.Return(rows.Dc);
            }
        }
    }
}

/// <summary>Sizes of one layer-direction run, and for each (step, batch row) the time it processes.</summary>
internal sealed class SequencePlan
{
    private readonly int[] _time; // [step · Batch + b] → time index, or −1 when the row is past its length

    public SequencePlan(RecurrentCell cell, int steps, int batch, int hidden, bool batchFirst, bool reverse, int[]? lengths)
    {
        (Cell, Steps, Batch, Hidden, BatchFirst) = (cell, steps, batch, hidden, batchFirst);
        GateWidth = cell.GateCount() * hidden;
        _time = new int[steps * batch];
        for (int b = 0; b < batch; b++)
        {
            int length = lengths?[b] ?? steps;
            HasPadding |= length < steps;
            for (int s = 0; s < steps; s++)
                _time[s * batch + b] = s >= length ? -1 : reverse ? length - 1 - s : s;
        }
    }

    public RecurrentCell Cell { get; }
    public int Steps { get; }
    public int Batch { get; }
    public int Hidden { get; }
    public bool BatchFirst { get; }

    /// <summary>G·H: the width of a row of gate pre-activations.</summary>
    public int GateWidth { get; }

    /// <summary>Whether some sequence is shorter than <see cref="Steps"/> (its padded outputs must be zero).</summary>
    public bool HasPadding { get; }

    /// <summary>Elements of the output sequence, T·B·H.</summary>
    public int OutputElements => Steps * Batch * Hidden;

    /// <summary>Time index that row <paramref name="b"/> processes at step <paramref name="s"/>, or −1 if none.</summary>
    public int TimeAt(int s, int b) => _time[s * Batch + b];

    /// <summary>Row of (time t, batch b) in the [T, B, ·] or [B, T, ·] layout of the input and output.</summary>
    public int Row(int t, int b) => BatchFirst ? b * Steps + t : t * Batch + b;
}

/// <summary>
/// What the forward keeps for backward: every state (h for all steps, c for LSTM), the gate activations, and for
/// GRU the hidden-side n pre-activation hg_n (its reset-gate gradient needs it). Without autograd only two state
/// slots and one gate slot are allocated and reused.
/// </summary>
internal sealed class SequenceTape
{
    private readonly bool _full;

    /// <summary>The tape of a recorded forward, from its saved tensors.</summary>
    public SequenceTape(Tensor h, Tensor? c, Tensor? gates, Tensor? hgN)
    {
        _full = true;
        (H, C, Gates, HgN) = (h, c, gates, hgN);
    }

    public SequenceTape(SequencePlan plan, DType dtype, bool record)
    {
        _full = record;
        int states = record ? plan.Steps + 1 : 2, stepSlots = record ? plan.Steps : 1;
        int bh = plan.Batch * plan.Hidden;
        H = Tensor.Empty(new Shape(states, bh), dtype);
        if (plan.Cell == RecurrentCell.Lstm) C = Tensor.Empty(new Shape(states, bh), dtype);
        if (plan.Cell is RecurrentCell.Lstm or RecurrentCell.Gru) Gates = Tensor.Empty(new Shape(stepSlots * plan.Batch, plan.GateWidth), dtype);
        if (plan.Cell == RecurrentCell.Gru && record) HgN = Tensor.Empty(new Shape(stepSlots * plan.Batch, plan.Hidden), dtype);
    }

    /// <summary>h before step 0 (h0) and after every step: [T + 1, B·H] (or 2 reused slots).</summary>
    public Tensor H { get; }

    /// <summary>LSTM's cell state, laid out as <see cref="H"/>.</summary>
    public Tensor? C { get; }

    /// <summary>Gate activations per step and row: [T·B, G·H] (or one reused step).</summary>
    public Tensor? Gates { get; }

    /// <summary>GRU's hg_n per step and row, [T·B, H]; only when recording.</summary>
    public Tensor? HgN { get; }

    /// <summary>Slot of the state before step <paramref name="s"/> (the state after step s − 1).</summary>
    public int StateSlot(int s) => _full ? s : s & 1;

    /// <summary>Slot of step <paramref name="s"/>'s gates.</summary>
    public int StepSlot(int s) => _full ? s : 0;
}
