"""Predicted finite-depth bias of P0's ResNet statistics (glue: the derivation of ``derivations.depth_bias``,
integrated numerically).  See ``derivations.depth_bias`` for the mathematics (global error of a one-step method).
"""
from __future__ import annotations

import numpy as np

from derivations import depth_bias as DB
from derivations.activations import taylor_at_zero
from numeric.odes import integrate


def activation_derivatives(activation: str) -> tuple[float, float, float, float]:
    """(phi'(0), phi''(0), phi'''(0), phi''''(0)) exactly from the activation's SymPy definition."""
    v = taylor_at_zero(activation, 4)
    return tuple(float(v[k]) for k in (1, 2, 3, 4))


def predicted_depth_bias(activation: str, sigma_w: float, sigma_b: float, z_pair, T: float, L: int,
                         scheme: str = "resnet") -> dict:
    """First-order finite-depth bias of a ResNet of depth L (dt = T/L) in the D -> infinity limit, copied
    inputs x_0^{(i)} = z_i 1 (P0 Sec. 6, L705).

    Returns the limit values and the predicted biases dt e(T) of m_i, m_j, q_i, q_j, lambda (keys ``m_i`` ...),
    of the unit-1 moments (``mean_i``, ``mean_j``, ``var_i``, ``var_j``, ``cov``, first-order propagation of
    Var = E q - (E m)^2, Cov = E lambda - E m_i E m_j, exact identities for exchangeable units) and of the
    correlation ``corr``; plus ``limit`` (the same quantities at L = infinity) and ``coefficient`` (T e(T):
    bias = coefficient / L).  Remainders: O(1/L^2), and at finite D an O(1/(L D)) term if phi''(0) = 0,
    O(1/D) otherwise (module docstring).

    Numerics: the augmented ODE of ``derivations.depth_bias`` (compiled) integrated by ``numeric.odes.integrate``.
    """
    if int(L) != L or L < 1:
        raise ValueError(f"L must be a positive integer, got {L}")
    p = activation_derivatives(activation)
    k = DB.augmented_kernel(scheme)
    z1, z2 = float(z_pair[0]), float(z_pair[1])
    y0 = [z1, z2, z1 * z1, z2 * z2, z1 * z2] + [0.0] * 5

    def rhs(t, y):
        return np.asarray(k(*y, *p, sigma_w, sigma_b), dtype=float).ravel()

    res = integrate(rhs, y0, [T])
    if not res.success:
        raise RuntimeError(f"augmented ODE failed (explosion before T?): {res.message}")
    y, e = res.y[:5, 0], res.y[5:, 0]
    return _moments(y, e, T / L, T)


def _moments(y, e, dt: float, T: float) -> dict:
    mi, mj, qi, qj, lm = (float(v) for v in y)
    em_i, em_j, eq_i, eq_j, el = (float(v) for v in e)
    limit = {"m_i": mi, "m_j": mj, "q_i": qi, "q_j": qj, "lambda": lm, "mean_i": mi, "mean_j": mj,
             "var_i": qi - mi * mi, "var_j": qj - mj * mj, "cov": lm - mi * mj}
    limit["corr"] = limit["cov"] / (limit["var_i"] * limit["var_j"]) ** 0.5
    coef = {"m_i": em_i, "m_j": em_j, "q_i": eq_i, "q_j": eq_j, "lambda": el, "mean_i": em_i, "mean_j": em_j,
            "var_i": eq_i - 2 * mi * em_i, "var_j": eq_j - 2 * mj * em_j, "cov": el - mj * em_i - mi * em_j}
    vi, vj, c = limit["var_i"], limit["var_j"], limit["cov"]
    coef["corr"] = limit["corr"] * (coef["cov"] / c - 0.5 * coef["var_i"] / vi - 0.5 * coef["var_j"] / vj) if c else \
        coef["cov"] / (vi * vj) ** 0.5
    out = {kk: dt * v for kk, v in coef.items()}
    out["limit"] = limit
    out["coefficient"] = {kk: T * v for kk, v in coef.items()}  # bias = coefficient / L
    out["dt"] = dt
    return out
