"""Euler-Maruyama harness (P0-1 (ii): the Euler scheme (6), L100, against exact solutions).

Specification
-------------
Geometric Brownian motion dx = a x dt + b x dB, x(0) = x0, has E x_T = x0 e^{aT} and
E x_T^2 = x0^2 e^{(2a + b^2) T}.  Its Euler scheme x_{k+1} = x_k (1 + a dt + b dB_k) has the exact
expectations E x_N = x0 (1 + a dt)^N and E x_N^2 = x0^2 ((1 + a dt)^2 + b^2 dt)^N (independent factors,
E dB = 0, E dB^2 = dt).
* pathwise: with prescribed increments the code reproduces the product x0 prod_k (1 + a dt + b dB_k) (1e-12);
* exact (noise-free): with dB = 0 the code returns E x_N exactly (x_N is multilinear in independent mean-zero
  increments); the weak errors |E x_N - E x_T| and |E x_N^2 - E x_T^2| at steps in {8, 16, 32, 64} have
  log-log slope -1 +- 0.3 against the step count (weak order 1);
* Monte Carlo: the code's sample mean and second moment at 16 steps (2e5 paths) match the exact Euler
  expectations within z(1e-4) SE (no bias: those are the exact targets), and at 4 steps the MC rejects the
  SDE's exact value (the discretisation bias is visible: the test has power);
* 2-D linear SDE with 3 correlated noises: mean and covariance match the exact Euler recursions
  m' = (I + A dt) m, P' = (I + A dt) P (I + A dt)^T + S S^T dt within z SE;
* blow-up: dx = x^2 dt explodes at t = 1/x0: paths with x0 = 2 are flagged (never averaged), x0 = 0.5 not.
"""
from __future__ import annotations

import numpy as np
import pytest

from numeric import stats
from numeric.sde import euler_maruyama

Z = stats.z_two_sided(1e-4)
A_, B_, X0, T = 0.8, 0.6, 1.5, 1.0


def _gbm(x0=X0, **kw):
    return euler_maruyama(np.full((kw.pop("paths", 1), 1), x0), lambda t, x: A_ * x,
                          lambda t, x: (B_ * x)[:, :, None], T=T, **kw)


def test_pathwise_product_formula():
    steps, paths = 20, 50
    dB = np.random.default_rng(0).normal(scale=np.sqrt(T / steps), size=(steps, paths, 1))
    res = _gbm(steps=steps, paths=paths, dB=dB)
    want = X0 * np.prod(1 + A_ * T / steps + B_ * dB[:, :, 0], axis=0)
    np.testing.assert_allclose(res.x[:, 0], want, rtol=1e-12)
    assert res.n_diverged == 0


def test_weak_order_one_exact():
    steps = np.array([8, 16, 32, 64])
    e1, e2 = [], []
    for n in steps:
        dt = T / n
        mean = _gbm(steps=int(n), dB=np.zeros((n, 1, 1))).x[0, 0]  # the code, noise-free
        assert mean == pytest.approx(X0 * (1 + A_ * dt) ** n, rel=1e-13)
        second = X0**2 * ((1 + A_ * dt) ** 2 + B_**2 * dt) ** n
        e1.append(abs(mean - X0 * np.exp(A_ * T)))
        e2.append(abs(second - X0**2 * np.exp((2 * A_ + B_**2) * T)))
    for err in (e1, e2):
        slope, _, _ = stats.loglog_slope(steps, np.array(err))
        assert abs(slope + 1) <= 0.3, slope


def test_monte_carlo_matches_exact_euler_and_sees_the_bias():
    paths = 200_000
    for steps, expect_pass in ((16, True), (4, False)):
        dt = T / steps
        x = _gbm(steps=steps, paths=paths, rng=np.random.default_rng(steps)).x[:, 0]
        m1, m2 = stats.mean_estimate(x), stats.mean_estimate(x**2)
        if expect_pass:
            assert abs(m1.value - X0 * (1 + A_ * dt) ** steps) <= Z * m1.se
            assert abs(m2.value - X0**2 * ((1 + A_ * dt) ** 2 + B_**2 * dt) ** steps) <= Z * m2.se
        else:
            assert abs(m1.value - X0 * np.exp(A_ * T)) > Z * m1.se


def test_multidimensional_linear_sde_moments():
    rng = np.random.default_rng(3)
    A = np.array([[-0.5, 0.3], [0.2, -0.8]])
    S = rng.normal(size=(2, 3))
    m0 = np.array([1.0, -0.5])
    steps, paths = 10, 100_000
    res = euler_maruyama(np.tile(m0, (paths, 1)), lambda t, x: x @ A.T, lambda t, x: np.broadcast_to(S, (x.shape[0], 2, 3)),
                         T=T, steps=steps, rng=rng)
    dt = T / steps
    F = np.eye(2) + A * dt
    m, P = m0.copy(), np.zeros((2, 2))
    for _ in range(steps):
        m, P = F @ m, F @ P @ F.T + S @ S.T * dt
    for d in range(2):
        est = stats.mean_estimate(res.x[:, d])
        assert abs(est.value - m[d]) <= Z * est.se
        for e in range(d, 2):
            c = stats.covariance_estimate(res.x[:, d], res.x[:, e])
            assert abs(c.value - P[d, e]) <= Z * c.se


def test_blowup_flagged():
    x0 = np.array([[2.0], [0.5], [2.0], [0.5]])
    res = euler_maruyama(x0, lambda t, x: x * x, lambda t, x: np.zeros((x.shape[0], 1, 1)), T=1.0, steps=2000,
                         dB=np.zeros((2000, 4, 1)))
    np.testing.assert_array_equal(res.diverged, [True, False, True, False])
    assert np.all(np.isnan(res.x[res.diverged]))
    assert np.all(res.diverged_at[res.diverged] > 0) and np.all(res.diverged_at[~res.diverged] == -1)
    # the non-exploding path approximates the exact solution x0 / (1 - x0 t) at t = 1 (= 1) to O(dt)
    assert res.x[1, 0] == pytest.approx(1.0, abs=5e-3)
    with pytest.raises(ValueError):
        euler_maruyama(x0, lambda t, x: x, lambda t, x: np.zeros((4, 1, 1)), T=1.0, steps=3)
