"""Specification of the NTK engines (numeric/ntk.py, numeric/jacobian_products.py; P0 Sec. 5.4, L565-583).

* R-BP (``backprop_ntk``) is the gradient inner product: checked against central finite differences of y(eps).
* The dense sampler is R-BP on its own draws (replayed bit for bit).
* The exact low-rank sampler and dense backprop AGREE IN LAW on a small network (D = 6, L = 12, N = 2): for each
  statistic, |mean difference| <= z(1e-4) SE and a two-sample KS test at alpha = 1e-4.  Power: two deliberately
  wrong low-rank samplers (no projection (I - QQ^T); backward weights drawn afresh) are rejected by the same tests.
* Both samplers reproduce the exact finite-(D, L) expectations of the linear network (derived in
  derivations/ntk.py), with no bias budget.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as sst

from numeric.jacobian_products import jacobian_run
from numeric.ntk import backprop_ntk, ntk_samples
from numeric.stats import z_two_sided

Z = z_two_sided(1e-4)
D6, L12 = 6, 12
X0 = np.array([np.linspace(-1.0, 1.5, D6), np.linspace(0.5, -0.8, D6)])
SW, SB = 1.3, 0.7


def _fd_ntk(x0, dWs, dbs, phi_f, sw, sb, dt, h=1e-5):
    D = x0.shape[1]
    sW, sB = sw * np.sqrt(dt / D), sb * np.sqrt(dt)

    def y(eW, eb):
        x = x0.copy()
        for l in range(len(eW)):
            x = x + phi_f(x @ (sW * eW[l]).T + sB * eb[l])
        return x[:, 0]

    eW = [w / sW for w in dWs]
    eb = [b / sB for b in dbs]
    gW, gb = [], []
    for arrs, out in ((eW, gW), (eb, gb)):
        for l in range(len(arrs)):
            for idx in np.ndindex(arrs[l].shape):
                p = [a.copy() for a in arrs]
                m = [a.copy() for a in arrs]
                p[l][idx] += h
                m[l][idx] -= h
                yp = y(p, eb) if arrs is eW else y(eW, p)
                ym = y(m, eb) if arrs is eW else y(eW, m)
                out.append((yp - ym) / (2 * h))
    return sum(np.outer(g, g) for g in gW), sum(np.outer(g, g) for g in gb)


@settings(derandomize=True, deadline=None, max_examples=6)
@given(seed=st.integers(0, 10_000), phi=st.sampled_from(["tanh", "swish", "sin"]))
def test_backprop_equals_finite_differences(seed, phi):
    """R-BP (P0 L567-583 with the chain rule) = <grad_eps y^i, grad_eps y^j> by central differences.
    Tolerance 1e-7 relative: FD truncation h^2 |y'''| ~ 1e-10, rounding eps/h ~ 1e-11."""
    from numeric.activations import get_activation

    rng = np.random.default_rng(seed)
    D, L, T = 3, 4, 1.0
    dt = T / L
    x0 = rng.normal(size=(2, D))
    dWs = rng.normal(size=(L, D, D)) * SW * np.sqrt(dt / D)
    dbs = rng.normal(size=(L, D)) * SB * np.sqrt(dt)
    r = backprop_ntk(x0, dWs, dbs, dt=dt, sigma_w=SW, sigma_b=SB, phi=phi)
    KW, Kb = _fd_ntk(x0, list(dWs), list(dbs), get_activation(phi).f, SW, SB, dt)
    scale = max(1.0, np.abs(KW).max())
    assert np.abs(r["K_W"] - KW).max() < 1e-7 * scale
    assert np.abs(r["K_b"] - Kb).max() < 1e-7 * scale


def test_dense_sampler_is_backprop_on_its_own_draws():
    """The dense sampler's K equals R-BP applied to the same increments (replayed from its per-layer seeds),
    both with stored and with regenerated weights (max_bytes forces the replay path)."""
    L, seed = 5, 11
    for max_bytes in (1e9, 1.0):
        r = ntk_samples(X0, D=D6, L=L, sigma_w=SW, sigma_b=SB, phi="tanh", B=1, rng=np.random.default_rng(seed),
                        method="dense", chunk=1, max_bytes=max_bytes)
        child = np.random.default_rng(seed).spawn(1)[0]
        seeds = child.bit_generator.seed_seq.spawn(L)
        dWs, dbs = [], []
        for s in seeds:
            g = np.random.default_rng(s)
            dWs.append(g.standard_normal((1, D6, D6))[0] * SW * np.sqrt(1 / L / D6))
            dbs.append(g.standard_normal((1, 1, D6))[0, 0] * SB * np.sqrt(1 / L))
        ref = backprop_ntk(X0, dWs, dbs, dt=1 / L, sigma_w=SW, sigma_b=SB, phi="tanh")
        for k in ("K_W", "K_b", "x_T", "delta_0"):
            np.testing.assert_allclose(r[k][0], ref[k], rtol=1e-12, atol=1e-14)


@pytest.fixture(scope="module")
def law_samples():
    """n draws per method on D = 6, L = 12, two inputs (tanh and phi = 0.8x), independent seeds."""
    n = 16_000
    out = {}
    for phi in ("tanh", "linear:0.8"):
        for method, seed in (("lowrank", 101), ("dense", 202)):
            out[(phi, method)] = ntk_samples(X0, D=D6, L=L12, sigma_w=SW, sigma_b=SB, phi=phi, B=n,
                                             rng=np.random.default_rng(seed), method=method)
        for wrong, seed in (("no-projection", 303), ("fresh-backward", 404)):
            out[(phi, wrong)] = ntk_samples(X0, D=D6, L=L12, sigma_w=SW, sigma_b=SB, phi=phi, B=n,
                                            rng=np.random.default_rng(seed), _wrong=wrong)
    return out


def _statistics(r):
    return {"K_W11": r["K_W"][:, 0, 0], "K_W12": r["K_W"][:, 0, 1], "K_W22": r["K_W"][:, 1, 1],
            "K_b11": r["K_b"][:, 0, 0], "K_b12": r["K_b"][:, 0, 1], "delta0_11": r["delta_0"][:, 0, 0],
            "delta0_22": r["delta_0"][:, 1, 1], "xT_11": r["x_T"][:, 0, 0]}


def _mean_z(a, b):
    return (a.mean() - b.mean()) / np.hypot(a.std(ddof=1) / np.sqrt(a.size), b.std(ddof=1) / np.sqrt(b.size))


@pytest.mark.parametrize("phi", ["tanh", "linear:0.8"])
def test_lowrank_and_dense_agree_in_law(law_samples, phi):
    """Exactness of the low-rank sampler: every statistic passes |z| <= z(1e-4) and KS p >= 1e-4."""
    lo, de = _statistics(law_samples[(phi, "lowrank")]), _statistics(law_samples[(phi, "dense")])
    for k in lo:
        assert abs(_mean_z(lo[k], de[k])) <= Z, k
        assert sst.ks_2samp(lo[k], de[k]).pvalue >= 1e-4, k


@pytest.mark.parametrize("wrong", ["no-projection", "fresh-backward"])
def test_wrong_samplers_are_rejected(law_samples, wrong):
    """Power: a sampler that forgets the projection or the forward-backward coupling is rejected by the same
    tests (tanh, where the coupling through phi'(h) matters), by a wide margin."""
    bad, de = _statistics(law_samples[("tanh", wrong)]), _statistics(law_samples[("tanh", "dense")])
    zs = [abs(_mean_z(bad[k], de[k])) for k in ("K_W11", "K_W12", "K_b11", "K_b12")]
    ps = [sst.ks_2samp(bad[k], de[k]).pvalue for k in ("K_W11", "K_W12", "K_b11", "K_b12")]
    assert max(zs) > 2 * Z and min(ps) < 1e-6


def test_forward_statistics_unchanged_by_wrong_backward(law_samples):
    """Control for the power test: the wrong samplers differ only in the backward pass (x_T passes)."""
    bad, de = _statistics(law_samples[("tanh", "no-projection")]), _statistics(law_samples[("tanh", "dense")])
    assert abs(_mean_z(bad["xT_11"], de["xT_11"])) <= Z


def _exact_linear(c, sw, sb, L, lam0, T=1.0):
    """Exact E K_b, E K_W (phi = c x): formulas of derivations.ntk.finite_kernel_expectations (evaluated there)."""
    import sympy as sp

    from derivations import ntk as N
    from derivations.odes import cslope, dt, lam0 as l0, sigma_b, sigma_w

    fk = N.finite_kernel_expectations()
    vals = {cslope: c, sigma_w: sw, sigma_b: sb, dt: T / L, N.Lsym: L, l0: lam0}
    return float(sp.N(fk["K_b"].subs(vals))), float(sp.N(fk["K_W"].subs(vals)))


@pytest.mark.parametrize("method", ["lowrank", "dense"])
def test_samplers_match_exact_linear_expectations(law_samples, method):
    """Both samplers reproduce the exact finite-(D, L) E K_b^(1,2), E K_W^(1,2) for phi = 0.8x (no bias)."""
    r = law_samples[("linear:0.8", method)]
    Kb, KW = _exact_linear(0.8, SW, SB, L12, float(X0[0] @ X0[1]) / D6)
    for est, pred in ((r["K_b"][:, 0, 1], Kb), (r["K_W"][:, 0, 1], KW)):
        assert abs(est.mean() - pred) <= Z * est.std(ddof=1) / np.sqrt(est.size)


def test_identical_and_zero_inputs_are_handled():
    """Rank-deficient Gram matrices: identical inputs give identical NTK rows; a zero input gives finite K."""
    x = np.array([np.linspace(0.2, 1.0, 5)] * 2)
    r = ntk_samples(x, D=5, L=6, sigma_w=1.0, sigma_b=1.0, phi="tanh", B=50, rng=np.random.default_rng(1))
    np.testing.assert_allclose(r["K_W"][:, 0, 0], r["K_W"][:, 0, 1], rtol=1e-12)
    np.testing.assert_allclose(r["K_b"][:, 0, 0], r["K_b"][:, 1, 1], rtol=1e-10)
    r0 = ntk_samples(np.array([np.zeros(5), np.ones(5)]), D=5, L=6, sigma_w=1.0, sigma_b=1.0, phi="tanh", B=50,
                     rng=np.random.default_rng(2))
    assert not r0["diverged"].any() and np.isfinite(r0["K_W"]).all()


def test_three_inputs_and_psi_and_readout():
    """N = 3 (Householder QR branch), a non-identity psi and a readout vector run and give PSD kernels."""
    x = np.random.default_rng(0).normal(size=(3, 7))
    v = np.random.default_rng(1).normal(size=7)
    r = ntk_samples(x, D=7, L=5, sigma_w=1.2, sigma_b=0.5, phi="swish", psi="tanh", B=40,
                    rng=np.random.default_rng(3), readout=v)
    for K in (r["K_W"], r["K_b"]):
        assert np.linalg.eigvalsh(K).min() > -1e-12


def test_results_do_not_depend_on_threads():
    """chunk fixes the random streams; the number of worker threads does not change the numbers."""
    kw = dict(D=8, L=6, sigma_w=1.0, sigma_b=1.0, phi="tanh", B=24, chunk=5)
    a = ntk_samples(X0[:, :1].repeat(8, 1), rng=np.random.default_rng(9), workers=1, **kw)
    b = ntk_samples(X0[:, :1].repeat(8, 1), rng=np.random.default_rng(9), workers=2, **kw)
    np.testing.assert_array_equal(a["K_W"], b["K_W"])


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ntk_samples(X0, D=D6, L=3, sigma_w=1, sigma_b=1, phi="tanh", B=2, rng=np.random.default_rng(0), method="x")
    with pytest.raises(ValueError):
        ntk_samples(X0, D=D6 + 1, L=3, sigma_w=1, sigma_b=1, phi="tanh", B=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        ntk_samples(X0, D=D6, L=0, sigma_w=1, sigma_b=1, phi="tanh", B=2, rng=np.random.default_rng(0))


def test_jacobian_run_linear_exact_moments():
    """R-JAC (phi = 0.8x): E mean diag U_T = (1 + kappa dt)^L and the backprop K_b of the same networks has the
    exact expectation; the printed Riemann sum has expectation rho x E[backprop] (all exact, no bias)."""
    D, L, B, c, sw, sb = 12, 12, 400, 0.8, 1.1, 0.9
    x0 = np.array([np.ones(D), 2 * np.ones(D)])
    r = jacobian_run(x0, D=D, L=L, sigma_w=sw, sigma_b=sb, phi="linear:0.8", B=B, rng=np.random.default_rng(5),
                     backprop=True)
    rho = 1 + c * c * sw * sw / L
    Kb, _ = _exact_linear(c, sw, sb, L, 2.0)
    for est, pred in ((r["U_diag"], rho**L), (r["Kb_bp"][:, 0, 1], Kb), (r["Kb_int"], rho * Kb)):
        assert abs(est.mean() - pred) <= Z * est.std(ddof=1) / np.sqrt(B)
