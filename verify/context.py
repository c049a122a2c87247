"""The context handed to each claim's audit function: seeds, run size, and check constructors.

Seeds: every random stream is ``SeedSequence(seed, spawn_key=(h(claim id), h(stream name)))`` with a
stable hash ``h``, so a claim's numbers depend only on the run seed and its own id, never on the order of
claims or on how work is split across processes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numeric import stats
from verify.results import Check

MODES = ("quick", "default", "full")


def stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


@dataclass
class AuditContext:
    claim_id: str
    seed: int = 20261123
    mode: str = "default"
    alpha: float = stats.ALPHA
    stochastic_checks: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)  # convergence series recorded by rate checks (for figures)
    figure_dir: Path | None = None  # where a claim may write its figures (PDF); None: make no figure files

    def figure_path(self, name: str) -> Path | None:
        """Path for a figure of this claim (``<figure_dir>/<claim id>-<name>.pdf``), or None if figures are off.

        Return the path in ``Finding.figures``; the report shows it.  Write it atomically (e.g. save to a
        temporary name in the same folder, then ``os.replace``)."""
        if self.figure_dir is None:
            return None
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        return self.figure_dir / f"{self.claim_id}-{name}.pdf"

    # -- seeds and sizes -------------------------------------------------------------------------
    def seed_sequence(self, stream: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(stable_hash(self.claim_id), stable_hash(stream)))

    def rng(self, stream: str) -> np.random.Generator:
        """An independent, reproducible generator for the named stream of this claim."""
        return np.random.default_rng(self.seed_sequence(stream))

    def size(self, quick, default, full=None):
        """Pick a size by run mode (``full`` defaults to ``default``)."""
        return {"quick": quick, "default": default, "full": default if full is None else full}[self.mode]

    # -- check constructors ----------------------------------------------------------------------
    def mc_check(self, name: str, statistic: str, est: stats.Estimate | tuple[float, float], prediction: float,
                 *, target: str, bias: float = 0.0, note: str = "") -> Check:
        """Calibrated Monte Carlo check: pass iff |est - pred| <= z(alpha) SE + bias."""
        if isinstance(est, tuple):
            est = stats.Estimate(float(est[0]), float(est[1]), 0)
        ok, tol = stats.passes(est.value, est.se, prediction, self.alpha, bias)
        margin = abs(est.value - prediction) / est.se if est.se and est.se > 0 else float("inf")
        self.stochastic_checks.append(name)
        return Check(name=name, kind="monte-carlo", target=target, statistic=statistic, estimate=float(est.value),
                     prediction=float(prediction), tolerance=tol, passed=ok, se=float(est.se), alpha=self.alpha,
                     bias=float(bias), margin=float(margin), n=est.n or None, dropped=est.n_dropped or None, note=note)

    @staticmethod
    def exact_check(name: str, statistic: str, value: float, prediction: float, *, target: str, tol: float,
                    kind: str = "quadrature", note: str = "") -> Check:
        """Deterministic check (quadrature, ODE solve, exact recursion): pass iff |value - pred| <= tol."""
        err = abs(float(value) - float(prediction))
        ok = bool(np.isfinite(err) and err <= tol)
        return Check(name=name, kind=kind, target=target, statistic=statistic, estimate=float(value),
                     prediction=float(prediction), tolerance=float(tol), passed=ok,
                     margin=float(err / tol) if tol > 0 else float("inf"), note=note)

    def rate_check(self, name: str, statistic: str, xs, errors, predicted_slope: float, *, target: str,
                   slack: float = 0.25, note: str = "", xlabel: str = "") -> Check:
        """Log-log slope of |errors| against xs, compared with a predicted order (|slope - pred| <= slack).

        The series is kept for the report's convergence figure."""
        slope, lo, hi = stats.loglog_slope(np.asarray(xs), np.asarray(errors))
        ylabel, _, rest = statistic.removeprefix("slope of ").partition(" vs ")
        self.series.append({"name": name, "x": [float(v) for v in np.asarray(xs, float)],
                            "y": [float(abs(v)) for v in np.asarray(errors, float)],
                            "xlabel": xlabel or (rest.split(" ")[0] if rest else "step / depth"), "ylabel": ylabel,
                            "reference_slope": float(predicted_slope), "logx": True, "logy": True})
        ok = bool(abs(slope - predicted_slope) <= slack)
        return Check(name=name, kind="rate", target=target, statistic=statistic, estimate=slope,
                     prediction=float(predicted_slope), tolerance=slack, passed=ok,
                     margin=abs(slope - predicted_slope) / slack, note=(note + f" 99% CI [{lo:.3f}, {hi:.3f}]").strip())

    @staticmethod
    def symbolic_check(name: str, equal: bool, statistic: str, *, target: str = "both", note: str = "") -> Check:
        return Check(name=name, kind="symbolic", target=target, statistic=statistic, estimate=0.0 if equal else 1.0,
                     prediction=0.0, tolerance=0.0, passed=bool(equal), note=note)
