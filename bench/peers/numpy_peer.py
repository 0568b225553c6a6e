#!/usr/bin/python3
"""numpy (OpenBLAS) peer of `loom bench --peers`: square single-precision GEMM, C = A.B, as Loom's sgemm benchmark.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/peers/numpy_peer.py --params '{"n": 1024}'

Loom runs it with `--serve` (see peer_protocol.py) and sets OPENBLAS_CORETYPE itself: OpenBLAS 0.3.21 does not
recognise recent CPUs and silently falls back to its SSE3 kernels, 3-7x slower.
"""
import os

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import peer_protocol


def sgemm(params):
    n = int(params.get("n", 1024))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    if n <= 1024:  # an old OpenBLAS kernel can be wrong on a new CPU: a fast wrong peer would be no peer
        ref = a.astype(np.float64) @ b.astype(np.float64)
        err = float(np.abs(c - ref).max() / np.abs(ref).max())
        if err > 1e-5:
            raise ArithmeticError("OpenBLAS sgemm is wrong here: relative error %.2g" % err)
    return lambda: np.matmul(a, b, out=c)


def details():
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return {"env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
            "blas": [peer_protocol.describe_pool(i) for i in blas]}


if __name__ == "__main__":
    peer_protocol.main("numpy", np.__version__, details(), {"sgemm": sgemm},
                       lambda threads: threadpool_limits(limits=threads, user_api="blas"))
