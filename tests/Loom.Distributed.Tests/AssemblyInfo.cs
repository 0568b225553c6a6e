// Every MPI test starts several processes; run one job at a time so that jobs on a 2-core machine do not starve
// each other past the fault tests' time limits.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
