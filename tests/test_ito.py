"""Specification of the Ito engine ``derivations.ito``.

* Known cases of Ito's formula (d(B^2), geometric BM, product rule with correlated BMs, state-dependent
  Brownian covariances) are exact symbolic identities.
* Property (hypothesis): for a linear SDE with constant coefficients and correlated BMs, the increment over dt is
  exactly Gaussian, N(mu dt, C dt), so for a polynomial F the one-step moments are known exactly: the semigroup
  is E F(X + dX) = sum_k dt^k L^k F / k! (a finite sum).  We compute the left side by Gauss-Hermite quadrature
  (exact for polynomials, independent of the engine) and the right side with the engine's generator
  ``drift_of``; they must agree to rounding (1e-9 relative).  So E[dF]/dt - drift_of(F) = O(dt) with the
  engine's own next-order coefficient, and likewise Cov(dF, dG)/dt - covariation(F, G) = O(dt).
* A Monte Carlo check (alpha = 1e-4, bias budget = exact finite-dt bias) of ``covariation`` against the
  empirical covariance of increments.
* The ResNet builder's drift and covariation agree with exact one-step moments of the network.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.hermite_e import hermegauss

from derivations.ito import (ItoSystem, ResNetParams, gaussian_step_limits, lemma21_representation,
                             resnet_iid_system)
from numeric import stats

Z_ALPHA = stats.z_two_sided(1e-4)


# ----------------------------------------------------------------------------------------------------------
# Known cases
# ----------------------------------------------------------------------------------------------------------
def test_square_of_brownian_motion():
    """d(B^2) = 2 B dB + dt."""
    b, W = sp.symbols("b W")
    sys_ = ItoSystem([b], {}, {b: {W: 1}})
    assert sys_.drift_of(b**2) == 1
    assert sys_.loadings_of(b**2) == {W: 2 * b}
    assert sp.simplify(sys_.quadratic_variation(b**2) - 4 * b**2) == 0


def test_geometric_brownian_motion_log():
    """dX = mu X dt + s X dW  =>  d log X = (mu - s^2/2) dt + s dW."""
    X = sp.Symbol("X", positive=True)
    mu, s = sp.symbols("mu s", positive=True)
    W = sp.Symbol("W")
    sys_ = ItoSystem([X], {X: mu * X}, {X: {W: s * X}})
    assert sp.simplify(sys_.drift_of(sp.log(X)) - (mu - s**2 / 2)) == 0
    assert sp.simplify(sys_.quadratic_variation(sp.log(X)) - s**2) == 0


def test_product_rule_with_correlated_brownian_motions():
    """dX = a dB1, dY = b dB2, d[B1, B2] = rho dt  =>  d(XY) = X dY + Y dX + a b rho dt."""
    x, y, a, b, rho = sp.symbols("x y a b rho")
    B1, B2 = sp.symbols("B1 B2")
    sys_ = ItoSystem([x, y], {}, {x: {B1: a}, y: {B2: b}}, {(B1, B2): rho})
    assert sp.simplify(sys_.drift_of(x * y) - a * b * rho) == 0
    assert sp.simplify(sys_.covariation(x, y) - a * b * rho) == 0
    assert sp.simplify(sys_.quadratic_variation(x * y) - (y**2 * a**2 + x**2 * b**2 + 2 * x * y * a * b * rho)) == 0
    # the covariance table is read symmetrically
    assert sys_.brownian_covariance(B2, B1) == rho


def test_state_dependent_brownian_covariance_enters_the_drift():
    """d[B1, B2] = c(x, y) dt may depend on the state (as in Lemma 21): d(xy) has drift c(x, y)."""
    x, y = sp.symbols("x y", real=True)
    B1, B2 = sp.symbols("B1 B2")
    c = sp.tanh(x - y)
    sys_ = ItoSystem([x, y], {x: 1}, {x: {B1: 1}, y: {B2: 1}}, {(B1, B2): c})
    assert sp.simplify(sys_.drift_of(x * y) - (y + c)) == 0
    assert sp.simplify(sys_.drift_of(x**2 * y) - (2 * x * y + y + 2 * x * c)) == 0


def test_inconsistent_or_unknown_inputs_are_rejected():
    x, B = sp.symbols("x B")
    with pytest.raises(ValueError):
        ItoSystem([x], {sp.Symbol("z"): 1}, {})
    with pytest.raises(ValueError):
        ItoSystem([x], {}, {x: {B: 1}}, {(B, x): 1, (x, B): 2})


def test_carre_du_champ_identity():
    """covariation(F, G) = L(FG) - F L G - G L F (the generator's carre du champ), for a system with
    state-dependent loadings and correlated BMs."""
    x, y = sp.symbols("x y", real=True)
    B1, B2 = sp.symbols("B1 B2")
    sys_ = ItoSystem([x, y], {x: sp.sin(y), y: x**2}, {x: {B1: 1 + y**2, B2: x}, y: {B2: sp.exp(x)}},
                     {(B1, B2): sp.Rational(1, 3), (B2, B2): 2})
    F, G = x**3 * y, sp.cos(x) + y**2
    gamma = sys_.drift_of(F * G) - F * sys_.drift_of(G) - G * sys_.drift_of(F)
    assert sp.simplify(sp.expand(gamma - sys_.covariation(F, G))) == 0


# ----------------------------------------------------------------------------------------------------------
# Property: constant-coefficient linear SDE with correlated BMs, polynomial F
# ----------------------------------------------------------------------------------------------------------
small_int = st.integers(-2, 2)


@st.composite
def linear_sde_and_polys(draw):
    dim = draw(st.sampled_from([2, 3]))
    nB = draw(st.sampled_from([dim, dim + 1]))
    X = sp.symbols(f"X1:{dim + 1}", real=True)
    Bs = sp.symbols(f"B1:{nB + 1}")
    mu = [sp.Rational(draw(small_int), 2) for _ in range(dim)]
    Cl = [[sp.Rational(draw(small_int), 2) for _ in range(nB)] for _ in range(dim)]
    A = sp.Matrix(nB, nB, [draw(small_int) for _ in range(nB * nB)])
    R = A * A.T / 4 + sp.eye(nB) / 2  # positive definite Brownian covariance, correlated, not unit diagonal
    monos = [m for m in itertools.product(range(4), repeat=dim) if 0 < sum(m) <= 3]

    def poly():
        terms = draw(st.lists(st.sampled_from(monos), min_size=1, max_size=4, unique=True))
        return sp.Add(*[draw(st.integers(-3, 3).filter(bool)) * sp.Mul(*[xi**k for xi, k in zip(X, m)])
                        for m in terms])

    x0 = [sp.Rational(draw(st.integers(-10, 10)), 10) for _ in range(dim)]
    return X, Bs, mu, Cl, R, poly(), poly(), x0


def _system(X, Bs, mu, Cl, R):
    cov = {(Bs[a], Bs[b]): R[a, b] for a in range(len(Bs)) for b in range(a, len(Bs))}
    return ItoSystem(X, dict(zip(X, mu)), {X[i]: dict(zip(Bs, Cl[i])) for i in range(len(X))}, cov)


def _gauss_grid(mean: np.ndarray, cov: np.ndarray, n: int = 6):
    """Tensor Gauss-Hermite rule for N(mean, cov): points (n^dim, dim) and weights; exact for polynomials of
    degree <= 2n - 1 in each coordinate."""
    z, w = hermegauss(n)
    w = w / w.sum()
    dim = len(mean)
    evals, evecs = np.linalg.eigh(cov)
    Lf = evecs * np.sqrt(np.clip(evals, 0.0, None))
    Z = np.array(list(itertools.product(z, repeat=dim)))
    W = np.prod(np.array(list(itertools.product(w, repeat=dim))), axis=1)
    return mean + Z @ Lf.T, W


def _semigroup(sys_, F, dt):
    """sum_k dt^k L^k F / k! (exact for polynomial F and constant coefficients; L lowers the degree)."""
    out, term, k = sp.Integer(0), F, 0
    while term != 0:
        out += sp.Rational(1, sp.factorial(k)) * dt**k * term
        term = sp.expand(sys_.drift_of(term))
        k += 1
    return out


@settings(derandomize=True, deadline=None, max_examples=15)
@given(linear_sde_and_polys())
def test_engine_matches_exact_gaussian_one_step_moments(case):
    """Exact one-step moments (quadrature) = the engine's semigroup, to rounding; hence
    E[dF]/dt - drift_of(F) = dt L^2F/2 + dt^2 L^3F/6 and Cov(dF, dG)/dt -> covariation(F, G)."""
    X, Bs, mu, Cl, R, F, G, x0 = case
    sys_ = _system(X, Bs, mu, Cl, R)
    dt = sp.Symbol("dt", positive=True)
    subs = dict(zip(X, x0))
    Clm = np.array(Cl, dtype=float)
    C = Clm @ np.array(R, dtype=float) @ Clm.T
    f_np = sp.lambdify(X, F, "numpy")
    g_np = sp.lambdify(X, G, "numpy")
    PF, PG, PFG = (_semigroup(sys_, e, dt) for e in (F, G, sp.expand(F * G)))
    # Cov over one step, from the semigroup: its dt^0 coefficient vanishes and its dt^1 coefficient is the
    # engine's covariation (carre du champ), identically in the state
    cov_series = sp.expand(PFG - PF * PG)
    assert sp.expand(cov_series.coeff(dt, 0)) == 0
    assert sp.expand(cov_series.coeff(dt, 1) - sys_.covariation(F, G)) == 0
    f0, g0 = float(F.subs(subs)), float(G.subs(subs))
    drift = float(sys_.drift_of(F).subs(subs))
    L2 = sys_.drift_of(sp.expand(sys_.drift_of(F)))
    next1, next2 = float(L2.subs(subs)) / 2, float(sys_.drift_of(sp.expand(L2)).subs(subs)) / 6
    for h in (1e-2, 1e-3, 1e-4):
        pts, W = _gauss_grid(np.array(x0, dtype=float) + np.array(mu, dtype=float) * h, C * h)
        fv, gv = f_np(*pts.T) * np.ones(len(W)), g_np(*pts.T) * np.ones(len(W))
        e_df = W @ (fv - f0)
        c_fg = W @ ((fv - W @ fv) * (gv - W @ gv))
        pf, pg, pfg = (float(P.subs(subs).subs(dt, h)) for P in (PF, PG, PFG))
        scale = 1.0 + abs(f0) + abs(pf)
        # exact identities, rounding only: E F(X + dX) = P_dt F and Cov(F, G)(X + dX) = P_dt(FG) - P_dt F P_dt G
        assert abs((f0 + e_df) - pf) <= 1e-10 * scale
        assert abs(c_fg - (pfg - pf * pg)) <= 1e-10 * (1.0 + abs(pfg) + abs(pf * pg))
        # so the drift is the dt -> 0 limit, with the O(dt) error predicted by the engine itself
        assert abs(e_df / h - drift - next1 * h - next2 * h**2) <= 1e-12 * scale / h + 1e-12


def test_covariation_against_monte_carlo_increments():
    """Empirical Cov(dF, dG)/dt of exactly Gaussian increments vs covariation(F, G): |est - pred| <= z SE + bias,
    alpha = 1e-4, bias = exact finite-dt bias from the quadrature rule (independent of the engine)."""
    X = sp.symbols("X1:4", real=True)
    Bs = sp.symbols("B1:4")
    mu = [sp.Rational(1, 2), -1, sp.Rational(1, 4)]
    Cl = [[1, sp.Rational(1, 2), 0], [0, 1, -1], [sp.Rational(1, 2), 0, 1]]
    R = sp.Matrix([[1, sp.Rational(1, 2), 0], [sp.Rational(1, 2), 1, sp.Rational(-1, 3)], [0, sp.Rational(-1, 3), 1]])
    sys_ = _system(X, Bs, mu, Cl, R)
    F, G = X[0] ** 2 * X[1] - X[2], X[0] * X[2] + X[1] ** 3
    x0 = np.array([0.3, -0.5, 0.8])
    subs = dict(zip(X, x0))
    pred = float(sys_.covariation(F, G).subs(subs))
    dt = 1e-4  # the relative SE of a covariance of increments does not depend on dt; the bias shrinks with it
    Clm = np.array(Cl, dtype=float)
    C = Clm @ np.array(R, dtype=float) @ Clm.T * dt
    f_np, g_np = sp.lambdify(X, F, "numpy"), sp.lambdify(X, G, "numpy")
    pts, W = _gauss_grid(x0 + np.array(mu, dtype=float) * dt, C)
    fv, gv = f_np(*pts.T), g_np(*pts.T)
    exact = W @ ((fv - W @ fv) * (gv - W @ gv)) / dt
    rng = np.random.default_rng(20261123)
    n = 400_000
    inc = rng.multivariate_normal(np.array(mu, dtype=float) * dt, C, size=n)
    pts = x0 + inc
    est = stats.covariance_estimate(f_np(*pts.T), g_np(*pts.T))
    ok, tol = stats.passes(est.value / dt, est.se / dt, pred, 1e-4, bias=1.1 * abs(exact - pred))
    assert ok, (est.value / dt, pred, tol)
    # and the test has power: a covariation off by 10% is rejected
    assert abs(est.value / dt - 1.10 * pred) > tol


# ----------------------------------------------------------------------------------------------------------
# The Gaussian one-step limit and the ResNet builder
# ----------------------------------------------------------------------------------------------------------
def test_gaussian_step_limits_against_quadrature():
    """For phi(u) = u + a u^2/2 + b u^3/6 + c u^4/24 (Taylor data exact): E phi(h)/dt = drift + dt drift_next
    + O(dt^2) and Cov(phi(h_d), phi(h_e))/dt = covariation + dt covariation_next + O(dt^2)."""
    stp = gaussian_step_limits()
    a, b, c = 0.7, -0.4, 0.9
    mu_d, mu_e, cdd, cde, cee = 0.3, -0.6, 1.3, 0.5, 0.8
    vals = {stp.p[0]: 1.0, stp.p[1]: a, stp.p[2]: b, stp.p[3]: c, stp.mu_d: mu_d, stp.mu_e: mu_e, stp.c_dd: cdd,
            stp.c_de: cde, stp.c_ee: cee}
    ev = {k: float(getattr(stp, k).subs(vals)) for k in ("drift", "covariation", "drift_next", "covariation_next")}

    def phi(u):
        return u + a * u**2 / 2 + b * u**3 / 6 + c * u**4 / 24

    for dt in (1e-2, 1e-3):
        pts, W = _gauss_grid(np.array([mu_d, mu_e]) * dt, np.array([[cdd, cde], [cde, cee]]) * dt, n=8)
        p1, p2 = phi(pts[:, 0]), phi(pts[:, 1])
        e1 = W @ p1
        cv = W @ ((p1 - e1) * (p2 - W @ p2))
        assert abs(e1 / dt - ev["drift"] - dt * ev["drift_next"]) < 5 * dt**2
        assert abs(cv / dt - ev["covariation"] - dt * ev["covariation_next"]) < 5 * dt**2
    assert stp.drift == stp.p[0] * stp.mu_d + stp.p[1] * stp.c_dd / 2


def test_resnet_builder_against_one_step_network_moments():
    """The builder's drift and covariation (from the model, D = 3, two inputs, psi = tanh) agree with exact
    one-step moments of x + phi(dW tanh(x) + db), phi(u) = u + a u^2 / 2 (so phi'(0) = 1, phi''(0) = a), to O(dt)."""
    D, a, sw, sb = 3, 0.8, 1.3, 0.6
    M = resnet_iid_system(D, 2, psi=sp.tanh)
    x = np.array([0.5, -1.0, 0.3])
    y = np.array([-0.2, 0.7, 1.1])
    p = M.params
    subs = {p.p1: 1.0, p.p2: a, p.sigma_w: sw, p.sigma_b: sb}
    subs.update({M.x[0][d]: x[d] for d in range(D)})
    subs.update({M.x[1][d]: y[d] for d in range(D)})
    drift = float(M.system.drift_of(M.x[0][1]).subs(subs))
    cov = float(M.system.state_covariation(M.x[0][1], M.x[1][1]).subs(subs))
    off = M.system.state_covariation(M.x[0][0], M.x[1][2])
    assert off == 0
    tx, ty = np.tanh(x), np.tanh(y)
    S = np.array([[sb**2 + sw**2 * tx @ tx / D, sb**2 + sw**2 * tx @ ty / D],
                  [sb**2 + sw**2 * tx @ ty / D, sb**2 + sw**2 * ty @ ty / D]])
    errs = []
    for dt in (1e-3, 1e-4):
        pts, W = _gauss_grid(np.zeros(2), S * dt, n=8)
        ph = pts + a * pts**2 / 2
        m = W @ ph
        errs.append((m[0] / dt - drift, W @ ((ph[:, 0] - m[0]) * (ph[:, 1] - m[1])) / dt - cov))
    for e_small, e_big in zip(errs[1], errs[0]):
        assert abs(e_small) < 1e-3 and abs(e_small) < 0.2 * abs(e_big) + 1e-12


def test_lemma21_representation_is_a_valid_correlation_structure():
    """The printed correlation is 1 for i = j (each B^(i) is a standard BM) and reproduces the model's covariation."""
    M = resnet_iid_system(2, 2, params=ResNetParams())
    R = lemma21_representation(M)
    assert R.system.brownian_covariance(R.B[0][0], R.B[0][0]) == 1
    assert R.system.brownian_covariance(R.B[0][0], R.B[1][1]) == 0
    got = R.system.state_covariation(M.x[0][0], M.x[1][0])
    want = M.system.state_covariation(M.x[0][0], M.x[1][0])
    assert sp.simplify(got - want) == 0
