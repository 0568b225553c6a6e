using Xunit;

namespace Loom.Testing;

/// <summary>OpenMPI's mpirun, which the data-parallel tests start real ranks with (CI installs it: see .ci/run).</summary>
public static class OpenMpi
{
    public static readonly InstalledData Installed = new("OpenMPI", "apt-get install openmpi-bin libopenmpi-dev", "/usr/bin/mpirun");
}

/// <summary>A [Fact] that needs OpenMPI: skipped without it unless LOOM_REQUIRE_DATASETS is set (as in CI).</summary>
public sealed class MpiFactAttribute() : InstalledDataFactAttribute(OpenMpi.Installed);

/// <summary>A [Theory] that needs OpenMPI: skipped without it unless LOOM_REQUIRE_DATASETS is set (as in CI).</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute() => Skip = OpenMpi.Installed.SkipReason(InstalledData.Required);
}
