"""The doubly infinite ODEs of P0, Prop. 18-19 (L513-563), derived from the model (SymPy only).

Pipeline (nothing here is typed from the page except the ``printed_*`` transcriptions):

1. ``derivations.ito.resnet_iid_system`` builds the SDE (20)/(33) of two inputs at a small symbolic width D
   from the model x_{t+dt} = x_t + phi(dW x_t + db) (psi = identity, Assumption 7).
2. ``moment_drifts(D)`` applies Ito's formula to m = sum_d x_d / D, q = |x|^2 / D, lambda = <x^i, x^j> / D and
   *solves* for the coefficients of a polynomial in (m_i, m_j, q_i, q_j, lambda) that equals the drift
   identically in the states (``express_in_invariants``).  The drifts close exactly at every D; the
   quadratic variations are (1/D) x a closed expression, so they vanish as D -> infinity (P0, L986-994).
3. ``moment_ode()`` is the D -> infinity ODE (the drifts, confirmed identical at D = 2 and D = 3).
4. Closed forms: ``dsolve`` for phi''(0) = 0; for phi''(0) != 0 the Riccati reduction u = phi''(0) m + phi'(0)^2,
   u' = (w u^2 + C)/2 with the conserved quantity C = a^2 S - w u^2 (S = s + w q), c1, c2 in closed form and the
   explosion time in the three regimes C > 0, C = 0, C < 0.
5. ``unit_limit_sde()``: the SDE of one unit x^{(i)}_d and the covariations across inputs/units (Prop. 19).
6. ``linear_one_step_moments(D)``: exact one-step conditional moments of q, lambda, x_d x'_d for phi = c x, from
   the one-step map itself (Gaussian second moments), giving exact finite-(D, L) recursions.

Shorthands: a = phi''(0), p = phi'(0)^2, s = sigma_b^2, w = sigma_w^2, S_i = s + w q_i, S_ij = s + w lambda.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derivations.cache import derivation

from derivations.ito import ResNetParams, resnet_iid_system

# ----------------------------------------------------------------------------------------------------------
# Symbols
# ----------------------------------------------------------------------------------------------------------
PARAMS = ResNetParams()
phi1, a, sigma_w, sigma_b = PARAMS.p1, PARAMS.p2, PARAMS.sigma_w, PARAMS.sigma_b  # phi'(0), phi''(0)
p = phi1**2
s = sigma_b**2
w = sigma_w**2
t, T = sp.symbols("t T", nonnegative=True)
m_i, m_j = sp.symbols("m_i m_j", real=True)
q_i, q_j = sp.symbols("q_i q_j", nonnegative=True)
lam = sp.Symbol("lambda_ij", real=True)
m0, q0, lam0 = sp.Symbol("m_0", real=True), sp.Symbol("q_0", nonnegative=True), sp.Symbol("lambda_0", real=True)
m0j, q0j = sp.Symbol("m_0j", real=True), sp.Symbol("q_0j", nonnegative=True)
C, c1, c2 = sp.Symbol("C", real=True), sp.Symbol("c_1", real=True), sp.Symbol("c_2", real=True)
Cpos = sp.Symbol("C", positive=True)  # the regime C > 0, where (37)-(38) are real as printed
u = sp.Symbol("u", real=True)  # u = phi''(0) m + phi'(0)^2
u0 = sp.Symbol("u_0", real=True)
INVARIANTS = (m_i, m_j, q_i, q_j, lam)
#: x-degree of each invariant (m is linear in the states, q and lambda quadratic)
_WEIGHT = {m_i: 1, m_j: 1, q_i: 2, q_j: 2, lam: 2}


def S_of(qq: sp.Expr) -> sp.Expr:
    """sigma_b^2 + sigma_w^2 q."""
    return s + w * qq


# ----------------------------------------------------------------------------------------------------------
# 1-3: drifts of (m, q, lambda) by Ito, reduced to the invariants
# ----------------------------------------------------------------------------------------------------------
class NotClosed(ValueError):
    """The expression is not a polynomial in the invariants (the moment system does not close)."""


def express_in_invariants(expr: sp.Expr, states: list[sp.Symbol], invariants: dict[sp.Symbol, sp.Expr],
                          degree: int) -> sp.Expr:
    """Find the polynomial P in the invariant symbols with P(invariants(x)) == expr(x) identically in ``states``.

    The ansatz is the general polynomial of weighted x-degree <= ``degree`` with unknown coefficients (which
    may depend on the parameters); matching the coefficients of every monomial in the states gives a linear
    system.  Raises ``NotClosed`` if it has no solution, or if the solution is not unique (the invariants are
    then dependent at this D and the reduction is ambiguous).
    """
    syms = list(invariants)
    monos = []
    for powers in itertools.product(*[range(degree // _WEIGHT.get(v, 1) + 1) for v in syms]):
        if sum(k * _WEIGHT.get(v, 1) for k, v in zip(powers, syms)) <= degree:
            monos.append(sp.Mul(*[v**k for v, k in zip(syms, powers)]))
    coefs = sp.symbols(f"k0:{len(monos)}")
    ansatz = sum(c * mono for c, mono in zip(coefs, monos))
    resid = sp.expand(expr - ansatz.subs(invariants, simultaneous=True))
    eqs = sp.Poly(resid, *states).coeffs()
    sol = sp.solve(eqs, coefs, dict=True)
    if not sol:
        raise NotClosed(f"{expr} is not a polynomial of degree <= {degree} in {syms}")
    sol = sol[0]
    if any(c not in sol for c in coefs) or any(v.free_symbols & set(coefs) for v in sol.values()):
        raise NotClosed("the invariants are dependent at this width: the reduction is not unique")
    out = sp.factor(ansatz.subs(sol))
    check = sp.expand(out.subs(invariants, simultaneous=True) - expr)
    if check != 0:
        raise AssertionError("reduction failed its own substitution check")
    return out


@dataclass(frozen=True)
class MomentDrifts:
    """Exact Ito drifts and D x quadratic-variation rates of m_i, q_i, lambda_ij at width D (psi = identity)."""

    D: int
    drift: dict  # {"m": ..., "q": ..., "lam": ...} in the invariants
    qv_times_D: dict  # D * d[F]/dt for F = m, q, lam, in the invariants (empty at D = 2, see moment_drifts)


@lru_cache(maxsize=None)
def _model(D: int, N: int):
    return resnet_iid_system(D, N)


@derivation
def moment_drifts(D: int) -> MomentDrifts:
    """Ito drifts of m^{(1)}, q^{(1)}, lambda^{(1,2)} for the SDE (33) of two inputs at width D, reduced to the
    invariants (P0, Lemma 21 / Prop. 18, L517-525), and D times their quadratic-variation rates (L988-992)."""
    M = _model(D, 2)
    sys = M.system
    states = list(sys.states)
    inv = {m_i: M.m(0), m_j: M.m(1), q_i: M.q(0), q_j: M.q(1), lam: M.lam(0, 1)}
    F = {"m": M.m(0), "q": M.q(0), "lam": M.lam(0, 1)}
    drift = {k: express_in_invariants(sp.expand(sys.drift_of(f)), states, inv, 3) for k, f in F.items()}
    # degree-4 invariants are dependent for two inputs at D = 2 (4 states, 5 invariants): QV reduced for D >= 3
    qv = ({k: express_in_invariants(sp.expand(D * sys.quadratic_variation(f)), states, inv, 4) for k, f in F.items()}
          if D >= 3 else {})
    return MomentDrifts(D, drift, qv)


@dataclass(frozen=True)
class MomentODE:
    """d/dt (m_i, q_i, lambda_ij) as functions of the invariants (and the (m_j, q_j) equations by symmetry)."""

    m: sp.Expr
    q: sp.Expr
    lam: sp.Expr

    def rhs_pair(self) -> list[sp.Expr]:
        """RHS of the 5-dimensional system (m_i, m_j, q_i, q_j, lambda_ij)."""
        swap = {m_i: m_j, m_j: m_i, q_i: q_j, q_j: q_i}
        return [self.m, self.m.subs(swap, simultaneous=True), self.q, self.q.subs(swap, simultaneous=True), self.lam]


@derivation
def moment_ode(widths: tuple[int, ...] = (2, 3)) -> MomentODE:
    """The D -> infinity ODE of Prop. 18 DERIVED from the model: the exact drifts, which must not depend on D
    (checked across ``widths``), with the O(1/D) quadratic variations dropped."""
    ds = [moment_drifts(D) for D in widths]
    for k in ("m", "q", "lam"):
        for other in ds[1:]:
            if sp.simplify(other.drift[k] - ds[0].drift[k]) != 0:
                raise AssertionError(f"drift of {k} depends on D: {ds[0].drift[k]} vs {other.drift[k]}")
            if ds[0].qv_times_D and other.qv_times_D and sp.simplify(other.qv_times_D[k] - ds[0].qv_times_D[k]) != 0:
                raise AssertionError(f"D x QV of {k} depends on D")
    d = ds[0].drift
    return MomentODE(m=d["m"], q=d["q"], lam=d["lam"])


def printed_moment_ode() -> MomentODE:
    """Prop. 18 as typeset on L521-525.  The lambda equation, bracket by bracket:
    \\left( 1/2 phi''(0) ( S_i m^{j} + S_j m^{(i)} \\right. \\left. + phi'(0)^2 (s + w lambda) ) \\right) dt:
    the paren opened after phi''(0) closes only after the phi'(0)^2 term, so 1/2 phi''(0) multiplies it too.
    The superscript m_t^{j,infty} (no parentheses) is read as m^{(j)}."""
    return MomentODE(
        m=sp.Rational(1, 2) * a * (s + w * q_i),
        q=(a * m_i + phi1**2) * (s + w * q_i),
        lam=sp.Rational(1, 2) * a * ((s + w * q_i) * m_j + (s + w * q_j) * m_i + phi1**2 * (s + w * lam)),
    )


# ----------------------------------------------------------------------------------------------------------
# 4a: closed forms for phi''(0) = 0 (P0-36, P0-37)
# ----------------------------------------------------------------------------------------------------------
@derivation
def closed_forms_phi2_zero(ode: MomentODE | None = None) -> dict:
    """``dsolve`` the derived ODE at phi''(0) = 0 with m(0) = m0, q(0) = q0, lambda(0) = lambda0."""
    ode = ode or moment_ode()
    f = sp.Function("f")
    out = {}
    for key, var, init in (("m", m_i, m0), ("q", q_i, q0), ("lam", lam, lam0)):
        rhs = getattr(ode, key).subs(a, 0)
        if rhs.free_symbols & (set(INVARIANTS) - {var}):
            raise AssertionError(f"{key} equation does not decouple at phi''(0) = 0: {rhs}")
        sol = sp.dsolve(sp.Eq(f(t).diff(t), rhs.subs(var, f(t))), f(t), ics={f(0): init})
        out[key] = sp.simplify(sol.rhs.subs(t, T))
    return out


def printed_closed_forms_phi2_zero() -> dict:
    """P0, L527-533 as printed."""
    E = sp.exp(phi1**2 * sigma_w**2 * T)
    return {"m": m0, "q": q0 + (q0 + sigma_b**2 / sigma_w**2) * (E - 1),
            "lam": lam0 + (lam0 + sigma_b**2 / sigma_w**2) * (E - 1)}


# ----------------------------------------------------------------------------------------------------------
# 4b: phi''(0) != 0: conserved quantity, Riccati equation, closed forms (37)-(38), c1, c2, explosion time
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RiccatiReduction:
    """u = a m + p obeys u' = (w u^2 + C)/2 with C = a^2 S - w u^2 conserved (S = s + w q)."""

    du: sp.Expr  # u' in terms of (u, S)
    dS: sp.Expr  # S' in terms of (u, S)
    conserved: sp.Expr  # C as a function of (m, q)
    riccati_rhs: sp.Expr  # u' in terms of (u, C)
    v_rate: sp.Expr  # d/dt (q - m^2) in terms of (m, q)


@derivation
def riccati_reduction(ode: MomentODE | None = None) -> RiccatiReduction:
    """Derive the reduction from the (m, q) equations: u' and S' are computed by the chain rule, dS/du is a
    function of u alone, so integrating it gives the first integral C = a^2 S - w u^2."""
    ode = ode or moment_ode()
    Ssym = sp.Symbol("S", positive=True)
    q_of_S = (Ssym - s) / w
    m_of_u = (u - p) / a
    sub = {m_i: m_of_u, q_i: q_of_S}
    du = sp.simplify(a * ode.m.subs(sub))
    dS = sp.simplify(w * ode.q.subs(sub))
    ratio = sp.simplify(dS / du)
    if Ssym in ratio.free_symbols:
        raise AssertionError(f"dS/du depends on S: {ratio}")
    # S - integral(ratio du) is constant; scale by a^2 so that the constant multiplies nothing singular
    first_integral = sp.expand(a**2 * (Ssym - sp.integrate(ratio, u)))
    conserved = sp.expand(first_integral.subs({Ssym: S_of(q_i), u: a * m_i + p}))
    # u' expressed through (u, C): eliminate S with S = (C + w u^2)/a^2
    S_from_C = sp.solve(sp.Eq(first_integral, C), Ssym)[0]
    riccati = sp.expand(du.subs(Ssym, S_from_C))
    v_rate = sp.factor(ode.q - 2 * m_i * ode.m)
    return RiccatiReduction(du=du, dS=dS, conserved=conserved, riccati_rhs=riccati, v_rate=v_rate)


@derivation
def riccati_solution() -> sp.Expr:
    """General solution u(t) of u' = (w u^2 + C)/2 by ``dsolve`` (C > 0), with the integration constant K:
    the returned expression contains the symbol ``K``."""
    uf = sp.Function("u")
    red = riccati_reduction()
    sol = sp.dsolve(sp.Eq(uf(t).diff(t), red.riccati_rhs.subs({C: Cpos, u: uf(t)})), uf(t))
    sols = sol if isinstance(sol, list) else [sol]
    # pick the real branch, rewrite the constant as K
    for so in sols:
        expr = so.rhs
        consts = [c for c in expr.free_symbols if c.name.startswith("C") and c != Cpos]
        if len(consts) == 1:
            return expr.subs(consts[0], sp.Symbol("K", real=True))
    raise AssertionError(f"unexpected dsolve output: {sols}")


def printed_eq37() -> sp.Expr:
    """m_T (37), L537, with C and c2 symbols (C > 0 as printed)."""
    return (1 / a) * (-phi1**2 + (1 / sigma_w) * sp.sqrt(Cpos) * sp.tan(sp.Rational(1, 2) * sigma_w * sp.sqrt(Cpos) * (T + 2 * c2)))


def printed_eq38() -> sp.Expr:
    """q_T (38), L541, with C and c2 symbols."""
    arg = sp.Rational(1, 2) * sigma_w * sp.sqrt(Cpos) * (T + 2 * c2)
    return (1 / (a**2 * sigma_w**2)) * (-(a**2) * sigma_b**2 + Cpos * sp.sec(arg)**2)


def printed_C() -> sp.Expr:
    """C = -phi'(0)^4 sigma_w^2 + phi''(0)^2 (sigma_b^2 + sigma_w^2 c1), L543."""
    return -phi1**4 * sigma_w**2 + a**2 * (sigma_b**2 + sigma_w**2 * c1)


@derivation
def substitution_residuals(m_expr: sp.Expr, q_expr: sp.Expr, ode: MomentODE | None = None) -> tuple[sp.Expr, sp.Expr]:
    """(m' - F_m(m, q), q' - F_q(m, q)) for candidate solutions m(T), q(T); both simplify to 0 for a solution."""
    ode = ode or moment_ode()
    sub = {m_i: m_expr, q_i: q_expr}
    r_m = sp.diff(m_expr, T) - ode.m.subs(sub)
    r_q = sp.diff(q_expr, T) - ode.q.subs(sub)
    return sp.simplify(sp.expand_trig(sp.simplify(r_m))), sp.simplify(sp.expand_trig(sp.simplify(r_q)))


@derivation
def constants_from_initial() -> dict:
    """c1, c2 and C from m(0) = m0, q(0) = q0 by solving (37)-(38) at T = 0 (regime C > 0):
    C = a^2 S0 - w u0^2 (eliminating tan^2 with sec^2 = 1 + tan^2), c1 from the printed C, and
    c2 = arctan(sigma_w u0 / sqrt(C)) / (sigma_w sqrt(C)) on the principal branch, the branch for which
    theta(T) = sigma_w sqrt(C)(T + 2 c2)/2 starts in (-pi/2, pi/2) and the solution is continuous on [0, T*)."""
    red = riccati_reduction()
    C0 = sp.expand(red.conserved.subs({m_i: m0, q_i: q0}))
    c1_sol = sp.solve(sp.Eq(printed_C(), C0), c1)
    if len(c1_sol) != 1:
        raise AssertionError(c1_sol)
    c1_expr = sp.expand(c1_sol[0])
    u0_expr = a * m0 + p
    # (37) at T = 0: a m0 + p = sqrt(C)/sigma_w tan(sigma_w sqrt(C) c2)
    theta0 = sp.atan(sigma_w * u0 / sp.sqrt(Cpos))
    c2_expr = theta0 / (sigma_w * sp.sqrt(Cpos))
    return {"C": C0, "c1": c1_expr, "c2": c2_expr, "u0": u0_expr}


@derivation
def explosion_time_formulas() -> dict:
    """Blow-up time T* of u' = (w u^2 + C)/2, u(0) = u0 (derived, by regime; sigma_w = sqrt(w)).

    * C > 0: u = sqrt(C/w) tan(theta0 + sigma_w sqrt(C) t / 2), theta0 = arctan(sigma_w u0/sqrt(C)) in (-pi/2, pi/2):
      T* = (pi - 2 theta0) / (sigma_w sqrt(C)).
    * C = 0: u = u0 / (1 - w u0 t / 2): T* = 2 / (w u0) (u0 > 0 is forced, see ``every_solution_explodes``).
    * C < 0, kappa = sqrt(-C): u = (kappa/sigma_w) coth(sigma_w kappa (T* - t)/2), T* = 2 arccoth(sigma_w u0/kappa)/(sigma_w kappa)
      (u0 > kappa/sigma_w is forced).
    Each returned solution is checked against the Riccati equation by substitution in the tests.
    """
    kappa = sp.Symbol("kappa", positive=True)
    Tstar = sp.Symbol("T_star", positive=True)
    pos = (sp.pi - 2 * sp.atan(sigma_w * u0 / sp.sqrt(Cpos))) / (sigma_w * sp.sqrt(Cpos))
    zero = 2 / (w * u0)
    neg = 2 * sp.acoth(sigma_w * u0 / kappa) / (sigma_w * kappa)
    sols = {
        "pos": sp.sqrt(Cpos / w) * sp.tan(sp.atan(sigma_w * u0 / sp.sqrt(Cpos)) + sigma_w * sp.sqrt(Cpos) * t / 2),
        "zero": u0 / (1 - w * u0 * t / 2),
        "neg": (kappa / sigma_w) * sp.coth(sigma_w * kappa * (Tstar - t) / 2),
    }
    return {"pos": pos, "zero": zero, "neg": neg, "solutions": sols, "kappa": kappa, "T_star": Tstar}


def printed_explosion_time() -> sp.Expr:
    """Solve 2^{-1} sigma_w sqrt(C) (T + 2 c2) = pi/2 in T (L563), symbolically in C and c2."""
    sol = sp.solve(sp.Eq(sp.Rational(1, 2) * sigma_w * sp.sqrt(Cpos) * (T + 2 * c2), sp.pi / 2), T)
    if len(sol) != 1:
        raise AssertionError(sol)
    return sol[0]


def explosion_lower_bound_rate() -> sp.Expr:
    """u' = a^2 S / 2 >= a^2 s / 2 > 0 whenever q >= m^2 (kept by v' = p S >= 0 while S > 0): the derived
    argument that every solution with a != 0, sigma_b > 0 explodes.  Returns u' in terms of (m, q)."""
    ode = moment_ode()
    return sp.factor(a * ode.m)


# ----------------------------------------------------------------------------------------------------------
# 5: the limiting SDE of one unit (Prop. 19)
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitSDE:
    """Drift of x^{(i)}_d, d[x^{(i)}_d]/dt, d[x^{(i)}_d, x^{(j)}_d]/dt, d[x^{(i)}_d, x^{(j)}_u]/dt (u != d), and
    the correlation of the driving noises, in the invariants: exact at every D, no term vanishes with D."""

    drift: sp.Expr
    qv: sp.Expr
    cov_same_unit: sp.Expr
    cov_other_unit: sp.Expr
    correlation: sp.Expr


@derivation
def unit_limit_sde(D: int = 3) -> UnitSDE:
    M = _model(D, 2)
    sys = M.system
    states = list(sys.states)
    inv = {m_i: M.m(0), m_j: M.m(1), q_i: M.q(0), q_j: M.q(1), lam: M.lam(0, 1)}
    x1, y1, y2 = M.x[0][0], M.x[1][0], M.x[1][1]
    red = lambda e, deg: express_in_invariants(sp.expand(e), states, inv, deg)  # noqa: E731
    drift = red(sys.drift_of(x1), 2)
    qv = red(sys.quadratic_variation(x1), 2)
    cov = red(sys.covariation(x1, y1), 2)
    other = sp.expand(sys.covariation(x1, y2))
    corr = sp.simplify(cov / sp.sqrt(qv * qv.subs({q_i: q_j})))
    return UnitSDE(drift=drift, qv=qv, cov_same_unit=cov, cov_other_unit=other, correlation=corr)


def printed_unit_sde() -> UnitSDE:
    """(39), L551: dx = phi'(0) (s + w q)^{1/2} dB (no drift); correlation L555-557 (delta_{d,u})."""
    diff = phi1 * sp.sqrt(s + w * q_i)
    rho = (s + w * lam) / sp.sqrt((s + w * q_i) * (s + w * q_j))
    diff_j = phi1 * sp.sqrt(s + w * q_j)
    return UnitSDE(drift=sp.Integer(0), qv=diff**2, cov_same_unit=diff * diff_j * rho, cov_other_unit=sp.Integer(0),
                   correlation=rho)


# ----------------------------------------------------------------------------------------------------------
# 6: exact one-step moments for phi = c x (finite D, finite dt)
# ----------------------------------------------------------------------------------------------------------
cslope = sp.Symbol("c", positive=True)  # phi(x) = c x
dt = sp.Symbol("dt", positive=True)


@derivation
def linear_one_step_moments(D: int = 3) -> dict:
    """E[F(x') | x] for the one-step map x' = x + c (dW x + db) of two inputs (P0 eq. (11), psi = id, phi = c x),
    dW = sigma_w sqrt(dt/D) E, db = sigma_b sqrt(dt) e, E, e standard normal (eqs. (18)-(19)), for
    F = q_i, lambda_ij, x^{(i)}_1 x^{(j)}_1 and x^{(i)}_1; reduced to the invariants (and x_1 itself).

    Gaussian expectation of a polynomial of degree 2 in (E, e): linear terms vanish, E[g_a g_b] = delta_ab."""
    X = [[sp.Symbol(f"x{i + 1}_{d + 1}", real=True) for d in range(D)] for i in range(2)]
    Eg = [[sp.Symbol(f"E_{d}{k}") for k in range(D)] for d in range(D)]
    eb = [sp.Symbol(f"e_{d}") for d in range(D)]
    gs = [g for row in Eg for g in row] + eb
    new = [[X[i][d] + cslope * (sigma_w * sp.sqrt(dt / D) * sum(Eg[d][k] * X[i][k] for k in range(D))
                                 + sigma_b * sp.sqrt(dt) * eb[d]) for d in range(D)] for i in range(2)]

    def expect(poly: sp.Expr) -> sp.Expr:
        P = sp.Poly(sp.expand(poly), *gs)
        out = sp.Integer(0)
        for mon, coef in P.terms():
            if sum(mon) == 0:
                out += coef
            elif sum(mon) == 2 and max(mon) == 2:
                out += coef  # E[g^2] = 1
            elif sum(mon) > 2:
                raise AssertionError("degree > 2")
        return sp.expand(out)

    states = [x for row in X for x in row]
    inv = {m_i: sum(X[0]) / D, m_j: sum(X[1]) / D, q_i: sum(v**2 for v in X[0]) / D,
           q_j: sum(v**2 for v in X[1]) / D, lam: sum(u_ * v for u_, v in zip(X[0], X[1])) / D}
    q_new = sum(v**2 for v in new[0]) / D
    lam_new = sum(u_ * v for u_, v in zip(new[0], new[1])) / D
    out = {
        "q": express_in_invariants(expect(q_new), states, inv, 2),
        "lam": express_in_invariants(expect(lam_new), states, inv, 2),
        # unit-level: E[x'_1 y'_1 | x] - x_1 y_1 is a function of lambda only
        "unit_cross_increment": express_in_invariants(expect(new[0][0] * new[1][0]) - X[0][0] * X[1][0], states, inv, 2),
        "unit_mean_increment": sp.expand(expect(new[0][0]) - X[0][0]),
    }
    return out


@derivation
def affine_recursion_solution(alpha: sp.Expr, beta: sp.Expr, y0: sp.Expr, L: sp.Symbol) -> sp.Expr:
    """y_L for y_{l+1} = alpha y_l + beta, y_0 = y0 (``rsolve``)."""
    yf = sp.Function("y")
    l = sp.Symbol("l", integer=True, nonnegative=True)
    sol = sp.rsolve(yf(l + 1) - alpha * yf(l) - beta, yf(l), {yf(0): y0})
    return sp.simplify(sol.subs(l, L))
