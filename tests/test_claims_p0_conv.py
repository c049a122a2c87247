"""P0 Section 3.2 audits (Theorem 10, Corollaries 11-13, Assumptions 9-10) at quick size: definite verdicts.

The verdicts are findings of the derivations, asserted so that an engine regression that flips one is caught:
* P0-17 erratum (notation): Theorem 10's formulas are right; L311 prints the patch/filter size as U x V x D, F = UVD;
* P0-18 verified: Corollary 11;
* P0-19 erratum (mathematical): (27)'s noise terms lack phi'(0), and it inherits Assumption 9's wrong Sigma's;
* P0-20 erratum (mathematical): Sigma^{W_U} = sU sU^T, Sigma^{W_V} = sV sV^T should be sU^T sU, sV^T sV;
* P0-21 erratum (notation): I_D for 1_D in the drift of (30), B^W_t in R^{D x D}.
"""
import pytest

from verify.runner import run_one

def _margin(check) -> float:
    """Check.to_json writes an infinite margin as the string "inf"."""
    return float(check["margin"]) if check["margin"] is not None else 0.0


EXPECTED = {"P0-17": ("erratum", "notation"), "P0-18": ("verified", ""), "P0-19": ("erratum", "mathematical"),
            "P0-20": ("erratum", "mathematical"), "P0-21": ("erratum", "notation")}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_quick_audit_verdicts(cid):
    res, _ = run_one(cid, 12345, "quick")
    verdict, severity = EXPECTED[cid]
    assert res["verdict"] == verdict, (res["summary"], res["reason"], res["checks"])
    kinds = {c["kind"] for c in res["checks"]}
    assert kinds - {"symbolic", "shape"}, "every verdict needs a numeric check beyond the symbolic identity"
    assert all(c["passed"] for c in res["checks"] if c["target"] in ("derived", "both"))
    if verdict == "erratum":
        assert res["severity"] == severity and res["corrected"] and res["condition"]
        assert any(c["target"] == "printed" and not c["passed"] and _margin(c) >= 10 for c in res["checks"])


def test_mathematical_errata_are_rejected_numerically_not_only_by_shape():
    """P0-19 and P0-20: the printed form is rejected by a quadrature or Monte Carlo check, >= 10 SE / tolerances."""
    for cid in ("P0-19", "P0-20"):
        res, _ = run_one(cid, 12345, "quick")
        numeric = [c for c in res["checks"] if c["target"] == "printed" and c["kind"] in ("monte-carlo", "quadrature", "exact")]
        assert numeric and all(not c["passed"] and _margin(c) >= 10 for c in numeric)


def test_results_reproducible_from_seed():
    a, _ = run_one("P0-21", 7, "quick")
    b, _ = run_one("P0-21", 7, "quick")
    assert [c["estimate"] for c in a["checks"]] == [c["estimate"] for c in b["checks"]]
