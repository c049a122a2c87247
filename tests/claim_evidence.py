"""What every audited claim's result must carry, whatever its verdict (shared by the tests of the claim modules).

* the expected verdict (a regression in an engine that flips one is caught);
* ``not-checkable``: a reason;
* otherwise at least one numeric check beyond the symbolic identity, and every check of the derived form passing;
* every Monte Carlo check states its false-alarm probability and a note on its bias budget;
* an erratum: the corrected form, the condition under which the printed form holds, a severity, and a check of the
  printed form that rejects it by >= 10 SE (or tolerances; shape checks count as infinitely far).
"""
from verify.verdicts import WIDE_MARGIN


def _margin(c) -> float:
    m = c.get("margin")
    return float(m) if m is not None else 0.0


def assert_evidence(res: dict, expected: str) -> None:
    assert res["verdict"] == expected, (res["verdict"], res["reason"], res["summary"])
    if expected == "not-checkable":
        assert res["reason"]
        return
    checks = res["checks"]
    assert any(c["kind"] not in ("symbolic", "shape") for c in checks), "needs a numeric check"
    assert all(c["passed"] for c in checks if c["target"] in ("derived", "both"))
    for c in checks:
        if c["kind"] == "monte-carlo":
            assert c["alpha"] and c["note"], c["name"]
    if expected == "erratum":
        assert res["corrected"] and res["condition"] and res["severity"]
        rejected = [c for c in checks if c["target"] == "printed" and not c["passed"] and c["kind"] != "symbolic"]
        assert rejected and max(_margin(c) for c in rejected) >= WIDE_MARGIN
