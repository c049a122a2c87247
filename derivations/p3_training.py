"""P3 (Hayou-Doucet-Rousseau), Sect. 3 and App. A/C: linear-model training dynamics in function space, derived.

Everything here is SymPy.  The frozen-kernel dynamics are linear ODEs with constant coefficients,
    d g_t = -(1/N) K g_t dt + b dt,
solved by variation of constants g_t = e^{-tK/N} g_0 + int_0^t e^{-(t-s)K/N} b ds, with the matrix exponential
computed exactly for a concrete symmetric positive-definite K (rational entries, distinct eigenvalues) and every
other quantity (t, N, f_0, Y, Gamma, eta/S, kernel row K(x, X)) symbolic.  The printed forms are transcribed
separately (``printed_*``) and compared with ``derivations.compare.compare``.
"""
from __future__ import annotations

import functools

import sympy as sp

from derivations.cache import derivation

t, s, u, N = sp.symbols("t s u N", positive=True)
eta, S = sp.symbols("eta S", positive=True)
K_CONCRETE = sp.Matrix([[2, 1], [1, 2]])  # SPD, eigenvalues 1 and 3
n = K_CONCRETE.shape[0]
F0 = sp.Matrix(sp.symbols(f"f0_1:{n + 1}"))
Y = sp.Matrix(sp.symbols(f"y_1:{n + 1}"))
GAM = sp.Matrix(sp.symbols(f"Gamma_1:{n + 1}"))  # Gamma(X), taken constant in time
KX = sp.Matrix(1, n, sp.symbols(f"k_1:{n + 1}"))
f0x, gamx = sp.symbols("f0_x Gamma_x")


def expm(K: sp.Matrix, tau) -> sp.Matrix:
    """e^{-tau K / N} exactly (eigendecomposition of the concrete symmetric K)."""
    return _expm_unit(sp.ImmutableMatrix(K)).subs(_TAU, tau)


_TAU = sp.Symbol("tau_", real=True)


@functools.lru_cache(maxsize=None)
def _expm_unit(K: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(sp.simplify((-(_TAU / N) * K).exp()))


def _integrate(M: sp.Matrix, var, lo, hi) -> sp.Matrix:
    return M.applyfunc(lambda e: sp.integrate(sp.expand(e), (var, lo, hi)))


@functools.lru_cache(maxsize=None)
def _conv_unit(K: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """int_0^t e^{-(t-s)K/N} ds, by the spectral projectors of K and a scalar SymPy integral per eigenvalue."""
    out = sp.zeros(*K.shape)
    for lam, _mult, vecs in K.eigenvects():
        V = sp.Matrix.hstack(*[v / v.norm() for v in sp.GramSchmidt(vecs)])
        out += V * V.T * sp.integrate(sp.exp(-(t - s) * lam / N), (s, 0, t))
    return sp.ImmutableMatrix(sp.simplify(out))


def conv(K: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """int_0^t e^{-(t-s)K/N} b ds for a constant vector b (K symmetric)."""
    return sp.Matrix(_conv_unit(sp.ImmutableMatrix(K))) * b


def variation_of_constants(K: sp.Matrix, g0: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """Solution of dg/dt = -(1/N) K g + b (b constant): e^{-tK/N} g0 + int_0^t e^{-(t-s)K/N} b ds."""
    return expm(K, t) * g0 + conv(K, b)


def ode_residual(K: sp.Matrix, g: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """dg/dt + (1/N) K g - b, which must vanish identically for a solution."""
    return sp.simplify(g.diff(t) + K * g / N - b)


# ---- P3-5: (7) -> (8) ------------------------------------------------------------------------------------
@derivation
def derived_train_solution(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """(7) df = -(1/N) K (f - Y) dt is dg = -(1/N) K g dt + (1/N) K Y dt for g = f; solved exactly."""
    return variation_of_constants(K, F0, K * Y / N)


@derivation
def printed_eq8(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """(8) L107 = (16) L383, as printed: e^{-K t/N} f0 + (I - e^{-K t/N}) Y."""
    E = expm(K, t)
    return E * F0 + (sp.eye(K.shape[0]) - E) * Y


# ---- P3-6: (9) -----------------------------------------------------------------------------------------
@derivation
def derived_test_point(K: sp.Matrix = K_CONCRETE) -> sp.Expr:
    """f_t(x) = f_0(x) - (1/N) int_0^t K(x, X)(f_s(X) - Y) ds with f_s(X) the derived solution of (7)."""
    fX = derived_train_solution(K).subs(t, s)
    integrand = (KX * (fX - Y))[0, 0] / N
    return sp.simplify(f0x - sp.integrate(integrand, (s, 0, t)))


@derivation
def printed_eq9(K: sp.Matrix = K_CONCRETE) -> sp.Expr:
    """(9) L111 = (17) L388: f_0(x) + K(x, X) K^{-1} (I - e^{-K t/N})(Y - f_0(X))."""
    E = expm(K, t)
    return f0x + (KX * K.inv() * (sp.eye(K.shape[0]) - E) * (Y - F0))[0, 0]


# ---- P3-37: (33) with frozen kernel -> (34), M_t --------------------------------------------------------
def drift_33(K: sp.Matrix = K_CONCRETE, f=None) -> sp.Matrix:
    """Drift of (33) with K_{theta_t} frozen at K: -(1/N) K (f - Y) + (1/2)(eta/S) Gamma."""
    f = F0 if f is None else f
    return -K * (f - Y) / N + sp.Rational(1, 2) * eta / S * GAM


def printed_M(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """L1429: M_t = Y - (eta N / 2S) K^{-1} Gamma_t(X)."""
    return Y - eta * N / (2 * S) * K.inv() * GAM


def drift_with_M(K: sp.Matrix, M: sp.Matrix, f=None) -> sp.Matrix:
    """L1429 drift: -(1/N) K (f - M_t)."""
    f = F0 if f is None else f
    return -K * (f - M) / N


def derived_M(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """The M with -(1/N)K(f - M) = drift of (33): solve (1/N) K M = (1/N) K Y + (eta/2S) Gamma."""
    return sp.simplify(K.inv() * (K * Y + N * eta / (2 * S) * GAM))


@derivation
def derived_ou_mean(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """Deterministic part (noise off, constant Gamma) of the solution of (33) with frozen K."""
    return variation_of_constants(K, F0, K * Y / N + eta / (2 * S) * GAM)


@derivation
def printed_eq34_mean(K: sp.Matrix = K_CONCRETE) -> sp.Matrix:
    """(34) with A_t's drift part -(eta/2S) int_0^t e^{-(t-s)K/N} Gamma ds (constant Gamma), noise dropped."""
    E = expm(K, t)
    A = -eta / (2 * S) * conv(K, GAM)
    return E * F0 + (sp.eye(K.shape[0]) - E) * Y + A


@derivation
def printed_L1456(K: sp.Matrix = K_CONCRETE) -> tuple[sp.Matrix, sp.Matrix]:
    """L1456: (1/N) int_0^t K e^{-(t-s)K/N} M_s ds (printed M) and its printed value."""
    lhs = K * conv(K, printed_M(K)) / N  # K, e^{-(t-s)K/N} commute; M constant
    E = expm(K, t)
    rhs = (sp.eye(K.shape[0]) - E) * Y - eta / (2 * S) * conv(K, GAM)
    return lhs, rhs


# ---- P3-38: (35), deterministic part --------------------------------------------------------------------
@derivation
def derived_test_point_sgd(K: sp.Matrix = K_CONCRETE) -> sp.Expr:
    """Deterministic part of f_t(x) from L1460 (frozen K, constant Gamma(x), Gamma(X)) with f_s(X) derived."""
    fX = derived_ou_mean(K).subs(t, s)
    integrand = -(KX * (fX - Y))[0, 0] / N + sp.Rational(1, 2) * eta / S * gamx
    return sp.simplify(f0x + sp.integrate(integrand, (s, 0, t)))


@derivation
def printed_eq35_mean(K: sp.Matrix = K_CONCRETE, s_value=0) -> sp.Expr:
    """(35) deterministic part f_0(x) + K_x K^{-1}(I - e^{-(t-s)K/N})(Y - f_0) + Z_t(x), as printed.

    The first term's e^{-(t-s)K/N} has a free s (no integral); it is evaluated at ``s_value`` (0 reads it as
    the GD formula (9))."""
    I = sp.eye(K.shape[0])
    first = (KX * K.inv() * (I - expm(K, t - s_value)) * (Y - F0))[0, 0]
    Zint = _integrate(KX * K.inv() * (I - expm(K, t - s)) * GAM, s, 0, t)[0, 0]
    Z = eta / (2 * S) * (gamx * t + Zint)
    return f0x + first + Z


# ---- P3-2: chain rule (3) / (5) on a symbolic model with a generic loss ----------------------------------
TH = sp.Matrix(sp.symbols("theta_1:4"))
XS = sp.symbols("x_1:4")  # N = 3 training inputs
YS = sp.symbols("yy_1:4")
xq = sp.Symbol("x")
ELL = sp.Function("ell")  # generic loss ell(z, y)


def toy_model(x):
    """f(x, theta) = theta_2 tanh(theta_1 x) + theta_3 x."""
    return TH[1] * sp.tanh(TH[0] * x) + TH[2] * x


@derivation
def derived_function_flow() -> sp.Expr:
    """d f(x, theta_t)/dt under (2) d theta = -grad L dt, with L = (1/N) sum ell(f(x_i), y_i): chain rule."""
    Nn = len(XS)
    L = sum(ELL(toy_model(xi), yi) for xi, yi in zip(XS, YS)) / Nn
    gradL = sp.Matrix([L.diff(th) for th in TH])
    gradf = sp.Matrix([[toy_model(xq).diff(th) for th in TH]])
    return sp.expand((-gradf * gradL)[0, 0])


@derivation
def printed_eq3() -> sp.Expr:
    """(3) L72: -(1/N) grad f(x) grad f(X)^T grad_z ell(f(X), Y)."""
    Nn = len(XS)
    z = sp.Symbol("z")
    gradf = sp.Matrix([[toy_model(xq).diff(th) for th in TH]])
    JX = sp.Matrix([[toy_model(xi).diff(th) for th in TH] for xi in XS])
    gl = sp.Matrix([ELL(z, yi).diff(z).subs(z, toy_model(xi)) for xi, yi in zip(XS, YS)])
    return sp.expand((-gradf * JX.T * gl / Nn)[0, 0])


@derivation
def gd_flow_series():
    """(1 - eta h)^{t/eta} - e^{-t h} expanded in eta at fixed t: leading term -(t h^2/2) e^{-th} eta."""
    h, et = sp.symbols("h eta_", positive=True)
    expr = sp.exp(t / et * sp.log(1 - et * h)) - sp.exp(-t * h)
    return sp.simplify(sp.series(expr, et, 0, 2).removeO()), h, et


# ---- P3-36: Ito's formula for f(x, theta_t) under the SGD diffusion (31) ---------------------------------
R_SYM = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"r_{min(i, j) + 1}{max(i, j) + 1}"))  # Sigma^{1/2}, symmetric
XI = sp.Matrix(sp.symbols("xi_1:4"))
NDATA = 4
XD = sp.symbols(f"xd_1:{NDATA + 1}")
YD = sp.symbols(f"yd_1:{NDATA + 1}")


def sgd_loss():
    """L(theta) = (1/N) sum (1/2)(f(x_i, theta) - y_i)^2 for the toy model."""
    return sum((toy_model(xi) - yi) ** 2 / 2 for xi, yi in zip(XD, YD)) / NDATA


@derivation
def derived_ito_drift_diffusion():
    """Second-order expansion of E f(x, theta + mu h + G sqrt(h) xi), xi ~ N(0, I), G = sqrt(eta/S) Sigma^{1/2},
    mu = -grad L: returns (drift, loading row grad f G)."""
    eps = sp.Symbol("eps")
    mu = -sp.Matrix([sgd_loss().diff(th) for th in TH])
    G = sp.sqrt(eta / S) * R_SYM
    shift = eps**2 * mu + eps * G * XI
    F = toy_model(xq)
    # Taylor to second order in eps: F(theta + shift) = F + grad F . shift + (1/2) shift^T H shift + O(eps^3)
    grad = sp.Matrix([F.diff(th) for th in TH])
    H = sp.hessian(F, list(TH))
    second = sp.expand((grad.T * shift)[0, 0] + (shift.T * H * shift)[0, 0] / 2)
    order2 = second.coeff(eps, 2)
    order1 = second.coeff(eps, 1)
    # E over xi: xi_i -> 0, xi_i xi_j -> delta_ij
    poly = sp.Poly(order2, *XI)
    drift = 0
    for mon, c in poly.terms():
        if all(p % 2 == 0 for p in mon):
            drift += c * sp.prod([sp.factorial2(p - 1) if p > 0 else 1 for p in mon])
    loading = sp.Matrix([[order1.coeff(x_) for x_ in XI]])
    return sp.expand(drift), sp.expand(loading)


@derivation
def printed_eq32_drift_diffusion():
    """(32)/(33) for one input x: -(1/N) grad f(x) grad f(X)^T (f(X) - Y) + (1/2)(eta/S) Tr(Sigma^{1/2} Hess f Sigma^{1/2});
    diffusion sqrt(eta/S) grad f(x) Sigma^{1/2}."""
    F = toy_model(xq)
    gx = sp.Matrix([[F.diff(th) for th in TH]])
    JX = sp.Matrix([[toy_model(xi).diff(th) for th in TH] for xi in XD])
    resid = sp.Matrix([toy_model(xi) - yi for xi, yi in zip(XD, YD)])
    H = sp.hessian(F, list(TH))
    drift = (-gx * JX.T * resid / NDATA)[0, 0] + sp.Rational(1, 2) * eta / S * (R_SYM * H * R_SYM).trace()
    return sp.expand(drift), sp.expand(sp.sqrt(eta / S) * gx * R_SYM)
