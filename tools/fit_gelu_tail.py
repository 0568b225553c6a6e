#!/usr/bin/env python3
"""Fits R in Φ(−z) = exp(−z²/2)·u·R(u), u = 1/(1 + a·z): the coefficients of GELU's lower tail in
src/Loom.Core/Kernels/ActivationKernels.cs (LowerTail).

G(z) = ½·erfcx(z/√2) = Φ(−z)·exp(z²/2) is smooth, ½ at 0 and ≈ 1/(z√(2π)) for large z, so R(u) = G/u is fitted
for relative error on u ∈ [1/(1 + a·14.5), 1] (z from 0 to where exp(−z²/2) underflows in float). The fit is
weighted least squares over a Chebyshev basis on Chebyshev-spaced points, iterated towards minimax by Lawson's
weight updates, against a 30-digit erfc (mpmath); it prints the worst relative error and the coefficients in
powers of u, rounded to float.

Usage: /usr/bin/python3 tools/fit_gelu_tail.py [degree [a]]      (defaults: 8 0.35)
"""
import sys

import mpmath as mp
import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as P

mp.mp.dps = 30
Z_MAX = 14.5


def g(z):
    z = mp.mpf(float(z))
    return float(0.5 * mp.erfc(z / mp.sqrt(2)) * mp.exp(z * z / 2))


def fit(a, degree, points=2000, iterations=300):
    u_min = 1 / (1 + a * Z_MAX)
    k = np.arange(points)
    u = u_min + (1 - u_min) * (0.5 - 0.5 * np.cos(np.pi * k / (points - 1)))
    target = np.array([g(z) for z in (1 / u - 1) / a]) / u
    s = 2 * (u - u_min) / (1 - u_min) - 1
    basis = C.chebvander(s, degree) / target[:, None]  # rows scaled so residuals are relative errors
    weights = np.full(points, 1 / points)
    best = None
    for _ in range(iterations):
        root = np.sqrt(weights)
        c, *_ = np.linalg.lstsq(basis * root[:, None], root, rcond=None)
        error = basis @ c - 1
        worst = np.abs(error).max()
        if best is None or worst < best[1]:
            best = (c, worst)
        weights = weights * np.abs(error)
        weights /= weights.sum()
    # Chebyshev series in s = α·u + β back to powers of u.
    alpha, beta = 2 / (1 - u_min), -2 * u_min / (1 - u_min) - 1
    result, power = np.zeros(1), np.array([1.0])
    for coefficient in C.cheb2poly(best[0]):
        result = P.polyadd(result, coefficient * power)
        power = P.polymul(power, [beta, alpha])
    return result, best[1]


if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    a = float(sys.argv[2]) if len(sys.argv) > 2 else 0.35
    coefficients, worst = fit(a, degree)
    print(f"a = {a}, degree {degree}: worst relative error {worst:.3g}")
    for i, c in enumerate(coefficients):
        print(f"G{i} = {np.float32(c):.9e}f")
