"""Calibrated statistics for Monte Carlo comparisons (DESIGN.md section 6).

A check passes iff ``|estimate - prediction| <= z * SE + bias``, where ``z`` is the two-sided normal
quantile of the false-alarm probability ``alpha`` assigned to the check and ``bias`` is a budget for
finite depth / finite width effects stated by the caller (from the next-order term or measured).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

#: Default false-alarm probability of one stochastic check (two-sided).  With n checks in a run the
#: family-wise probability of at least one spurious failure is at most n * ALPHA (Bonferroni).
ALPHA = 1e-4


def z_two_sided(alpha: float = ALPHA) -> float:
    """Normal quantile z with P(|N(0,1)| > z) = alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return float(_st.norm.isf(alpha / 2))


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error and the number of finite samples used."""

    value: float
    se: float
    n: int
    n_dropped: int = 0  # non-finite / diverged samples excluded (reported, never averaged)


def finite_mask(samples: np.ndarray, axis: int = 0, threshold: float = 1e12) -> np.ndarray:
    """Boolean mask of samples whose every entry is finite and below ``threshold`` in modulus."""
    a = np.asarray(samples, dtype=float)
    ok = np.isfinite(a) & (np.abs(a) < threshold)
    if a.ndim > 1:
        other = tuple(i for i in range(a.ndim) if i != axis % a.ndim)
        ok = ok.all(axis=other)
    return ok


def mean_estimate(samples: np.ndarray) -> Estimate:
    """Sample mean with SE = s / sqrt(n); diverged samples are dropped and counted."""
    a = np.asarray(samples, dtype=float).ravel()
    ok = finite_mask(a)
    a = a[ok]
    n = a.size
    if n < 2:
        return Estimate(float("nan"), float("nan"), n, int((~ok).sum()))
    return Estimate(float(a.mean()), float(a.std(ddof=1) / np.sqrt(n)), n, int((~ok).sum()))


def variance_estimate(samples: np.ndarray) -> Estimate:
    """Sample variance with the kurtosis-aware SE sqrt((m4 - s^4) / n) (valid for any finite 4th moment)."""
    a = np.asarray(samples, dtype=float).ravel()
    ok = finite_mask(a)
    a = a[ok]
    n = a.size
    if n < 4:
        return Estimate(float("nan"), float("nan"), n, int((~ok).sum()))
    c = a - a.mean()
    s2 = float(c @ c / (n - 1))
    m4 = float(np.mean(c**4))
    return Estimate(s2, float(np.sqrt(max(m4 - s2**2, 0.0) / n)), n, int((~ok).sum()))


def covariance_estimate(x: np.ndarray, y: np.ndarray) -> Estimate:
    """Sample covariance of paired samples with SE from the variance of the centred products."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    ok = finite_mask(x) & finite_mask(y)
    x, y = x[ok], y[ok]
    n = x.size
    if n < 4:
        return Estimate(float("nan"), float("nan"), n, int((~ok).sum()))
    p = (x - x.mean()) * (y - y.mean())
    return Estimate(float(p.sum() / (n - 1)), float(p.std(ddof=1) / np.sqrt(n)), n, int((~ok).sum()))


def passes(estimate: float, se: float, prediction: float, alpha: float = ALPHA, bias: float = 0.0) -> tuple[bool, float]:
    """(passed, tolerance) for the calibrated rule |est - pred| <= z(alpha) * se + bias."""
    tol = z_two_sided(alpha) * se + bias
    ok = bool(np.isfinite(estimate) and abs(estimate - prediction) <= tol)
    return ok, float(tol)


def richardson(f_L: float, f_2L: float) -> float:
    """Richardson extrapolation 2 f(2L) - f(L), removing an O(1/L) bias."""
    return 2.0 * f_2L - f_L


def loglog_slope(x: np.ndarray, y: np.ndarray, level: float = 0.99) -> tuple[float, float, float]:
    """Least-squares slope of log|y| on log x with a ``level`` t-interval: (slope, low, high)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.abs(np.asarray(y, float)))
    res = _st.linregress(lx, ly)
    dof = max(len(lx) - 2, 1)
    half = float(_st.t.isf((1 - level) / 2, dof) * res.stderr) if len(lx) > 2 else 0.0
    return float(res.slope), float(res.slope - half), float(res.slope + half)


def blowup_fraction(samples: np.ndarray, threshold: float = 1e8, axis: int = 0) -> float:
    """Fraction of samples (along ``axis``) that diverged: non-finite or beyond ``threshold``."""
    ok = finite_mask(samples, axis=axis, threshold=threshold)
    return float(1.0 - ok.mean())
