"""Gauss-Hermite expectations of functions of exactly Gaussian variables (DESIGN.md section 5, recipe R-GH).

For P0's ResNet (11), x' = x + phi(h) with h = dW psi(x) + db.  At fixed x the pre-activation h is exactly
Gaussian: mean (mu^W psi(x) + mu^b) dt and covariance law.preact_cov(psi(x), psi(x)) dt (Assumption 4,
L185-203).  So the one-step moments of Dx = phi(h) are 1-D and 2-D Gaussian integrals, computed here by
probabilists' Gauss-Hermite rules (``numpy.polynomial.hermite_e.hermegauss``): exact for polynomials of
degree <= 2n - 1, geometric convergence for analytic phi -- no Monte Carlo noise.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from numeric.activations import as_function


@lru_cache(maxsize=32)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with sum_i w_i f(z_i) ~= E f(Z), Z ~ N(0, 1)."""
    if n < 1:
        raise ValueError(f"number of nodes must be >= 1, got {n}")
    z, w = hermegauss(n)
    w = w / w.sum()  # the raw weights sum to sqrt(2 pi)
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def gauss_expect_1d(f, mean, var, n: int = 80):
    """E f(h) for h ~ N(mean, var); ``mean`` and ``var`` broadcast, the result has their broadcast shape.

    ``f`` must be vectorised: it is called once on an array of shape ``broadcast_shape + (n,)``.
    """
    mean, var = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(var, dtype=float))
    if np.any(var < 0) or not np.all(np.isfinite(var)):
        raise ValueError("variances must be finite and >= 0")
    z, w = _rule(n)
    h = mean[..., None] + np.sqrt(var)[..., None] * z
    return np.broadcast_to(np.asarray(f(h), dtype=float), h.shape) @ w


def psd_factor_2x2(cov: np.ndarray) -> np.ndarray:
    """A (..., 2, 2) with A A^T = cov for symmetric PSD 2x2 ``cov`` (batched; singular cov allowed).

    Lower-triangular Cholesky when cov[0,0] > 0 (clipping a tiny negative Schur complement to 0, so a rank-1
    cov works); when cov[0,0] == 0 the first variable is constant and A = [[0, 0], [0, sqrt(cov[1,1])]].
    """
    cov = np.asarray(cov, dtype=float)
    a, c, b = cov[..., 0, 0], 0.5 * (cov[..., 0, 1] + cov[..., 1, 0]), cov[..., 1, 1]
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.finfo(float).tiny)
    if np.any(a < -1e-12 * scale) or np.any(b < -1e-12 * scale):
        raise ValueError("covariance has a negative variance")
    a = np.maximum(a, 0.0)
    b = np.maximum(b, 0.0)
    l11 = np.sqrt(a)
    pos = l11 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        l21 = np.where(pos, c / np.where(pos, l11, 1.0), 0.0)
    schur = b - l21 * l21
    if np.any(schur < -1e-10 * scale):
        raise ValueError("covariance is not positive semi-definite")
    l22 = np.sqrt(np.maximum(schur, 0.0))
    out = np.zeros(cov.shape[:-2] + (2, 2))
    out[..., 0, 0] = l11
    out[..., 1, 0] = l21
    out[..., 1, 1] = l22
    return out


def _grid_2d(mean, cov, n):
    """Tensor GH grid for (h1, h2) ~ N(mean, cov): arrays h1, h2 of shape (..., n, n) and weights (n, n)."""
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if mean.shape[-1:] != (2,) or cov.shape[-2:] != (2, 2):
        raise ValueError(f"need mean (..., 2) and cov (..., 2, 2), got {mean.shape} and {cov.shape}")
    batch = np.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
    mean = np.broadcast_to(mean, batch + (2,))
    A = np.broadcast_to(psd_factor_2x2(cov), batch + (2, 2))
    z, w = _rule(n)
    z1, z2 = z[:, None], z[None, :]
    e = (Ellipsis, None, None)
    h1 = mean[..., 0][e] + A[..., 0, 0][e] * z1
    h2 = mean[..., 1][e] + A[..., 1, 0][e] * z1 + A[..., 1, 1][e] * z2
    h1 = np.broadcast_to(h1, batch + (n, n))
    return h1, h2, np.outer(w, w)


def gauss_expect_2d(f, mean, cov, n: int = 60):
    """E f(h1, h2) for (h1, h2) ~ N(mean, cov); mean (..., 2), cov (..., 2, 2) (rank 1 allowed).

    ``f(h1, h2)`` is called once with two arrays of shape ``batch + (n, n)``.
    """
    h1, h2, W = _grid_2d(mean, cov, n)
    vals = np.broadcast_to(np.asarray(f(h1, h2), dtype=float), np.broadcast_shapes(h1.shape, h2.shape))
    return np.einsum("...ij,ij->...", vals, W)


# ---------------------------------------------------------------------------------------------------------
# One residual step of P0 eq. (11)
# ---------------------------------------------------------------------------------------------------------

def _preact(x, law, psi, dt):
    psi_f = as_function(psi)
    px = np.asarray(psi_f(np.asarray(x, dtype=float)), dtype=float)
    if px.ndim != 1 or px.shape[0] != law.D:
        raise ValueError(f"x must be a vector of length D = {law.D}, got shape {np.shape(x)}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    return px, law.preact_mean(px) * dt


def _pair_moments(phi_f, mean, cov, center, n):
    """E[(phi(h1) - c1)(phi(h2) - c2)] over a batch of pairs (means (P,2), covs (P,2,2), centres (P,2))."""
    h1, h2, W = _grid_2d(mean, cov, n)
    e = (Ellipsis, None, None)
    prod = (phi_f(h1) - center[:, 0][e]) * (phi_f(h2) - center[:, 1][e])
    return np.einsum("pij,ij->p", prod, W)


def one_step_moments(x, law, phi, psi, dt: float, n: int = 80) -> dict:
    """Exact (to quadrature accuracy) moments of Dx = phi(h), h = dW psi(x) + db, for one step of P0 (11).

    Returns ``mean`` E[Dx_d] (D,), ``cov`` Cov(Dx_d, Dx_e) (D, D), ``m3`` E[Dx_d^3] and ``m4`` E[Dx_d^4]
    (raw moments, (D,)).  Mean, m3, m4 and the diagonal of cov by 1-D GH; off-diagonal covariances by 2-D GH
    on (h_d, h_e) with ``n_2d = min(n, 60)`` nodes per axis, centred at the 1-D means (no cancellation).
    """
    phi_f = as_function(phi)
    px, mu = _preact(x, law, psi, dt)
    S = law.preact_cov(px, px) * dt
    var = np.clip(np.diag(S).copy(), 0.0, None)
    z, w = _rule(n)
    h = mu[:, None] + np.sqrt(var)[:, None] * z
    v = np.asarray(phi_f(h), dtype=float)
    mean = v @ w
    c = v - mean[:, None]
    cov = np.zeros((law.D, law.D))
    cov[np.diag_indices(law.D)] = (c * c) @ w
    iu, ju = np.triu_indices(law.D, k=1)
    if iu.size:
        pm = np.stack([mu[iu], mu[ju]], axis=-1)
        pc = np.empty((iu.size, 2, 2))
        pc[:, 0, 0], pc[:, 1, 1] = var[iu], var[ju]
        pc[:, 0, 1] = pc[:, 1, 0] = 0.5 * (S[iu, ju] + S[ju, iu])
        centre = np.stack([mean[iu], mean[ju]], axis=-1)
        off = _pair_moments(phi_f, pm, pc, centre, min(n, 60))
        cov[iu, ju] = off
        cov[ju, iu] = off
    return {"mean": mean, "cov": cov, "m3": (v**3) @ w, "m4": (v**4) @ w}


def one_step_cross_cov(x, y, law, phi, psi, dt: float, n: int = 60) -> np.ndarray:
    """Cov(Dx_d, Dy_e) (D, D) for two inputs x, y driven by the SAME dW, db in one step of P0 (11).

    (h^x_d, h^y_e) is jointly Gaussian: means from law.preact_mean, variances from the diagonals of
    law.preact_cov(psi(x), psi(x)) and law.preact_cov(psi(y), psi(y)), cross-covariance
    law.preact_cov(psi(x), psi(y))[d, e], all times dt.
    """
    phi_f = as_function(phi)
    px, mux = _preact(x, law, psi, dt)
    py, muy = _preact(y, law, psi, dt)
    vx = np.clip(np.diag(law.preact_cov(px, px)) * dt, 0.0, None)
    vy = np.clip(np.diag(law.preact_cov(py, py)) * dt, 0.0, None)
    Sxy = law.preact_cov(px, py) * dt
    D = law.D
    mx = gauss_expect_1d(phi_f, mux, vx, n=max(n, 80))
    my = gauss_expect_1d(phi_f, muy, vy, n=max(n, 80))
    dd, ee = np.meshgrid(np.arange(D), np.arange(D), indexing="ij")
    dd, ee = dd.ravel(), ee.ravel()
    pm = np.stack([mux[dd], muy[ee]], axis=-1)
    pc = np.empty((dd.size, 2, 2))
    pc[:, 0, 0], pc[:, 1, 1] = vx[dd], vy[ee]
    pc[:, 0, 1] = pc[:, 1, 0] = Sxy[dd, ee]
    centre = np.stack([mx[dd], my[ee]], axis=-1)
    return _pair_moments(phi_f, pm, pc, centre, n).reshape(D, D)
