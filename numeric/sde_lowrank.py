"""Exact low-rank simulation of the Euler scheme (6) of SDE (33), and coupled ResNet/Euler paths (P0, L469, L716).

SDE (33) with psi = identity under Assumption 7 (L469):
    dx_t = phi'(0) (sigma_w / sqrt(D) dB^W_t x_t + sigma_b dB^b_t) + 1/2 phi''(0) (sigma_b^2 + sigma_w^2 q_t) 1 dt.
Euler (6): x <- x + 1/2 phi''(0) S dt + phi'(0) h, where h = (sigma_w/sqrt(D)) dB^W x + sigma_b dB^b over one step
is, for N inputs X (D x N) and given X, a D x N matrix with i.i.d. rows N_N(0, dt (s 1 1^T + w X^T X / D))
(s = sigma_b^2, w = sigma_w^2, S_n = s + w q_n).  That is exactly the law of the ResNet's pre-activation
(``numeric.resnet.simulate_iid_lowrank``), so both are simulated by one engine: per layer and network the
rows are drawn as h_d = sqrt(w dt / D) A z_d + sqrt(s dt) zb_d 1 with A A^T = X^T X (N x N; Gram-Schmidt for
N = 2, QR otherwise) and z_d, zb_d i.i.d. standard normal -- O(B L D N^2), exact in law.

Updates: an update maps (h (c, N, D), S (c, N), dt) to the increment of x:
* ``resnet_update(phi)``: phi(h)                     (P0 eq. (11), the ResNet itself)
* ``euler_update(phi1, phi2)``: phi1 h + phi2/2 S dt (Euler scheme of (33))
``simulate_coupled_lowrank`` runs several updates on separate state copies driven by the SAME normals
(z, zb): each path is exact in law on its own (z is fresh each layer and independent of every path's
state), and the paths are coupled, so differences such as resnet - linear have a small variance (used as a
control variate).  Divergence: a path whose state is non-finite or beyond ``blowup`` is flagged and set
to NaN (counted, never averaged).
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from numeric.activations import as_function
from numeric.parallel import run_chunks
from numeric.resnet import DEFAULT_BLOWUP, SimResult, _check_common, _diverged_now, _initial, _qr_factor

Update = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def resnet_update(phi) -> Update:
    """The ResNet step of P0 (11): Dx = phi(h)."""
    f = as_function(phi)
    return lambda h, S, dt: f(h)


def euler_update(phi1: float, phi2: float) -> Update:
    """The Euler step (6) of SDE (33): Dx = phi'(0) h + phi''(0)/2 (sigma_b^2 + sigma_w^2 q) dt."""
    return lambda h, S, dt: phi1 * h + (0.5 * phi2 * dt) * S[..., None]


def _preactivation(x: np.ndarray, z: np.ndarray, sw: float, sb: float) -> np.ndarray:
    """h (c, N, D) with rows N_N(0, sw^2 G + sb^2 1 1^T), G = x x^T (c, N, N), from z (c, N + 1, D)."""
    c, N, D = x.shape
    zb = sb * z[:, N, :]
    if N == 2:  # Gram-Schmidt Cholesky (exact zero l22 for identical inputs)
        a = np.einsum("cd,cd->c", x[:, 0], x[:, 0])
        cc = np.einsum("cd,cd->c", x[:, 0], x[:, 1])
        l11 = np.sqrt(a)
        pos = l11 > 0
        t = np.where(pos, cc / np.where(pos, a, 1.0), 0.0)
        res = x[:, 1] - t[:, None] * x[:, 0]
        l22 = np.sqrt(np.einsum("cd,cd->c", res, res))
        h = np.empty((c, 2, D))
        h[:, 0] = (sw * l11)[:, None] * z[:, 0] + zb
        h[:, 1] = (sw * t * l11)[:, None] * z[:, 0] + (sw * l22)[:, None] * z[:, 1] + zb
        return h
    if N == 1:
        l11 = np.sqrt(np.einsum("cd,cd->c", x[:, 0], x[:, 0]))
        return ((sw * l11)[:, None] * z[:, 0] + zb)[:, None, :]
    A = _qr_factor(x) * sw
    return np.einsum("cnm,cmd->cnd", A, z[:, :N]) + zb[:, None, :]


def simulate_coupled_lowrank(x0, *, D: int, L: int, T: float = 1.0, sigma_w: float, sigma_b: float,
                             updates: Mapping[str, Update], B: int, rng: np.random.Generator,
                             chunk: int | None = None, blowup: float = DEFAULT_BLOWUP,
                             workers: int | None = None) -> dict[str, SimResult]:
    """Run every update in ``updates`` from x0 ((N, D) or (B, N, D)) with shared normals; psi = identity.

    Returns {name: SimResult(x (B, N, D), diverged (B,), L)}.  A result depends only on (rng, B, chunk)."""
    x0 = _check_common(x0, L, T, B, chunk)
    if x0.shape[-1] != D:
        raise ValueError(f"x0 has width {x0.shape[-1]}, expected D = {D}")
    if not updates:
        raise ValueError("need at least one update")
    N = x0.shape[-2]
    dt = T / L if L else T
    if chunk is None:
        chunk = max(1, min(B, max(16, min(512, 40_000 // ((N + 1) * D)))))
    sw, sb = sigma_w * np.sqrt(dt / D), sigma_b * np.sqrt(dt)
    s, w = sigma_b**2, sigma_w**2
    names = list(updates)
    out = {k: np.empty((B, N, D)) for k in names}
    div = {k: np.zeros(B, dtype=bool) for k in names}

    def work(lo, hi, r):
        c = hi - lo
        xs = {k: _initial(x0, lo, hi) for k in names}
        bad = {k: np.zeros(c, dtype=bool) for k in names}
        z = np.empty((c, N + 1, D))
        for _ in range(L):
            r.standard_normal(out=z)
            for k in names:
                x = xs[k]
                with np.errstate(all="ignore"):
                    h = _preactivation(x, z, sw, sb)
                    S = s + w * np.einsum("cnd,cnd->cn", x, x) / D
                    x += updates[k](h, S, dt)
                    bad[k] |= _diverged_now(x, blowup)
                if bad[k].any():
                    x[bad[k]] = np.nan
        for k in names:
            out[k][lo:hi] = xs[k]
            div[k][lo:hi] = bad[k]

    run_chunks(B, chunk, rng, work, workers)
    return {k: SimResult(out[k], div[k], L) for k in names}


def euler_iid_lowrank(x0, *, D: int, L: int, T: float = 1.0, sigma_w: float, sigma_b: float, phi1: float,
                      phi2: float, B: int, rng: np.random.Generator, chunk: int | None = None,
                      blowup: float = DEFAULT_BLOWUP, workers: int | None = None) -> SimResult:
    """Euler scheme (6) of SDE (33) (psi = identity, Assumption 7), exact low-rank increments, L steps of T/L."""
    return simulate_coupled_lowrank(x0, D=D, L=L, T=T, sigma_w=sigma_w, sigma_b=sigma_b,
                                    updates={"euler": euler_update(phi1, phi2)}, B=B, rng=rng, chunk=chunk,
                                    blowup=blowup, workers=workers)["euler"]
