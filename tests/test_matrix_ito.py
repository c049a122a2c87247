"""Specification of the matrix-valued Ito calculus (derivations.matrix_ito) and of the Jacobian engines
(numeric.jacobian).

Symbolic properties are exact (SymPy, residual == 0); numeric ones have tolerances stated next to them.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import matrix_ito as mi
from derivations.diffusion import PHI
from derivations.ito import ItoSystem
from numeric.activations import get_activation
from numeric.jacobian import (CoupledCoarseJacobian, LeftEuler, PathwiseJacobian, RightEuler, batched_inverse, chain,
                              one_step_jacobian_mean, relative_rms, step_jacobian)
from numeric.laws import GaussianLaw
from numeric.resnet import one_step, simulate_dense

SMALL = st.integers(-3, 3)


def _two_matrix_system(coefs, rho):
    """States X (2x2), Y (2x2); each entry has drift and loadings on two correlated BMs B1, B2 that are small
    integers times (1 + another state), so coefficients are state dependent."""
    X, Y = mi.matrix_state("X", 2), mi.matrix_state("Y", 2)
    B1, B2 = sp.symbols("B1 B2")
    it = iter(coefs)
    drift, load = {}, {}
    for M, other in ((X, Y), (Y, X)):
        for i in range(2):
            for j in range(2):
                drift[M[i, j]] = next(it) * other[j, i]
                load[M[i, j]] = {B1: next(it) + other[i, j], B2: next(it)}
    system = ItoSystem(list(X) + list(Y), drift, load, {(B1, B2): rho})
    return system, X, Y


@settings(derandomize=True, deadline=None, max_examples=6)
@given(st.lists(SMALL, min_size=24, max_size=24), st.sampled_from([sp.Integer(0), sp.Rational(1, 3), sp.Rational(-1, 2)]))
def test_product_rule_equals_entrywise_ito_formula(coefs, rho):
    """d(XY) = dX Y + X dY + d[X, Y] (matrix-product bracket) equals Ito's formula applied entry by entry to the
    polynomial map (X, Y) -> XY, for state-dependent coefficients and correlated Brownian motions."""
    system, X, Y = _two_matrix_system(coefs, rho)
    dX, dY = mi.system_differential(system, X), mi.system_differential(system, Y)
    noise = ItoSystem([], {}, {}, {(b, bp): system.brownian_covariance(b, bp) for b in system.brownians for bp in system.brownians})
    assert mi.differentials_equal(mi.product_rule(X, dX, Y, dY, noise), mi.system_differential(system, X * Y))


@settings(derandomize=True, deadline=None, max_examples=6)
@given(st.lists(SMALL, min_size=24, max_size=24))
def test_brackets_are_contractions_of_the_covariation_tensor(coefs):
    """[X, Y]_{de} = sum_k T[(d,k),(k,e)] and [X, Y]^o_{de} = T[(d,e),(d,e)], T the full covariation tensor."""
    system, X, Y = _two_matrix_system(coefs, sp.Rational(1, 4))
    dX, dY = mi.system_differential(system, X), mi.system_differential(system, Y)
    T = mi.covariation_tensor(dX, dY, system)
    Mp = mi.covariation_matrix(dX, dY, system)
    Me = mi.elementwise_covariation(dX, dY, system)
    for d in range(2):
        for e in range(2):
            assert sp.expand(Mp[d, e] - sum(T[d * 2 + k, k * 2 + e] for k in range(2))) == 0
            assert sp.expand(Me[d, e] - T[d * 2 + e, d * 2 + e]) == 0
            # and the entries are the scalar covariations of the ItoSystem
            assert sp.expand(Me[d, e] - system.covariation(X[d, e], Y[d, e])) == 0


@settings(derandomize=True, deadline=None, max_examples=8)
@given(st.lists(st.integers(-2, 2), min_size=9, max_size=9), st.lists(st.integers(0, 2), min_size=3, max_size=3))
def test_isserlis_matches_moment_generating_function(entries, powers):
    """E[z1^a z2^b z3^c] from Isserlis pairings equals the derivative of exp(t^T C t / 2) at t = 0 (C = A A^T)."""
    A = sp.Matrix(3, 3, entries)
    C = A * A.T
    z = sp.symbols("z1:4")
    t = sp.symbols("t1:4")
    mgf = sp.exp((sp.Matrix([t]) * C * sp.Matrix(t))[0] / 2)
    deriv = mgf
    for ti, p in zip(t, powers):
        deriv = sp.diff(deriv, ti, p)
    want = sp.simplify(deriv.subs({ti: 0 for ti in t}))
    got = mi.gaussian_expectation(sp.Mul(*[zi**p for zi, p in zip(z, powers)]), z, C)
    assert sp.simplify(got - want) == 0


def test_inverse_of_scalar_exponential_by_hand():
    """D = 1: dg = dZ g with dZ = M dt + phi'(0) psi' dW~ gives, by hand (Ito for 1/g),
    d(1/g) = (1/g)(-dZ + phi'(0)^2 psi'^2 Sigma dt); both engine derivations reproduce it."""
    s, dZ = mi.derived_jacobian_noise(1)
    g = s.g[0, 0]
    Sig = s.law.cov_W[0, 0]
    want_drift = (-dZ.drift[0, 0] + PHI[1] ** 2 * s.dpsi[0] ** 2 * Sig) / g
    want_load = -PHI[1] * s.dpsi[0] / g
    for dY in (mi.inverse_by_product_rule(s, dZ), mi.inverse_by_ito_formula(s, dZ)):
        assert sp.simplify(dY.drift[0, 0] - want_drift) == 0
        (b, c), = dY.loadings.items()
        assert sp.simplify(c[0, 0] - want_load) == 0


def test_jacobian_drift_is_steins_lemma():
    """The Taylor/Isserlis drift equals Stein's lemma to first order:
    M_de = (phi'(0) mu^W_de + phi''(0) sum_k psi_k Sigma^W_{(dk),(de)}) psi'_e (general law, D = 2)."""
    s = mi.jacobian_setup(2)
    mom = mi.jacobian_step_moments(2)
    for d in range(2):
        for e in range(2):
            stein = (PHI[1] * s.law.mean_W[d, e] + PHI[2] * sum(s.psi[k] * s.sigma_w(d, k, d, e) for k in range(2))) * s.dpsi[e]
            assert sp.expand(mom.drift_coef[d, e] - stein) == 0


def test_inverse_derivations_agree_at_D2():
    """Product rule from d(g g^{-1}) = 0 and Ito's formula for g -> g^{-1} give the same SDE; it is
    Y(-dZ + d[Z, Z]) with the matrix-product bracket."""
    inv = mi.inverse_sdes(2)
    assert inv.agree
    s, dZ = mi.derived_jacobian_noise(2)
    want = (-dZ).plus_dt(mi.covariation_matrix(dZ, dZ, s.noise)).left(s.g.inv())
    assert mi.differentials_equal(inv.product_rule, want)


# ------------------------------------------------------------------------------------------------ numeric
ACTS = ["tanh", "swish", "sin", "poly", "identity"]


@settings(derandomize=True, deadline=None, max_examples=10)
@given(st.sampled_from(ACTS), st.sampled_from(ACTS), st.integers(0, 2**31 - 1))
def test_step_jacobian_matches_central_differences(phi, psi, seed):
    """step_jacobian = d/dx of one_step; central differences with step 1e-5 have error ~1e-10, tolerance 1e-7."""
    rng = np.random.default_rng(seed)
    D = 3
    x = rng.normal(size=(1, D))
    dW, db = rng.normal(size=(1, D, D)) * 0.5, rng.normal(size=(1, D)) * 0.5
    J = step_jacobian(x, dW, db, get_activation(phi), get_activation(psi))[0]
    f = lambda z: one_step(z[None, None, :], dW, db, get_activation(phi).f, get_activation(psi).f)[0, 0]  # noqa: E731
    eps = 1e-5
    fd = np.stack([(f(x[0] + eps * np.eye(D)[k]) - f(x[0] - eps * np.eye(D)[k])) / (2 * eps) for k in range(D)], axis=1)
    assert np.abs(J - fd).max() < 1e-7


def test_pathwise_tracker_is_the_product_of_step_jacobians():
    """The tracked g_T equals the product of step Jacobians rebuilt from the recorded increments (round-off only),
    and batched_inverse inverts it."""
    rng = np.random.default_rng(3)
    B, D, L = 5, 3, 7
    law = GaussianLaw.iid(D, 1.0, 0.7)
    x0 = rng.normal(size=(B, 1, D))
    rec = []
    tr = PathwiseJacobian(B=B, D=D, dt=1 / L, phi="swish", psi="tanh")
    simulate_dense(x0, law, L=L, T=1.0, phi="swish", psi="tanh", B=B, rng=rng,
                   callback=chain(tr, lambda l, x, dW, db: rec.append((x[:, 0].copy(), dW.copy(), db.copy()))))
    g = np.broadcast_to(np.eye(D), (B, D, D)).copy()
    for x, dW, db in rec:
        g = step_jacobian(x, dW, db, get_activation("swish"), get_activation("tanh")) @ g
    assert np.abs(g - tr.g).max() < 1e-12
    assert np.abs(batched_inverse(tr.g) @ tr.g - np.eye(D)).max() < 1e-10


def test_euler_of_dg_equals_linear_network_exactly():
    """phi = psi = identity: one layer's Jacobian is I + dW, so the right Euler scheme with dZ = dW IS the network's
    Jacobian, and the left scheme of U with dU = U dZ is its transpose analogue (I + dW_0)...(I + dW_{L-1})."""
    rng = np.random.default_rng(5)
    B, D, L = 4, 3, 10
    law = GaussianLaw.iid(D, 1.0, 0.5)
    x0 = rng.normal(size=(B, 1, D))
    tr = PathwiseJacobian(B=B, D=D, dt=0.1, phi="identity", psi="identity",
                          schemes={"R": RightEuler(lambda x, dW, db, dt: dW), "U": LeftEuler(lambda x, dW, db, dt: dW)})
    rec = []
    simulate_dense(x0, law, L=L, T=1.0, phi="identity", psi="identity", B=B, rng=rng,
                   callback=chain(tr, lambda l, x, dW, db: rec.append(dW.copy())))
    assert relative_rms(tr.schemes["R"].state, tr.g)[0] < 1e-13
    U = np.broadcast_to(np.eye(D), (B, D, D)).copy()
    for dW in rec:
        U = U @ (np.eye(D) + dW)
    assert np.abs(U - tr.schemes["U"].state).max() < 1e-12


def test_coupled_coarse_with_factor_one_is_the_network():
    """The multilevel coupling with factor 1 reproduces the fine network's state and Jacobian."""
    rng = np.random.default_rng(7)
    B, D, L = 6, 2, 12
    x0 = rng.normal(size=(B, 1, D))
    tr = PathwiseJacobian(B=B, D=D, dt=1 / L, phi="tanh", psi="sin")
    co = CoupledCoarseJacobian(B=B, D=D, factor=1, phi="tanh", psi="sin", x0=x0[:, 0])
    r = simulate_dense(x0, GaussianLaw.iid(D, 1.2, 0.5), L=L, T=1.0, phi="tanh", psi="sin", B=B, rng=rng,
                       callback=chain(tr, co))
    assert np.abs(co.x - r.x[:, 0]).max() < 1e-13
    assert np.abs(co.g - tr.g).max() < 1e-13


def test_one_step_mean_by_stein_matches_monte_carlo():
    """one_step_jacobian_mean (Stein + Gauss-Hermite, exact) vs direct sampling of I + diag(phi'(h)) dW diag(psi')
    under a general law at dt = 0.05: |MC - exact| <= 4.5 SE per entry (9 entries, family-wise ~6e-5)."""
    rng = np.random.default_rng(11)
    D = 3
    AW = rng.normal(size=(D * D, D * D)) * 0.4
    law = GaussianLaw.general(rng.normal(size=(D, D)) * 0.4, AW @ AW.T, rng.normal(size=D) * 0.3, 0.3 * np.eye(D))
    x = rng.normal(size=D)
    dt = 0.05
    exact = one_step_jacobian_mean(x, law, "swish", "tanh", dt)
    n = 200_000
    dW, db = law.sample(rng, n, dt)
    J = step_jacobian(np.broadcast_to(x, (n, D)), dW, db, get_activation("swish"), get_activation("tanh")) - np.eye(D)
    se = J.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(J.mean(axis=0) - exact) <= 4.5 * se)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_batched_inverse_marks_non_finite_inputs(bad):
    g = np.stack([np.eye(2), np.array([[1.0, bad], [0.0, 1.0]])])
    inv = batched_inverse(g)
    assert np.allclose(inv[0], np.eye(2)) and not np.all(np.isfinite(inv[1]))
