"""Euler-Maruyama integration of Ito SDEs, vectorised over paths.

    dx = mu(t, x) dt + sigma(t, x) dB,   x in R^D, B an M-dimensional Brownian motion,

discretised as P0's Euler scheme (6), L100: x_{k+1} = x_k + mu(t_k, x_k) dt + sigma(t_k, x_k) dB_k with
dB_k ~ N(0, dt I_M).  Weak order 1, strong order 1/2 (P0-1 harness).  ``dB`` may be prescribed (steps, B, M)
to drive the scheme with given increments (pathwise comparisons with a finite network).

Divergence: a path with a non-finite entry or |x| > ``blowup`` is flagged, frozen at NaN, and counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SDEResult:
    """Terminal states x (B, D) (NaN where diverged), divergence flags (B,), step of divergence (-1 if none),
    and optional records (steps + 1, B, ...) of ``record(t, x)`` at every grid time."""

    x: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray | None = None
    records: np.ndarray | None = None

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())


def euler_maruyama(x0, drift, diffusion, *, T: float, steps: int, rng: np.random.Generator | None = None,
                   dB: np.ndarray | None = None, blowup: float = 1e8, record=None) -> SDEResult:
    """Euler-Maruyama for dx = drift(t, x) dt + diffusion(t, x) dB over [0, T] in ``steps`` equal steps.

    x0: (B, D); drift(t, x (B, D)) -> (B, D); diffusion(t, x) -> (B, D, M).  Either ``rng`` (increments
    dB_k ~ N(0, dt I_M) drawn per step) or ``dB`` of shape (steps, B, M) must be given.
    """
    x = np.array(x0, dtype=float, copy=True)
    if x.ndim != 2:
        raise ValueError(f"x0 must be (B, D), got shape {x.shape}")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T}")
    if (rng is None) == (dB is None):
        raise ValueError("give exactly one of rng and dB")
    B = x.shape[0]
    dt = T / steps
    sq = np.sqrt(dt)
    if dB is not None:
        dB = np.asarray(dB, dtype=float)
        if dB.ndim != 3 or dB.shape[:2] != (steps, B):
            raise ValueError(f"dB must be (steps={steps}, B={B}, M), got {dB.shape}")
    bad = np.zeros(B, dtype=bool)
    when = np.full(B, -1)
    recs = None
    for k in range(steps):
        t = k * dt
        if record is not None:
            val = np.asarray(record(t, x), dtype=float)
            if recs is None:
                recs = np.full((steps + 1,) + val.shape, np.nan)
            recs[k] = val
        with np.errstate(all="ignore"):
            mu = np.asarray(drift(t, x), dtype=float)
            sig = np.asarray(diffusion(t, x), dtype=float)
            if sig.ndim != 3 or sig.shape[:2] != x.shape:
                raise ValueError(f"diffusion must return (B, D, M), got {sig.shape}")
            inc = dB[k] if dB is not None else sq * rng.standard_normal((B, sig.shape[2]))
            x = x + mu * dt + np.einsum("bdm,bm->bd", sig, inc)
            now = ~(np.abs(x).max(axis=1) <= blowup)
        new = now & ~bad
        when[new] = k + 1
        bad |= now
        if bad.any():
            x[bad] = np.nan
    if record is not None:
        val = np.asarray(record(T, x), dtype=float)
        if recs is None:
            recs = np.full((steps + 1,) + val.shape, np.nan)
        recs[steps] = val
    return SDEResult(x, bad, when, recs)
