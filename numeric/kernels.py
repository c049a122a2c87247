"""Deep NNGP/NTK recursions of a fully connected network in the NTK parameterisation (P3, eq. (10), L139-143):

    Sigma^{l+1}(x, x') = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2,
    Theta^{l+1}(x, x') = Sigma^{l+1}(x, x') + sigma_w^2 E[phi'(u) phi'(v)] Theta^l(x, x'),   (u, v) ~ N(0, Sigma^l),

iterated to great depth (rates such as log L / L cannot be told from 1/L at the depths a network reaches).
Two evaluations of the Gaussian expectations: the ReLU arc-cosine closed forms, and bivariate Gauss-Hermite
quadrature for any smooth activation.  This is the small core that the kernel engine of P3 builds on.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from numeric.activations import as_function


def _sin_minus_t_cos(t: float) -> float:
    """sin t - t cos t without cancellation (series t^3/3 - t^5/30 + t^7/840 - t^9/45360 below t = 0.01)."""
    if t < 1e-2:
        t2 = t * t
        return t * t2 * (1.0 / 3.0 - t2 * (1.0 / 30.0 - t2 * (1.0 / 840.0 - t2 / 45360.0)))
    return math.sin(t) - t * math.cos(t)


def relu_eoc_ntk(c0: float, L: int, q: float = 1.0) -> tuple[float, float]:
    """ReLU at the Edge of Chaos (sigma_w^2 = 2, sigma_b = 0): (correlation, off-diagonal NTK) after L layers.

    The variance q is preserved; with c = cos t the correlation map is c' = (sin t + (pi - t) cos t)/pi and
    Theta' = q c' + ((pi - t)/pi) Theta.  Near c = 1 (where the depth rates live) the angle is iterated in the
    cancellation-free form 1 - c' = 2 sin^2(t/2) - (sin t - t cos t)/pi, t' = 2 arcsin(sqrt((1 - c')/2)), so 1 - c
    keeps full relative precision down to 1e-300.  Scalar loop over Python floats (fastest for one entry).
    """
    t = math.acos(min(max(float(c0), -1.0), 1.0))
    th = float(q * c0)
    sin, asin, sqrt, pi, cos = math.sin, math.asin, math.sqrt, math.pi, math.cos
    for _ in range(L - 1):
        s = sin(0.5 * t)
        one_minus = 2.0 * s * s - _sin_minus_t_cos(t) / pi
        t_new = 2.0 * asin(sqrt(max(0.5 * one_minus, 0.0)))
        th = q * (1.0 - one_minus) + (pi - t) / pi * th
        t = t_new
    return cos(t), th


def relu_eoc_ntk_reference(c0: float, L: int, q: float = 1.0, dps: int = 40) -> tuple[float, float]:
    """The same recursion in mpmath at ``dps`` digits, directly in c (the bench's accuracy reference)."""
    import mpmath as mp

    with mp.workdps(dps):
        c, th, qq = mp.mpf(c0), mp.mpf(q) * mp.mpf(c0), mp.mpf(q)
        for _ in range(L - 1):
            t = mp.acos(c)
            c_new = (mp.sin(t) + (mp.pi - t) * c) / mp.pi
            th = qq * c_new + (mp.pi - t) / mp.pi * th
            c = c_new
        return float(c), float(th), float(1 - c)


def quadrature_ntk(phi, dphi, Sigma0: np.ndarray, L: int, sigma_w: float, sigma_b: float, n: int = 40):
    """(Sigma^L, Theta^L) (2 x 2) for any activation by bivariate Gauss-Hermite quadrature, n x n nodes per layer."""
    f, df = as_function(phi), as_function(dphi)
    z, w = hermegauss(n)
    w = w / w.sum()
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    W = np.outer(w, w)
    S = np.array(Sigma0, dtype=float)
    Th = S.copy()
    sw2, sb2 = sigma_w**2, sigma_b**2
    for _ in range(L - 1):
        a = math.sqrt(max(S[0, 0], 0.0))
        r = S[0, 1] / a if a > 0 else 0.0
        b = math.sqrt(max(S[1, 1] - r * r, 0.0))
        u, v = a * Z1, r * Z1 + b * Z2
        fu, fv, du, dv = f(u), f(v), df(u), df(v)
        E = np.array([[np.sum(W * fu * fu), np.sum(W * fu * fv)], [0.0, np.sum(W * fv * fv)]])
        E[1, 0] = E[0, 1]
        Ed = np.array([[np.sum(W * du * du), np.sum(W * du * dv)], [0.0, np.sum(W * dv * dv)]])
        Ed[1, 0] = Ed[0, 1]
        S = sw2 * E + sb2
        Th = S + sw2 * Ed * Th
    return S, Th
