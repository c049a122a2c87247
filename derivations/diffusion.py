"""Diffusion limit of one residual step, to first and second order in dt.

Model (P0, eq. (8)/(11), L181-203): Dx = phi(h) with h = m dt + xi sqrt(dt), xi ~ N(0, V) exactly Gaussian
given the state (m and V come from a parameter law, ``derivations.laws``).  Write eps = sqrt(dt), Taylor-expand
phi(h) = sum_n c_n h^n / n! (c_n = phi^(n)(0)) and take Gaussian moments with Isserlis' theorem:

    E[Dx_k]          = mu_k dt + mu1_k dt^2 + O(dt^3)           (drift and its next-order term)
    Cov(Dx_k, Dx_l)  = S_kl dt + S1_kl dt^2 + O(dt^3)           (diffusion and its next-order term)
    E[Dx_k^4]        = R_k dt^2 + O(dt^3)                        (Assumption 1 (3) with delta = 2)

The expansion is done once for a generic pair of scalar pre-activations (symbols m_k, m_l, V_kk, V_kl,
V_ll, c_0..c_n) and cached; a law only substitutes its own m and V.  The next-order terms predict the O(dt)
bias of a finite network with L = T/dt layers.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import sympy as sp

from derivations.cache import derivation

from derivations.laws import GaussianLaw

EPS = sp.Symbol("epsilon", positive=True)  # sqrt(dt)
DT = sp.Symbol("Delta_t", positive=True)
MK, ML = sp.symbols("m_k m_l", real=True)
VKK, VLL = sp.symbols("V_kk V_ll", positive=True)
VKL = sp.Symbol("V_kl", real=True)
XK, XL = sp.symbols("xi_k xi_l", real=True)
NMAX = 6


def phi_coeffs(n: int = NMAX) -> tuple[sp.Symbol, ...]:
    """Symbols c_0..c_n standing for phi(0), phi'(0), ..., phi^(n)(0)."""
    return tuple(sp.Symbol(f"phi{j}", real=True) for j in range(n + 1))


PHI = phi_coeffs()


def gaussian_moment(a: int, b: int, vkk=VKK, vkl=VKL, vll=VLL) -> sp.Expr:
    """Isserlis: E[xi_k^a xi_l^b] for (xi_k, xi_l) ~ N(0, [[vkk, vkl], [vkl, vll]])."""
    total = sp.Integer(0)
    for j in range(min(a, b) + 1):
        if (a - j) % 2 or (b - j) % 2:
            continue
        p, q = (a - j) // 2, (b - j) // 2
        total += sp.Rational(factorial(a) * factorial(b), factorial(j) * factorial(p) * factorial(q) * 2 ** (p + q)) \
            * vkl**j * vkk**p * vll**q
    return total


def _expect(poly_expr: sp.Expr) -> sp.Expr:
    """Replace each monomial xi_k^a xi_l^b by its Gaussian moment."""
    P = sp.Poly(sp.expand(poly_expr), XK, XL)
    return sp.expand(sum(coef * gaussian_moment(a, b) for (a, b), coef in P.terms()))


def _phi_series(m, xi, order: int) -> sp.Expr:
    """phi(m eps^2 + xi eps) truncated at eps^order."""
    h = m * EPS**2 + xi * EPS
    s = sum(PHI[n] * h**n / factorial(n) for n in range(order + 1))
    return _truncate(sp.expand(s), order)


def _truncate(expr: sp.Expr, order: int) -> sp.Expr:
    P = sp.Poly(expr, EPS)
    return sp.expand(sum(c * EPS**k for (k,), c in P.terms() if k <= order))


def _coeff_dt(expr: sp.Expr, power: int) -> sp.Expr:
    """Coefficient of dt^power = eps^(2 power) (odd powers of eps vanish by symmetry; asserted)."""
    e = sp.expand(expr)
    odd = [e.coeff(EPS, k) for k in range(1, 2 * power + 2, 2)]
    assert all(sp.simplify(o) == 0 for o in odd), "odd powers of sqrt(dt) must vanish"
    return sp.expand(e.coeff(EPS, 2 * power))


@dataclass(frozen=True)
class PairExpansion:
    """Generic expansions in the symbols m_k, m_l, V_kk, V_kl, V_ll, phi0..phi6."""

    mean: tuple[sp.Expr, sp.Expr, sp.Expr]   # coefficients of dt^0, dt^1, dt^2 in E phi(h_k)
    cov: tuple[sp.Expr, sp.Expr, sp.Expr]    # same for Cov(phi(h_k), phi(h_l))
    fourth: tuple[sp.Expr, ...]              # E phi(h_k)^4: coefficients of dt^0..dt^2


@derivation
def pair_expansion() -> PairExpansion:
    """Expand E[phi(h_k)], Cov(phi(h_k), phi(h_l)), E[phi(h_k)^4] to O(dt^2) (order eps^4)."""
    fk = _phi_series(MK, XK, 4)
    fl = _phi_series(ML, XL, 4)
    Ek = _truncate(_expect(fk), 4)
    El = _truncate(_expect(fl), 4)
    Ekl = _truncate(_expect(_truncate(sp.expand(fk * fl), 4)), 4)
    cov = _truncate(sp.expand(Ekl - Ek * El), 4)
    f4 = _truncate(_expect(_truncate(sp.expand(fk**4), 4)), 4)
    return PairExpansion(tuple(_coeff_dt(Ek, j) for j in range(3)), tuple(_coeff_dt(cov, j) for j in range(3)),
                         tuple(_coeff_dt(f4, j) for j in range(3)))


@dataclass
class OneStepLimit:
    """Drift/diffusion (order 1) and next-order terms of one residual step, stacked over N inputs x D units."""

    drift: sp.Matrix        # mu,  ND x 1
    drift_next: sp.Matrix   # mu1, ND x 1
    diffusion: sp.Matrix    # S,   ND x ND   (Cov(Dx)/dt -> S)
    diffusion_next: sp.Matrix
    fourth: sp.Matrix       # R_k, ND x 1    (E[Dx_k^4] = R_k dt^2 + ...)
    mean_h: sp.Matrix       # m (E h / dt)
    cov_h: sp.Matrix        # V (Cov h / dt)


def _sub(expr: sp.Expr, mk, ml, vkk, vkl, vll, phi: dict) -> sp.Expr:
    return expr.xreplace({MK: mk, ML: ml, VKK: vkk, VKL: vkl, VLL: vll, **phi})


@derivation
def one_step_limit(law: GaussianLaw, psis: list[sp.Matrix], phi_at_0: dict | None = None) -> OneStepLimit:
    """Drift, diffusion and next-order terms of x + phi(dW psi(x) + db) for the inputs ``psis``.

    ``phi_at_0`` maps the symbols ``PHI[n]`` to values (e.g. {PHI[0]: 0} for Assumption 5); unspecified
    derivatives stay symbolic.
    """
    m, V = law.stacked(psis)
    n = m.rows
    phi = {k: v for k, v in (phi_at_0 or {}).items()}
    pe = pair_expansion()
    drift = sp.Matrix([_sub(pe.mean[1], m[k], m[k], V[k, k], V[k, k], V[k, k], phi) for k in range(n)])
    drift_next = sp.Matrix([_sub(pe.mean[2], m[k], m[k], V[k, k], V[k, k], V[k, k], phi) for k in range(n)])
    S = sp.zeros(n, n)
    S1 = sp.zeros(n, n)
    for k in range(n):
        for l in range(k, n):
            S[k, l] = S[l, k] = _sub(pe.cov[1], m[k], m[l], V[k, k], V[k, l], V[l, l], phi)
            S1[k, l] = S1[l, k] = _sub(pe.cov[2], m[k], m[l], V[k, k], V[k, l], V[l, l], phi)
    fourth = sp.Matrix([_sub(pe.fourth[2], m[k], m[k], V[k, k], V[k, k], V[k, k], phi) for k in range(n)])
    # Assumption 5 needs phi(0) = 0; with phi(0) != 0 the drift would carry a 1/dt term
    return OneStepLimit(drift, drift_next, S, S1, fourth, m, V)


def order_zero_terms(law: GaussianLaw, psis: list[sp.Matrix]) -> sp.Matrix:
    """Coefficients of dt^0 in E[Dx] (must vanish for a diffusion limit: it is phi(0))."""
    m, V = law.stacked(psis)
    pe = pair_expansion()
    return sp.Matrix([_sub(pe.mean[0], m[k], m[k], V[k, k], V[k, k], V[k, k], {}) for k in range(m.rows)])
