#!/usr/bin/python3
"""MPI's own all-reduce as a peer of `loom bench distributed`: a raw MPI_Allreduce (in place, float32 sum) of numpy
buffers through mpi4py, the same library (OpenMPI's libmpi.so.40) Loom binds, with none of Loom's code in between.

    mpirun -np 2 /usr/bin/python3 bench/peers/mpi4py_peer.py --params '{"bytes": 4194304}'

Loom starts it as an MPI job (`mpirun -np N ... mpi4py_peer.py --serve`, inside an empty network namespace) and speaks
peer_protocol.py to rank 0, which mpirun connects to its stdin and stdout. Rank 0 broadcasts every request to the
other ranks, so all of them set up and run the same case; only rank 0 answers.
"""
import io
import sys
import time

import numpy as np
from mpi4py import MPI

import peer_protocol

COMM = MPI.COMM_WORLD


def allreduce(params):
    n = max(1, int(params.get("bytes", 4 << 20)) // 4)
    buf = np.full(n, COMM.Get_rank() + 1, dtype=np.float32)
    COMM.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    expected = COMM.Get_size() * (COMM.Get_size() + 1) / 2
    if buf[0] != expected or buf[-1] != expected:  # a fast wrong peer would be no peer
        raise ArithmeticError("MPI_Allreduce gave %g, expected %g" % (buf[0], expected))
    return lambda: COMM.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)


def broadcast_requests():
    """Rank 0's stdin lines, each broadcast to every rank (None ends them). The other ranks wait with a sleeping poll:
    a blocking broadcast would spin on its core and take it from whichever job is being timed meanwhile."""
    length = np.zeros(1, dtype=np.int64)
    while True:
        line = sys.stdin.readline() if COMM.Get_rank() == 0 else None
        length[0] = -1 if COMM.Get_rank() == 0 and not line else len(line.encode()) if COMM.Get_rank() == 0 else 0
        request = COMM.Ibcast(length, root=0)
        while not request.Test():
            time.sleep(0.001)
        if length[0] < 0:
            return
        data = bytearray(line.encode()) if COMM.Get_rank() == 0 else bytearray(int(length[0]))
        COMM.Bcast(data, root=0)
        yield data.decode()


def details():
    return {"mpi": MPI.Get_library_version().strip("\x00 \n").splitlines()[0], "ranks": COMM.Get_size()}


if __name__ == "__main__":
    version = "mpi4py %s" % __import__("mpi4py").__version__
    if "--serve" in sys.argv:
        out = sys.stdout if COMM.Get_rank() == 0 else io.StringIO()
        peer_protocol.serve("mpi", version, details(), {"allreduce": allreduce}, lambda threads: None,
                            stdin=broadcast_requests(), stdout=out)
    else:
        peer_protocol.main("mpi", version, details(), {"allreduce": allreduce}, lambda threads: None)
