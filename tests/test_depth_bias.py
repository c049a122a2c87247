"""Specification of ``derivations.depth_bias`` (finite-depth bias of the doubly infinite limit, P0 Sec. 5.3).

* The order-dt term of the derived one-step expectation IS the derived Prop. 18 ODE (symbolic identity).
* The order-dt^2 term g agrees with the exact one-step expectation computed by Gauss-Hermite quadrature (an
  independent code path, no Taylor expansion): (F_dt - dt f)/dt^2 = g + O(dt).
* For phi = a x the first-order bias is exact: lim L (q_L - q(T)) = T e_q(T) with q_L the closed-form recursion.
* The prediction is first order: the D = infinity network (deterministic map iterated L times) differs from
  limit + dt e(T) by O(1/L^2), so doubling L divides the remainder by ~4.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as hs

from derivations import depth_bias as DB
from verify.depth_bias import activation_derivatives, predicted_depth_bias
from derivations import odes as O
from numeric.activations import get_activation
from numeric.quadrature import gauss_expect_1d, gauss_expect_2d
from verify.claims.p0_figures import mean_field_recursion


def test_order_dt_term_is_the_derived_prop18_ode():
    assert DB.prop18_residual() == sp.zeros(5, 1)


def test_euler_scheme_has_the_same_order_dt_term():
    assert sp.simplify(DB.step_expansion("euler").f - DB.step_expansion("resnet").f) == sp.zeros(5, 1)


def test_linear_first_order_bias_is_exact():
    """Symbolic: the closed-form recursion's 1/L coefficient equals T e_q(T) for every (a, sigma_w, sigma_b, q0, T)."""
    assert DB.linear_bias_residual() == 0


def _exact_step(act, y, dt, sw, sb):
    """E[y' - y | y] for one ResNet layer at D = infinity, by quadrature (no Taylor expansion)."""
    phi = get_activation(act).f
    mi, mj, qi, qj, lm = y
    s, w = sb * sb, sw * sw
    Si, Sj, Sij = s + w * qi, s + w * qj, s + w * lm
    e1, e2 = gauss_expect_1d(phi, 0.0, dt * Si, n=120), gauss_expect_1d(phi, 0.0, dt * Sj, n=120)
    eii = gauss_expect_1d(lambda h: phi(h) ** 2, 0.0, dt * Si, n=120)
    ejj = gauss_expect_1d(lambda h: phi(h) ** 2, 0.0, dt * Sj, n=120)
    eij = gauss_expect_2d(lambda a, b: phi(a) * phi(b), np.zeros(2), dt * np.array([[Si, Sij], [Sij, Sj]]), n=80)
    return np.array([e1, e2, 2 * mi * e1 + eii, 2 * mj * e2 + ejj, mi * e2 + mj * e1 + eij])


@settings(derandomize=True, deadline=None, max_examples=12)
@given(act=hs.sampled_from(["tanh", "swish", "sin", "poly"]), m=hs.floats(-1.5, 1.5), v=hs.floats(0.0, 1.5),
       m2=hs.floats(-1.5, 1.5), v2=hs.floats(0.0, 1.5), rho=hs.floats(-0.9, 0.9), sw=hs.floats(0.5, 1.5),
       sb=hs.floats(0.2, 1.2))
def test_dt2_term_matches_quadrature(act, m, v, m2, v2, rho, sw, sb):
    """(F_dt(y) - dt f(y)) / dt^2 -> g(y): at dt = 1e-3 and 5e-4 the error must shrink ~linearly (O(dt)),
    and be below 0.05 (1 + |g|) at dt = 5e-4 (the O(dt) term is ~ dt times a polynomial of size <~ 100)."""
    qi, qj = m * m + v, m2 * m2 + v2
    lm = m * m2 + rho * np.sqrt(v * v2)
    y = np.array([m, m2, qi, qj, lm])
    ex = DB.step_expansion()
    p = activation_derivatives(act)
    vals = dict(zip(DB.STATE, y)) | dict(zip(DB.PARAMS, (*p, sw, sb)))
    f = np.array([float(fk.subs(vals)) for fk in ex.f])
    g = np.array([float(gk.subs(vals)) for gk in ex.g])
    errs = []
    for dt in (1e-3, 5e-4):
        F = _exact_step(act, y, dt, sw, sb)
        errs.append(np.abs((F - dt * f) / dt**2 - g))
    assert np.all(errs[1] <= 0.05 * (1 + np.abs(g)))
    big = errs[0] > 1e-3 * (1 + np.abs(g))  # where the O(dt) term is resolvable, halving dt must ~halve it
    assert np.all(errs[1][big] <= 0.7 * errs[0][big])


@pytest.mark.parametrize("act,z", [("tanh", (0.0, 1.0)), ("tanh", (1.0, 2.0)), ("swish", (0.0, 1.0))])
def test_prediction_is_first_order(act, z):
    """remainder(L) = (mean-field bias at L) - dt e(T) is O(1/L^2): remainder(400)/remainder(800) in [3, 5]
    (4 for an exact 1/L^2 term; the bracket allows the O(1/L^3) term seen for tanh at z = 2)."""
    rem = []
    for L in (400, 800):
        pred = predicted_depth_bias(act, 1.0, 1.0, z, 1.0, L)
        y = mean_field_recursion(act, 1.0, 1.0, z, 1.0, L)
        rem.append(y[3] - pred["limit"]["q_j"] - pred["q_j"])
    assert 3.0 <= rem[0] / rem[1] <= 5.0


def test_linear_prediction_matches_closed_form_numerically():
    """phi = 0.7 x, z = (0.5, 1.5): L * (exact q_L - q(T)) at L = 10^5 vs the predicted coefficient, rel 1e-3
    (the next term is O(1/L) relative)."""
    a, z, L = 0.7, (0.5, 1.5), 100_000
    pred = predicted_depth_bias("linear:0.7", 1.0, 1.0, z, 1.0, L)
    kappa = a * a
    q0 = z[1] ** 2
    exact = (q0 + 1.0) * (1 + kappa / L) ** L - 1.0
    limit = (q0 + 1.0) * np.exp(kappa) - 1.0
    assert pred["limit"]["q_j"] == pytest.approx(limit, rel=1e-9)
    assert L * (exact - limit) == pytest.approx(pred["coefficient"]["q_j"], rel=1e-3)


def test_euler_of_tanh_is_the_identity_network():
    """Euler (6) of (33) with phi'(0) = 1, phi''(0) = 0 is x + h: its prediction equals the identity ResNet's."""
    e = predicted_depth_bias("tanh", 1.0, 1.0, (0.0, 1.0), 1.0, 100, scheme="euler")
    r = predicted_depth_bias("identity", 1.0, 1.0, (0.0, 1.0), 1.0, 100)
    for k in ("q_i", "q_j", "lambda", "var_j", "cov"):
        assert e[k] == pytest.approx(r[k], rel=1e-9, abs=1e-12)


def test_tanh_figure2_coefficients_by_hand_derivation():
    """tanh, s = w = 1, z_j = 1: S(t) = 2 e^t, delta_q = -2 S^2 - S/2, e' = e + delta, so
    e(1) = int_0^1 e^{1-t}(-8 e^{2t} - e^t) dt = -8 e (e - 1) - e (an independent closed form)."""
    pred = predicted_depth_bias("tanh", 1.0, 1.0, (0.0, 1.0), 1.0, 1)
    assert pred["coefficient"]["q_j"] == pytest.approx(-8 * np.e * (np.e - 1) - np.e, rel=1e-8)
    assert pred["limit"]["var_j"] == pytest.approx(2 * (np.e - 1), rel=1e-9)


def test_affine_f_flag():
    ex = DB.step_expansion()
    assert DB.f_is_affine(ex, {O.a: 0})
    assert not DB.f_is_affine(ex, {O.a: sp.Rational(1, 2)})
