"""P0 Section 3.1 audits (Theorem 2, Corollaries 3-5) at quick size: each reaches a definite verdict with evidence.

The verdicts are findings of the derivations, asserted here so that a regression in an engine that flips one is
caught: P0-11 is a notation erratum (I_D typeset for 1_D), the others are verified.
"""
import pytest

from claim_evidence import assert_evidence
from verify.runner import run_one

EXPECTED = {"P0-3": "verified", "P0-4": "verified", "P0-5": "verified", "P0-6": "verified", "P0-7": "verified",
            "P0-8": "verified", "P0-9": "verified", "P0-10": "verified", "P0-11": "erratum", "P0-12": "verified"}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_quick_audit_verdicts(cid):
    res, _ = run_one(cid, 12345, "quick")
    assert_evidence(res, EXPECTED[cid])


def test_results_reproducible_from_seed():
    a, _ = run_one("P0-9", 7, "quick")
    b, _ = run_one("P0-9", 7, "quick")
    assert [c["estimate"] for c in a["checks"]] == [c["estimate"] for c in b["checks"]]
