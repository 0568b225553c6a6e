namespace Loom.Kernels;

/// <summary>
/// Two GEMMs run side by side, one whole product per thread (a linear layer's dx ‖ dW): the thread that finishes
/// first takes column chunks of the other product's last block, so the pair does not wait for whichever product
/// happened to run slower on this call.
/// </summary>
/// <remarks>
/// Which product of a pair finishes last varies from call to call (GPT-2's fc2 backward: dx 6.75 ms and dW 6.61 ms
/// on average, the pair 7.19 ms), so a static split cannot remove the wait. Only the last block of a product (its
/// last row block and depth block) is offered: there every column of C is final once computed, so a chunk of columns
/// is independent of the rest, the helper needs no packed data but the block of A the owner already packed, and the
/// tiles and their order per element of C are unchanged (chunks start at whole register panels): same bits.
/// <para>
/// Protocol: the owner publishes its block (<see cref="Offer"/>) and claims chunks from the front; a helper that
/// takes the offer (an exchange, so at most one) claims chunks from the back. The owner withdraws the offer when no
/// chunk is left; if a helper took it first, the owner waits until the helper has finished its chunks, which are
/// already claimed and running, so no thread ever waits for work that is not under way.
/// </para>
/// </remarks>
internal sealed unsafe class GemmPair
{
    [ThreadStatic] private static GemmPair? t_current;

    public static long StatIdleBeforeTicks, StatPairs, StatTaken, StatHelperChunks, StatWaitTicks, StatHelpTicks, StatOwnerWaitTicks; // AB-TEMP
    private nint _offer;
    private int _started, _finished;

    /// <summary>Chunks of the other product this pair's helpers have computed (tests check that the help happens).</summary>
    public int ChunksHelped { get; private set; }

    /// <summary>The pair the calling thread's product belongs to; null outside <see cref="Run{TState}"/>.</summary>
    public static GemmPair? Current => t_current;

    /// <summary>
    /// Runs <paramref name="product"/>(<paramref name="state"/>, <paramref name="which"/>) on the calling thread as one
    /// product of this pair, then helps the other one while it runs.
    /// </summary>
    public void Run<TState>(TState state, int which, Action<TState, int> product)
    {
        Interlocked.Increment(ref _started);
        t_current = this;
        try
        {
            product(state, which);
        }
        finally
        {
            t_current = null;
            Interlocked.Increment(ref _finished);
        }
        // The other product is running on another thread (it started and has not finished); not yet started means
        // this thread may be the one to run it next (the pool was busy), so waiting for it here could never end.
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp(); // AB-TEMP
        if (which == 0) Interlocked.Increment(ref StatPairs); // AB-TEMP
        while (Volatile.Read(ref _finished) < Volatile.Read(ref _started))
        {
            nint taken = Interlocked.Exchange(ref _offer, 0);
            if (taken == 0)
            {
                Thread.SpinWait(20);
                continue;
            }
            var offer = (Offer*)taken;
            if (Interlocked.Increment(ref StatTaken) > 0) Interlocked.Add(ref StatIdleBeforeTicks, System.Diagnostics.Stopwatch.GetTimestamp() - t0); // AB-TEMP
            long h0 = System.Diagnostics.Stopwatch.GetTimestamp(); // AB-TEMP
            try
            {
                offer->Run(offer, true);
            }
            finally
            {
                ChunksHelped += offer->HelperChunks; // only one thread helps at a time: the other is the owner
                Volatile.Write(ref offer->HelperDone, 1);
                Interlocked.Add(ref StatHelpTicks, System.Diagnostics.Stopwatch.GetTimestamp() - h0); // AB-TEMP
            }
        }
        Interlocked.Add(ref StatWaitTicks, System.Diagnostics.Stopwatch.GetTimestamp() - t0); // AB-TEMP
    }

    /// <summary>
    /// The head of a last block offered for help; the owner's block data follows it in the same struct (see
    /// <c>GemmDriver.LastBlock</c>), on the owner's stack, alive until <see cref="Withdraw"/> returns.
    /// </summary>
    public struct Offer
    {
        /// <summary>Runs chunks until none is left: from the front for the owner, from the back for a helper.</summary>
        public delegate*<Offer*, bool, void> Run;

        /// <summary>Low 32 bits: the next chunk from the front; high 32 bits: the end of the chunks left from the back.</summary>
        public long Claims;

        public int HelperDone;

        /// <summary>Chunks claimed from the back; written by the helper only.</summary>
        public int HelperChunks;

        public Offer(delegate*<Offer*, bool, void> run, int chunks)
        {
            Run = run;
            Claims = (long)chunks << 32;
        }
    }

    /// <summary>Claims the next chunk from the front (the owner) or the back (a helper); -1 when none is left.</summary>
    public static int Claim(Offer* offer, bool fromBack)
    {
        while (true)
        {
            long claims = Volatile.Read(ref offer->Claims);
            int front = (int)claims, back = (int)(claims >> 32);
            if (front >= back) return -1;
            long next = fromBack ? (long)(back - 1) << 32 | (uint)front : (long)back << 32 | (uint)(front + 1);
            if (Interlocked.CompareExchange(ref offer->Claims, next, claims) == claims)
            {
                if (fromBack) Interlocked.Increment(ref StatHelperChunks); // AB-TEMP
                if (fromBack) offer->HelperChunks++;
                return fromBack ? back - 1 : front;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="offer"/> visible to the other thread of the pair; false (run every chunk alone, do not
    /// withdraw) when the other product's offer is up: both are in their last block, and neither is free to help.
    /// </summary>
    public bool Publish(Offer* offer) => Interlocked.CompareExchange(ref _offer, (nint)offer, 0) == 0;

    /// <summary>Takes the offer back; if a helper took it, waits until the helper's chunks are done.</summary>
    public void Withdraw(Offer* offer)
    {
        if (Interlocked.CompareExchange(ref _offer, 0, (nint)offer) == (nint)offer) return;
        long w0 = System.Diagnostics.Stopwatch.GetTimestamp(); // AB-TEMP
        while (Volatile.Read(ref offer->HelperDone) == 0) Thread.SpinWait(10);
        Interlocked.Add(ref StatOwnerWaitTicks, System.Diagnostics.Stopwatch.GetTimestamp() - w0); // AB-TEMP
    }
}
