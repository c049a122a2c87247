"""Finite-network simulators of P0's fully-connected ResNet, eq. (11) (L203):

    x_{t+dt} = x_t + phi(dW_t psi(x_t) + db_t),   dt = T / L,   t = 0, dt, ..., T - dt,

for N inputs x0 (N, D) sharing the same parameters, B independent networks.

* ``simulate_dense``: materialises every dW (B, D, D) from a ``GaussianLaw`` (any Assumption 4 law). The
  reference; O(B L D^2) normals.  Optional ``callback(l, x, dW, db)`` sees each layer's increments.
* ``simulate_iid_lowrank``: Assumption 7 only, exact in distribution (DESIGN.md 5.2, recipe R-GRAM): given
  the states X (D x N) of one network, the rows of dW psi(X) are iid N_N(0, sigma_w^2 dt / D * G),
  G = psi(X)^T psi(X), because dW is independent of X with iid N(0, sigma_w^2 dt / D) entries; with the
  shared db_d the rows of h are iid N_N(0, dt (sigma_w^2 G / D + sigma_b^2 1 1^T)), drawn through an N x N
  factor (Gram-Schmidt for N = 2, QR otherwise, so a singular G -- identical inputs -- is fine): N D normals
  per layer and network.  O(B L D N^2).

Divergence: a network whose state has a non-finite entry or |x| > ``blowup`` after some layer is marked
``diverged``; its state is NaN from then on and it is excluded (counted, never averaged) downstream.

Randomness: networks are processed in chunks; chunk j draws from ``rng.spawn(n_chunks)[j]``, so a result
depends only on (rng state, B, chunk) -- not on the number of worker threads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numeric import default_threads
from numeric.parallel import run_chunks
from numeric.activations import as_function
from numeric.laws import GaussianLaw

DEFAULT_BLOWUP = 1e8


@dataclass
class SimResult:
    """Final states x (B, N, D) (NaN for diverged networks), the divergence flags (B,), layers run, and
    optional per-layer records (L + 1, B, ...) of ``record(x)`` taken before each layer and at the end."""

    x: np.ndarray
    diverged: np.ndarray
    layers_run: int
    records: np.ndarray | None = None

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of networks that did not diverge."""
        return ~self.diverged


def one_step(x: np.ndarray, dW: np.ndarray, db: np.ndarray, phi, psi) -> np.ndarray:
    """x + phi(dW psi(x) + db), batched: x (B, N, D), dW (B, D, D), db (B, D) -> (B, N, D)."""
    phi_f, psi_f = as_function(phi), as_function(psi)
    h = np.matmul(psi_f(x), np.swapaxes(dW, -1, -2))
    h += db[:, None, :]
    return x + phi_f(h)


# ------------------------------------------------------------------------------------------- helpers
def _check_common(x0, L, T, B, chunk):
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 2:
        pass
    elif x0.ndim == 3:
        if x0.shape[0] != B:
            raise ValueError(f"per-network x0 must have shape ({B}, N, D), got {x0.shape}")
    else:
        raise ValueError(f"x0 must be (N, D) or (B, N, D), got shape {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite")
    if int(L) != L or L < 0:
        raise ValueError(f"L must be a non-negative integer, got {L}")
    if int(B) != B or B < 1:
        raise ValueError(f"B must be a positive integer, got {B}")
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T}")
    if chunk is not None and (int(chunk) != chunk or chunk < 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk}")
    return x0


def _initial(x0, lo, hi):
    if x0.ndim == 2:
        return np.repeat(x0[None], hi - lo, axis=0)
    return x0[lo:hi].copy()


def _diverged_now(x, blowup):
    """Per-network flag: any entry non-finite or beyond ``blowup`` in modulus (NaN compares False)."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(x).max(axis=tuple(range(1, x.ndim))) <= blowup)


def _alloc_records(record, x_probe, L, B):
    if record is None:
        return None
    sample = np.asarray(record(x_probe[:1]))
    return np.full((L + 1, B) + sample.shape[1:], np.nan)


def _store(records, l, lo, hi, record, x, bad):
    if records is None:
        return
    val = np.asarray(record(x), dtype=float)
    if bad.any():
        val = val.copy()
        val[bad] = np.nan
    records[l, lo:hi] = val


# ---------------------------------------------------------------------------------------- dense
def simulate_dense(x0, law: GaussianLaw, *, L: int, T: float = 1.0, phi, psi, B: int,
                   rng: np.random.Generator, chunk: int | None = None, callback=None, record=None,
                   blowup: float = DEFAULT_BLOWUP, workers: int | None = None) -> SimResult:
    """Reference simulator of P0 (11): draws every (dW, db) from ``law`` (exact discretisation).

    ``callback(l, x, dW, db)`` is called at layer l = 0..L-1 BEFORE the update with the current states of
    the chunk (c, N, D) and that layer's increments (c, D, D), (c, D); with several chunks it is called
    chunk after chunk (l restarts at 0), so pass ``chunk=B`` (the default when a callback is given) to see
    all networks at once.  Memory O(chunk D^2); the default chunk keeps dW below ~64 MB.
    """
    x0 = _check_common(x0, L, T, B, chunk)
    D = law.D
    if x0.shape[-1] != D:
        raise ValueError(f"x0 has width {x0.shape[-1]}, the law has D = {D}")
    N = x0.shape[-2]
    dt = T / L if L else T
    if chunk is None:
        if callback is not None:
            chunk = B
        else:  # dW of a chunk below ~64 MB, and at least one chunk per worker thread
            cap = max(1, int(8e6 // (D * D)))
            n_chunks = max(-(-B // cap), min(B, workers or default_threads()))
            chunk = -(-B // n_chunks)
    phi_f, psi_f = as_function(phi), as_function(psi)
    out = np.empty((B, N, D))
    div = np.zeros(B, dtype=bool)
    records = _alloc_records(record, _initial(x0, 0, 1), L, B)

    def work(lo, hi, r):
        x = _initial(x0, lo, hi)
        bad = np.zeros(hi - lo, dtype=bool)
        for l in range(L):
            _store(records, l, lo, hi, record, x, bad)
            dW, db = law.sample(r, hi - lo, dt)
            if callback is not None:
                callback(l, x, dW, db)
            with np.errstate(all="ignore"):
                x = one_step(x, dW, db, phi_f, psi_f)
                bad |= _diverged_now(x, blowup)
            if bad.any():
                x[bad] = np.nan
        _store(records, L, lo, hi, record, x, bad)
        out[lo:hi] = x
        div[lo:hi] = bad

    run_chunks(B, chunk, rng, work, 1 if callback is not None else workers)
    return SimResult(out, div, L, records)


# ---------------------------------------------------------------------------------- iid low-rank
def gram_factor(G: np.ndarray) -> np.ndarray:
    """A (..., N, N) with A A^T = G for batched symmetric PSD G (singular allowed).

    N = 1: sqrt; N = 2: explicit Cholesky with a clipped Schur complement (exact for rank-1 G, e.g. two
    identical inputs; a zero G[0,0] gives a zero first column); N > 2: eigen square root.
    """
    N = G.shape[-1]
    if N == 1:
        return np.sqrt(np.maximum(G, 0.0))
    if N == 2:
        a, c, b = G[..., 0, 0], G[..., 0, 1], G[..., 1, 1]
        l11 = np.sqrt(np.maximum(a, 0.0))
        pos = l11 > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            l21 = np.where(pos, c / np.where(pos, l11, 1.0), 0.0)
        l22 = np.sqrt(np.maximum(b - l21 * l21, 0.0))
        A = np.zeros(G.shape)
        A[..., 0, 0], A[..., 1, 0], A[..., 1, 1] = l11, l21, l22
        return A
    Gs = np.where(np.isfinite(G).all(axis=(-1, -2), keepdims=True), G, np.eye(N))
    lam, V = np.linalg.eigh(0.5 * (Gs + np.swapaxes(Gs, -1, -2)))
    A = V * np.sqrt(np.clip(lam, 0.0, None))[..., None, :]
    return np.where(np.isfinite(G).all(axis=(-1, -2), keepdims=True), A, np.nan)


def _qr_factor(p: np.ndarray) -> np.ndarray:
    """A (c, N, N) lower triangular with A A^T = p p^T (p: (c, N, D)), from the QR of p^T (rank-safe)."""
    fin = np.isfinite(p).all(axis=(1, 2))
    q = np.where(fin[:, None, None], p, 0.0)
    R = np.linalg.qr(np.swapaxes(q, 1, 2), mode="r")  # (c, N, N) with p p^T = R^T R
    A = np.swapaxes(R, 1, 2)
    A[~fin] = np.nan
    return A


def simulate_iid_lowrank(x0, *, D: int, L: int, T: float = 1.0, sigma_w: float, sigma_b: float, phi, psi,
                         B: int, rng: np.random.Generator, chunk: int | None = None, record=None,
                         blowup: float = DEFAULT_BLOWUP, workers: int | None = None) -> SimResult:
    """Exact-in-law simulation of P0 (11) under Assumption 7 without materialising dW (recipe R-GRAM).

    Given the states X (D x N) of one network, the pre-activations h = dW psi(X) + db 1^T have i.i.d. rows
    h_d ~ N_N(0, C), C = dt (sigma_w^2 G / D + sigma_b^2 1 1^T), G = psi(X)^T psi(X), because dW and db are
    independent of X.  With the augmented vectors pt_n = (sigma_w sqrt(dt/D) psi(x_n), sigma_b sqrt(dt)) in
    R^(D+1), C = Pt Pt^T, so a factor A (A A^T = C) comes from Gram-Schmidt (N = 2, exact zero for identical
    inputs, no cancellation) or the QR of Pt^T (other N); h_d = A z_d with z_d ~ N(0, I_N): N D standard
    normals per layer and network (the floor).  x0: (N, D) shared, or (B, N, D) per network.  ``record(x)``
    (optional) maps states (c, N, D) to per-network statistics stored in ``SimResult.records`` (L + 1, B, ...).
    """
    x0 = _check_common(x0, L, T, B, chunk)
    if x0.shape[-1] != D:
        raise ValueError(f"x0 has width {x0.shape[-1]}, expected D = {D}")
    for nm, v in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{nm} must be finite and >= 0, got {v}")
    N = x0.shape[-2]
    dt = T / L if L else T
    if chunk is None:  # ~320 KB of normals per chunk and layer (cache-sized)
        chunk = max(1, min(B, max(16, min(512, 40_000 // (N * D)))))
    phi_f, psi_f = as_function(phi), as_function(psi)
    identity_psi = getattr(psi, "name", psi) == "identity"
    sw2 = sigma_w**2 * dt / D
    sb2 = sigma_b**2 * dt
    out = np.empty((B, N, D))
    div = np.zeros(B, dtype=bool)
    records = _alloc_records(record, _initial(x0, 0, 1), L, B)

    def work(lo, hi, r):
        c = hi - lo
        x = _initial(x0, lo, hi)
        bad = np.zeros(c, dtype=bool)
        z = np.empty((c, N, D))
        for l in range(L):
            _store(records, l, lo, hi, record, x, bad)
            with np.errstate(all="ignore"):
                p = x if identity_psi else psi_f(x)
                r.standard_normal(out=z)
                if N == 1:
                    a = np.einsum("cd,cd->c", p[:, 0], p[:, 0])
                    z[:, 0] *= np.sqrt(sw2 * a + sb2)[:, None]
                elif N == 2:
                    # Gram-Schmidt on the augmented vectors: l11 = |pt0|, t = <pt0,pt1>/|pt0|^2,
                    # l21 = t l11, l22 = |pt1 - t pt0| (exactly 0 for identical inputs)
                    a = sw2 * np.einsum("cd,cd->c", p[:, 0], p[:, 0]) + sb2
                    cc = sw2 * np.einsum("cd,cd->c", p[:, 0], p[:, 1]) + sb2
                    pos = a > 0
                    t = np.where(pos, cc / np.where(pos, a, 1.0), 0.0)
                    res = p[:, 1] - t[:, None] * p[:, 0]
                    l22 = np.sqrt(sw2 * np.einsum("cd,cd->c", res, res) + sb2 * (1.0 - t) ** 2)
                    l11 = np.sqrt(a)
                    l21 = t * l11
                    z[:, 1] *= l22[:, None]
                    z[:, 1] += l21[:, None] * z[:, 0]
                    z[:, 0] *= l11[:, None]
                else:
                    pt = np.concatenate([np.sqrt(sw2) * p, np.full((c, N, 1), np.sqrt(sb2))], axis=2)
                    A = _qr_factor(pt)
                    z[:] = np.einsum("cnm,cmd->cnd", A, z)
                x += phi_f(z)
                bad |= _diverged_now(x, blowup)
            if bad.any():
                x[bad] = np.nan
        _store(records, L, lo, hi, record, x, bad)
        out[lo:hi] = x
        div[lo:hi] = bad

    run_chunks(B, chunk, rng, work, workers)
    return SimResult(out, div, L, records)
