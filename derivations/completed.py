"""Completed ResNets of P0, Sec. 5.5 (L623-671): input layer x0 = A z, output layer y = G x_T, kernels (41)-(42),
the Bayesian-linear-model reading (L659-663), derived from the model definitions (SymPy only).

* Input layer (L625-633): A in R^{D x Z} with iid N(0, sigma_Z^2) entries, x0 = A z.  Given z, z', the pair
  (x0_d, x0'_d) = (sum_k A_dk z_k, sum_k A_dk z'_k) is Gaussian with E[A_dk A_dl] = sigma_Z^2 delta_kl, so its
  covariance is computed entry by entry (``input_layer_cov``).
* ResNet part (phi''(0) = 0, doubly infinite limit): given x0, units are iid with mean x0_d and covariance
  K(lambda0) = lambda_T - lambda_0, lambda_T from ``derivations.odes.closed_forms_phi2_zero`` (dsolve of the
  derived Prop. 18 ODE), evaluated at lambda0 -> sigma_Z^2 <z, z'> (law of large numbers over the D rows of A).
* Total law of one unit: Cov = E[Cov(. | x0)] + Cov(E[. | x0]) = Sigma^weak + Sigma^Z (the conditional mean is
  x0_d because m is constant when phi''(0) = 0).
* Output layer (L655): y = sum_d G_d x_T,d with E[G_d G_e] = sigma_Y^2 / D delta_de, G independent of x_T:
  Cov(y, y') = sigma_Y^2 / D sum_d E[x_T,d x'_T,d] (``output_layer_kernel`` sums over D symbolic units).
* Bayesian linear model y = alpha + beta.z (L659-661): Cov = sigma_alpha^2 + sigma_beta^2 <z, z'>; matching the
  coefficients of the derived (42) gives sigma_alpha^2, sigma_beta^2 (``blr_from_kernel``).
* Exact finite-(D, L) expectation for phi = c x (a linear network): E lambda_L = (lambda0 + s/w)(1 + c^2 w dt)^L
  - s/w from ``derivations.odes.linear_one_step_moments`` (affine one-step map of E lambda).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derivations import odes as O

ZDIM = 3
sigma_Z = sp.Symbol("sigma_Z", positive=True)
sigma_Y = sp.Symbol("sigma_Y", positive=True)
sigma_alpha2 = sp.Symbol("sigma_alpha2", positive=True)
sigma_beta2 = sp.Symbol("sigma_beta2", positive=True)
Lsym = sp.Symbol("L", positive=True, integer=True)
z = sp.Matrix(sp.symbols(f"z1:{ZDIM + 1}", real=True))
zp = sp.Matrix(sp.symbols(f"zp1:{ZDIM + 1}", real=True))
E_sym = sp.exp(O.phi1**2 * O.sigma_w**2 * O.T)  # E = e^{phi'(0)^2 sigma_w^2 T} (L647)


def dot(u: sp.Matrix, v: sp.Matrix) -> sp.Expr:
    return sp.expand((u.T * v)[0, 0])


def gram(u: sp.Matrix, v: sp.Matrix) -> sp.Matrix:
    """[[|u|^2, <u,v>], [<v,u>, |v|^2]]."""
    return sp.Matrix([[dot(u, u), dot(u, v)], [dot(v, u), dot(v, v)]])


# ----------------------------------------------------------------------------------------------------------
# input layer
# ----------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def input_layer_cov() -> sp.Matrix:
    """Cov((A z)_d, (A z')_d) for one row A_d of iid N(0, sigma_Z^2) entries, from E[A_dk A_dl] = sigma_Z^2 delta_kl."""
    a = sp.symbols(f"a1:{ZDIM + 1}", real=True)
    u = sum(ak * zk for ak, zk in zip(a, z))
    v = sum(ak * zk for ak, zk in zip(a, zp))

    def expect(poly):  # E over independent centred a_k with variance sigma_Z^2 (degree-2 polynomial)
        P = sp.Poly(sp.expand(poly), *a)
        out = sp.Integer(0)
        for mon, coef in P.terms():
            if sum(mon) == 0:
                out += coef
            elif sum(mon) == 2 and max(mon) == 2:
                out += coef * sigma_Z**2
        return sp.expand(out)

    return sp.Matrix([[expect(u * u), expect(u * v)], [expect(v * u), expect(v * v)]])


def input_layer_lambda_variance() -> sp.Expr:
    """Var(x0_d x0'_d) for (x0_d, x0'_d) ~ N_2(0, Sigma^Z) (Isserlis): Var(lambda_0) = this / D (iid rows of A)."""
    S = input_layer_cov()
    return sp.expand(S[0, 0] * S[1, 1] + S[0, 1] ** 2)


def printed_sigma_Z() -> sp.Matrix:
    """Sigma^Z(z, z') as printed (L631)."""
    return sigma_Z**2 * gram(z, zp)


# ----------------------------------------------------------------------------------------------------------
# ResNet part and completed kernels
# ----------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def resnet_increment_kernel() -> sp.Expr:
    """K(lambda0) = lambda_T - lambda_0 (= c_T - c_0 since m is constant) at phi''(0) = 0, from dsolve of the
    derived ODE (``derivations.odes.closed_forms_phi2_zero``), as a function of the symbol lambda_0."""
    cf = O.closed_forms_phi2_zero()
    if sp.simplify(cf["m"] - O.m0) != 0:
        raise AssertionError("m is not constant at phi''(0) = 0")
    return sp.simplify(cf["lam"] - O.lam0)


@lru_cache(maxsize=None)
def derived_sigma_weak() -> sp.Matrix:
    """Conditional covariance of (x_T,d, x'_T,d) given x0, with lambda0, q0, q0' replaced by their D -> infinity
    values from the input layer (the entries of Sigma^Z)."""
    K = resnet_increment_kernel()
    S = input_layer_cov()
    return sp.Matrix(2, 2, lambda i, j: sp.simplify(K.subs(O.lam0, S[i, j])))


def printed_sigma_weak() -> sp.Matrix:
    """Sigma^weak as printed (L645): sigma_Z^2 (E - 1) Gram + sigma_b^2/sigma_w^2 (E - 1), the scalar read as
    added to every entry (the all-ones matrix; the page adds a scalar to a matrix)."""
    return sigma_Z**2 * (E_sym - 1) * gram(z, zp) + O.sigma_b**2 / O.sigma_w**2 * (E_sym - 1) * sp.ones(2, 2)


@lru_cache(maxsize=None)
def derived_total_cov() -> sp.Matrix:
    """Law of total covariance: Sigma^Z (covariance of the conditional mean x0_d) + Sigma^weak."""
    return sp.simplify(input_layer_cov() + derived_sigma_weak())


def printed_total_cov() -> sp.Matrix:
    """Second line of the display above (41), L651: sigma_Z^2 E Gram + sigma_b^2/sigma_w^2 (E - 1) (ones)."""
    return sigma_Z**2 * E_sym * gram(z, zp) + O.sigma_b**2 / O.sigma_w**2 * (E_sym - 1) * sp.ones(2, 2)


def derived_K41() -> sp.Expr:
    return derived_total_cov()[0, 1]


def printed_K41() -> sp.Expr:
    """(41), L653."""
    return sigma_Z**2 * E_sym * dot(z, zp) + O.sigma_b**2 / O.sigma_w**2 * (E_sym - 1)


@lru_cache(maxsize=None)
def output_layer_kernel(D: int = 3) -> sp.Expr:
    """Cov(G x_T, G x'_T) for G_d iid N(0, sigma_Y^2/D) independent of x_T, units with E[x_T,d x'_T,d] = Kbar:
    E[sum_{d,e} G_d G_e x_d x'_e] = sum_d sigma_Y^2/D E[x_d x'_d] (explicit sum over D units)."""
    Kbar = sp.Symbol("Kbar", real=True)
    G = sp.symbols(f"g1:{D + 1}", real=True)
    X = sp.symbols(f"u1:{D + 1}", real=True)
    Xp = sp.symbols(f"v1:{D + 1}", real=True)
    y = sum(g * x for g, x in zip(G, X))
    yp = sum(g * x for g, x in zip(G, Xp))
    P = sp.Poly(sp.expand(y * yp), *G)
    out = sp.Integer(0)
    for mon, coef in P.terms():  # E[G_d G_e] = sigma_Y^2/D delta_de
        if sum(mon) == 2 and max(mon) == 2:
            out += coef * sigma_Y**2 / D
    # E[x_d x'_d] = Kbar for every unit (exchangeable units)
    out = out.subs({x * xp: Kbar for x, xp in zip(X, Xp)})
    return sp.simplify(out.subs(Kbar, derived_K41()))


def printed_K42() -> sp.Expr:
    """(42), L657."""
    return sigma_Y**2 * printed_K41()


def blr_cov() -> sp.Expr:
    """Cov(alpha + beta.z, alpha + beta.z') for alpha ~ N(0, s_a2), beta_i iid N(0, s_b2), independent (L661)."""
    al = sp.Symbol("alpha", real=True)
    be = sp.symbols(f"beta1:{ZDIM + 1}", real=True)
    y = al + sum(b * zk for b, zk in zip(be, z))
    yp = al + sum(b * zk for b, zk in zip(be, zp))
    P = sp.Poly(sp.expand(y * yp), al, *be)
    out = sp.Integer(0)
    for mon, coef in P.terms():
        if sum(mon) == 2 and max(mon) == 2:
            out += coef * (sigma_alpha2 if mon[0] == 2 else sigma_beta2)
    return sp.expand(out)


@lru_cache(maxsize=None)
def blr_from_kernel() -> dict:
    """Solve blr_cov == derived (42) identically in z, z' for (sigma_alpha^2, sigma_beta^2)."""
    resid = sp.expand(blr_cov() - output_layer_kernel())
    eqs = sp.Poly(resid, *z, *zp).coeffs()
    sol = sp.solve(eqs, [sigma_alpha2, sigma_beta2], dict=True)
    if len(sol) != 1:
        raise AssertionError(f"BLR matching is not unique: {sol}")
    return {k: sp.simplify(v) for k, v in sol[0].items()}


def printed_blr() -> dict:
    """L663: sigma_alpha^2 = sigma_b^2/sigma_w^2 sigma_Y^2 (E - 1), sigma_beta^2 = sigma_Y^2 sigma_Z^2 E."""
    return {sigma_alpha2: O.sigma_b**2 / O.sigma_w**2 * sigma_Y**2 * (E_sym - 1), sigma_beta2: sigma_Y**2 * sigma_Z**2 * E_sym}


# ----------------------------------------------------------------------------------------------------------
# exact finite-(D, L) expectation for phi = c x
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearExact:
    alpha: sp.Expr  # E[lambda'|x] = alpha lambda + beta
    beta: sp.Expr
    lam_L: sp.Expr  # E lambda_L as a function of lambda_0 (symbol O.lam0), L, T
    limit: sp.Expr  # L -> infinity


@lru_cache(maxsize=None)
def linear_lambda_exact() -> LinearExact:
    """Affine one-step map of E[lambda] for phi = c x (exact at every D), its L-fold iterate and its limit."""
    mom = O.linear_one_step_moments(3)["lam"]
    alpha = sp.expand(sp.diff(mom, O.lam))
    beta = sp.expand(mom.subs(O.lam, 0))
    if sp.expand(mom - alpha * O.lam - beta) != 0:
        raise AssertionError("E[lambda'|x] is not affine in lambda")
    a_T = alpha.subs(O.dt, O.T / Lsym)
    b_T = beta.subs(O.dt, O.T / Lsym)
    lam_L = O.affine_recursion_solution(a_T, b_T, O.lam0, Lsym)
    return LinearExact(alpha, beta, lam_L, sp.simplify(sp.limit(lam_L, Lsym, sp.oo)))


# ----------------------------------------------------------------------------------------------------------
# over-parametrisation of (41) (P0-77 evidence)
# ----------------------------------------------------------------------------------------------------------
def kernel41_coefficients() -> sp.Matrix:
    """(coefficient of <z, z'>, constant) of the derived (41), as functions of (sigma_Z, sigma_w, sigma_b)."""
    K = sp.expand(derived_K41())
    zz = sp.Symbol("zz", real=True)
    Kz = sp.expand(K.subs(z[0] * zp[0], zz - sum(z[k] * zp[k] for k in range(1, ZDIM))))
    return sp.Matrix([sp.simplify(sp.diff(Kz, zz)), sp.simplify(Kz.subs(zz, 0).subs({zk: 0 for zk in z}))])


def kernel41_jacobian_rank() -> int:
    """Generic rank of d(coefficients)/d(sigma_Z, sigma_w, sigma_b): 2 < 3 means a one-parameter family of
    hyper-parameters gives the same kernel."""
    J = kernel41_coefficients().jacobian([sigma_Z, O.sigma_w, O.sigma_b])
    return int(sp.simplify(J).subs({sigma_Z: sp.Rational(7, 10), O.sigma_w: sp.Rational(13, 10),
                                    O.sigma_b: sp.Rational(1, 3), O.phi1: 1, O.T: 1}).rank())
