"""Edge of Chaos of P3 (L180, L465-494; claim file A.5, A.6): variance fixed point, chi_1, phases, EOC curve.

    q  = sigma_b^2 + sigma_w^2 E[phi(sqrt(q) Z)^2]        (the stable fixed point reached from q^1, Z ~ N(0, 1))
    chi_1 = sigma_w^2 E[phi'(sqrt(q) Z)^2]                  ordered < 1 = EOC < chaotic

All Gaussian expectations are 1-D composite Gauss-Legendre rules accurate to ~1e-14 (``gaussian_maps.variance_expect``),
so the EOC sigma_w (brentq, xtol 1e-14) is accurate to ~1e-12.

ReLU-like phi (slopes lam, beta; positively homogeneous): chi_1 = sigma_w^2 (lam^2 + beta^2) / 2 whatever q, and
q^{l} = sigma_b^2 + chi_1 q^{l-1}: the fixed point is sigma_b^2 / (1 - chi_1) when chi_1 < 1, infinite when chi_1 > 1 or
(chi_1 = 1 and sigma_b > 0), and every q is fixed when chi_1 = 1 and sigma_b = 0 (then ``fixed_point_q`` returns the
starting variance).  Hence the EOC of a ReLU-like phi is the single point (0, sqrt(2 / (lam^2 + beta^2))) (A.6).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from numeric.gaussian_maps import get_activation, variance_expect


def _check(sigma_w: float, sigma_b: float) -> None:
    for name, v in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")


def variance_map(act, sigma_w: float, sigma_b: float, q):
    """q -> sigma_b^2 + sigma_w^2 E[phi(sqrt(q) Z)^2] (P3 L471 on the diagonal)."""
    return sigma_b**2 + sigma_w**2 * variance_expect(act, q, "phi")


def fixed_point_q(act, sigma_w: float, sigma_b: float, q0: float = 1.0, max_iter: int = 400) -> float:
    """The limit of q^{l+1} = variance_map(q^l) from q^1 = q0 (inf if it diverges), by brentq to ~1e-15 relative."""
    act = get_activation(act)
    _check(sigma_w, sigma_b)
    if act.homogeneous:
        m2 = float(variance_expect(act, 1.0))
        chi = sigma_w**2 * m2
        if abs(chi - 1.0) < 1e-15:
            return float(q0) if sigma_b == 0 else math.inf
        if chi > 1.0:
            return 0.0 if (sigma_b == 0 and q0 == 0) else math.inf
        return sigma_b**2 / (1.0 - chi)
    q0 = float(q0)
    G = lambda x: float(variance_map(act, sigma_w, sigma_b, x)) - x
    g0 = G(q0)
    if g0 == 0.0:
        return q0
    # the map is increasing in q for the activations here, so the iteration is monotone and converges to the nearest
    # fixed point in the direction of G(q0): bracket it by steps of 1.25 and polish with brentq
    step = 1.25 if g0 > 0 else 0.8
    lo = q0
    for _ in range(max_iter):
        hi = lo * step if lo > 0 else 1e-300
        if hi > 1e12:
            return math.inf
        if hi < 1e-300:
            return 0.0
        if (G(hi) <= 0) if g0 > 0 else (G(hi) >= 0):
            a, b = (lo, hi) if lo < hi else (hi, lo)
            return float(brentq(G, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=300))
        lo = hi
    raise RuntimeError("fixed point search did not terminate")


def chi1(act, sigma_w: float, sigma_b: float, q: float | None = None) -> float:
    """sigma_w^2 E[phi'(sqrt(q) Z)^2] at the fixed point q (or at the given q); for ReLU-like phi q is irrelevant."""
    act = get_activation(act)
    _check(sigma_w, sigma_b)
    if q is None:
        q = 1.0 if act.homogeneous else fixed_point_q(act, sigma_w, sigma_b)
    if not math.isfinite(q):
        raise ValueError("the variance diverges: no fixed point q, chi_1 undefined")
    return float(sigma_w**2 * variance_expect(act, q, "dphi"))


def phase(act, sigma_w: float, sigma_b: float, tol: float = 1e-9) -> str:
    """'ordered' (chi_1 < 1 - tol), 'eoc' (|chi_1 - 1| <= tol) or 'chaotic' (chi_1 > 1 + tol) (P3 L180)."""
    c = chi1(act, sigma_w, sigma_b)
    if c < 1 - tol:
        return "ordered"
    if c > 1 + tol:
        return "chaotic"
    return "eoc"


def eoc_sigma_w(act, sigma_b: float, bracket: tuple[float, float] = (0.05, 20.0)) -> float:
    """The sigma_w with chi_1(sigma_b, sigma_w) = 1 at the fixed point q(sigma_b, sigma_w) (brentq, xtol 1e-14).

    ReLU-like: sqrt(2 / (lam^2 + beta^2)) and only for sigma_b = 0 (ValueError otherwise: the variance diverges).
    """
    act = get_activation(act)
    _check(1.0, sigma_b)
    if act.relu_like is not None:
        lam, beta = act.relu_like
        if sigma_b != 0:
            raise ValueError("a ReLU-like activation has an Edge of Chaos only at sigma_b = 0 (the variance diverges)")
        return math.sqrt(2.0 / (lam * lam + beta * beta))
    if act.linear is not None:
        if sigma_b != 0:
            raise ValueError("a linear activation has an Edge of Chaos only at sigma_b = 0")
        return 1.0 / abs(act.linear)

    def F(sw):
        q = fixed_point_q(act, sw, sigma_b)
        if not math.isfinite(q):
            return math.inf
        return float(sw**2 * variance_expect(act, q, "dphi")) - 1.0

    grid = np.geomspace(*bracket, 48)
    vals = [F(s) for s in grid]
    for i in range(len(grid) - 1):
        lo, hi, f_hi = grid[i], grid[i + 1], vals[i + 1]
        if not vals[i] < 0:
            continue
        if not math.isfinite(f_hi):           # the variance diverges beyond a boundary in (lo, hi): stop just below it
            edge = brentq(lambda s: 1.0 if not math.isfinite(F(s)) else -1.0, lo, hi, xtol=1e-13)
            hi = edge * (1 - 1e-9)
            while not math.isfinite(F(hi)) and hi > lo:
                hi = lo + 0.5 * (hi - lo)
            f_hi = F(hi)
        if f_hi >= 0:
            root = float(brentq(F, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=300))
            if abs(F(root)) < 1e-10:          # a jump of the fixed-point branch is not an EOC
                return root
    raise ValueError(f"no Edge of Chaos found for {act.name} at sigma_b = {sigma_b} with sigma_w in {bracket}")


@dataclass(frozen=True)
class EOCPoint:
    activation: str
    sigma_b: float
    sigma_w: float
    q: float
    chi1: float


def eoc_point(act, sigma_b: float) -> EOCPoint:
    """The EOC point for ``sigma_b`` with its fixed-point variance q and chi_1 (= 1 up to rounding)."""
    act = get_activation(act)
    sw = eoc_sigma_w(act, sigma_b)
    q = fixed_point_q(act, sw, sigma_b)
    return EOCPoint(act.name, float(sigma_b), sw, q, chi1(act, sw, sigma_b, q if math.isfinite(q) else 1.0))


def eoc_curve(act, sigma_bs) -> np.ndarray:
    """sigma_w on the EOC for each sigma_b (NaN where none is found)."""
    out = []
    for sb in np.atleast_1d(np.asarray(sigma_bs, float)):
        try:
            out.append(eoc_sigma_w(act, float(sb)))
        except ValueError:
            out.append(math.nan)
    return np.array(out)
