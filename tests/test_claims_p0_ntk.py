"""Audits P0-45 ... P0-58, P0-64, P0-74 (NTK of the doubly infinite ResNet, P0 Sec. 5.4-5.5, Fig. 3) in quick
mode with a fixed seed, and the derivations they rest on (derivations/ntk.py).

Errata need every derived-form check passing and a printed-form numeric check rejected by >= 10 SE; verified
claims need a numeric check beyond the symbolic identity, all passing.
"""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from derivations import ntk as N
from derivations.compare import compare
from derivations.odes import T, cslope, dt, lam0, phi1, sigma_b, sigma_w
from claim_evidence import assert_evidence
from verify.runner import run_one

SEED = 20261123
EXPECTED = {
    "P0-45": "verified", "P0-46": "verified", "P0-47": "verified", "P0-48": "verified", "P0-49": "verified",
    "P0-50": "erratum",  # d[U] is 2 kappa/D (U_aa U_bb + U_ab^2), not (kappa/D)(g^T.g^T)(g.g)
    "P0-51": "verified",  # entrywise only; the spectrum of U keeps a spread
    "P0-52": "erratum",  # item (i): (e^C - 1)/kappa, not (1 - e^C)/kappa
    "P0-53": "erratum",  # item (ii): e^C, not e^C/kappa
    "P0-54": "verified", "P0-55": "verified", "P0-56": "verified", "P0-57": "verified", "P0-58": "verified",
    "P0-64": "verified", "P0-74": "verified",
}


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_audit_verdict_and_evidence(cid):
    res, _ = run_one(cid, SEED, "quick")
    assert_evidence(res, EXPECTED[cid])


# ------------------------------------------------------------------------------------------ derivations
def test_jacobian_sde_has_no_drift_when_phi2_vanishes():
    """The drift of g is phi''(0) sigma_w^2/D sum_j x_j g_jb (from the one-step Jacobian): 0 under iii)."""
    J = N.jacobian_sde(2)
    assert J.drift_general.subs(N.phi2, 0) == sp.zeros(2, 2)
    assert sp.simplify(J.drift_general[0, 0] - N.phi2 * sigma_w**2 / 2 * (J.x[0] * J.g[0, 0] + J.x[1] * J.g[1, 0])) == 0


def test_U_sde_matches_print_and_qv_does_not():
    der, pr = N.U_differential(2), N.printed_U_differential(2)
    assert compare(der["drift"], pr["drift"]).equal
    qv = N.U_quadratic_variation(2)
    assert compare(qv["derived"], qv["closed"]).equal
    at_I = {s: (1 if s.name[-2] == s.name[-1] else 0) for s in qv["g"]}
    assert qv["derived"].subs(at_I) == sp.Matrix([[4, 2], [2, 4]]) * N.kappa / 2
    assert qv["printed"].subs(at_I) == sp.eye(2) * N.kappa / 2


def test_inverse_drift_and_items():
    """E U_t^{-1} = e^{kappa(1+2/D)t} I: coefficient 2 at D = 2 identically; items (i), (ii) and the sandwich."""
    r = N.U_inverse_drift(2)
    assert r["coefficient"] == 2 and r["identical"]
    it, pr = N.item_limits(), N.printed_items()
    E = sp.exp(N.kappa * T)
    assert sp.simplify(it["item_i"] - (E - 1) / N.kappa) == 0
    assert sp.simplify(pr["item_i"] + it["item_i"]) == 0  # the printed value is the negative of the derived one
    assert sp.simplify(it["item_ii"] - E) == 0
    assert compare(it["sandwich"], pr["sandwich"]).equal
    assert not compare(it["product_of_items"], it["sandwich"]).equal  # the text's product route fails


def test_kernel_limits_match_print_and_riemann_sums():
    kl, pk, fk = N.kernel_limits(), N.printed_kernels(), N.finite_kernel_expectations()
    for key in ("K_b", "K_W", "K", "GP"):
        assert compare(kl[key], pk[key]).equal, key
    for key in ("K_b", "K_W"):
        assert compare(fk["limits"][key].subs(cslope, phi1), kl[key]).equal, key


def test_completed_network_ntk_lines_agree():
    der, pr = N.completed_ntk(), N.printed_completed_ntk()
    assert compare(der["total"], pr["line1"]).equal and compare(pr["line1"], pr["line2"]).equal


@settings(derandomize=True, deadline=None, max_examples=10)
@given(c=st.floats(0.2, 1.5), sw=st.floats(0.2, 2.0), sb=st.floats(0.0, 1.5), l0=st.floats(-2, 4),
       Tv=st.floats(0.1, 2.0))
def test_exact_finite_expectations_converge_to_limits(c, sw, sb, l0, Tv):
    """Lambdified: |E K(L) - K(oo)| shrinks ~ 1/L (ratio of the gaps at L and 2L within [1.6, 2.4] at L = 4000)."""
    fk, kl = N.finite_kernel_expectations(), N.kernel_limits()
    for key in ("K_b", "K_W"):
        f = sp.lambdify((cslope, sigma_w, sigma_b, lam0, T, dt, N.Lsym), fk[key])
        g = sp.lambdify((phi1, sigma_w, sigma_b, lam0, T), kl[key])
        lim = g(c, sw, sb, l0, Tv)
        gaps = [abs(f(c, sw, sb, l0, Tv, Tv / L, L) - lim) for L in (4000, 8000)]
        if gaps[0] > 1e-9 * max(1.0, abs(lim)):
            assert 1.6 <= gaps[0] / gaps[1] <= 2.4


def test_figure3_written_atomically(tmp_path):
    """P0-74 writes its PDF through ctx.figure_path (atomic replace) and returns the path."""
    from verify.claims.p0_ntk import audit_p0_74
    from verify.context import AuditContext

    ctx = AuditContext("P0-74", seed=SEED, mode="quick", figure_dir=tmp_path)
    f = audit_p0_74(ctx)
    assert f.figures and f.figures[0].endswith("P0-74-ntk.pdf")
    data = open(f.figures[0], "rb").read()
    assert data[:4] == b"%PDF" and not list(tmp_path.glob("*.tmp*"))
