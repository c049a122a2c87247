"""Result schema (DESIGN.md section 7): one ``ClaimResult`` per claim, each with its ``Check``s."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("verified", "erratum", "inconclusive", "not-checkable", "pending", "error")

#: What a check compares against: the form the toolkit derived, the printed one, or both (they coincide).
TARGETS = ("derived", "printed", "both")


@dataclass
class Check:
    """One piece of evidence: a statistic, its estimate (with SE where stochastic), a prediction and a rule.

    ``kind`` is one of ``symbolic``, ``quadrature``, ``ode``, ``exact``, ``monte-carlo``, ``rate``, ``shape``.
    For ``monte-carlo`` checks ``alpha`` is the false-alarm probability, ``bias`` the bias budget, and the rule
    is ``|estimate - prediction| <= z(alpha) se + bias``.  For deterministic checks ``tolerance`` is absolute.
    ``margin`` is |estimate - prediction| in units of SE (stochastic) or of the tolerance (deterministic).
    """

    name: str
    kind: str
    target: str
    statistic: str
    estimate: float
    prediction: float
    tolerance: float
    passed: bool
    se: float | None = None
    alpha: float | None = None
    bias: float | None = None
    margin: float | None = None
    n: int | None = None
    dropped: int | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return d


@dataclass
class Finding:
    """What a claim's audit function returns; the runner turns it into a ``ClaimResult`` with a verdict.

    ``symbolic_equal``: True/False from a derivation compared with the printed transcription; None if no
    symbolic comparison applies.  ``verdict`` may be preset only to ``not-checkable`` (with ``reason``).
    """

    summary: str
    printed: str = ""
    derived: str = ""
    symbolic_equal: bool | None = None
    checks: list[Check] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    corrected: str = ""
    difference: str = ""
    condition: str = ""
    reason: str = ""
    verdict: str | None = None
    figures: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)  # convergence data for figures: name, x, y, xlabel, ylabel, ...
    severity: str = ""  # for errata: "notation" (typeset form wrong, values right) or "mathematical"


@dataclass
class ClaimResult:
    id: str
    paper: str
    title: str
    location: str
    category: str
    status: str
    verdict: str
    summary: str
    reason: str = ""
    printed: str = ""
    derived: str = ""
    corrected: str = ""
    difference: str = ""
    condition: str = ""
    severity: str = ""
    steps: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    seed: int | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
