"""Parameter laws (numeric.laws) and finite-network simulators (numeric.resnet) of P0's ResNet (11).

Specification
-------------
Laws (P0 Assumptions 4, 6, 7; row-major vec, L114):
* ``matrix_gaussian``: with the SAME standard normals z, law.sample gives exactly sigma_O unvec(z) sigma_I
  (the identity vec_r(A Z B) = (A kron B^T) vec_r(Z)), and cov_W = Sigma_O kron Sigma_I (to rounding).
* ``preact_cov`` equals the brute-force double sum over Sigma_W entries; a law that randomises only the
  entry eps_{0,1} gives Var(h_0) = psi_1^2 (row-major, not column-major); the iid fast path equals the
  generic factor path.
* ``sample``: MC mean and covariance of (dW, db) match mean dt and Sigma dt within z(1e-4) SE.
* invalid inputs raise ValueError.

Simulators:
* dense (materialised dW) and low-rank (R-GRAM) agree IN LAW on D=6, L=12, N=2, B=20000 each, tanh,
  psi in {identity, tanh}: means and variances of unit 0 of both inputs and the cross-input covariance of
  unit 0, within z(1e-4) * sqrt(SE1^2 + SE2^2) (independent samples; kurtosis-aware SE for variances),
  plus a two-sample KS test on unit 0 of input 2 at alpha = 1e-4.  12 checks: family-wise false-alarm
  probability <= 1.2e-3.  Power: a low-rank sampler with the weight variance scaled by 1.2 is rejected.
* Exact identity-activation moment (phi = linear:a, psi = id, Assumption 7): E q_L matches the exact
  finite-(D, L) recursion within z(1e-4) SE, for both simulators (no bias budget: the recursion is exact).
* Reproducibility (same seed -> identical; thread count irrelevant), identical inputs stay identical,
  callbacks see the increments that drive the update, divergence is flagged and kept NaN, never averaged.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sst

from numeric import stats
from numeric.laws import GaussianLaw, random_law
from numeric.resnet import SimResult, gram_factor, one_step, simulate_dense, simulate_iid_lowrank

Z = stats.z_two_sided(1e-4)


# ================================================================================================ laws
def test_matrix_gaussian_factor_is_rowmajor_kron():
    rng = np.random.default_rng(0)
    D = 3
    sO, sI = rng.normal(size=(D, D)), rng.normal(size=(D, D))  # general, non-symmetric factors
    law = GaussianLaw.matrix_gaussian(np.zeros((D, D)), sO, sI, np.zeros(D), 0.5)
    np.testing.assert_allclose(law.cov_W(), np.kron(sO @ sO.T, sI.T @ sI), rtol=1e-12, atol=1e-12)
    # pathwise: the same z gives eps_W = sigma_O zeta sigma_I with zeta = unvec_rowmajor(z)
    z = rng.normal(size=(5, D * D))
    via_law = (z @ law.factor_W.T).reshape(5, D, D)
    direct = sO @ z.reshape(5, D, D) @ sI
    np.testing.assert_allclose(via_law, direct, rtol=1e-12, atol=1e-12)
    # column-major would be kron(sigma_I^T, sigma_O): genuinely different for these factors
    assert not np.allclose(law.cov_W(), np.kron(sI.T @ sI, sO @ sO.T))


def test_matrix_gaussian_covariance_against_direct_sampling():
    """Empirical Cov(vec_r(sigma_O zeta sigma_I)) from direct draws matches law.cov_W() within z SE."""
    rng = np.random.default_rng(1)
    D, n = 2, 200_000
    sO, sI = rng.normal(size=(D, D)), rng.normal(size=(D, D))
    law = GaussianLaw.matrix_gaussian(np.zeros((D, D)), sO, sI, np.zeros(D), 1.0)
    eps = (sO @ rng.normal(size=(n, D, D)) @ sI).reshape(n, D * D)
    S = law.cov_W()
    for i in range(D * D):
        for j in range(i, D * D):
            p = eps[:, i] * eps[:, j]
            assert abs(p.mean() - S[i, j]) <= Z * p.std(ddof=1) / np.sqrt(n), (i, j)


def test_preact_cov_bruteforce_rowmajor_and_iid_fast_path():
    rng = np.random.default_rng(2)
    D = 3
    law = random_law(rng, D)
    px, py = rng.normal(size=D), rng.normal(size=D)
    S = law.cov_W()
    brute = np.zeros((D, D))
    for d in range(D):
        for e in range(D):
            brute[d, e] = sum(S[d * D + i, e * D + j] * px[i] * py[j] for i in range(D) for j in range(D))
    brute += law.cov_b()
    np.testing.assert_allclose(law.preact_cov(px, py), brute, rtol=1e-12, atol=1e-14)
    # batched over a leading axis
    P = rng.normal(size=(4, D))
    np.testing.assert_allclose(law.preact_cov(P, P)[2], law.preact_cov(P[2], P[2]), rtol=1e-13)
    np.testing.assert_allclose(law.preact_mean(P)[1], law.mean_W @ P[1] + law.mean_b, rtol=1e-13)
    # only eps_{0,1} random: row-major vec index 0*D + 1
    e01 = np.zeros((D * D, 1))
    e01[1, 0] = 1.0
    one = GaussianLaw(np.zeros((D, D)), e01, np.zeros(D), np.zeros((D, 1)))
    psi = np.array([2.0, 3.0, 5.0])
    C = one.preact_cov(psi, psi)
    assert C[0, 0] == pytest.approx(9.0) and np.count_nonzero(C) == 1
    # iid fast path == generic factor path
    iid = GaussianLaw.iid(D, 1.3, 0.7)
    generic = GaussianLaw(iid.mean_W, iid.factor_W, iid.mean_b, iid.factor_b)
    np.testing.assert_allclose(iid.preact_cov(px, py), generic.preact_cov(px, py), rtol=1e-13)
    np.testing.assert_allclose(iid.cov_W(), generic.cov_W(), rtol=1e-13)
    big = GaussianLaw.iid(50, 1.0, 0.5)
    assert big.factor_W is None and big.iid == (1.0, 0.5)
    assert big.preact_cov(np.ones(50), np.ones(50))[0, 0] == pytest.approx(1.0 + 0.25)


@pytest.mark.parametrize("kind", ["random", "iid"])
def test_sample_moments(kind):
    rng = np.random.default_rng(3)
    D, dt, n = 3, 0.05, 100_000
    law = random_law(rng, D) if kind == "random" else GaussianLaw.iid(D, 1.2, 0.4)
    dW, db = law.sample(rng, n, dt)
    assert dW.shape == (n, D, D) and db.shape == (n, D)
    v = np.concatenate([dW.reshape(n, -1), db], axis=1)
    mean = np.concatenate([law.mean_W.ravel(), law.mean_b]) * dt
    cov = np.zeros((D * D + D,) * 2)
    cov[: D * D, : D * D] = law.cov_W() * dt
    cov[D * D:, D * D:] = law.cov_b() * dt
    c = v - mean
    for i in range(v.shape[1]):
        assert abs(v[:, i].mean() - mean[i]) <= Z * v[:, i].std(ddof=1) / np.sqrt(n)
        for j in range(i, v.shape[1]):
            p = c[:, i] * c[:, j]
            assert abs(p.mean() - cov[i, j]) <= Z * p.std(ddof=1) / np.sqrt(n), (i, j)


def test_general_constructor_and_validation():
    rng = np.random.default_rng(4)
    D = 2
    F = rng.normal(size=(D * D, 2))  # rank-2 (singular) 4 x 4 covariance
    SW = F @ F.T
    Sb = np.array([[1.0, 1.0], [1.0, 1.0]])  # singular
    law = GaussianLaw.general(np.eye(D), SW, np.ones(D), Sb)
    np.testing.assert_allclose(law.cov_W(), SW, atol=1e-12)
    np.testing.assert_allclose(law.cov_b(), Sb, atol=1e-12)
    with pytest.raises(ValueError):
        GaussianLaw.general(np.eye(D), -np.eye(D * D), np.ones(D), Sb)  # not PSD
    with pytest.raises(ValueError):
        GaussianLaw.general(np.eye(D), np.eye(3), np.ones(D), Sb)  # wrong shape
    with pytest.raises(ValueError):
        GaussianLaw.general(np.eye(D), SW, np.ones(3), Sb)
    with pytest.raises(ValueError):
        GaussianLaw.iid(3, -1.0, 0.5)
    with pytest.raises(ValueError):
        GaussianLaw.iid(3, 1.0, np.nan)
    with pytest.raises(ValueError):
        GaussianLaw.matrix_gaussian(np.zeros((D, D)), np.eye(D), np.eye(D), np.zeros(D), -1.0)
    with pytest.raises(ValueError):
        GaussianLaw(np.zeros((D, D)), np.full((D * D, 1), np.inf), np.zeros(D), np.eye(D))


# ========================================================================================= simulators
def _two_inputs(D, seed=7):
    r = np.random.default_rng(seed)
    return np.stack([r.normal(size=D), 0.5 * r.normal(size=D) + 0.3])


def _compare(a: np.ndarray, b: np.ndarray, what: str) -> float:
    """Margin |diff| / SE_diff of a sample statistic between two independent samples (B, N, D)."""
    out = []
    for n in range(2):
        for fn in (stats.mean_estimate, stats.variance_estimate):
            ea, eb = fn(a[:, n, 0]), fn(b[:, n, 0])
            out.append(abs(ea.value - eb.value) / np.hypot(ea.se, eb.se))
    ea, eb = stats.covariance_estimate(a[:, 0, 0], a[:, 1, 0]), stats.covariance_estimate(b[:, 0, 0], b[:, 1, 0])
    out.append(abs(ea.value - eb.value) / np.hypot(ea.se, eb.se))
    return max(out)


@pytest.mark.parametrize("psi", ["identity", "tanh"])
def test_dense_and_lowrank_agree_in_law(psi):
    D, L, B, sw, sb = 6, 12, 20_000, 1.5, 0.5
    x0 = _two_inputs(D)
    law = GaussianLaw.iid(D, sw, sb)
    dense = simulate_dense(x0, law, L=L, phi="tanh", psi=psi, B=B, rng=np.random.default_rng(10))
    low = simulate_iid_lowrank(x0, D=D, L=L, sigma_w=sw, sigma_b=sb, phi="tanh", psi=psi, B=B,
                               rng=np.random.default_rng(11))
    assert dense.n_diverged == 0 and low.n_diverged == 0
    margin = _compare(dense.x, low.x, psi)
    assert margin <= Z, f"moments differ by {margin:.2f} SE_diff"
    p = sst.ks_2samp(dense.x[:, 1, 0], low.x[:, 1, 0]).pvalue
    assert p >= 1e-4, f"KS p-value {p:.2e}"
    # power: a wrong low-rank sampler (weight variance x 1.2) is rejected by the same statistics
    wrong = simulate_iid_lowrank(x0, D=D, L=L, sigma_w=sw * np.sqrt(1.2), sigma_b=sb, phi="tanh", psi=psi,
                                 B=B, rng=np.random.default_rng(12))
    assert _compare(dense.x, wrong.x, psi) > Z, "the comparison has no power against a 20% variance error"


def _exact_mean_q(q0, a, sw, sb, T, L):
    """E q_L by iterating E q_{l+1} = (1 + a^2 sw^2 dt) E q_l + a^2 sb^2 dt (see the test docstring)."""
    dt, q = T / L, q0
    for _ in range(L):
        q = (1 + a * a * sw * sw * dt) * q + a * a * sb * sb * dt
    return q


@pytest.mark.parametrize("sim", ["lowrank", "dense"])
def test_identity_activation_exact_second_moment(sim):
    """Exact finite-(D, L) recursion for q = |x|^2 / D with phi(u) = a u, psi = id, Assumption 7.

    x' = x + a (dW x + db) with dW_{ij} ~ N(0, sw^2 dt / D), db_i ~ N(0, sb^2 dt), independent of x, so
    E[|x'|^2 | x] = |x|^2 + 2a E[x.(dW x + db) | x] + a^2 E[|dW x + db|^2 | x]
                  = |x|^2 + 0 + a^2 (D (sw^2 dt / D) |x|^2 + D sb^2 dt);
    dividing by D and taking expectations: E q_{l+1} = (1 + a^2 sw^2 dt) E q_l + a^2 sb^2 dt, exact at any D, L.
    """
    a, sw, sb, T = 0.7, 1.3, 0.6, 1.0
    if sim == "lowrank":
        D, L, B = 20, 30, 20_000
    else:
        D, L, B = 8, 10, 20_000
    x0 = _two_inputs(D, seed=3)
    kw = dict(L=L, T=T, phi="linear:0.7", psi="identity", B=B, rng=np.random.default_rng(20))
    if sim == "lowrank":
        res = simulate_iid_lowrank(x0, D=D, sigma_w=sw, sigma_b=sb, **kw)
    else:
        res = simulate_dense(x0, GaussianLaw.iid(D, sw, sb), **kw)
    for n in range(2):
        q = (res.x[:, n] ** 2).mean(axis=1)
        est = stats.mean_estimate(q)
        pred = _exact_mean_q((x0[n] ** 2).mean(), a, sw, sb, T, L)
        assert abs(est.value - pred) <= Z * est.se, f"input {n}: {est.value} vs {pred} ({est.se})"


def test_reproducible_and_thread_independent():
    x0 = _two_inputs(10)
    kw = dict(D=10, L=8, sigma_w=1.0, sigma_b=0.3, phi="swish", psi="tanh", B=1000, chunk=100)
    a = simulate_iid_lowrank(x0, rng=np.random.default_rng(5), workers=1, **kw)
    b = simulate_iid_lowrank(x0, rng=np.random.default_rng(5), workers=2, **kw)
    c = simulate_iid_lowrank(x0, rng=np.random.default_rng(6), **kw)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    law = random_law(np.random.default_rng(0), 4)
    d1 = simulate_dense(x0[:, :4], law, L=5, phi="sin", psi="tanh", B=50, rng=np.random.default_rng(1), chunk=20)
    d2 = simulate_dense(x0[:, :4], law, L=5, phi="sin", psi="tanh", B=50, rng=np.random.default_rng(1), chunk=20)
    np.testing.assert_array_equal(d1.x, d2.x)


@pytest.mark.parametrize("N", [1, 2, 3])
def test_lowrank_shapes_identical_inputs_and_per_network_x0(N):
    D, B = 7, 64
    x = np.random.default_rng(0).normal(size=D)
    x0 = np.repeat(x[None], N, axis=0)  # identical inputs: rank-1 Gram matrix
    res = simulate_iid_lowrank(x0, D=D, L=9, sigma_w=1.0, sigma_b=0.5, phi="tanh", psi="tanh", B=B,
                               rng=np.random.default_rng(1))
    assert isinstance(res, SimResult) and res.x.shape == (B, N, D) and res.layers_run == 9
    for n in range(1, N):
        np.testing.assert_allclose(res.x[:, n], res.x[:, 0], atol=1e-13)  # same dW, db -> same path
    per = np.random.default_rng(2).normal(size=(B, N, D))
    res = simulate_iid_lowrank(per, D=D, L=3, sigma_w=1.0, sigma_b=0.5, phi="tanh", psi="identity", B=B,
                               rng=np.random.default_rng(1), record=lambda x: (x**2).mean(-1))
    assert res.records.shape == (4, B, N)
    np.testing.assert_allclose(res.records[0], (per**2).mean(-1))
    np.testing.assert_allclose(res.records[-1], (res.x**2).mean(-1))
    with pytest.raises(ValueError):
        simulate_iid_lowrank(per[:3], D=D, L=3, sigma_w=1.0, sigma_b=0.5, phi="tanh", psi="tanh", B=B,
                             rng=np.random.default_rng(1))


def test_dense_callback_sees_the_driving_increments():
    D, L, B = 4, 6, 30
    law = random_law(np.random.default_rng(0), D)
    x0 = _two_inputs(D)
    seen = []

    def cb(l, x, dW, db):
        seen.append((l, x.copy(), dW.copy(), db.copy()))

    res = simulate_dense(x0, law, L=L, phi="swish", psi="tanh", B=B, rng=np.random.default_rng(3), callback=cb)
    assert [s[0] for s in seen] == list(range(L))
    for (l, x, dW, db), nxt in zip(seen, seen[1:] + [(L, res.x, None, None)]):
        np.testing.assert_allclose(one_step(x, dW, db, "swish", "tanh"), nxt[1], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(seen[0][1], np.broadcast_to(x0, (B, 2, D)))


@pytest.mark.parametrize("sim", ["lowrank", "dense"])
def test_divergence_is_flagged_and_kept_nan(sim):
    """phi = poly (cubic, negative leading term) with large weights: some networks blow up, others not."""
    D, L, B = 5, 40, 400
    x0 = _two_inputs(D)
    kw = dict(L=L, phi="poly", psi="identity", B=B, rng=np.random.default_rng(9), record=lambda x: np.abs(x).max((1, 2)))
    if sim == "lowrank":
        res = simulate_iid_lowrank(x0, D=D, sigma_w=1.8, sigma_b=0.5, **kw)
    else:
        res = simulate_dense(x0, GaussianLaw.iid(D, 1.8, 0.5), **kw)
    assert 0 < res.n_diverged < B, res.n_diverged
    assert np.all(np.isnan(res.x[res.diverged]))
    assert np.all(np.isfinite(res.x[res.ok])) and np.all(np.abs(res.x[res.ok]) <= 1e8)
    # once NaN, stays NaN (never resumes); the records of healthy networks are finite
    rec = res.records[:, res.diverged]
    first = np.argmax(np.isnan(rec), axis=0)
    for j, f in enumerate(first):
        assert np.all(np.isnan(rec[f:, j]))
    assert np.all(np.isfinite(res.records[:, res.ok]))
    # downstream statistics drop (and count) them instead of averaging NaN
    est = stats.mean_estimate(res.x[:, 0, 0])
    assert np.isfinite(est.value) and est.n_dropped == res.n_diverged


@pytest.mark.parametrize("N", [1, 2, 3])
def test_gram_factor_reproduces_psd_matrices_including_singular(N):
    rng = np.random.default_rng(N)
    P = rng.normal(size=(5, N, 4))
    P[0, -1] = P[0, 0]  # repeated input: singular Gram matrix
    G = np.einsum("cnd,cmd->cnm", P, P)
    A = gram_factor(G)
    np.testing.assert_allclose(A @ np.swapaxes(A, 1, 2), G, atol=1e-12)
