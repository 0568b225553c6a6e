using System.Runtime.InteropServices;

namespace Loom.Cli.Commands;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM, which kill, Docker, systemd and Slurm send, both stop the trainer after the current
/// batch, which writes the checkpoint; without a handler .NET would end the process on SIGTERM with the epoch's work lost.
/// </summary>
internal sealed class StopOnSignals : IDisposable
{
    private readonly PosixSignalRegistration _interrupt, _terminate;

    public StopOnSignals(Trainer trainer)
    {
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            trainer.Interrupt(context.Signal == PosixSignal.SIGTERM ? "terminated" : "interrupted");
        }
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
