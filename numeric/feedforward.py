"""Feed-forward comparison networks E_tanh, E_ReLU of P0 Figure 1 / Figure 5 (L37-44, L741, L757).

Model (the standard i.i.d. feed-forward net the paper contrasts with; its parameters are not printed):
    h^1 = W^1 z + b^1,   h^{l+1} = W^{l+1} phi(h^l) + b^{l+1},   l = 1 .. L-1,
    W^1_{dk} ~ N(0, sigma_w^2 / Z),  W^{l+1}_{dk} ~ N(0, sigma_w^2 / D),  b_d ~ N(0, sigma_b^2),
with scalar inputs z (Z = 1); the output is the first unit of the last pre-activation, x_{last,1} = h^L_1.

* ``simulate_feedforward``: exact in law without materialising W (the R-GRAM idea): given the N inputs'
  post-activations A = phi(H) (D x N), the rows of W A are i.i.d. N_N(0, sigma_w^2 A^T A / D); drawn through
  an N x N factor (QR of A), O(B L D N^2).
* ``eoc_point``: the edge of chaos (Schoenholz et al. 2017): for a given sigma_b^2 the sigma_w^2 with
  chi_1 = sigma_w^2 E[phi'(sqrt(q*) Z)^2] = 1 at the variance fixed point q* = sigma_w^2 E[phi(sqrt(q*) Z)^2]
  + sigma_b^2.  ReLU: (sigma_w^2, sigma_b^2) = (2, 0) (chi_1 = sigma_w^2 / 2).
* ``nngp_correlation``: the infinite-width correlation of (h^L(z_a), h^L(z_b)) from the kernel recursion
  K^{l+1} = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2, (u, v) ~ N(0, K^l) (closed arc-cosine form for ReLU,
  Gauss-Hermite otherwise): the prediction the finite networks are compared with.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from numeric.activations import as_function
from numeric.quadrature import gauss_expect_1d, gauss_expect_2d
from numeric.parallel import run_chunks
from numeric.resnet import _qr_factor


def _relu(x):
    return np.maximum(x, 0.0)


def activation_fn(name: str):
    return _relu if name == "relu" else as_function(name)


def variance_fixed_point(name: str, sw2: float, sb2: float, q0: float = 1.0, iters: int = 2000) -> float:
    """q* = sw2 E[phi(sqrt(q*) Z)^2] + sb2 by fixed-point iteration (contracting for tanh below chaos)."""
    f = activation_fn(name)
    q = q0
    for _ in range(iters):
        qn = sw2 * gauss_expect_1d(lambda h: f(h) ** 2, 0.0, q, n=120) + sb2
        if abs(qn - q) < 1e-14 * max(1.0, q):
            return float(qn)
        q = qn
    return float(q)


def chi1(name: str, sw2: float, sb2: float) -> float:
    """chi_1 = sigma_w^2 E[phi'(sqrt(q*) Z)^2] at the variance fixed point."""
    if name == "relu":
        return sw2 / 2.0
    from numeric.activations import get_activation

    df = get_activation(name).df
    q = variance_fixed_point(name, sw2, sb2)
    return float(sw2 * gauss_expect_1d(lambda h: df(h) ** 2, 0.0, q, n=120))


def eoc_point(name: str, sb2: float = 0.05) -> tuple[float, float]:
    """(sigma_w^2, sigma_b^2) on the edge of chaos chi_1 = 1 (ReLU: (2, 0), sb2 ignored)."""
    if name == "relu":
        return 2.0, 0.0
    sw2 = brentq(lambda v: chi1(name, v, sb2) - 1.0, 1.0, 4.0, xtol=1e-13)
    return float(sw2), float(sb2)


def nngp_correlation(name: str, sw2: float, sb2: float, z, depth: int) -> np.ndarray:
    """Infinite-width correlation matrix of (h^depth(z_a))_a for scalar inputs z (N,), depth >= 1."""
    z = np.asarray(z, float)
    K = sw2 * np.outer(z, z) + sb2
    f = activation_fn(name)
    for _ in range(depth - 1):
        d = np.sqrt(np.diag(K))
        if name == "relu":  # arc-cosine kernel: E relu(u) relu(v) = d_a d_b (sin t + (pi - t) cos t) / (2 pi)
            c = np.clip(K / np.outer(d, d), -1.0, 1.0)
            t = np.arccos(c)
            E = np.outer(d, d) * (np.sin(t) + (np.pi - t) * c) / (2 * np.pi)
        else:
            N = len(z)
            cov = np.empty((N, N, 2, 2))
            cov[..., 0, 0] = np.diag(K)[:, None]
            cov[..., 1, 1] = np.diag(K)[None, :]
            cov[..., 0, 1] = cov[..., 1, 0] = K
            E = gauss_expect_2d(lambda u, v: f(u) * f(v), np.zeros(2), cov, n=60)
            E = 0.5 * (E + E.T)
        K = sw2 * E + sb2
    d = np.sqrt(np.diag(K))
    return K / np.outer(d, d)


def simulate_feedforward(z, *, name: str, sw2: float, sb2: float, D: int, L: int, B: int,
                         rng: np.random.Generator, chunk: int | None = None, workers: int | None = None) -> np.ndarray:
    """Last pre-activation unit 1, h^L_1(z_a), for B networks: array (B, N).  Exact in law (low rank)."""
    z = np.asarray(z, float)
    N = z.size
    f = activation_fn(name)
    sw, sb = np.sqrt(sw2), np.sqrt(sb2)
    out = np.empty((B, N))
    if chunk is None:
        chunk = max(1, min(B, max(16, min(512, 40_000 // ((N + 1) * D)))))

    def work(lo, hi, r):
        c = hi - lo
        # first layer: W^1 z + b^1, W^1_{d} ~ N(0, sw2) (fan-in Z = 1)
        h = sw * r.standard_normal((c, 1, D)) * z[None, :, None] + sb * r.standard_normal((c, 1, D))
        zz = np.empty((c, N + 1, D))
        for _ in range(L - 1):
            a = f(h)
            A = _qr_factor(a) * (sw / np.sqrt(D))  # A A^T = sw2 a a^T / D
            r.standard_normal(out=zz)
            h = np.einsum("cnm,cmd->cnd", A, zz[:, :N]) + sb * zz[:, N][:, None, :]
        out[lo:hi] = h[:, :, 0]

    run_chunks(B, chunk, rng, work, workers)
    return out
