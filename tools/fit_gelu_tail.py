#!/usr/bin/env python3
"""Fits the tables of GELU's lower tail Φ(−z) = exp(−z²/2)·G(z) in src/Loom.Core/Kernels/ActivationKernels.cs
(LowerTail): G(z) = ½·erfcx(z/√2), piecewise, one polynomial in t = z − c per interval.

The kernel picks the interval from the float bits of y = z + 1: the low two bits of y's exponent and its top two
mantissa bits (bits 21–24) are the index of a 16-entry table, so the intervals are quarters of the octaves of y:
z in [0, 1] by 0.25, [1, 3] by 0.5, [3, 7] by 1 and [7, 15] by 2 (the kernel bounds z by 14.5), finer where G
bends most. Each interval has its centre c (a short dyadic number, so z − c is exact or nearly) and a polynomial of
DEGREE in t, fitted for relative error against a 30-digit erfc (mpmath). The coefficients are rounded to float one
at a time, lowest first, and the higher ones refitted around each rounded one, so the rounding of the constant
term (up to half an ulp of G) is not left on top of the fit's error; the centre itself is moved, within a sixteenth
of the interval, to where G rounds to float best.

Prints the worst relative error per interval (of the float coefficients, evaluated in double) and the C# table.
Usage: /usr/bin/python3 tools/fit_gelu_tail.py [degree]      (default 5)
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 30
Z_MAX = 14.5

# Intervals in table order: index = ((exponent of y) & 3) << 2 | (top two mantissa bits of y), y = z + 1.
INTERVALS = [(1, 1.5), (1.5, 2), (2, 2.5), (2.5, 3), (3, 4), (4, 5), (5, 6), (6, 7),
             (7, 9), (9, 11), (11, 13), (13, 15), (0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]


def g(z):
    z = mp.mpf(float(z))
    return 0.5 * mp.erfc(z / mp.sqrt(2)) * mp.exp(z * z / 2)


def best_centre(lo, hi):
    """A centre near the middle, of at most 12 significant bits, where G(c) is closest to a float."""
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    step = 2.0 ** (np.floor(np.log2(max(mid, 0.125))) - 11)
    best = None
    for k in range(-int(half / 16 / step), int(half / 16 / step) + 1):
        c = mid + k * step
        exact = g(c)
        error = abs(float(mp.mpf(float(np.float32(float(exact)))) / exact - 1))
        if best is None or error < best[1]:
            best = (c, error)
    return best[0]


def fit(lo, hi, c, degree, points=400, iterations=100):
    k = np.arange(points)
    z = lo + (hi - lo) * (0.5 - 0.5 * np.cos(np.pi * k / (points - 1)))
    target = np.array([float(g(v)) for v in z])
    t = z - c
    h = max(abs(lo - c), abs(hi - c))
    coefficients = []
    for fixed in range(degree + 1):
        # Fit the coefficients from `fixed` on (in powers of t/h), the lower ones already rounded to float.
        known = sum(coefficients[i] * t ** i for i in range(fixed))
        basis = np.stack([(t / h) ** i for i in range(fixed, degree + 1)], axis=1) / target[:, None]
        rhs = 1 - known / target
        weights = np.full(points, 1 / points)
        best = None
        for _ in range(iterations):
            root = np.sqrt(weights)
            a, *_ = np.linalg.lstsq(basis * root[:, None], rhs * root, rcond=None)
            error = basis @ a - rhs
            worst = np.abs(error).max()
            if best is None or worst < best[1]:
                best = (a, worst)
            weights = weights * (np.abs(error) + 1e-300)
            weights /= weights.sum()
        coefficients.append(float(np.float32(best[0][0] / h ** fixed)))
    zz = np.linspace(lo, hi, 3000)
    value = sum(coefficients[i] * (zz - c) ** i for i in range(degree + 1))
    worst = max(abs(float(v / g(z0)) - 1) for v, z0 in zip(value, zz))
    return coefficients, worst


if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows, centres, overall = [[] for _ in range(degree + 1)], [], 0
    for lo, hi in INTERVALS:
        hi = min(hi, Z_MAX)
        # y = z + 1 is rounded, so an interval's edges are fuzzy by an ulp of y: fit a little beyond them.
        margin = 2e-6 * (hi + 1)
        c = best_centre(lo, hi)
        coefficients, worst = fit(max(lo - margin, 0), hi + margin, c, degree)
        overall = max(overall, worst)
        centres.append(c)
        for i in range(degree + 1):
            rows[i].append(coefficients[i])
        print(f"// z in [{lo}, {hi}], centre {c}: {worst:.2e}")
    print(f"// worst relative error {overall:.3g}")
    print("// centres")
    print(", ".join(f"{np.float32(c)!r}f" for c in centres) + ",")
    for i, row in enumerate(rows):
        print(f"// t^{i}")
        print(", ".join(f"{np.float32(v):.9e}f" for v in row) + ",")
