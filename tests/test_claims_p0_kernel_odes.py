"""Audits P0-35 ... P0-44 (Prop. 18-19 of P0) through the runner, in quick mode, with a fixed seed.

Each audit must reach its verdict with the evidence the verdict rules require: for errata, every check of the
derived form passes and a check of the printed form is rejected by >= 10 SE (or tolerances); for verified
claims, at least one numeric check beyond the symbolic identity, all passing.
"""
from __future__ import annotations

import pytest

from claim_evidence import assert_evidence
from verify.runner import run_one

SEED = 20261123
EXPECTED = {
    "P0-35": "erratum",  # misplaced bracket in the lambda ODE
    "P0-36": "verified",
    "P0-37": "verified",
    "P0-38": "verified",
    "P0-39": "verified",
    "P0-40": "erratum",  # (39) lacks the drift phi''(0) S / 2
    "P0-41": "verified",
    "P0-42": "verified",
    "P0-43": "verified",
    "P0-44": "verified",
}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_audit_verdict_and_evidence(cid):
    res, _ = run_one(cid, SEED, "quick")
    assert_evidence(res, EXPECTED[cid])


def test_mc_checks_state_bias_budgets_and_divergence():
    res, _ = run_one("P0-40", SEED, "quick")
    mc = [c for c in res["checks"] if c["kind"] == "monte-carlo"]
    assert mc and all(c["note"] and c["alpha"] for c in mc)
    assert all("diverged fraction" in c["note"] for c in mc)
