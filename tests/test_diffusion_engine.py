"""Specification of the diffusion-limit engine (derivations/diffusion.py) against exact one-step moments.

Property: for a random Assumption-4 law, a random state and an activation among tanh, swish, sin, poly,
the exact one-step moments (Gauss-Hermite, error ~1e-13) satisfy
    E[Dx]/dt = mu + dt mu1 + O(dt^2),   Cov(Dx)/dt = S + dt S1 + O(dt^2)
with mu, mu1, S, S1 from the symbolic engine.  Halving dt must divide the residual after the next-order
term by about 4 (we require <= 0.35: a wrong mu1 leaves an O(dt) residual, ratio 0.5; a wrong mu leaves
O(1), ratio 1).  No Monte Carlo, so no false-alarm probability: the tolerance is the convergence order.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from derivations import diffusion, laws
from numeric import quadrature
from numeric.activations import get_activation
from numeric.laws import GaussianLaw as NumLaw
from verify.claims.p0_common import ASSUMPTION_5, evaluate, general_law_values, phi_values, psi_symbols, random_general_law

D = 2
LAW = laws.general(D)
PSI = psi_symbols(D)
LIM = diffusion.one_step_limit(LAW, [PSI], ASSUMPTION_5)


def _residuals(act, seed, key):
    rng = np.random.default_rng(seed)
    inst = random_general_law(rng, D)
    x = rng.normal(size=D) * 1.5
    vals = general_law_values(LAW, inst)
    vals.update({PSI[d]: np.tanh(x[d]) for d in range(D)})
    vals.update(phi_values(act))
    first = evaluate(LIM.drift if key == "mean" else LIM.diffusion, vals).squeeze()
    nxt = evaluate(LIM.drift_next if key == "mean" else LIM.diffusion_next, vals).squeeze()
    nl = NumLaw.general(inst["mean_W"], inst["Sigma_W"], inst["mean_b"], inst["Sigma_b"])
    out = []
    for dt in (4e-3, 2e-3, 1e-3):
        m = quadrature.one_step_moments(x, nl, get_activation(act), get_activation("tanh"), dt)[key] / dt
        out.append((np.max(np.abs(m - first)), np.max(np.abs(m - first - dt * nxt))))
    return np.array(out)


@settings(derandomize=True, deadline=None, max_examples=12)
@given(act=st.sampled_from(["tanh", "swish", "sin", "poly"]), seed=st.integers(0, 10_000),
       key=st.sampled_from(["mean", "cov"]))
def test_one_step_moments_converge_at_the_derived_next_order_rate(act, seed, key):
    r = _residuals(act, seed, key)
    first_order, second_order = r[:, 0], r[:, 1]
    # first order: halving dt halves the residual (ratio ~0.5) unless it is already at round-off
    assert first_order[-1] <= 0.6 * first_order[-2] + 1e-11
    # next order: residual after subtracting dt*next shrinks like dt^2 (ratio ~0.25)
    assert second_order[-1] <= 0.35 * second_order[-2] + 1e-11


def test_a_wrong_next_order_term_is_detected():
    """The property above can fail: perturbing mu1 by 10% leaves an O(dt) residual (ratio ~0.5)."""
    rng = np.random.default_rng(3)
    inst = random_general_law(rng, D)
    x = rng.normal(size=D)
    vals = general_law_values(LAW, inst)
    vals.update({PSI[d]: np.tanh(x[d]) for d in range(D)})
    vals.update(phi_values("swish"))
    mu, mu1 = evaluate(LIM.drift, vals).ravel(), evaluate(LIM.drift_next, vals).ravel() * 1.1
    nl = NumLaw.general(inst["mean_W"], inst["Sigma_W"], inst["mean_b"], inst["Sigma_b"])
    res = [np.max(np.abs(quadrature.one_step_moments(x, nl, get_activation("swish"), get_activation("tanh"), dt)["mean"] / dt
                         - mu - dt * mu1)) for dt in (2e-3, 1e-3)]
    assert res[1] > 0.4 * res[0]


def test_isserlis_moments():
    """E[xi^4] = 3 V^2, E[xi_k^2 xi_l^2] = V_kk V_ll + 2 V_kl^2, odd moments vanish."""
    V, C, W = diffusion.VKK, diffusion.VKL, diffusion.VLL
    assert sp.expand(diffusion.gaussian_moment(4, 0) - 3 * V**2) == 0
    assert sp.expand(diffusion.gaussian_moment(2, 2) - (V * W + 2 * C**2)) == 0
    assert diffusion.gaussian_moment(3, 0) == 0 and diffusion.gaussian_moment(1, 2) == 0
    assert sp.expand(diffusion.gaussian_moment(1, 1) - C) == 0


def test_a_new_law_needs_no_new_expansion_code():
    """Genericity: a law is only (mean, covariance) of the weights; e.g. a diagonal-covariance law defined here."""
    sig = sp.symbols("s0:4", positive=True)
    law = laws.GaussianLaw("diagonal", sp.zeros(2, 2), sp.diag(*[s**2 for s in sig]), sp.zeros(2, 1), sp.eye(2))
    psi = psi_symbols(2)
    lim = diffusion.one_step_limit(law, [psi], ASSUMPTION_5)
    P1, P2 = diffusion.PHI[1], diffusion.PHI[2]
    expected_var0 = sig[0] ** 2 * psi[0] ** 2 + sig[1] ** 2 * psi[1] ** 2 + 1
    assert sp.simplify(lim.drift[0] - P2 / 2 * expected_var0) == 0
    assert sp.simplify(lim.diffusion[0, 0] - P1**2 * expected_var0) == 0
    assert sp.simplify(lim.diffusion[0, 1]) == 0


def test_phi_of_zero_must_vanish_for_a_diffusion_limit():
    """With phi(0) != 0 the mean increment has an O(1) term (order dt^0): the engine exposes it."""
    z = diffusion.order_zero_terms(laws.iid(2), [psi_symbols(2)])
    assert all(sp.simplify(t - diffusion.PHI[0]) == 0 for t in z)


@pytest.mark.parametrize("law_fn", [laws.iid, laws.matrix_gaussian, laws.general])
def test_symbolic_and_numeric_laws_agree(law_fn):
    """The symbolic law's preactivation covariance equals the numeric law's, at random numbers."""
    rng = np.random.default_rng(7)
    law = law_fn(2)
    vals = {s: float(rng.normal()) for s in law.cov_W.free_symbols | law.cov_b.free_symbols | law.mean_W.free_symbols
            | law.mean_b.free_symbols}
    for s in list(vals):
        if s.is_positive:
            vals[s] = abs(vals[s]) + 0.1
    cw = np.array(law.cov_W.subs(vals), float)
    cb = np.array(law.cov_b.subs(vals), float)
    mw = np.array(law.mean_W.subs(vals), float)
    mb = np.array(law.mean_b.subs(vals), float).ravel()
    # covariances of the general law are free symmetric symbols: make them PSD by construction
    if law_fn is laws.general:
        A = rng.normal(size=(4, 4)); cw = A @ A.T
        Bb = rng.normal(size=(2, 2)); cb = Bb @ Bb.T
        vals.update(general_law_values(law, dict(mean_W=mw, Sigma_W=cw, mean_b=mb, Sigma_b=cb)))
    nl = NumLaw.general(mw, cw, mb, cb)
    p, q = rng.normal(size=2), rng.normal(size=2)
    P, Q = psi_symbols(2, "p"), psi_symbols(2, "q")
    sym = law.preact_cov(P, Q).subs(vals).subs({P[0]: p[0], P[1]: p[1], Q[0]: q[0], Q[1]: q[1]})
    np.testing.assert_allclose(np.array(sym, float), nl.preact_cov(p, q), rtol=1e-10, atol=1e-12)
