"""The P0 Jacobian audits (P0-22 ... P0-26, P0-69, P0-70) end in a definite verdict with the evidence the verdict
rules require.  Quick mode, default seed.

Expected verdicts are the outcome of the derivations in ``derivations/matrix_ito.py`` (not of the page): (31), the
proof's instantaneous mean, the chain rule, the one-step Jacobian and the stochastic-exponential argument hold;
(32) holds only when its bracket is Protter's matrix-product covariation [Y, Y] -- with the paper's (Table 1)
entrywise quadratic variation it is wrong (erratum of notation); P0-25 is verified for the reading of Remark 8
(phi''(0) = 0 and psi = id), the printed sentence being garbled.
"""
from __future__ import annotations

import re

import pytest

from claim_evidence import assert_evidence
from verify.runner import run_one
from verify.verdicts import WIDE_MARGIN

SEED = 20261123
EXPECTED = {"P0-22": "verified", "P0-23": "verified", "P0-24": "verified", "P0-25": "verified",
            "P0-26": "erratum", "P0-69": "verified", "P0-70": "verified"}


@pytest.fixture(scope="module")
def results():
    return {cid: run_one(cid, SEED, "quick")[0] for cid in EXPECTED}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_verdict(results, cid):
    r = results[cid]
    assert_evidence(r, EXPECTED[cid])
    assert r["seconds"] < 20


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_derived_checks_pass_and_go_beyond_symbolic(results, cid):
    checks = results[cid]["checks"]
    derived = [c for c in checks if c["target"] in ("derived", "both")]
    assert derived and all(c["passed"] for c in derived), [c["name"] for c in derived if not c["passed"]]
    assert any(c["kind"] != "symbolic" for c in derived)


@pytest.mark.parametrize("cid", ["P0-24", "P0-26", "P0-70"])
def test_pathwise_strong_error_falls_like_L_to_minus_half(results, cid):
    """Euler schemes of the derived SDEs driven by the network's own dW: relative RMS error slope -1/2 +- 0.15."""
    rates = [c for c in results[cid]["checks"] if c["kind"] == "rate" and c["target"] in ("derived", "both")
             and ("pathwise" in c["name"] or "Euler" in c["name"])]
    assert rates
    for c in rates:
        assert abs(c["estimate"] + 0.5) <= 0.15, (c["name"], c["estimate"])


def test_reading_a_of_32_is_rejected_widely_and_reading_b_passes(results):
    """Two-way evidence for P0-26: the same statistics pass under reading (b) and reject reading (a) by >= 10 SE."""
    checks = results["P0-26"]["checks"]
    rejected = [c for c in checks if c["target"] == "printed" and not c["passed"] and (c["margin"] or 0) >= WIDE_MARGIN]
    assert rejected
    for c in rejected:
        twin = c["name"].replace("reading (a)", "reading (b)")
        assert any(d["name"] == twin and d["target"] == "derived" and d["passed"] for d in checks), twin
    r = results["P0-26"]
    assert r["severity"] == "notation" and r["corrected"] and r["condition"] and r["difference"]


def test_p0_24_control_without_phi2_term_does_not_converge(results):
    """The pathwise test has power: the Euler scheme without the phi''(0) bracket keeps an error several times the
    correct scheme's at the largest depth (recorded in the note)."""
    c = next(c for c in results["P0-24"]["checks"] if c["name"].startswith("pathwise Euler of (31)"))
    main, control = c["note"].split("control without the phi''(0) term: ")
    num = re.compile(r"\d\.\d+e[-+]\d+")
    rms, ctrl = [float(v) for v in num.findall(main)], [float(v) for v in num.findall(control)][:3]
    assert len(rms) == 3 and len(ctrl) == 3
    assert ctrl[-1] > 3 * rms[-1]
