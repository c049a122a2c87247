"""Finite-depth bias of the doubly infinite limit: the O(1/L) term of E[(m, q, lambda)] (P0, Sec. 5.3, L513-563).

Setting: psi = identity, Assumption 7 (P0, eqs. (16)-(19)), two inputs x^{(i)}, x^{(j)} sharing the weights.
The self-averaging statistics y = (m_i, m_j, q_i, q_j, lambda_ij) (P0, L473, L563) obey, for ONE layer of
the ResNet x' = x + phi(dW x + db) (P0 eq. (11)) and at ANY width D,

    E[y' - y | x] = F_dt(y) = dt f(y) + dt^2 g(y) + O(dt^3),                                        (*)

because given x the pre-activations h_d = (dW x + db)_d are exactly Gaussian, i.i.d. across units, with
covariance dt [[S_i, S_ij], [S_ij, S_j]] (S_i = s + w q_i, S_ij = s + w lambda), so
E[Dm_i] = E Dx_{i,d}, E[Dq_i] = (1/D) sum_d (2 x_{i,d} E Dx_{i,d} + E Dx_{i,d}^2),
E[Dlambda] = (1/D) sum_d (x_{i,d} E Dx_{j,d} + x_{j,d} E Dx_{i,d} + E Dx_{i,d} Dx_{j,d}), and the per-unit
moments come from ``derivations.diffusion.one_step_limit`` (Taylor + Isserlis to O(dt^2)).  Nothing is typed:
``step_expansion`` builds (*) at a symbolic width D = 3 from the model and reduces it to the invariants with
``derivations.odes.express_in_invariants``; f must equal the derived Prop. 18 ODE (``odes.moment_ode``),
which is asserted.  ``scheme="euler"`` does the same for the Euler scheme (6) of SDE (33): the increment is
phi'(0) h + phi''(0)/2 S dt, so E Dx = dt drift and Cov Dx = dt diffusion exactly (no next-order terms).

Global error of a one-step method (standard; e.g. Hairer-Norsett-Wanner I, Thm II.8.1).  In the limit
D -> infinity (y deterministic) the finite network is the one-step method y_{l+1} = y_l + F_dt(y_l).  The
exact flow of y' = f is Phi_dt(y) = y + dt f + dt^2/2 J_f f + O(dt^3), so the local error is
dt^2 delta(y) + O(dt^3), delta = g - J_f f / 2.  Write E_l = y_l - y(t_l).  Then
E_{l+1} = [y_l + F_dt(y_l)] - [y(t_l) + F_dt(y(t_l))] + [y(t_l) + F_dt(y(t_l)) - Phi_dt(y(t_l))]
        = (I + dt J_f(y(t_l))) E_l + O(dt |E_l|^2 + dt^2 |E_l|) + dt^2 delta(y(t_l)) + O(dt^3).
With E_l = dt e_l this reads e_{l+1} = e_l + dt (J_f e_l + delta) + O(dt^2 + dt |e_l|^2), i.e. Euler's method
for the linear ODE

    e' = J_f(y(t)) e + delta(y(t)),   e(0) = 0,                                                       (**)

which converges with error O(dt); hence  y_L - y(T) = dt e(T) + O(dt^2)  (dt = T / L).  The augmented
system (y, e) is ``augmented_system``; ``predicted_depth_bias`` integrates it.  Exactness check: for
phi = a x the recursion E q_{l+1} = (1 + a^2 w dt) E q_l + a^2 s dt is solvable, and its dt-expansion must
match dt e(T) (``linear_exact_bias`` / tests).

Remainders (stated, not hidden):
* O(dt^2) = O(1/L^2): the next term of the expansion of the one-step method; measurable exactly at
  D = infinity by iterating the deterministic map F_dt (Gauss-Hermite quadrature, ``verify.claims.p0_figures``).
* Finite width: at finite D the statistics y fluctuate (quadratic variations O(1/D), P0 L986-994), and
  E[y_{l+1}] = E y_l + E F_dt(y_l) differs from the D = infinity recursion by the Jensen term
  (1/2) F_dt''(y) : Cov(y_l) = O(dt / D) per layer, i.e. O(1/D) in total -- UNLESS f is affine in y, in which
  case the O(dt / D) part vanishes and only (dt^2/2) g'' : Cov(y) = O(dt^2 / D) per layer remains:
  O(1/(L D)) in total.  f is affine exactly when phi''(0) = 0 (tanh, sin, linear); ``f_is_affine``.
  For copied inputs (x_0 = z 1) the units are exchangeable, so E x_{T,1} = E m_T, Var x_{T,1} = E q_T -
  (E m_T)^2, Cov(x^{(i)}_{T,1}, x^{(j)}_{T,1}) = E lambda_T - E m_i E m_j exactly: the unit moments plotted in
  Figure 2 inherit exactly these biases (``unit_moment_bias``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derivations import diffusion as DF
from derivations import laws as LW
from derivations import odes as O
from derivations.compile import compile_expr

#: The five self-averaging statistics, in the order used everywhere here.
STATE = (O.m_i, O.m_j, O.q_i, O.q_j, O.lam)
#: phi'''(0), phi''''(0): enter the dt^2 term g (phi'(0), phi''(0) are the ODE module's symbols).
phi3, phi4 = sp.symbols("phi3 phi4", real=True)
PARAMS = (O.phi1, O.a, phi3, phi4, O.sigma_w, O.sigma_b)
ERR = sp.symbols("e_m_i e_m_j e_q_i e_q_j e_lambda", real=True)
SCHEMES = ("resnet", "euler")


@dataclass(frozen=True)
class StepExpansion:
    """E[y' - y | x] = dt f + dt^2 g + O(dt^3) for y = STATE (reduced to the invariants, exact in D)."""

    scheme: str
    f: sp.Matrix
    g: sp.Matrix

    @property
    def jacobian(self) -> sp.Matrix:
        return self.f.jacobian(STATE)

    @property
    def local_error(self) -> sp.Matrix:
        """delta = g - J_f f / 2: the dt^2 coefficient of (one step) - (exact flow over dt)."""
        return sp.expand(self.g - self.jacobian * self.f / 2)


def step_expansion(scheme: str = "resnet", D: int = 3) -> StepExpansion:
    """Derive (*) (cached per (scheme, D)); see ``_step_expansion``."""
    return _step_expansion(scheme, D)


@lru_cache(maxsize=None)
def _step_expansion(scheme: str, D: int) -> StepExpansion:
    """Derive (*) from the model at symbolic width ``D`` (D = 3: the invariants are algebraically independent).

    Steps: (1) per-unit moments of Dx from ``one_step_limit`` (law ``laws.iid``: Assumption 7); (2) assert they
    are the same for every unit d (exchangeability) and reduce them to (q_i, q_j, lambda); (3) average over
    units: (1/D) sum_d x_{i,d} mu = m_i mu because mu does not depend on d; truncate at dt^2."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    xs = [sp.Matrix([sp.Symbol(f"x{i + 1}_{d + 1}", real=True) for d in range(D)]) for i in range(2)]
    law = LW.iid(D, O.sigma_w, O.sigma_b)
    rename = {DF.PHI[0]: 0, DF.PHI[1]: O.phi1, DF.PHI[2]: O.a, DF.PHI[3]: phi3, DF.PHI[4]: phi4}
    lim = DF.one_step_limit(law, xs, rename)
    states = list(xs[0]) + list(xs[1])
    inv = {O.q_i: sum(v**2 for v in xs[0]) / D, O.q_j: sum(v**2 for v in xs[1]) / D,
           O.lam: sum(u * v for u, v in zip(xs[0], xs[1])) / D}
    I, J = 0, D  # offsets of input i and input j in the stacked (input-major) vector

    def unit(get, k_of_d, deg):
        """The per-unit quantity get(k_of_d(d)), asserted equal for all d, reduced to (q_i, q_j, lambda)."""
        vals = [sp.expand(get(*k_of_d(d)).xreplace(rename)) for d in range(D)]
        if any(sp.expand(v - vals[0]) != 0 for v in vals[1:]):
            raise AssertionError("per-unit moments differ across units: the law is not exchangeable")
        return O.express_in_invariants(vals[0], states, inv, deg) if vals[0].free_symbols & set(states) else vals[0]

    drift = lambda k: lim.drift[k]  # noqa: E731
    nxt = lambda k: lim.drift_next[k]  # noqa: E731
    dif = lambda k, l: lim.diffusion[k, l]  # noqa: E731
    dnx = lambda k, l: lim.diffusion_next[k, l]  # noqa: E731
    mu1 = [unit(drift, lambda d, o=o: (o + d,), 2) for o in (I, J)]
    mu2 = [unit(nxt, lambda d, o=o: (o + d,), 4) for o in (I, J)]
    s1 = {(a, b): unit(dif, lambda d, a=a, b=b: (a + d, b + d), 2) for a, b in ((I, I), (J, J), (I, J))}
    s2 = {(a, b): unit(dnx, lambda d, a=a, b=b: (a + d, b + d), 4) for a, b in ((I, I), (J, J), (I, J))}
    if scheme == "euler":  # Euler (6) of (33): Dx = drift dt + phi'(0) h: mean and covariance exact at order dt
        mu2 = [sp.Integer(0), sp.Integer(0)]
        s2 = {k: sp.Integer(0) for k in s2}
    m = (O.m_i, O.m_j)
    # E Dx = dt mu1 + dt^2 mu2;  E[Dx_a Dx_b] = Cov + E E = dt s1 + dt^2 (s2 + mu1_a mu1_b) + O(dt^3)
    f = [mu1[0], mu1[1], 2 * m[0] * mu1[0] + s1[(I, I)], 2 * m[1] * mu1[1] + s1[(J, J)],
         m[0] * mu1[1] + m[1] * mu1[0] + s1[(I, J)]]
    g = [mu2[0], mu2[1], 2 * m[0] * mu2[0] + s2[(I, I)] + mu1[0] ** 2, 2 * m[1] * mu2[1] + s2[(J, J)] + mu1[1] ** 2,
         m[0] * mu2[1] + m[1] * mu2[0] + s2[(I, J)] + mu1[0] * mu1[1]]
    return StepExpansion(scheme, sp.Matrix([sp.factor(v) for v in f]), sp.Matrix([sp.factor(v) for v in g]))


def prop18_residual(scheme: str = "resnet") -> sp.Matrix:
    """f - (derived Prop. 18 ODE, ``odes.moment_ode``): must be zero (the order-dt term IS the ODE)."""
    return sp.simplify(step_expansion(scheme).f - sp.Matrix(O.moment_ode().rhs_pair()))


def f_is_affine(exp: StepExpansion, values: dict) -> bool:
    """True iff f is affine in y at the given parameter values (then the O(1/D) bias is only O(1/(L D)))."""
    H = [sp.hessian(sp.expand(fk.subs(values)), STATE) for fk in exp.f]
    return all(h == sp.zeros(5, 5) for h in H)


@lru_cache(maxsize=None)
def augmented_system(scheme: str = "resnet") -> sp.Matrix:
    """RHS of the 10-dimensional system (y, e): y' = f(y), e' = J_f(y) e + delta(y)  (eq. (**))."""
    ex = step_expansion(scheme)
    e = sp.Matrix(ERR)
    return sp.Matrix.vstack(ex.f, ex.jacobian * e + ex.local_error)


@lru_cache(maxsize=None)
def augmented_kernel(scheme: str = "resnet"):
    """Compiled NumPy function k(m_i, m_j, q_i, q_j, lambda, e_1..e_5, phi1, phi2, phi3, phi4, sigma_w, sigma_b)."""
    return compile_expr(STATE + ERR + PARAMS, augmented_system(scheme))


# ------------------------------------------------------------------------------------------------------
# Exactness check: phi = a x (the finite-L recursion is affine and solvable)
# ------------------------------------------------------------------------------------------------------
def linear_exact_bias() -> dict:
    """For phi = a x: E q_L from the exact recursion (``odes.linear_one_step_moments``, any D), its limit and
    the predicted first-order bias dt e_q(T) from (**), all symbolic in (a, sigma_w, sigma_b, q0, T, L).

    Returns {"exact": q_L, "limit": q(T), "predicted_coefficient": T e_q(T)} (bias ~ coefficient / L)."""
    L = sp.Symbol("L", positive=True, integer=True)
    mom = O.linear_one_step_moments(3)
    dt = O.dt
    alpha = sp.diff(mom["q"], O.q_i)
    beta = sp.expand(mom["q"] - alpha * O.q_i)
    if sp.diff(alpha, O.q_i) != 0 or beta.free_symbols & set(STATE):
        raise AssertionError("linear one-step moment of q is not affine in q")
    exact = O.affine_recursion_solution(alpha.subs(dt, O.T / L), beta.subs(dt, O.T / L), O.q0, L)
    exact = exact.subs(O.cslope, sp.Symbol("a_lin", positive=True))
    aa = sp.Symbol("a_lin", positive=True)
    # prediction from (**) with phi = a x: phi1 = a, phi2 = phi3 = phi4 = 0; only the q_i component is needed
    ex = step_expansion("resnet")
    vals = {O.phi1: aa, O.a: 0, phi3: 0, phi4: 0}
    f = ex.f.subs(vals)
    Jf = f.jacobian(STATE)
    delta = ex.local_error.subs(vals)
    t = sp.Symbol("t", nonnegative=True)
    yq = sp.Function("yq")
    eq = sp.Function("eq")
    # q' = f_q(q) decouples (f affine, phi''(0) = 0); e_q' = (d f_q / d q) e_q + delta_q(q)
    fq = f[2].subs(O.q_i, yq(t))
    sol_q = sp.dsolve(sp.Eq(yq(t).diff(t), fq), yq(t), ics={yq(0): O.q0}).rhs
    if any(Jf[2, c] != 0 for c in (0, 1, 3, 4)):
        raise AssertionError("q equation does not decouple for phi = a x")
    rhs_e = Jf[2, 2] * eq(t) + delta[2].subs(O.q_i, sol_q)
    sol_e = sp.dsolve(sp.Eq(eq(t).diff(t), rhs_e), eq(t), ics={eq(0): 0}).rhs
    return {"exact": sp.simplify(exact), "limit": sp.simplify(sol_q.subs(t, O.T)),
            "predicted_coefficient": sp.simplify(O.T * sol_e.subs(t, O.T)), "L": L, "a": aa}


def linear_bias_residual() -> sp.Expr:
    """lim_{L -> oo} L (q_L^exact - q(T)) - T e_q(T) for phi = a x, symbolically: must be 0 (eq. (**) is exact
    at first order).  q_L^exact = (q0 + s/w)(1 + a^2 w T/L)^L - s/w is rewritten with u = 1/L before the limit."""
    r = linear_exact_bias()
    u = sp.Symbol("u", positive=True)
    ex = sp.powsimp(sp.expand_power_base(sp.expand(r["exact"]), force=True), force=True)
    ex = sp.simplify(ex.subs(r["L"], 1 / u))
    lim = sp.limit((ex - r["limit"]) / u, u, 0)
    return sp.simplify(lim - r["predicted_coefficient"])
