"""Width-first limit of P0's ResNet (Sec. 5.6, L677-701), derived from the model (SymPy only).

Model: x_{t+dt} = x_t + phi(dW psi(x_t) + db) (eq. (11)) with dW iid N(0, sigma_w^2 dt / D), db iid N(0, sigma_b^2 dt)
(eqs. (18)-(19)); Sec. 5.6 drops phi (phi = identity) and sets sigma_b = 0, sigma_w = 1.

1. Given the states, the pre-activations h_d = (dW psi(x))_d + db_d of two inputs are jointly Gaussian, iid over
   d, with covariance dt (sigma_b^2 + sigma_w^2 <psi(x), psi(y)>/D) (``conditional_increment_cov``, from
   ``derivations.laws.iid``), and independent of x_{t,d} (row d of dW is independent of x_t).
2. Width first (D -> infinity at fixed dt): <psi(x), psi(y)>/D -> E[psi(eps) psi(gamma)] =: Lambda (law of large
   numbers over iid units), so with phi = identity x_{t+dt,d} = x_{t,d} + N(0, dt (s + w Lambda)) independent of
   x_{t,d}: Sigma_{t+dt} = Sigma_t + dt (s + w Lambda_t) (``recursion_increment``).  The increment of the
   covariance needs no cross term because E[x_{t,d} h'_d] = 0.
3. With a smooth phi and psi = identity (raw second moments lambda_ij = E[x_d x'_d], m_i = E x_d):
   m_i <- m_i + E phi(h_i),  lambda_ij <- lambda_ij + m_i E phi(h_j) + m_j E phi(h_i) + E[phi(h_i) phi(h_j)],
   h ~ N(0, dt [[S_i, S_ij], [S_ij, S_j]]), S_ij = s + w lambda_ij (exact in the width-first limit at every dt;
   ``numeric.width_first`` iterates it).  Its dt -> 0 limit (``width_first_ode``) keeps the O(dt) terms of the
   Gaussian moments (Isserlis, ``derivations.diffusion.gaussian_moment``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derivations import laws
from derivations import odes as O
from derivations.diffusion import gaussian_moment

Lam = sp.Symbol("Lambda", real=True)  # E[psi(eps) psi(gamma)] (the width-first limit of <psi(x), psi(y)>/D)
Sig0, Sig = sp.Symbol("Sigma_0", real=True), sp.Symbol("Sigma", real=True)
EPS = sp.Symbol("epsilon", positive=True)  # sqrt(dt)
c3, c4 = sp.symbols("phi3 phi4", real=True)  # phi'''(0), phi''''(0): must not survive at O(dt)


@lru_cache(maxsize=None)
def conditional_increment_cov(D: int = 3) -> sp.Matrix:
    """Cov(h(x), h(y) | x, y)/dt (D x D) for h = dW psi(x) + db under Assumption 7, psi(x), psi(y) free symbols."""
    law = laws.iid(D, O.sigma_w, O.sigma_b)
    px = sp.Matrix([sp.Symbol(f"px{d + 1}", real=True) for d in range(D)])
    py = sp.Matrix([sp.Symbol(f"py{d + 1}", real=True) for d in range(D)])
    return sp.expand(law.preact_cov(px, py)), px, py


def recursion_increment(D: int = 3) -> sp.Expr:
    """dt x the (1,1) entry of the conditional covariance with <psi(x), psi(y)>/D replaced by its limit Lambda."""
    C, px, py = conditional_increment_cov(D)
    inner = sum(a * b for a, b in zip(px, py)) / D
    entry = sp.expand(C[0, 0])
    # entry = sigma_b^2 + sigma_w^2 * inner exactly: solve for the coefficient and substitute the limit
    k = sp.Symbol("k")
    sol = sp.solve(sp.Poly(sp.expand(entry - O.sigma_b**2 - k * inner), *px, *py).coeffs(), k, dict=True)
    if len(sol) != 1:
        raise AssertionError(f"conditional covariance is not sigma_b^2 + k <psi, psi'>/D: {entry}")
    return O.dt * (O.sigma_b**2 + sol[0][k] * Lam)


def printed_recursion_increment() -> sp.Expr:
    """L687-693: Sigma_{t:t+dt} = E[psi(eps) psi(gamma)] dt (sigma_b^2 = 0, sigma_w^2 = 1)."""
    return Lam * O.dt


def ode44_identity_solution(with_sigmas: bool = False) -> sp.Expr:
    """dsolve Sigma' = s + w Sigma (psi = identity: Lambda = Sigma), Sigma(0) = Sigma_0; (44) at s = 0, w = 1."""
    f = sp.Function("f")
    s, w = (O.sigma_b**2, O.sigma_w**2) if with_sigmas else (0, 1)
    sol = sp.dsolve(sp.Eq(f(O.t).diff(O.t), s + w * f(O.t)), f(O.t), ics={f(0): Sig0})
    return sp.simplify(sol.rhs.subs(O.t, O.T))


# ----------------------------------------------------------------------------------------------------------
# width-first moment recursion with a smooth phi (psi = identity) and its dt -> 0 limit
# ----------------------------------------------------------------------------------------------------------
def _phi_series(h: sp.Expr) -> sp.Expr:
    return O.phi1 * h + O.a * h**2 / 2 + c3 * h**3 / 6 + c4 * h**4 / 24


def _expect_pair(expr: sp.Expr, xi, xj, Si, Sj, Sij) -> sp.Expr:
    P = sp.Poly(sp.expand(expr), xi, xj)
    return sp.expand(sum(coef * gaussian_moment(p, q, Si, Sij, Sj) for (p, q), coef in P.terms()))


@lru_cache(maxsize=None)
def one_step_rates() -> dict:
    """O(dt) coefficients of E phi(h_i) and E phi(h_i) phi(h_j) for h = sqrt(dt) xi, xi ~ N(0, [[S_i,S_ij],[S_ij,S_j]])."""
    xi, xj = sp.symbols("xi_i xi_j", real=True)
    Si, Sj, Sij = sp.symbols("S_i S_j S_ij", real=True)
    e1 = _expect_pair(_phi_series(EPS * xi), xi, xj, Si, Sj, Sij)
    e2 = _expect_pair(_phi_series(EPS * xi) * _phi_series(EPS * xj), xi, xj, Si, Sj, Sij)
    coef = lambda e: sp.expand(e).coeff(EPS, 2)  # noqa: E731  (dt = eps^2)
    low = lambda e: [sp.expand(e).coeff(EPS, k) for k in (0, 1)]  # noqa: E731
    if any(v != 0 for v in low(e1) + low(e2)):
        raise AssertionError("terms of order below dt in the one-step moments")
    return {"mean": coef(e1), "prod": coef(e2), "S": (Si, Sj, Sij)}


@dataclass(frozen=True)
class MomentODE:
    m: sp.Expr
    q: sp.Expr
    lam: sp.Expr


@lru_cache(maxsize=None)
def width_first_ode() -> MomentODE:
    """dt -> 0 limit of the width-first recursion (step 3 of the module docstring) in the invariants of
    ``derivations.odes`` (m_i, m_j, q_i, q_j, lambda_ij)."""
    r = one_step_rates()
    Si, Sj, Sij = r["S"]
    sub = {Si: O.S_of(O.q_i), Sj: O.S_of(O.q_j), Sij: O.S_of(O.lam)}
    mean_i = r["mean"].subs(Si, sub[Si])
    mean_j = r["mean"].subs(Si, sub[Sj])
    lam_rate = sp.expand(O.m_i * mean_j + O.m_j * mean_i + r["prod"].subs(sub))
    q_rate = sp.expand(lam_rate.subs({O.lam: O.q_i, O.m_j: O.m_i, O.q_j: O.q_i}))
    return MomentODE(m=sp.expand(mean_i), q=q_rate, lam=lam_rate)


def absorbed_ode() -> MomentODE:
    """The page's reading (L697-699): (44) with psi = identity, phi'(0) absorbed into sigma_b and sigma_w
    (sigma -> phi'(0) sigma), no other effect of phi: m' = 0, lambda' = phi'(0)^2 (s + w lambda)."""
    p = O.phi1**2
    return MomentODE(m=sp.Integer(0), q=p * (O.sigma_b**2 + O.sigma_w**2 * O.q_i),
                     lam=p * (O.sigma_b**2 + O.sigma_w**2 * O.lam))
