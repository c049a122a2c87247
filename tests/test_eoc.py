"""Edge of Chaos engine (numeric/eoc.py).

Specification: the EOC sigma_w solves chi_1 = 1 at the variance fixed point to 1e-12; it agrees to 1e-9 with an
independent computation (scipy.integrate.quad for the 1-D Gaussian integrals, scipy.optimize.fsolve on the joint system
(q, sigma_w) -- different integrator and root finder, so 1e-9 covers both solvers' tolerances); ReLU-like EOC is the
closed form sqrt(2/(lam^2 + beta^2)) at sigma_b = 0 only; phases are classified by chi_1.
"""
import math

import numpy as np
import pytest
from scipy import integrate, optimize

from numeric import eoc
from numeric.gaussian_maps import get_activation


def _independent_eoc(name, sigma_b, guess):
    act = get_activation(name)
    dens = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def E(fn, q):
        a = math.sqrt(q)
        return sum(integrate.quad(lambda z: fn(a * z) ** 2 * dens(z), lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
                   for lo, hi in ((-12, 0), (0, 12)))

    f = lambda x: float(act.f(np.array(x)))
    df = lambda x: float(act.df(np.array(x)))

    def eqs(v):
        q, sw = v
        return [sigma_b**2 + sw**2 * E(f, q) - q, sw**2 * E(df, q) - 1.0]

    q, sw = optimize.fsolve(eqs, guess, xtol=1e-14)
    return q, sw


@pytest.mark.parametrize("name,guess", [("tanh", (0.5, 1.3)), ("elu", (1.1, 1.23))])
def test_eoc_agrees_with_independent_solver(name, guess):
    p = eoc.eoc_point(name, 0.2)
    q_ind, sw_ind = _independent_eoc(name, 0.2, guess)
    assert abs(p.sigma_w - sw_ind) < 1e-9
    assert abs(p.q - q_ind) < 1e-9
    assert abs(p.chi1 - 1.0) < 1e-12
    assert abs(eoc.variance_map(name, p.sigma_w, 0.2, p.q) - p.q) < 1e-13


def test_relu_like_eoc_closed_form_and_no_eoc_with_bias():
    assert eoc.eoc_sigma_w("relu", 0.0) == pytest.approx(math.sqrt(2), abs=1e-15)
    lam, beta = 1.0, 0.01
    assert eoc.eoc_sigma_w("leaky_relu:0.01", 0.0) == pytest.approx(math.sqrt(2 / (lam**2 + beta**2)), abs=1e-15)
    with pytest.raises(ValueError):
        eoc.eoc_sigma_w("relu", 0.2)
    assert eoc.chi1("relu", math.sqrt(2), 0.0) == pytest.approx(1.0, abs=1e-15)
    # ReLU ordered point of the claim file: q = sigma_b^2 / (1 - sigma_w^2/2)
    assert eoc.fixed_point_q("relu", math.sqrt(1.5), 0.5) == pytest.approx(0.25 / (1 - 0.75), rel=1e-14)


def test_phases():
    assert eoc.phase("relu", math.sqrt(1.5), 0.5) == "ordered"
    assert eoc.phase("relu", math.sqrt(2), 0.0) == "eoc"
    assert eoc.phase("tanh", 2.5, 0.3) == "chaotic"
    assert eoc.phase("tanh", 1.0, 0.2) == "ordered"
    sw = eoc.eoc_sigma_w("tanh", 0.2)
    assert eoc.phase("tanh", sw * (1 - 1e-6), 0.2) == "ordered"
    assert eoc.phase("tanh", sw * (1 + 1e-6), 0.2) == "chaotic"


def test_fixed_point_is_the_limit_of_the_variance_iteration():
    q = 1.0
    for _ in range(3000):
        q = float(eoc.variance_map("tanh", 2.5, 0.3, q))
    assert abs(eoc.fixed_point_q("tanh", 2.5, 0.3) - q) < 1e-12 * q


def test_eoc_curve_is_increasing_for_tanh():
    curve = eoc.eoc_curve("tanh", [0.05, 0.2, 0.5])
    assert np.all(np.diff(curve) > 0) and curve[0] > 1.0


def test_bad_parameters():
    with pytest.raises(ValueError):
        eoc.chi1("tanh", float("nan"), 0.2)
    with pytest.raises(ValueError):
        eoc.fixed_point_q("tanh", -1.0, 0.2)
