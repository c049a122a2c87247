"""Gauss-Hermite expectations and the one-step moments of P0's ResNet (11) (recipe R-GH).

Specification
-------------
* ``gauss_expect_1d/2d`` integrate polynomials of degree <= 2n - 1 exactly (so Gaussian moments and
  Isserlis' formula hold to rounding, 1e-12 relative) and analytic functions to ~1e-14 (closed forms
  E cos(h) = cos(m) e^{-v/2}); singular (rank-1) covariances work; batch axes broadcast.
* ``one_step_moments`` / ``one_step_cross_cov`` at fixed x, for a general random Assumption-4 law
  (non-zero means, correlated weights), psi = tanh:
  - phi = identity: Dx = h is Gaussian with mean (mu^W psi + mu^b) dt and covariance preact_cov dt,
    so mean, cov, E h^3 = m^3 + 3 m v and E h^4 = m^4 + 6 m^2 v + 3 v^2 are closed forms (1e-12 relative);
  - phi = poly (degree 3): every moment is a polynomial Gaussian moment, evaluated independently by
    SymPy with Isserlis' rule for independent standard normals (1e-11 relative; Hypothesis over laws,
    inputs and dt in [1e-4, 0.1]);
  - phi = tanh, swish: doubling the number of nodes changes nothing beyond 1e-12 relative (converged);
  - Monte Carlo: 4e5 direct draws of (dW, db) from ``law.sample`` agree with every moment within
    z(1e-4) = 3.89 SE (no bias: quadrature is exact for this statistic); 21 checks, family-wise
    false-alarm probability <= 2.1e-3.  The same MC rejects a wrong cross-covariance (the one of x with
    itself) by > 10 SE, so the test has power.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numeric.activations import get_activation
from numeric.laws import GaussianLaw, random_law
from numeric.quadrature import (gauss_expect_1d, gauss_expect_2d, one_step_cross_cov, one_step_moments,
                                psd_factor_2x2)
from numeric.stats import z_two_sided

Z = z_two_sided(1e-4)


# ------------------------------------------------------------------------------------------ raw GH rules
def test_1d_polynomial_moments_and_closed_forms_broadcast():
    m = np.array([[-1.0], [0.3], [2.0]])  # (3, 1)
    v = np.array([0.01, 0.5, 2.0])  # (3,)
    got4 = gauss_expect_1d(lambda h: h**4, m, v)
    np.testing.assert_allclose(got4, m**4 + 6 * m**2 * v + 3 * v**2, rtol=1e-12)
    np.testing.assert_allclose(gauss_expect_1d(np.cos, m, v), np.cos(m) * np.exp(-v / 2), rtol=1e-13, atol=1e-15)
    assert gauss_expect_1d(np.sin, 0.4, 0.0) == pytest.approx(np.sin(0.4), rel=1e-15)  # degenerate variance
    with pytest.raises(ValueError):
        gauss_expect_1d(np.sin, 0.0, -1.0)


def test_2d_isserlis_and_rank_one():
    m = np.array([0.3, -0.7])
    C = np.array([[0.5, 0.2], [0.2, 0.9]])
    got = gauss_expect_2d(lambda a, b: a * a * b * b, m, C)
    # E[h1^2 h2^2] for a Gaussian pair: expand around the mean with Isserlis
    c11, c12, c22 = C[0, 0], C[0, 1], C[1, 1]
    m1, m2 = m
    want = (c11 * c22 + 2 * c12**2) + m1**2 * c22 + m2**2 * c11 + 4 * m1 * m2 * c12 + m1**2 * m2**2
    assert got == pytest.approx(want, rel=1e-12)
    # E cos(h1 + h2) = cos(m1 + m2) exp(-Var(h1 + h2) / 2)
    got = gauss_expect_2d(lambda a, b: np.cos(a + b), m, C)
    assert got == pytest.approx(np.cos(m.sum()) * np.exp(-(c11 + 2 * c12 + c22) / 2), rel=1e-13)
    # rank one: h2 = 2 h1 exactly
    C1 = np.array([[0.4, 0.8], [0.8, 1.6]])
    got = gauss_expect_2d(lambda a, b: a * a * b * b, np.zeros(2), C1)
    assert got == pytest.approx(4 * 3 * 0.4**2, rel=1e-12)
    # first variable constant
    C0 = np.array([[0.0, 0.0], [0.0, 1.0]])
    assert gauss_expect_2d(lambda a, b: a * b * b, np.array([2.0, 0.0]), C0) == pytest.approx(2.0, rel=1e-14)
    # batched
    Cs = np.stack([C, C1])
    A = psd_factor_2x2(Cs)
    np.testing.assert_allclose(A @ np.swapaxes(A, -1, -2), Cs, atol=1e-14)
    np.testing.assert_allclose(gauss_expect_2d(lambda a, b: a * b, np.zeros((2, 2)), Cs), [0.2, 0.8], rtol=1e-13)


# ------------------------------------------------------------------------------------ one residual step
def _gauss_raw_moment(mean: float, var: float, k: int) -> float:
    """E h^k for h ~ N(mean, var) by the recursion M_k = mean M_{k-1} + (k - 1) var M_{k-2}."""
    M = [1.0, mean]
    for j in range(2, k + 1):
        M.append(mean * M[-1] + (j - 1) * var * M[-2])
    return M[k]


def _setup(seed, D=3):
    rng = np.random.default_rng(seed)
    law = random_law(rng, D)
    x = rng.normal(size=D)
    y = rng.normal(size=D)
    return law, x, y


@pytest.mark.parametrize("dt", [0.1, 1e-2, 1e-4])
def test_identity_phi_closed_forms(dt):
    law, x, y = _setup(0)
    psi = np.tanh
    mu = law.preact_mean(psi(x)) * dt
    S = law.preact_cov(psi(x), psi(x)) * dt
    out = one_step_moments(x, law, "identity", "tanh", dt)
    v = np.diag(S)
    np.testing.assert_allclose(out["mean"], mu, rtol=1e-12)
    np.testing.assert_allclose(out["cov"], S, rtol=1e-11, atol=1e-14 * np.abs(S).max())
    np.testing.assert_allclose(out["m3"], mu**3 + 3 * mu * v, rtol=1e-11)
    np.testing.assert_allclose(out["m4"], mu**4 + 6 * mu**2 * v + 3 * v**2, rtol=1e-12)
    Sxy = law.preact_cov(psi(x), psi(y)) * dt
    np.testing.assert_allclose(one_step_cross_cov(x, y, law, "identity", "tanh", dt), Sxy, rtol=1e-11,
                               atol=1e-14 * np.abs(Sxy).max())


def _poly2_mul(P, Q):
    """Product of two polynomials in (z1, z2) stored as coefficient arrays P[i, j] of z1^i z2^j."""
    out = np.zeros((P.shape[0] + Q.shape[0] - 1, P.shape[1] + Q.shape[1] - 1))
    for (i, j), c in np.ndenumerate(P):
        if c:
            out[i:i + Q.shape[0], j:j + Q.shape[1]] += c * Q
    return out


def _poly_phi_of(m, a, b):
    """Coefficients of poly(h) = h + h^2/2 - h^3/6 with h = m + a z1 + b z2."""
    h = np.array([[m, b], [a, 0.0]])
    h2 = _poly2_mul(h, h)
    h3 = _poly2_mul(h2, h)
    out = np.zeros_like(h3)
    out[:2, :2] += h
    out[:3, :3] += h2 / 2
    out -= h3 / 6
    return out


def _isserlis_expect(P):
    """E P(z1, z2) for independent standard normals: E z^k = (k - 1)!! for even k, else 0 (Isserlis)."""
    k = np.arange(max(P.shape))
    mom = np.array([0.0 if j % 2 else float(np.prod(np.arange(j - 1, 0, -2))) for j in k])
    return float(mom[: P.shape[0]] @ P @ mom[: P.shape[1]])


def _pair_reference(m1, m2, v1, v2, c):
    """(E poly(h1), E poly(h2), Cov(poly(h1), poly(h2)), E poly(h1)^4) exactly, by polynomial algebra."""
    a = np.sqrt(v1)
    b = c / a
    e = np.sqrt(max(v2 - b * b, 0.0))
    f1 = _poly_phi_of(m1, a, 0.0)
    f2 = _poly_phi_of(m2, b, e)
    E1, E2 = _isserlis_expect(f1), _isserlis_expect(f2)
    f1sq = _poly2_mul(f1, f1)
    return E1, E2, _isserlis_expect(_poly2_mul(f1, f2)) - E1 * E2, _isserlis_expect(_poly2_mul(f1sq, f1sq))


def _isserlis_reference(law, x, y, dt):
    """Moments of poly(h) computed exactly by expanding polynomials of independent normals (no quadrature)."""
    D = law.D
    psi = np.tanh
    mux = law.preact_mean(psi(x)) * dt
    muy = law.preact_mean(psi(y)) * dt
    Sxx = law.preact_cov(psi(x), psi(x)) * dt
    Syy = law.preact_cov(psi(y), psi(y)) * dt
    Sxy = law.preact_cov(psi(x), psi(y)) * dt
    mean = np.empty(D)
    m4 = np.empty(D)
    cov = np.empty((D, D))
    cross = np.empty((D, D))
    for d in range(D):
        for e in range(D):
            E1, _, c, q4 = _pair_reference(mux[d], mux[e], Sxx[d, d], Sxx[e, e], Sxx[d, e])
            cov[d, e] = c
            mean[d], m4[d] = E1, q4
            cross[d, e] = _pair_reference(mux[d], muy[e], Sxx[d, d], Syy[e, e], Sxy[d, e])[2]
    return mean, cov, m4, cross


@settings(derandomize=True, deadline=None, max_examples=10)
@given(seed=st.integers(0, 10**6), logdt=st.floats(-4, -1))
def test_poly_phi_matches_isserlis(seed, logdt):
    dt = 10.0**logdt
    law, x, y = _setup(seed, D=3)
    mean, cov, m4, cross = _isserlis_reference(law, x, y, dt)
    out = one_step_moments(x, law, "poly", "tanh", dt)
    np.testing.assert_allclose(out["mean"], mean, rtol=1e-11)
    np.testing.assert_allclose(out["cov"], cov, rtol=1e-10, atol=1e-13 * np.abs(cov).max())
    np.testing.assert_allclose(out["m4"], m4, rtol=1e-10)
    got = one_step_cross_cov(x, y, law, "poly", "tanh", dt)
    np.testing.assert_allclose(got, cross, rtol=1e-10, atol=1e-13 * np.abs(cross).max())


@pytest.mark.parametrize("phi", ["tanh", "swish"])
def test_smooth_phi_converged_in_nodes(phi):
    law, x, y = _setup(3)
    a = one_step_moments(x, law, phi, "tanh", 0.1, n=80)
    b = one_step_moments(x, law, phi, "tanh", 0.1, n=160)
    for k in ("mean", "m3", "m4"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12)
    np.testing.assert_allclose(a["cov"], b["cov"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(one_step_cross_cov(x, y, law, phi, "tanh", 0.1, n=60),
                               one_step_cross_cov(x, y, law, phi, "tanh", 0.1, n=120), rtol=1e-12, atol=1e-15)
    # the cross covariance of x with itself is the covariance
    np.testing.assert_allclose(one_step_cross_cov(x, x, law, phi, "tanh", 0.1), a["cov"], rtol=1e-12, atol=1e-15)


def test_monte_carlo_agrees_with_quadrature_and_has_power():
    law, x, y = _setup(5)
    dt, n = 0.1, 400_000
    phi = get_activation("swish")
    rng = np.random.default_rng(11)
    dW, db = law.sample(rng, n, dt)
    dx = phi.f(dW @ np.tanh(x) + db)
    dy = phi.f(dW @ np.tanh(y) + db)
    q = one_step_moments(x, law, phi, "tanh", dt)
    cross = one_step_cross_cov(x, y, law, phi, "tanh", dt)
    D = law.D

    def check(samples, pred, what):
        est, se = samples.mean(), samples.std(ddof=1) / np.sqrt(samples.size)
        assert abs(est - pred) <= Z * se, f"{what}: {est} vs {pred} ({abs(est - pred) / se:.2f} SE)"
        return se

    cx = dx - dx.mean(0)
    cy = dy - dy.mean(0)
    for d in range(D):
        check(dx[:, d], q["mean"][d], f"mean[{d}]")
        check(dx[:, d] ** 4, q["m4"][d], f"m4[{d}]")
    for d, e in itertools.combinations_with_replacement(range(D), 2):
        check(cx[:, d] * cx[:, e], q["cov"][d, e], f"cov[{d},{e}]")
    wrong = []
    for d in range(D):
        for e in range(D):
            se = check(cx[:, d] * cy[:, e], cross[d, e], f"cross[{d},{e}]")
            wrong.append(abs((cx[:, d] * cy[:, e]).mean() - q["cov"][d, e]) / se)
    assert max(wrong) > 10, "the MC cannot tell Cov(Dx, Dy) from Cov(Dx, Dx): no power"
