"""ODE integration for the doubly infinite limits of P0 (Prop. 18, L517-525; explosion time L563).

NumPy/SciPy only: right-hand sides come in as callables ``f(t, y)`` (lambdified from the derivations by the
caller).  ``integrate`` is the reference solution for closed forms (DOP853, rtol 1e-11 by default, as in the
claim file's R-ODE recipe); ``blowup_time`` integrates until a component passes thresholds 1e6, 1e7, 1e8
and extrapolates the blow-up time by Aitken's delta-squared process on the three crossing times, which
needs no knowledge of the blow-up exponent (t(Q) = T* - K Q^(-1/beta) gives a geometric sequence of gaps).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.integrate import solve_ivp

Rhs = Callable[[float, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class OdeResult:
    t: np.ndarray  # the requested times
    y: np.ndarray  # shape (n_states, len(t))
    success: bool
    message: str


def integrate(rhs: Rhs, y0: Sequence[float], times: Sequence[float] | float, *, rtol: float = 1e-11,
              atol: float = 1e-13, method: str = "DOP853") -> OdeResult:
    """Solve y' = rhs(t, y), y(0) = y0, and return y at ``times`` (all >= 0)."""
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    if np.any(ts < 0):
        raise ValueError("times must be >= 0")
    t_end = float(ts.max())
    if t_end == 0.0:
        y = np.repeat(np.asarray(y0, float)[:, None], ts.size, axis=1)
        return OdeResult(ts, y, True, "trivial")
    sol = solve_ivp(rhs, (0.0, t_end), np.asarray(y0, dtype=float), method=method, rtol=rtol, atol=atol,
                    dense_output=True)
    if not sol.success:
        return OdeResult(ts, np.full((len(y0), ts.size), np.nan), False, sol.message)
    return OdeResult(ts, sol.sol(ts), True, sol.message)


@dataclass(frozen=True)
class BlowUp:
    """Blow-up of component ``index``: crossing times of ``thresholds`` and the extrapolated time ``t_star``.

    ``exploded`` is False when the component stayed below the last threshold up to ``t_max``
    (``t_star`` is then inf).  ``gap_ratio`` is the ratio of successive crossing-time gaps (r^(-1/beta) for a
    K (T* - t)^(-beta) singularity and thresholds in ratio r)."""

    exploded: bool
    crossing_times: tuple[float, ...]
    thresholds: tuple[float, ...]
    t_star: float
    gap_ratio: float

    @property
    def t_event(self) -> float:
        """The time at which the last threshold (1e8 by default) was crossed."""
        return self.crossing_times[-1] if self.crossing_times else float("inf")


def blowup_time(rhs: Rhs, y0: Sequence[float], *, index: int, thresholds: Sequence[float] = (1e6, 1e7, 1e8),
                t_max: float = 100.0, rtol: float = 1e-12, atol: float = 1e-12, method: str = "DOP853") -> BlowUp:
    """Integrate until y[index] exceeds each threshold (the last is terminal); Aitken-extrapolate T*."""
    th = tuple(float(x) for x in thresholds)
    if len(th) < 3 or any(b <= a for a, b in zip(th, th[1:])):
        raise ValueError("need >= 3 increasing thresholds")

    def make_event(level: float, terminal: bool):
        def ev(t, y):
            return y[index] - level
        ev.terminal = terminal
        ev.direction = 1.0
        return ev

    events = [make_event(x, i == len(th) - 1) for i, x in enumerate(th)]
    sol = solve_ivp(rhs, (0.0, float(t_max)), np.asarray(y0, dtype=float), method=method, rtol=rtol, atol=atol,
                    events=events)
    crossed = [float(e[0]) if len(e) else float("nan") for e in sol.t_events]
    if not np.all(np.isfinite(crossed)):
        return BlowUp(False, tuple(c for c in crossed if np.isfinite(c)), th, float("inf"), float("nan"))
    t1, t2, t3 = crossed[-3:]
    d1, d2 = t2 - t1, t3 - t2
    ratio = d2 / d1 if d1 > 0 else float("nan")
    t_star = t3 + d2 * ratio / (1.0 - ratio) if np.isfinite(ratio) and 0 < ratio < 1 else float("nan")
    return BlowUp(True, tuple(crossed), th, float(t_star), float(ratio))


def affine_iterate(alpha: float, beta: float, y0: float, n: int) -> float:
    """y_n for y_{l+1} = alpha y_l + beta (plain iteration: an independent check of the closed form)."""
    y = float(y0)
    for _ in range(int(n)):
        y = alpha * y + beta
    return y
