"""Verdict rules (DESIGN.md section 3).

* ``verified``: the derivation equals the printed transcription (or no symbolic form applies) and every
  check passes, with at least one check beyond the symbolic identity.
* ``erratum``: derived != printed; every check of the derived form passes and at least one check rejects
  the printed form by a wide margin (>= ``WIDE_MARGIN`` standard errors, or tolerances if deterministic).
* ``inconclusive``: the evidence cannot separate the two, or a check of the derived form failed (then
  something in the derivation, the simulator or the statistics needs investigating, and the reason says so).
* ``not-checkable``: preset by the claim with a reason.
"""
from __future__ import annotations

from verify.results import Check, Finding

#: An erratum needs the printed form rejected by at least this many SE (or tolerances).
WIDE_MARGIN = 10.0


def _names(checks: list[Check]) -> str:
    return ", ".join(c.name for c in checks)


def decide(f: Finding) -> tuple[str, str]:
    """Return (verdict, reason) for a finding."""
    if f.verdict == "not-checkable":
        return "not-checkable", f.reason or "no reason given"
    if f.verdict not in (None, "not-checkable"):
        raise ValueError(f"a claim may preset only 'not-checkable', got {f.verdict!r}")
    for_derived = [c for c in f.checks if c.target in ("derived", "both")]
    for_printed = [c for c in f.checks if c.target == "printed"]
    failed = [c for c in for_derived if not c.passed]
    if failed:
        return "inconclusive", f"check(s) of the derived form failed: {_names(failed)}; investigate before judging"
    numeric = [c for c in f.checks if c.kind != "symbolic"]
    if f.symbolic_equal is not False:
        bad_printed = [c for c in for_printed if not c.passed]
        if bad_printed:
            return "inconclusive", f"printed form failed {_names(bad_printed)} although no symbolic difference was found"
        if not numeric:
            return "inconclusive", "no numeric check beyond the symbolic identity"
        return "verified", ""
    # derived != printed
    rejected = [c for c in for_printed if not c.passed and (c.margin or 0.0) >= WIDE_MARGIN]
    if not for_derived:
        return "inconclusive", "printed and derived differ but the derived form has no check"
    if rejected:
        return "erratum", ""
    weak = [c for c in for_printed if not c.passed]
    if weak:
        return "inconclusive", f"printed form rejected only narrowly ({_names(weak)}); more samples would settle it"
    return "inconclusive", "printed and derived differ symbolically, but no numeric check separates them"
