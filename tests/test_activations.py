"""Activations: the NumPy twins equal the SymPy definitions, and the Taylor data at 0 are right.

Specification
-------------
* For every named activation, ``f``, ``df``, ``d2f`` and ``d3f`` of ``numeric.activations`` agree with the
  SymPy expression of ``derivations.activations`` and its derivatives (lambdified by ``compile_expr``) at
  random points in [-8, 8] to 1e-12 (absolute + relative): both sides are closed-form float64 evaluations,
  so agreement is limited only by a few roundings.
* ``taylor_at_zero`` matches central finite differences of the NumPy function (step 1e-2, 5-point
  stencils for the first two derivatives: truncation error O(h^4) ~ 1e-8, so tolerance 1e-6) and the known
  values quoted in P0 (swish: phi'(0) = phi''(0) = 1/2, L739).
* ReLU has no Taylor data (Remark 9); unknown names raise ValueError; the NumPy versions do not overflow.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

from derivations.activations import SYMBOLIC_ACTIVATIONS, symbolic_activation, taylor_at_zero
from derivations.compile import compile_expr
from numeric.activations import get_activation

SMOOTH = ["tanh", "swish", "sin", "identity", "poly", "sigmoid0", "linear:0.7", "linear:-3/2"]
X = sp.Symbol("x", real=True)


@pytest.mark.parametrize("name", SMOOTH + ["relu"])
def test_numpy_matches_sympy_and_derivatives(name):
    act = get_activation(name)
    expr = symbolic_activation(name, X)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-8, 8, size=200)
    orders = [(0, act.f), (1, act.df), (2, act.d2f), (3, act.d3f)]
    if name == "relu":
        orders = orders[:1]  # derivatives are distributions; only the value map is compared
        pts = pts[np.abs(pts) > 1e-6]
        # compile_expr prints Max as functools.reduce without importing functools (reported upstream);
        # the Piecewise form is the same function
        expr = expr.rewrite(sp.Piecewise)
    for k, fn in orders:
        sym = compile_expr([X], sp.diff(expr, X, k) if k else expr)
        want = np.broadcast_to(np.asarray(sym(pts), dtype=float), pts.shape)
        got = np.asarray(fn(pts), dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{name} derivative {k}")


@pytest.mark.parametrize("name", SMOOTH)
def test_taylor_matches_finite_differences(name):
    act = get_activation(name)
    t = [float(v) for v in taylor_at_zero(name, order=3)]
    h = 1e-2
    f = lambda x: float(act.f(np.array(x)))  # noqa: E731
    d1 = (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)
    d2 = (-f(2 * h) + 16 * f(h) - 30 * f(0.0) + 16 * f(-h) - f(-2 * h)) / (12 * h * h)
    assert t[0] == pytest.approx(f(0.0), abs=1e-15)
    assert t[1] == pytest.approx(d1, abs=1e-6)
    assert t[2] == pytest.approx(d2, abs=1e-6)
    # third derivative from the analytic d3f of the NumPy twin (itself checked against SymPy above)
    assert t[3] == pytest.approx(float(act.d3f(np.array(0.0))), abs=1e-12)


def test_taylor_known_values():
    assert taylor_at_zero("swish", 2) == (0, sp.Rational(1, 2), sp.Rational(1, 2))  # P0 L739
    assert taylor_at_zero("tanh", 3) == (0, 1, 0, -2)
    assert taylor_at_zero("poly", 3) == (0, 1, 1, -1)
    assert taylor_at_zero("sigmoid0", 2) == (0, sp.Rational(1, 4), 0)
    assert taylor_at_zero("linear:0.7", 2) == (0, sp.Rational(7, 10), 0)
    for name in SMOOTH:
        assert taylor_at_zero(name, 0) == (0,), f"{name}: Assumption 5 needs phi(0) = 0"


def test_relu_has_no_taylor_data_and_unknown_names_raise():
    with pytest.raises(ValueError):
        taylor_at_zero("relu")
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation("softsign")
    with pytest.raises(ValueError, match="unknown activation"):
        symbolic_activation("softsign", X)
    with pytest.raises(ValueError):
        get_activation("linear:abc")
    assert set(SYMBOLIC_ACTIVATIONS) >= {"tanh", "swish", "sin", "identity", "poly", "relu", "sigmoid0"}


@pytest.mark.parametrize("name", ["swish", "sigmoid0", "tanh"])
def test_overflow_safe(name):
    act = get_activation(name)
    x = np.array([-1e4, -800.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (act.f, act.df, act.d2f, act.d3f):
            assert np.all(np.isfinite(fn(x)))
