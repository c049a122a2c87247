"""Closed forms of the Gaussian maps E[phi(u) phi(v)], E[phi'(u) phi'(v)] used by P3's kernels, DERIVED with SymPy
(claim file A.7); ``numeric.gaussian_maps`` evaluates them and the tests check the two agree.

* ReLU (arc-cosine kernel), unit variances, correlation c = cos(psi), psi in [0, pi]: write (Z1, Z2) = r (cos th, sin th), so
  u = Z1 = r cos th and v = c Z1 + sqrt(1 - c^2) Z2 = r cos(th - psi).  Both are positive for th in (psi - pi/2, pi/2), and
      E[u+ v+]           = (1/2pi) int_0^oo r^3 e^{-r^2/2} dr  int cos th cos(th - psi) dth = (sin psi + (pi - psi) cos psi)/(2 pi),
      P(u > 0, v > 0)    = (1/2pi) int_0^oo r   e^{-r^2/2} dr  int dth                   = (pi - psi)/(2 pi).
  Checked by Price's theorem (d/dc J1 = J0) and the boundary values J1(0) = (E Z+)^2 = 1/(2 pi), J1(1) = E (Z+)^2 = 1/2.
* ReLU-like phi = lam x+ - beta (-x)+ (Def. 1): by linearity, E[phi phi] = (lam^2 + beta^2) J1(c) - 2 lam beta J1(-c),
  E[phi' phi'] = (lam^2 + beta^2) J0(c) + 2 lam beta J0(-c), for variances scaled by sqrt(q_u q_v) (homogeneity).
* erf: Price's theorem d/ds12 E[erf(u) erf(v)] = (4/pi) E[e^{-u^2 - v^2}] = (4/pi) det(I + 2 Sigma)^{-1/2} (Gaussian
  integral, derived here by completing the square for diagonal Sigma and checked at random points for the general case),
  integrated from s12 = 0 (independent, E erf = 0): E[erf(u) erf(v)] = (2/pi) arcsin(2 s12 / sqrt((1 + 2 s11)(1 + 2 s22))).
* ELU (alpha = 1), u ~ N(0, q): E[phi'(u)^2] = 1/2 + e^{2q} Phi(-2 sqrt q) and E[phi(u)^2] = q/2 + e^{2q} Phi(-2 sqrt q)
  - 2 e^{q/2} Phi(-sqrt q) + 1/2 (A.7), by direct integration of the two pieces.
* Conditional Gaussian means used by the quadrature (numeric H(m, tau) = E[h(m + tau Z)]):
  E[(m + tau Z)+] = m Phi(m/tau) + tau phi(m/tau);  E[e^{m + tau Z} 1{m + tau Z < 0}] = e^{m + tau^2/2} Phi(-m/tau - tau).
"""
from __future__ import annotations

import sympy as sp

from derivations.compare import Comparison, compare

c, psi, th, r = sp.symbols("c psi theta r", real=True)
q, m, z, x = sp.symbols("q m z x", real=True)
tau = sp.symbols("tau", positive=True)
lam, beta = sp.symbols("lambda beta", real=True)
s11, s22 = sp.symbols("s11 s22", positive=True)
s12, w = sp.symbols("s12 w", real=True)


def Phi(x):
    """Standard normal cdf."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def npdf(x):
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def relu_polar() -> tuple[sp.Expr, sp.Expr]:
    """(J1, J0) as functions of the angle psi = arccos c, by integration in polar coordinates (module docstring)."""
    radial3 = sp.integrate(r**3 * sp.exp(-r**2 / 2), (r, 0, sp.oo))          # = 2
    radial1 = sp.integrate(r * sp.exp(-r**2 / 2), (r, 0, sp.oo))             # = 1
    ang = sp.integrate(sp.cos(th) * sp.cos(th - psi), (th, psi - sp.pi / 2, sp.pi / 2))
    J1 = sp.simplify(radial3 * ang / (2 * sp.pi))
    J0 = sp.simplify(radial1 * (sp.pi - psi) / (2 * sp.pi))
    return J1, J0


def relu_J1_J0_in_c() -> tuple[sp.Expr, sp.Expr]:
    """(J1(c), J0(c)) with psi = acos(c)."""
    J1, J0 = relu_polar()
    return sp.simplify(J1.subs(psi, sp.acos(c))), sp.simplify(J0.subs(psi, sp.acos(c)))


def relu_closed_form_printed() -> tuple[sp.Expr, sp.Expr]:
    """A.7 / numeric.gaussian_maps: J1 = (sqrt(1 - c^2) + (pi - acos c) c)/(2 pi), J0 = (pi - acos c)/(2 pi)."""
    return (sp.sqrt(1 - c**2) + (sp.pi - sp.acos(c)) * c) / (2 * sp.pi), (sp.pi - sp.acos(c)) / (2 * sp.pi)


def check_relu() -> dict:
    """Polar derivation vs the closed form, Price's theorem dJ1/dc = J0, and the boundary values."""
    J1, J0 = relu_J1_J0_in_c()
    P1, P0 = relu_closed_form_printed()
    dom = {c: (-0.99, 0.99)}
    return dict(
        J1=compare(J1, P1, domain=dom), J0=compare(J0, P0, domain=dom),
        price=compare(sp.diff(J1, c), J0, domain=dom),
        J1_at_0=compare(J1.subs(c, 0), sp.integrate(x * npdf(x), (x, 0, sp.oo)) ** 2),
        J1_at_1=compare(sp.limit(J1, c, 1), sp.integrate(x**2 * npdf(x), (x, 0, sp.oo))),
    )


def relu_like_maps() -> tuple[sp.Expr, sp.Expr]:
    """E[phi phi], E[phi' phi'] for phi = lam x+ - beta (-x)+ at unit variances and correlation c (linearity)."""
    J1, J0 = relu_J1_J0_in_c()
    # phi(u) phi(v) = lam^2 u+ v+ + beta^2 (-u)+ (-v)+ - lam beta [u+ (-v)+ + (-u)+ v+]; (-u, -v) has the law of (u, v);
    # (u, -v) has correlation -c.
    E = (lam**2 + beta**2) * J1 - 2 * lam * beta * J1.subs(c, -c)
    Ed = (lam**2 + beta**2) * J0 + 2 * lam * beta * J0.subs(c, -c)
    return sp.simplify(E), sp.simplify(Ed)


def relu_eoc_map() -> sp.Expr:
    """The ReLU correlation map on the EOC (sigma_w^2 = 2, sigma_b = 0): f(c) = 2 J1(c)."""
    return sp.simplify(2 * relu_J1_J0_in_c()[0])


def erf_price_integrand() -> sp.Expr:
    """(4/pi) E[exp(-u^2 - v^2)] = (4/pi) det(I + 2 Sigma)^{-1/2}: the 1-D Gaussian integral for one variable,
    E[exp(-u^2)] = (1 + 2 s11)^{-1/2}, derived; the 2-D determinant form is checked in ``check_erf``."""
    return 4 / sp.pi / sp.sqrt((1 + 2 * s11) * (1 + 2 * s22) - 4 * s12**2)


def erf_map_derived() -> sp.Expr:
    """E[erf(u) erf(v)] = int_0^{s12} (4/pi) [(1 + 2 s11)(1 + 2 s22) - 4 w^2]^{-1/2} dw (Price, zero at s12 = 0)."""
    A = sp.symbols("A", positive=True)                                 # A = (1 + 2 s11)(1 + 2 s22) > 4 s12^2
    anti = sp.integrate(4 / sp.pi / sp.sqrt(A - 4 * w**2), w)              # (2/pi) asin(2 w / sqrt(A))
    val = (anti.subs(w, s12) - anti.subs(w, 0)).subs(A, (1 + 2 * s11) * (1 + 2 * s22))
    return sp.simplify(val)


def erf_map_printed() -> sp.Expr:
    return 2 / sp.pi * sp.asin(2 * s12 / sp.sqrt((1 + 2 * s11) * (1 + 2 * s22)))


def check_erf() -> dict:
    """The erf closed form from Price's theorem, and the Gaussian integral behind Price's integrand."""
    one_d = sp.simplify(sp.integrate(sp.exp(-x**2) * sp.exp(-x**2 / (2 * s11)) / sp.sqrt(2 * sp.pi * s11), (x, -sp.oo, sp.oo)))
    dom = {s11: (0.2, 2.0), s22: (0.2, 2.0), s12: (-0.15, 0.15)}
    return dict(
        map=compare(erf_map_derived(), erf_map_printed(), domain=dom),
        gaussian_1d=compare(one_d, 1 / sp.sqrt(1 + 2 * s11), domain={s11: (0.1, 3.0)}),
        # the derivative of the closed form is the Price integrand (consistency of the two printed formulas in A.7)
        price=compare(sp.diff(erf_map_printed(), s12), erf_price_integrand(), domain=dom),
    )


def elu_variance_maps() -> tuple[sp.Expr, sp.Expr]:
    """(E[phi(u)^2], E[phi'(u)^2]) for ELU (alpha = 1), u ~ N(0, q), by integrating the two pieces (q > 0)."""
    qq = sp.symbols("qq", positive=True)
    dens = sp.exp(-x**2 / (2 * qq)) / sp.sqrt(2 * sp.pi * qq)
    E2 = sp.integrate(x**2 * dens, (x, 0, sp.oo)) + sp.integrate((sp.exp(x) - 1) ** 2 * dens, (x, -sp.oo, 0))
    Ed2 = sp.integrate(dens, (x, 0, sp.oo)) + sp.integrate(sp.exp(2 * x) * dens, (x, -sp.oo, 0))
    return sp.simplify(E2.subs(qq, q)), sp.simplify(Ed2.subs(qq, q))


def elu_variance_printed() -> tuple[sp.Expr, sp.Expr]:
    """A.7: q/2 + e^{2q} Phi(-2 sqrt q) - 2 e^{q/2} Phi(-sqrt q) + 1/2 and 1/2 + e^{2q} Phi(-2 sqrt q)."""
    return (q / 2 + sp.exp(2 * q) * Phi(-2 * sp.sqrt(q)) - 2 * sp.exp(q / 2) * Phi(-sp.sqrt(q)) + sp.Rational(1, 2),
            sp.Rational(1, 2) + sp.exp(2 * q) * Phi(-2 * sp.sqrt(q)))


def check_elu() -> dict:
    d2, dd2 = elu_variance_maps()
    p2, pd2 = elu_variance_printed()
    dom = {q: (0.05, 3.0)}
    return dict(E_phi2=compare(d2, p2, domain=dom), E_dphi2=compare(dd2, pd2, domain=dom))


def conditional_means() -> dict:
    """E[(m + tau Z)+] and E[e^{m + tau Z} 1{m + tau Z < 0}] by integration, vs the forms used by the quadrature."""
    dens = npdf(z)
    zc = -m / tau
    relu_mean = sp.integrate((m + tau * z) * dens, (z, zc, sp.oo))
    exp_tail = sp.integrate(sp.exp(m + tau * z) * dens, (z, -sp.oo, zc))
    used_relu = m * Phi(m / tau) + tau * npdf(m / tau)
    used_tail = sp.exp(m + tau**2 / 2) * Phi(-m / tau - tau)
    dom = {m: (-2.0, 2.0), tau: (0.1, 2.0)}
    return dict(relu_mean=compare(sp.simplify(relu_mean.rewrite(sp.erf)), used_relu, domain=dom),
                exp_tail=compare(sp.simplify(exp_tail), used_tail, domain=dom))


def all_checks() -> dict[str, Comparison]:
    """Every comparison above, flattened ('relu.J1', 'erf.map', ...)."""
    out = {}
    for name, fn in (("relu", check_relu), ("erf", check_erf), ("elu", check_elu), ("cond", conditional_means)):
        for k, v in fn().items():
            out[f"{name}.{k}"] = v
    return out
