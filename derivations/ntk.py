"""The NTK of the doubly infinite ResNet, P0 Sec. 5.4-5.5 (L565-671), derived from the model (SymPy only).

Setting (L567-569): psi = identity, Assumption 7, phi''(0) = 0, y = x_{T,1}; kappa = phi'(0)^2 sigma_w^2,
E = exp(kappa T), C = kappa T (the paper's NTK constants, L605 and L617).

Pipeline (nothing here is typed from the page except the ``printed_*`` transcriptions):

1. ``jacobian_sde(D)``: the SDE of g_t = J(x_t, x_0) from the one-step Jacobian of the model,
   I + diag(phi'(h)) dW (psi = id), h = dW x + db: drift = lim E[dg]/dt and covariation = lim E[dg dg']/dt by
   exact Gaussian moments (Isserlis) of the Taylor polynomial of phi'(h).  Drift = phi''(0) (...)  -> 0.  The
   loadings phi'(0) sigma_w / sqrt(D) g_{jb} on B^W_{aj} reproduce the covariation (checked).
2. Ito on that system: U = g^T g (P0-49), d[U_ab]/dt (P0-50), W = g g^T (P0-53), V = U^{-1} (P0-52; the
   inverse is a rational function of the states, differentiated directly).  Each drift is linear in its own
   matrix, so expectations solve linear ODEs: E U_t = e^{kappa t} I, E W_t = e^{kappa t} I,
   E U_t^{-1} = e^{kappa (1 + 2/D) t} I (the coefficient is read off at D = 2, 3 and confirmed identically).
3. Flow property: g's loadings are right-equivariant (loadings(g M) = loadings(g) M), so J_{T<-t} = g_T g_t^{-1}
   solves the same SDE from I at time t, independent of F_t: E[g_T U_t^{-1} g_T^T] = E W_{T-t} = e^{kappa(T-t)} I,
   and E[lambda_t J J^T] = E[lambda_t] e^{kappa(T-t)} I.  This gives the sandwich (P0-54) directly.
4. Exact finite-(D, L) expectations of the backprop NTK for phi = c x (the backward one-step factor
   E|(I + c dW)^T v|^2 = (1 + c^2 sigma_w^2 dt)|v|^2 derived at D = 2, 3; E lambda_l from
   ``derivations.odes.linear_one_step_moments``), their L -> infinity limits (Riemann-sum forms, P0-47/48), and
   the limits K_b, K_W, K (P0-55..57), the GP kernel (P0-58) and the completed-network NTK (P0-64, eq. (43)).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import sympy as sp

from derivations.cache import derivation
from derivations.ito import ItoSystem
from derivations.odes import (T, closed_forms_phi2_zero, cslope, dt, lam, lam0, linear_one_step_moments,
                              phi1, sigma_b, sigma_w, t)

# ----------------------------------------------------------------------------------------------------------
# Symbols
# ----------------------------------------------------------------------------------------------------------
phi2 = sp.Symbol("phi2", real=True)  # phi''(0) (set to 0 by assumption iii, L569)
phi3 = sp.Symbol("phi3", real=True)  # phi'''(0)
Dsym = sp.Symbol("D", positive=True, integer=True)
Lsym = sp.Symbol("L", positive=True, integer=True)
kappa = phi1**2 * sigma_w**2
Eexp = sp.exp(kappa * T)
Cnt = kappa * T
sZ, sY = sp.symbols("sigma_Z sigma_Y", positive=True)
zz = sp.Symbol("zz", real=True)  # <z, z'>
s_over_w = sigma_b**2 / sigma_w**2


def gaussian_expectation(expr: sp.Expr, normals) -> sp.Expr:
    """E[expr] for a polynomial in independent standard normals ``normals`` (Isserlis: E[g^n] = (n-1)!!)."""
    normals = list(normals)
    P = sp.Poly(sp.expand(expr), *normals)
    out = []
    for mon, coef in P.terms():
        if any(k % 2 for k in mon):
            continue
        f = sp.Integer(1)
        for k in mon:
            f *= sp.factorial2(k - 1) if k else 1
        out.append(coef * f)
    return sp.expand(sp.Add(*out))


# ----------------------------------------------------------------------------------------------------------
# 1. the Jacobian SDE from the model's one-step Jacobian
# ----------------------------------------------------------------------------------------------------------
@dataclass
class JacobianSystem:
    """g (D x D state symbols), x (D symbols), the Brownian coordinates BW[d][k], the ItoSystem of g at
    phi''(0) = 0, and the derived one-step drift / covariation before setting phi''(0) = 0."""

    D: int
    g: sp.Matrix
    x: tuple
    BW: tuple
    system: ItoSystem
    drift_general: sp.Matrix  # lim E[dg]/dt, any phi''(0)
    covariation: dict  # {(a, b, c, d): lim E[dg_ab dg_cd]/dt}


@derivation
def jacobian_sde(D: int = 2) -> JacobianSystem:
    """Derive dg from g_{t+dt} = (I + diag(phi'(h)) dW) g_t, h = dW x + db (P0 Sec. 4 with psi = id, A.4).

    r = sqrt(dt); dW = sigma_w r / sqrt(D) E, db = sigma_b r e; phi'(h) = phi1 + phi2 h + phi3 h^2 / 2 + O(r^3).
    drift_ab = [r^2] E[dg_ab], covariation = [r^2] E[dg_ab dg_cd] (exact Gaussian moments)."""
    r = sp.Symbol("r", positive=True)
    g = sp.Matrix(D, D, lambda i, j: sp.Symbol(f"g_{i + 1}{j + 1}", real=True))
    x = tuple(sp.Symbol(f"x_{d + 1}", real=True) for d in range(D))
    Eg = [[sp.Symbol(f"E_{d}{k}") for k in range(D)] for d in range(D)]
    eb = [sp.Symbol(f"e_{d}") for d in range(D)]
    normals = [v for row in Eg for v in row] + eb
    dW = sp.Matrix(D, D, lambda d, k: sigma_w * r / sp.sqrt(D) * Eg[d][k])
    h = [sum(dW[d, k] * x[k] for k in range(D)) + sigma_b * r * eb[d] for d in range(D)]
    dphi = [phi1 + phi2 * hd + phi3 * hd**2 / 2 for hd in h]
    dg = sp.diag(*dphi) * dW * g

    def coeff_r2(e):
        return sp.expand(gaussian_expectation(e, normals)).coeff(r, 2)

    drift = dg.applyfunc(coeff_r2)
    # covariation: only the O(r) part of dg matters at order r^2 (the mean of dg is O(r^2))
    dg1 = dg.applyfunc(lambda e: sp.expand(e).coeff(r, 1) * r)
    cov = {}
    for a, b, c, d in itertools.product(range(D), repeat=4):
        cov[(a, b, c, d)] = coeff_r2(dg1[a, b] * dg1[c, d])
    BW = tuple(tuple(sp.Symbol(f"BW_{d + 1}_{k + 1}") for k in range(D)) for d in range(D))
    loads = {g[a, b]: {BW[a][j]: phi1 * sigma_w / sp.sqrt(D) * g[j, b] for j in range(D)} for a in range(D)
             for b in range(D)}
    drift0 = drift.subs(phi2, 0)
    system = ItoSystem(list(g), {g[a, b]: drift0[a, b] for a in range(D) for b in range(D)}, loads)
    for (a, b, c, d), v in cov.items():  # the loadings reproduce the derived covariation
        if sp.expand(system.state_covariation(g[a, b], g[c, d]) - v) != 0:
            raise AssertionError(f"loadings do not reproduce d[g_{a}{b}, g_{c}{d}]")
    return JacobianSystem(D=D, g=g, x=x, BW=BW, system=system, drift_general=drift, covariation=cov)


def flow_equivariance_residual(D: int = 2) -> sp.Matrix:
    """loadings(g M) - loadings(g) M for a constant matrix M (zero: dg = dZ g, so g_T g_t^{-1} is a flow)."""
    J = jacobian_sde(D)
    M = sp.Matrix(D, D, lambda i, j: sp.Symbol(f"M_{i}{j}", real=True))
    gM = J.g * M
    res = []
    for a, b in itertools.product(range(D), repeat=2):
        lhs = J.system.loadings_of(gM[a, b])
        for Bm in set(lhs) | {bb for row in J.BW for bb in row}:
            rhs = sum(J.system.loadings_of(J.g[a, k]).get(Bm, 0) * M[k, b] for k in range(D))
            res.append(sp.expand(lhs.get(Bm, 0) - rhs))
    return sp.Matrix(res)


# ----------------------------------------------------------------------------------------------------------
# 2. U = g^T g, its quadratic variation, W = g g^T, V = U^{-1}
# ----------------------------------------------------------------------------------------------------------
@derivation
def U_differential(D: int = 2) -> dict:
    """Drift matrix and loadings {B: matrix} of dU, U = g^T g (P0-49)."""
    J = jacobian_sde(D)
    U = J.g.T * J.g
    drift = U.applyfunc(lambda e: sp.expand(J.system.drift_of(e)))
    Bs = [b for row in J.BW for b in row]
    loads = {Bm: sp.zeros(D, D) for Bm in Bs}
    for a, b in itertools.product(range(D), repeat=2):
        for Bm, v in J.system.loadings_of(U[a, b]).items():
            loads[Bm][a, b] = sp.expand(v)
    return {"U": U, "drift": drift, "loadings": loads}


def printed_U_differential(D: int = 2) -> dict:
    """P0 L597 as printed: dU = phi'(0) sigma_w/sqrt(D) g^T (dB^W + dB^W^T) g + phi'(0)^2 sigma_w^2 U dt."""
    J = jacobian_sde(D)
    U = J.g.T * J.g
    loads = {}
    for j, k in itertools.product(range(D), repeat=2):
        dB = sp.zeros(D, D)
        dB[j, k] = 1
        loads[J.BW[j][k]] = (phi1 * sigma_w / sp.sqrt(D) * J.g.T * (dB + dB.T) * J.g).applyfunc(sp.expand)
    return {"U": U, "drift": (kappa * U).applyfunc(sp.expand), "loadings": loads}


@derivation
def U_quadratic_variation(D: int = 2) -> dict:
    """d[U_ab]/dt for every (a, b) (a D x D matrix, the reading of Table 1's [.] entrywise), its closed form
    2 phi'(0)^2 sigma_w^2 / D (U_aa U_bb + U_ab^2), and the printed (L599) phi'(0)^2 sigma_w^2/D (g^T.g^T)(g.g)."""
    J = jacobian_sde(D)
    U = J.g.T * J.g
    derived = sp.Matrix(D, D, lambda a, b: sp.expand(J.system.quadratic_variation(U[a, b])))
    closed = sp.Matrix(D, D, lambda a, b: sp.expand(2 * kappa / D * (U[a, a] * U[b, b] + U[a, b] ** 2)))
    sq = J.g.applyfunc(lambda e: e**2)
    printed = (kappa / D * sq.T * sq).applyfunc(sp.expand)
    return {"derived": derived, "closed": closed, "printed": printed, "g": J.g}


@derivation
def W_drift(D: int = 2) -> dict:
    """Drift of W = g g^T (P0-53 route): derived matrix and the closed form kappa tr(W)/D I."""
    J = jacobian_sde(D)
    W = J.g * J.g.T
    drift = W.applyfunc(lambda e: sp.expand(J.system.drift_of(e)))
    closed = (kappa * W.trace() / D * sp.eye(D)).applyfunc(sp.expand)
    return {"drift": drift, "closed": closed}


@derivation
def U_inverse_drift(D: int = 2, points: int = 3, seed: int = 1) -> dict:
    """Drift of V = U^{-1} = (g^T g)^{-1} (P0-52 route) by Ito on the rational function V(g).

    Returns the coefficient k_D with drift(V) = k_D kappa V, read off at a random rational g and confirmed exactly
    at ``points`` further random rational g (entries (1,1), (1,2) for D >= 3 -- the law of g is invariant under
    g -> O g O^T, so these two represent all entries -- and all entries for D = 2), and, for D = 2, identically."""
    J = jacobian_sde(D)
    U = J.g.T * J.g
    V = U.adjugate() / U.det()
    rnd = random.Random(seed)
    syms = list(J.g)
    entries = list(itertools.product(range(D), repeat=2)) if D == 2 else [(0, 0), (0, 1)]
    drift = {ab: J.system.drift_of(V[ab]) for ab in entries}
    par = {phi1: sp.Rational(3, 4), sigma_w: sp.Rational(6, 5)}
    vals_list = [{s_: sp.Rational(rnd.randint(-9, 9), rnd.randint(1, 5)) + (2 if s_ in J.g.diagonal() else 0)
                  for s_ in syms} for _ in range(points + 1)]
    kap = kappa.xreplace(par)
    ref = vals_list[0]
    coeff = sp.nsimplify(drift[(0, 0)].xreplace({**ref, **par}) / V[0, 0].xreplace(ref) / kap)
    ok = all(sp.nsimplify(dr.xreplace({**vals, **par}) - coeff * kap * V[ab].xreplace(vals)) == 0
             for vals in vals_list[1:] for ab, dr in drift.items())
    identical = None
    if D == 2:
        identical = all(sp.simplify(dr - coeff * kappa * V[ab]) == 0 for ab, dr in drift.items())
    return {"coefficient": coeff, "confirmed_at_points": ok, "identical": identical}


def inverse_drift_coefficient_formula() -> sp.Expr:
    """The coefficient of kappa in drift(U^{-1}) as a function of D, fitted to the exact values at D = 2, 3
    (form c0 + c1/D) -- ``U_inverse_drift`` confirms each value."""
    k2, k3 = U_inverse_drift(2)["coefficient"], U_inverse_drift(3)["coefficient"]
    c0, c1 = sp.symbols("c0 c1")
    sol = sp.solve([c0 + c1 / 2 - k2, c0 + c1 / 3 - k3], [c0, c1])
    return sol[c0] + sol[c1] / Dsym


# ----------------------------------------------------------------------------------------------------------
# 3. expectations, items (i), (ii), the sandwich
# ----------------------------------------------------------------------------------------------------------
def solve_linear_expectation(rate: sp.Expr) -> sp.Expr:
    """y(t) with y' = rate * y, y(0) = 1 (the common diagonal of E U_t, E W_t, E U_t^{-1})."""
    f = sp.Function("f")
    return sp.dsolve(sp.Eq(f(t).diff(t), rate * f(t)), f(t), ics={f(0): 1}).rhs


@derivation
def item_limits() -> dict:
    """Derived D -> infinity values (diagonal constants) and their finite-D versions.

    EU: E U_t; EUinv_D: E U_t^{-1} at width D; item_i_D / item_i: int_0^T E U_t^{-1} dt (finite D / limit);
    item_ii: E g_T g_T^T; sandwich: E g_T [int_0^T U_t^{-1} dt] g_T^T (flow property)."""
    kU = sp.simplify(U_differential(2)["drift"][0, 0] / U_differential(2)["U"][0, 0])  # drift(U) = kU U
    EU = solve_linear_expectation(kU)
    cf = inverse_drift_coefficient_formula()
    EUinv_D = solve_linear_expectation(cf * kappa)
    item_i_D = sp.simplify(sp.integrate(EUinv_D, (t, 0, T)))
    item_i = sp.simplify(sp.limit(item_i_D, Dsym, sp.oo))
    EW = solve_linear_expectation(kappa)  # from W_drift: E W' = kappa tau(E W) I, E W_0 = I
    item_ii = EW.subs(t, T)
    sandwich = sp.simplify(sp.integrate(EW.subs(t, T - t), (t, 0, T)))
    return {"kU": kU, "EU": EU, "EUinv_D": EUinv_D, "item_i_D": item_i_D, "item_i": item_i, "item_ii": item_ii,
            "sandwich": sandwich, "product_of_items": sp.simplify(item_i * item_ii), "inv_coeff": cf}


def printed_items() -> dict:
    """P0 L601-605 as printed."""
    return {"u": sp.exp(kappa * t), "item_i": (1 - sp.exp(kappa * T)) / kappa, "item_ii": sp.exp(kappa * T) / kappa,
            "sandwich": (sp.exp(kappa * T) - 1) / kappa}


# ----------------------------------------------------------------------------------------------------------
# 4. kernels: limits and exact finite-(D, L) expectations for phi = c x
# ----------------------------------------------------------------------------------------------------------
@derivation
def backward_one_step_factor(D: int = 2) -> sp.Expr:
    """E|(I + c dW)^T v|^2 / |v|^2 for the linear network's backward step (exact Gaussian moments)."""
    Eg = [[sp.Symbol(f"E_{d}{k}") for k in range(D)] for d in range(D)]
    v = sp.Matrix([sp.Symbol(f"v_{d}", real=True) for d in range(D)])
    dW = sp.Matrix(D, D, lambda d, k: sigma_w * sp.sqrt(dt / D) * Eg[d][k])
    w = (sp.eye(D) + cslope * dW).T * v
    num = gaussian_expectation(sum(e**2 for e in w), [x for row in Eg for x in row])
    return sp.factor(sp.simplify(num / sum(e**2 for e in v)))


def lambda_limit_path() -> sp.Expr:
    """lambda_t^{infinity} at phi''(0) = 0 from the derived ODE (``closed_forms_phi2_zero``), as a function of t."""
    return closed_forms_phi2_zero()["lam"].subs(T, t)


@derivation
def kernel_limits() -> dict:
    """K_b, K_W, K of P0 Sec. 5.4 in the doubly infinite limit, from the integral forms (P0-47/48) with the flow
    property: K_b = phi'(0)^2 sigma_b^2 int_0^T e^{kappa(T-t)} dt, K_W = phi'(0)^2 sigma_w^2 int_0^T E[lambda_t]
    e^{kappa(T-t)} dt; and the GP kernel lambda_T - lambda_0 (P0-58)."""
    it = item_limits()
    Kb = sp.simplify(phi1**2 * sigma_b**2 * it["sandwich"])
    lam_t = lambda_limit_path()
    KW = sp.simplify(phi1**2 * sigma_w**2 * sp.integrate(sp.expand(lam_t * sp.exp(kappa * (T - t))), (t, 0, T)))
    gp = sp.simplify(closed_forms_phi2_zero()["lam"] - lam0)
    return {"K_b": Kb, "K_W": KW, "K": sp.simplify(Kb + KW), "GP": gp}


@derivation
def finite_kernel_expectations() -> dict:
    """Exact E K_b, E K_W at finite (D, L) for phi = c x (any D; psi = id, y = x_{L,1}):

    E K_b(L) = sigma_b^2 c^2 dt sum_{l<L} rho^{L-1-l},  E K_W(L) = c^2 sigma_w^2 dt sum_{l<L} rho^{L-1-l} E lambda_l,
    rho = backward factor (derived), E lambda_{l+1} = alpha E lambda_l + beta (``linear_one_step_moments``), and
    their L -> infinity limits with dt = T/L (the Riemann-sum limit, P0-47/48)."""
    rho = backward_one_step_factor(2)
    if sp.simplify(rho - backward_one_step_factor(3)) != 0:
        raise AssertionError("backward factor depends on D")
    mom = linear_one_step_moments(3)
    alpha = sp.diff(mom["lam"], lam)
    beta = sp.simplify(mom["lam"].subs(lam, 0))
    l = sp.Symbol("l", integer=True, nonnegative=True)
    Elam_l = alpha**l * (lam0 + beta / (alpha - 1)) - beta / (alpha - 1)
    Kb = sp.simplify(sigma_b**2 * cslope**2 * dt * sp.summation(rho ** (Lsym - 1 - l), (l, 0, Lsym - 1)))
    KW = sp.simplify(cslope**2 * sigma_w**2 * dt * sp.summation(sp.expand(rho ** (Lsym - 1 - l) * Elam_l),
                                                                  (l, 0, Lsym - 1)))
    Elam_L = sp.simplify(Elam_l.subs(l, Lsym))
    sub = {dt: T / Lsym}
    lim = {k: sp.simplify(sp.limit(v.subs(sub), Lsym, sp.oo)) for k, v in (("K_b", Kb), ("K_W", KW))}
    return {"rho": rho, "alpha": alpha, "beta": beta, "K_b": Kb, "K_W": KW, "Elam_L": Elam_L, "limits": lim}


def printed_kernels() -> dict:
    """P0 L607-621 as printed (E = exp(C), C = phi'(0)^2 sigma_w^2 T)."""
    return {"K_b": s_over_w * (Eexp - 1),
            "K_W": lam0 * phi1**2 * sigma_w**2 * T * Eexp + s_over_w * (phi1**2 * sigma_w**2 * T * Eexp - (Eexp - 1)),
            "K": lam0 * Cnt * Eexp + s_over_w * Cnt * Eexp,
            "GP": lam0 * (Eexp - 1) + s_over_w * (Eexp - 1)}


@derivation
def completed_ntk() -> dict:
    """NTK of the completed network x_0 = A z, y = G x_T, A = sigma_Z a, G = sigma_Y gamma / sqrt(D), all layers
    trained (P0 Sec. 5.5, L665-671), doubly infinite limit, lambda_0 = sigma_Z^2 <z, z'>:

    output layer: dy/dgamma = sigma_Y x_T / sqrt(D)  -> sigma_Y^2 lambda_T;
    ResNet:       delta_T = G^T, E|J^T G^T|^2 = sigma_Y^2 tau(E J J^T) -> sigma_Y^2 (K_b + K_W);
    input layer:  dy/da_dk = sigma_Z z_k (G g_T)_d -> sigma_Z^2 <z,z'> sigma_Y^2 tau(E g_T g_T^T)."""
    kl = kernel_limits()
    it = item_limits()
    sub = {lam0: sZ**2 * zz}
    out = sY**2 * closed_forms_phi2_zero()["lam"].subs(sub)
    res = sY**2 * (kl["K_b"] + kl["K_W"]).subs(sub)
    inp = sZ**2 * zz * sY**2 * it["item_ii"]
    total = sp.simplify(out + res + inp)
    return {"output": sp.simplify(out), "resnet": sp.simplify(res), "input": sp.simplify(inp), "total": total}


def printed_completed_ntk() -> dict:
    """Eq. (43), both lines, with K-double-bar = sigma_Y^2 K-bar, K-bar = sigma_Z^2 E <z,z'> + s/w (E - 1) (41)-(42)."""
    Kbarbar = sY**2 * (sZ**2 * Eexp * zz + s_over_w * (Eexp - 1))
    line1 = sY**2 * (sZ**2 * (Cnt + 1) * Eexp * zz + s_over_w * Cnt * Eexp) + Kbarbar
    line2 = sY**2 * (sZ**2 * (Cnt + 2) * Eexp * zz + s_over_w * (Cnt * Eexp + Eexp - 1))
    return {"line1": line1, "line2": line2}


@derivation
def finite_completed_expectation() -> sp.Expr:
    """Exact E of the completed-network NTK at finite (D, L) for phi = c x (A, G, dW, db all random)."""
    fk = finite_kernel_expectations()
    sub = {lam0: sZ**2 * zz}
    rho = fk["rho"]
    return sp.simplify(sY**2 * fk["Elam_L"].subs(sub) + sY**2 * (fk["K_b"] + fk["K_W"]).subs(sub)
                       + sZ**2 * zz * sY**2 * rho**Lsym)


# ----------------------------------------------------------------------------------------------------------
# 5. P0-45 / P0-46: the NTK decomposition and the one-step Jacobian blocks, on a tiny symbolic network
# ----------------------------------------------------------------------------------------------------------
PHI_F = sp.Function("phi")


def _network(D: int, L: int, x0, w, b):
    """States x_0..x_L of x_{l+1} = x_l + phi(w_l x_l + b_l) (psi = id) with generic phi."""
    xs = [sp.Matrix(x0)]
    for l in range(L):
        xs.append(xs[-1] + (w[l] * xs[-1] + b[l]).applyfunc(PHI_F))
    return xs


@derivation
def ntk_decomposition(D: int = 2, L: int = 2) -> dict:
    """P0-45 on a D x L network with generic phi: the NTK w.r.t. theta = {eps^W, eps^b} computed by direct
    differentiation of y = x_{L,1} (``derived``) and by the printed chain-rule sums of K_{W,t}, K_{b,t} with the
    factors sigma_w^2 dt / D and sigma_b^2 dt (``printed``), for two inputs (entry (i, j) = (1, 2))."""
    dts = sp.Symbol("dt", positive=True)
    eps = [sp.Matrix(D, D, lambda d, k: sp.Symbol(f"eW{l}_{d}{k}", real=True)) for l in range(L)]
    epb = [sp.Matrix(D, 1, lambda d, _: sp.Symbol(f"eb{l}_{d}", real=True)) for l in range(L)]
    wsym = [sp.Matrix(D, D, lambda d, k: sp.Symbol(f"w{l}_{d}{k}", real=True)) for l in range(L)]
    bsym = [sp.Matrix(D, 1, lambda d, _: sp.Symbol(f"b{l}_{d}", real=True)) for l in range(L)]
    sW, sB = sigma_w * sp.sqrt(dts / D), sigma_b * sp.sqrt(dts)
    at_eps = {}
    for l in range(L):
        at_eps.update({wsym[l][d, k]: sW * eps[l][d, k] for d in range(D) for k in range(D)})
        at_eps.update({bsym[l][d]: sB * epb[l][d] for d in range(D)})
    inputs = [[sp.Symbol(f"x{i}_{d}", real=True) for d in range(D)] for i in range(2)]
    theta = [e for l in range(L) for e in list(eps[l]) + list(epb[l])]
    # derived: gradients of y(eps) directly
    grads = []
    for x0 in inputs:
        y = _network(D, L, x0, [w.subs(at_eps) for w in wsym], [bb.subs(at_eps) for bb in bsym])[-1][0]
        grads.append([sp.diff(y, th) for th in theta])
    derived = sp.expand(sum(g1 * g2 for g1, g2 in zip(*grads)))
    # printed: sum over t of J(y, x_T) J(x_T, x_t) J(x_t, dW_{t-dt}) (...)^T sigma_w^2 dt / D, likewise for b
    ysym = [sp.Matrix(D, 1, lambda d, _: sp.Symbol(f"y{l}_{d}", real=True)) for l in range(L + 1)]
    rows = []
    for x0 in inputs:
        xs = _network(D, L, x0, wsym, bsym)
        per_t = []
        for l in range(1, L + 1):  # t = l dt; parameters of layer l - 1
            tail = _network(D, L - l, list(ysym[l]), wsym[l:], bsym[l:])[-1]  # x_T as a function of x_t
            J_T_t = tail.jacobian(ysym[l]).subs({ysym[l][d]: xs[l][d] for d in range(D)})
            J_y_T = sp.Matrix([[1] + [0] * (D - 1)])
            J_t_W = xs[l].jacobian(list(wsym[l - 1]))  # D x D^2, row-major vec
            J_t_b = xs[l].jacobian(list(bsym[l - 1]))
            per_t.append(((J_y_T * J_T_t * J_t_W).subs(at_eps), (J_y_T * J_T_t * J_t_b).subs(at_eps)))
        rows.append(per_t)
    printed = sp.Integer(0)
    for (aW, ab), (cW, cb) in zip(rows[0], rows[1]):
        printed += (aW * cW.T)[0, 0] * sigma_w**2 * dts / D + (ab * cb.T)[0, 0] * sigma_b**2 * dts
    return {"derived": derived, "printed": sp.expand(printed), "n_params": len(theta)}


@derivation
def one_step_jacobian_blocks(D: int = 2) -> dict:
    """J(x_{t+dt}, dW_t)_{d,(i,j)} and J(x_{t+dt}, db_t)_{d,i} from the model, at dW = db = 0 (the dt -> 0 limit
    of the pre-activation), with phi'(0) = phi1; and the printed limits phi'(0) delta_{di} x_{t,j}, phi'(0) delta_{di}."""
    x = sp.Matrix([sp.Symbol(f"x_{d}", real=True) for d in range(D)])
    w = sp.Matrix(D, D, lambda d, k: sp.Symbol(f"w_{d}{k}", real=True))
    b = sp.Matrix([sp.Symbol(f"b_{d}", real=True) for d in range(D)])
    xn = x + (w * x + b).applyfunc(PHI_F)
    zero = {s_: 0 for s_ in list(w) + list(b)}
    JW = xn.jacobian(list(w)).subs(zero).doit()
    Jb = xn.jacobian(list(b)).subs(zero).doit()
    d1 = sp.Subs(sp.Derivative(PHI_F(sp.Symbol("_u")), sp.Symbol("_u")), sp.Symbol("_u"), 0).doit()
    rep = {d1: phi1}
    JW = JW.subs(rep).applyfunc(lambda e: e.replace(lambda a: isinstance(a, sp.Subs), lambda a: phi1))
    Jb = Jb.subs(rep).applyfunc(lambda e: e.replace(lambda a: isinstance(a, sp.Subs), lambda a: phi1))
    pW = sp.Matrix(D, D * D, lambda d, ij: phi1 * (1 if d == ij // D else 0) * x[ij % D])
    pb = phi1 * sp.eye(D)
    return {"J_W": JW, "J_b": Jb, "printed_W": pW, "printed_b": pb}


@derivation
def U_second_moment_drift(D: int = 2) -> dict:
    """Drift of tau(U^2) = tr(U^2)/D written as c1 kappa tau(U)^2 + c2 kappa tau(U^2) (solved from the polynomial
    identity in g), showing the spectral spread of U does not vanish: with tau(U) -> e^{kappa t},
    tau(U_t^2) -> e^{2 kappa t}(1 + c1 kappa t) when c2 -> 2."""
    J = jacobian_sde(D)
    U = J.g.T * J.g
    tau1 = U.trace() / D
    tau2 = (U * U).trace() / D
    drift = sp.expand(J.system.drift_of(tau2))
    c1, c2 = sp.symbols("c1 c2")
    resid = sp.Poly(sp.expand(drift - kappa * (c1 * tau1**2 + c2 * tau2)), *list(J.g))
    sol = sp.solve(resid.coeffs(), [c1, c2], dict=True)
    if len(sol) != 1:
        raise AssertionError("drift of tau(U^2) is not a combination of tau(U)^2 and tau(U^2)")
    return {"c1": sp.simplify(sol[0][c1]), "c2": sp.simplify(sol[0][c2])}


def spectral_variance_limit() -> sp.Expr:
    """lim_{D->oo} tau(U_T^2) - tau(U_T)^2 from m2' = kappa(c1 e^{2 kappa t} + c2 m2), m2(0) = 1, with c1, c2
    of ``U_second_moment_drift`` at D -> infinity (fitted c + c'/D from D = 2, 3)."""
    r2, r3 = U_second_moment_drift(2), U_second_moment_drift(3)
    lim = {}
    for key in ("c1", "c2"):
        a0, a1 = sp.symbols("a0 a1")
        sol = sp.solve([a0 + a1 / 2 - r2[key], a0 + a1 / 3 - r3[key]], [a0, a1])
        lim[key] = sol[a0]
    f = sp.Function("f")
    m2 = sp.dsolve(sp.Eq(f(t).diff(t), kappa * (lim["c1"] * sp.exp(2 * kappa * t) + lim["c2"] * f(t))), f(t),
                   ics={f(0): 1}).rhs
    return sp.simplify(m2.subs(t, T) - sp.exp(2 * kappa * T))
