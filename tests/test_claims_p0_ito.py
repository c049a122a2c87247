"""The P0 Ito-calculus audits (P0-27, P0-29 ... P0-34) end in a definite verdict, with the evidence the verdict
rules require.

Expected verdicts are the outcome of the derivations in ``verify/claims/p0_ito.py`` (not of the page):
Prop. 17's second formula misses phi'(0)^2 on its Ito-correction terms (P0-30), Lemma 21's d lambda drift has
sigma~_xx for sigma~_xx^2 (P0-33), and [lambda]_T misses the cross term of the correlated B^(i), B^(j) (P0-34).
The remaining claims are verified.  Runs in quick mode with the default seed.
"""
from __future__ import annotations

import pytest
import sympy as sp

from derivations.ito import lemma21_representation, resnet_iid_system
from claim_evidence import assert_evidence
from verify.runner import run_one
from verify.verdicts import WIDE_MARGIN

SEED = 20261123
EXPECTED = {"P0-27": "verified", "P0-29": "verified", "P0-30": "erratum", "P0-31": "verified",
            "P0-32": "verified", "P0-33": "erratum", "P0-34": "erratum"}


@pytest.fixture(scope="module")
def results():
    return {cid: run_one(cid, SEED, "quick")[0] for cid in EXPECTED}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_verdict_is_definite(results, cid):
    r = results[cid]
    assert r["verdict"] in ("verified", "erratum"), (r["verdict"], r["reason"])
    assert_evidence(r, EXPECTED[cid])
    assert r["seconds"] < 20


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_evidence_beyond_the_symbolic_identity(results, cid):
    """Every verdict rests on numeric checks too: a rate check (slope 1 in dt) and a dt = 1e-4 check of each
    derived limit, all passing."""
    checks = results[cid]["checks"]
    derived = [c for c in checks if c["target"] in ("derived", "both")]
    assert all(c["passed"] for c in derived), [c["name"] for c in derived if not c["passed"]]
    kinds = {c["kind"] for c in derived}
    assert {"symbolic", "rate", "quadrature"} <= kinds
    for c in derived:
        if c["kind"] == "rate":
            assert abs(c["estimate"] - 1.0) <= c["tolerance"]


@pytest.mark.parametrize("cid", sorted(c for c, v in EXPECTED.items() if v == "erratum"))
def test_errata_carry_correction_condition_and_two_way_evidence(results, cid):
    r = results[cid]
    assert r["corrected"] and r["condition"] and r["difference"]
    assert r["severity"] in ("mathematical", "notation")
    printed = [c for c in r["checks"] if c["target"] == "printed"]
    rejected = [c for c in printed if not c["passed"] and (c["margin"] or 0) >= WIDE_MARGIN]
    assert rejected, "the printed form must be rejected by a wide margin"
    # the same statistic passes for the derived form (two-way evidence)
    names = {c["name"].replace("(printed)", "(derived)") for c in rejected}
    derived_names = {c["name"] for c in r["checks"] if c["target"] == "derived" and c["passed"]}
    assert names & derived_names


def test_monte_carlo_checks_state_alpha_and_bias(results):
    mc = [c for cid in ("P0-33", "P0-34") for c in results[cid]["checks"] if c["kind"] == "monte-carlo"]
    assert mc
    for c in mc:
        assert c["alpha"] == pytest.approx(1e-4) and c["bias"] >= 0 and c["se"] > 0 and c["note"]


# ----------------------------------------------------------------------------------------------------------
# Engine pieces behind the audits
# ----------------------------------------------------------------------------------------------------------
def test_model_sde_from_the_one_step_expansion():
    """Drift of x_d = 1/2 phi''(0) x (QV rate of the pre-activation); loadings phi'(0) x pre-activation loadings;
    units are conditionally uncorrelated (P0 (20), L287, re-derived)."""
    M = resnet_iid_system(2, 2)
    p1, p2, sw, sb = M.params.symbols
    pre_qv = M.system.noise_covariation(M.preact[0][1], M.preact[0][1])
    assert sp.simplify(M.system.drift_of(M.x[0][1]) - p2 * pre_qv / 2) == 0
    assert sp.simplify(pre_qv - (sb**2 + sw**2 * M.q(0))) == 0
    assert M.system.loadings_of(M.x[0][0])[M.BW[0][1]] == p1 * sw / sp.sqrt(2) * M.x[0][1]
    assert M.system.state_covariation(M.x[0][0], M.x[1][1]) == 0


def test_ito_on_lemma21_representation_gives_the_lambda_cross_term():
    """d[lambda]/dt on the representation contains 2 phi'(0)^2 S_ij lambda / D from d[B^(i)_d, B^(j)_d]."""
    M = resnet_iid_system(3, 2)
    R = lemma21_representation(M)
    p1, _, sw, sb = M.params.symbols
    q1, q2, lam = M.q(0), M.q(1), M.lam(0, 1)
    want = p1**2 * ((sb**2 + sw**2 * q1) * q2 + (sb**2 + sw**2 * q2) * q1 + 2 * (sb**2 + sw**2 * lam) * lam) / 3
    assert sp.simplify(R.system.quadratic_variation(lam) - want) == 0
    assert sp.simplify(M.system.quadratic_variation(lam) - want) == 0
