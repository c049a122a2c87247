"""Specification of the P0 figure machinery: the low-rank Euler/coupled simulator, the EOC feed-forward nets,
the two-sample tests and limit computations used by P0-73 / P0-75, and the two audits in quick mode.

Monte Carlo tolerances are 5 SE (false alarm ~6e-7 per assertion) unless an exact identity is asserted.
"""
from __future__ import annotations

import numpy as np
import pytest

from numeric import stats
from numeric.feedforward import chi1, eoc_point, nngp_correlation, simulate_feedforward, variance_fixed_point
from numeric.quadrature import gauss_expect_2d
from numeric.resnet import simulate_iid_lowrank
from numeric.sde_lowrank import euler_iid_lowrank, euler_update, resnet_update, simulate_coupled_lowrank
from verify.claims import p0_figures as F
from verify.context import AuditContext
from verify.verdicts import decide


def _x0(z, D):
    return np.repeat(np.asarray(z, float)[:, None], D, axis=1)


def test_euler_linear_q_is_the_exact_affine_recursion():
    """Euler of (33) with phi'(0) = 0.8, phi''(0) = 0: E q_{l+1} = (1 + 0.64 w dt) E q_l + 0.64 s dt exactly
    (any D); D = 8, L = 10, 20 000 paths, 5 SE."""
    D, L, B, c = 8, 10, 20_000, 0.8
    r = euler_iid_lowrank(_x0([0.5, -1.0], D), D=D, L=L, sigma_w=1.2, sigma_b=0.7, phi1=c, phi2=0.0, B=B,
                          rng=np.random.default_rng(11))
    q = (r.x[:, 1] ** 2).mean(-1)
    a, b = 1 + c * c * 1.44 * 0.1, c * c * 0.49 * 0.1
    exact = a**L * 1.0 + b * (a**L - 1) / (a - 1)
    e = stats.mean_estimate(q)
    assert abs(e.value - exact) <= 5 * e.se


def test_euler_drift_one_step():
    """One Euler step with phi''(0) = 0.5: E x'_d - x_d = 0.25 (s + w q) dt exactly (the Ito drift of (33))."""
    D, B = 5, 200_000
    x0 = np.array([[0.3, -0.2, 1.0, 0.4, 0.0]])
    r = euler_iid_lowrank(x0, D=D, L=1, T=0.1, sigma_w=1.0, sigma_b=1.0, phi1=0.5, phi2=0.5, B=B,
                          rng=np.random.default_rng(2))
    q = float((x0**2).mean())
    e = stats.mean_estimate((r.x[:, 0] - x0[0]).mean(-1))
    assert abs(e.value - 0.25 * (1 + q) * 0.1) <= 5 * e.se


def test_coupled_paths_share_noise_and_match_the_reference_simulator_in_law():
    """Two copies of the same update stay identical (same normals); the coupled ResNet path has the law of
    simulate_iid_lowrank (E q_T of tanh, D = L = 10, 4000 draws each, 5 SE of the difference)."""
    D, L, B = 10, 10, 4000
    x0 = _x0([0.0, 1.0], D)
    res = simulate_coupled_lowrank(x0, D=D, L=L, sigma_w=1.0, sigma_b=1.0,
                                   updates={"a": resnet_update("tanh"), "b": resnet_update("tanh")}, B=B,
                                   rng=np.random.default_rng(5))
    assert np.array_equal(res["a"].x, res["b"].x)
    ref = simulate_iid_lowrank(x0, D=D, L=L, sigma_w=1.0, sigma_b=1.0, phi="tanh", psi="identity", B=B,
                               rng=np.random.default_rng(6))
    e1 = stats.mean_estimate((res["a"].x[:, 1] ** 2).mean(-1))
    e2 = stats.mean_estimate((ref.x[:, 1] ** 2).mean(-1))
    assert abs(e1.value - e2.value) <= 5 * np.hypot(e1.se, e2.se)


def test_euler_update_with_many_inputs_uses_the_gram_factor():
    """N = 3 inputs (QR path): one Euler step of phi = id has Cov(x'_i - x_i, x'_j - x_j) = (s + w lambda_ij) dt."""
    D, B, dt = 6, 100_000, 0.2
    rng = np.random.default_rng(9)
    x0 = rng.normal(size=(3, D))
    r = euler_iid_lowrank(x0, D=D, L=1, T=dt, sigma_w=1.1, sigma_b=0.6, phi1=1.0, phi2=0.0, B=B, rng=rng)
    inc = r.x[:, :, 0] - x0[None, :, 0]
    C = np.cov(inc.T)
    lam = x0 @ x0.T / D
    pred = (0.36 + 1.21 * lam) * dt
    assert np.allclose(C, pred, atol=5 * np.sqrt(2.0 / B) * pred.max())


def test_eoc_points():
    sw2, sb2 = eoc_point("tanh", 0.05)
    assert chi1("tanh", sw2, sb2) == pytest.approx(1.0, abs=1e-10)
    q = variance_fixed_point("tanh", sw2, sb2)
    assert q > 0
    assert eoc_point("relu") == (2.0, 0.0)
    assert chi1("relu", 2.0, 0.0) == 1.0


def test_relu_kernel_closed_form_matches_quadrature():
    """One layer of the ReLU kernel map: arc-cosine closed form vs 2-D Gauss-Hermite (slow for the kink: 1e-3)."""
    z = np.array([-1.5, 0.7])
    sw2 = 2.0
    K1 = sw2 * np.outer(z, z) + 0.3
    cov = np.array([[K1[0, 0], K1[0, 1]], [K1[0, 1], K1[1, 1]]])
    E = gauss_expect_2d(lambda u, v: np.maximum(u, 0) * np.maximum(v, 0), np.zeros(2), cov, n=200)
    K2 = sw2 * E + 0.3
    rho_q = K2[()] / np.sqrt((sw2 * K1[0, 0] / 2 + 0.3) * (sw2 * K1[1, 1] / 2 + 0.3))
    assert nngp_correlation("relu", sw2, 0.3, z, 2)[0, 1] == pytest.approx(rho_q, abs=1e-3)


def test_feedforward_simulation_matches_the_kernel_at_large_width():
    """E_tanh at the EOC, depth 3, width 200, 3000 draws: corr(h(-2), h(2)) vs the kernel recursion, 5 SE + 0.02
    (finite-width bias O(depth/width))."""
    sw2, sb2 = eoc_point("tanh", 0.05)
    z = np.array([-2.0, 2.0])
    Y = simulate_feedforward(z, name="tanh", sw2=sw2, sb2=sb2, D=200, L=3, B=3000, rng=np.random.default_rng(3))
    est = F.correlation_estimate(Y[:, 0], Y[:, 1])
    assert abs(est.value - nngp_correlation("tanh", sw2, sb2, z, 3)[0, 1]) <= 5 * est.se + 0.02


def test_energy_permutation_test_null_and_alternative():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    obs, p, crit = F.energy_statistic_perm(x, y, rng, 999)
    assert p > 0.01 and obs <= crit
    obs, p, crit = F.energy_statistic_perm(x, y + 1.0, rng, 999)
    assert p == pytest.approx(1 / 1000) and obs > crit


def test_gaussian_energy_distance_zero_for_equal_laws_and_positive_otherwise():
    S = np.array([[1.0, 0.4], [0.4, 2.0]])
    assert abs(F.gaussian_energy_distance([0, 1], S, [0, 1], S)) < 1e-6
    assert F.gaussian_energy_distance([0, 1], S, [0.3, 1], S) > 1e-3


def test_ks_critical_value_matches_scipy_asymptotics():
    from scipy.stats import kstwobign

    n = m = 4000
    assert F.ks_critical(n, m, 1e-4) == pytest.approx(kstwobign.isf(1e-4) * np.sqrt(2 / n), rel=1e-3)


def test_identity_mean_field_equals_exact_identity_recursion():
    """At phi = id the D = infinity map and the exact finite-D recursion coincide (E q affine in q)."""
    y = F.mean_field_recursion("identity", 1.0, 1.0, (0.5, 1.5), 1.0, 30)
    assert np.allclose(y[2:], F.identity_exact((0.5, 1.5), 30), rtol=1e-12)


def test_limit_gp_tanh_is_the_printed_formula_and_exactly_linear():
    z = np.linspace(-2, 2, 7)
    m, K = F.limit_gp("tanh", z)
    assert np.allclose(m, z, atol=1e-9)
    assert np.allclose(K, (np.outer(z, z) + 1) * (np.e - 1), rtol=1e-8)
    assert F.limit_nonlinear_fraction(m, K, z) < 1e-12
    Y = np.random.default_rng(1).normal(size=(50, 2)) @ np.vstack([np.ones_like(z), z])
    assert F.nonlinear_fraction(Y, z)[0] < 1e-20


@pytest.mark.parametrize("cid", ["P0-73", "P0-75"])
def test_audits_quick_verified_with_figures(cid, tmp_path):
    from verify import registry

    fn = registry.audit_functions()[cid]
    ctx = AuditContext(claim_id=cid, mode="quick", figure_dir=tmp_path)
    f = fn(ctx)
    verdict, reason = decide(f)
    assert verdict == "verified", reason
    assert f.figures and all(p.endswith(".pdf") and (tmp_path / p.split("/")[-1]).stat().st_size > 1000
                             for p in f.figures)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
