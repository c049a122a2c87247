"""Matrix-valued Ito calculus (SymPy only), built on ``derivations.ito.ItoSystem``, and the SDE of P0's ResNet
Jacobian derived from the model (P0, Section 4, L445-461; proofs L905-964).

Part 1 -- generic matrix calculus
---------------------------------
A matrix semimartingale is written by its differential (:class:`MatrixDifferential`)::

    dX = A dt + sum_B C_B dB,        d[B, B'] = rho_{B,B'} dt,

with matrices ``A``, ``C_B`` of SymPy expressions and named Brownian coordinates whose covariations are those of
an ``ItoSystem`` (``noise``: it only supplies ``brownian_covariance``; matrix *states* are ItoSystems whose
scalar states are the entries, see :func:`matrix_state`).  Two brackets of matrix processes:

* matrix-product covariation   ``[X, Y]_{de} = sum_k [X_{dk}, Y_{ke}]``  (Protter 2005, Ch. V, Sec. 9: the bracket
  of stochastic exponentials, ``[Z, Z]`` in Protter's Thm V.48);
* elementwise covariation       ``[X, Y]^o_{de} = [X_{de}, Y_{de}]``   (P0 Table 1's ``[z]_t`` -- "a D-vector for a
  D-dimensional process" -- applied entry by entry).

and the product rule ``d(XY) = dX Y + X dY + d[X, Y]`` with the matrix-product bracket (entrywise it is the
scalar Ito product rule summed over the inner index).

Part 2 -- the Jacobian of the ResNet (11), from the model
---------------------------------------------------------
One step x' = x + phi(dW psi(x) + db) has Jacobian ``I + diag(phi'(h)) dW diag(psi'(x))`` (SymPy ``jacobian``,
:func:`one_step_jacobian`).  With ``h = eps^2 m + eps xi``, ``dW = eps^2 mu^W + eps eta`` (eps = sqrt(dt), (xi, eta)
jointly Gaussian, Assumption 4) the Taylor polynomial of phi' and Isserlis' theorem give the one-step mean and
covariance of ``Dg = (diag(phi'(h)) dW diag(psi')) g`` (:func:`jacobian_step_moments`), hence the matrix SDE
``dg = dZ g`` (:func:`derived_jacobian_noise`), whose inverse ``Y = g^{-1}`` is derived twice: by the matrix
product rule from ``d(g Y) = 0`` (:func:`inverse_by_product_rule`) and by the Ito formula applied to the rational
map ``g -> g^{-1}`` (:func:`inverse_by_ito_formula`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from math import factorial
from typing import Mapping

import sympy as sp

from derivations import laws
from derivations.cache import derivation
from derivations.diffusion import PHI
from derivations.ito import ItoSystem

EPS = sp.Symbol("epsilon", positive=True)  # sqrt(dt)


# ==========================================================================================================
# Part 1: matrix differentials and brackets
# ==========================================================================================================
def matrix_state(name: str, rows: int, cols: int | None = None) -> sp.Matrix:
    """A matrix of real symbols ``name_{d}{e}`` (1-based), to be used as the scalar states of an ItoSystem."""
    cols = rows if cols is None else cols
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


@dataclass(frozen=True)
class MatrixDifferential:
    """``dX = drift dt + sum_B loadings[B] dB`` for a matrix-valued process (all matrices of one shape)."""

    drift: sp.Matrix
    loadings: Mapping[sp.Symbol, sp.Matrix]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.drift.shape)

    def _map(self, f) -> "MatrixDifferential":
        return MatrixDifferential(f(self.drift), {b: f(c) for b, c in self.loadings.items()})

    def left(self, M: sp.Matrix) -> "MatrixDifferential":
        """``M dX`` (M adapted, evaluated at the left point)."""
        return self._map(lambda A: M * A)

    def right(self, M: sp.Matrix) -> "MatrixDifferential":
        """``dX M``."""
        return self._map(lambda A: A * M)

    def hadamard(self, M: sp.Matrix) -> "MatrixDifferential":
        """``dX (.) M`` (elementwise product with an adapted matrix)."""
        return self._map(lambda A: A.multiply_elementwise(M))

    def scale(self, c) -> "MatrixDifferential":
        return self._map(lambda A: c * A)

    def __neg__(self) -> "MatrixDifferential":
        return self.scale(-1)

    def __add__(self, other: "MatrixDifferential") -> "MatrixDifferential":
        if self.shape != other.shape:
            raise ValueError(f"shape mismatch {self.shape} vs {other.shape}")
        load = dict(self.loadings)
        for b, c in other.loadings.items():
            load[b] = load[b] + c if b in load else c
        return MatrixDifferential(self.drift + other.drift, load)

    def __sub__(self, other: "MatrixDifferential") -> "MatrixDifferential":
        return self + (-other)

    def plus_dt(self, A: sp.Matrix) -> "MatrixDifferential":
        """Add a finite-variation term ``A dt`` (e.g. a bracket ``d[Z, Z]``)."""
        return MatrixDifferential(self.drift + A, dict(self.loadings))

    def simplify(self) -> "MatrixDifferential":
        f = lambda A: A.applyfunc(lambda e: sp.simplify(sp.expand(e)))  # noqa: E731
        return MatrixDifferential(f(self.drift), {b: f(c) for b, c in self.loadings.items()})

    def entry(self, d: int, e: int) -> tuple[sp.Expr, dict]:
        """The scalar differential of entry (d, e): (drift, {B: loading})."""
        return self.drift[d, e], {b: c[d, e] for b, c in self.loadings.items() if c[d, e] != 0}


def finite_variation(A: sp.Matrix) -> MatrixDifferential:
    """``A dt`` as a differential without noise."""
    return MatrixDifferential(sp.Matrix(A), {})


def _rho(noise: ItoSystem, b, bp) -> sp.Expr:
    return noise.brownian_covariance(b, bp)


def _scalar_cov(noise: ItoSystem, lf: Mapping, lg: Mapping) -> sp.Expr:
    """d[F, G]/dt for two scalar noise terms with loadings lf, lg (sum over correlated Brownian pairs)."""
    return noise.noise_covariation(lf, lg)


def covariation_matrix(dX: MatrixDifferential, dY: MatrixDifferential, noise: ItoSystem) -> sp.Matrix:
    """Matrix-product covariation rate ``d[X, Y]/dt``: entry (d, e) = sum_k d[X_dk, Y_ke]/dt (Protter's [X, Y])."""
    r, m = dX.shape
    m2, c = dY.shape
    if m != m2:
        raise ValueError(f"inner dimensions differ: {dX.shape} x {dY.shape}")
    out = sp.zeros(r, c)
    for b, Cb in dX.loadings.items():
        for bp, Cbp in dY.loadings.items():
            rho = _rho(noise, b, bp)
            if rho != 0:
                out += rho * (Cb * Cbp)
    return out.applyfunc(sp.expand)


def elementwise_covariation(dX: MatrixDifferential, dY: MatrixDifferential, noise: ItoSystem) -> sp.Matrix:
    """Elementwise covariation rate: entry (d, e) = d[X_de, Y_de]/dt."""
    if dX.shape != dY.shape:
        raise ValueError(f"shape mismatch {dX.shape} vs {dY.shape}")
    out = sp.zeros(*dX.shape)
    for b, Cb in dX.loadings.items():
        for bp, Cbp in dY.loadings.items():
            rho = _rho(noise, b, bp)
            if rho != 0:
                out += rho * Cb.multiply_elementwise(Cbp)
    return out.applyfunc(sp.expand)


def covariation_tensor(dX: MatrixDifferential, dY: MatrixDifferential, noise: ItoSystem) -> sp.Matrix:
    """All covariations: rows vec(X), columns vec(Y) (row-major), entry = d[X_de, Y_uv]/dt."""
    r1, c1 = dX.shape
    r2, c2 = dY.shape
    out = sp.zeros(r1 * c1, r2 * c2)
    for b, Cb in dX.loadings.items():
        for bp, Cbp in dY.loadings.items():
            rho = _rho(noise, b, bp)
            if rho != 0:
                out += rho * (laws.vec_rowmajor(Cb) * laws.vec_rowmajor(Cbp).T)
    return out.applyfunc(sp.expand)


def product_rule(X: sp.Matrix, dX: MatrixDifferential, Y: sp.Matrix, dY: MatrixDifferential,
                 noise: ItoSystem) -> MatrixDifferential:
    """``d(XY) = dX Y + X dY + d[X, Y]`` with the matrix-product bracket."""
    return (dX.right(Y) + dY.left(X)).plus_dt(covariation_matrix(dX, dY, noise))


def system_differential(system: ItoSystem, M: sp.Matrix) -> MatrixDifferential:
    """The Ito differential of a matrix of functions of the system's states, entry by entry (Ito formula)."""
    drift = M.applyfunc(system.drift_of)
    load: dict = {}
    for d in range(M.rows):
        for e in range(M.cols):
            for b, c in system.loadings_of(M[d, e]).items():
                load.setdefault(b, sp.zeros(*M.shape))[d, e] = c
    return MatrixDifferential(drift, load)


def matrix_system(g: sp.Matrix, dg: MatrixDifferential, noise: ItoSystem) -> ItoSystem:
    """An ItoSystem whose scalar states are the entries of ``g`` with ``dg`` as their SDE (noise covariances from
    ``noise``)."""
    states = list(g)
    drift = {g[d, e]: dg.drift[d, e] for d in range(g.rows) for e in range(g.cols)}
    load = {g[d, e]: {b: c[d, e] for b, c in dg.loadings.items() if c[d, e] != 0}
            for d in range(g.rows) for e in range(g.cols)}
    cov = {}
    bs = list(dg.loadings)
    for b in bs:
        for bp in bs:
            v = noise.brownian_covariance(b, bp)
            if v != 0 or b == bp:
                cov[(b, bp)] = v
    return ItoSystem(states, drift, load, cov)


def differentials_equal(a: MatrixDifferential, b: MatrixDifferential) -> bool:
    """Same drift and same loadings on every Brownian coordinate (after simplification)."""
    if a.shape != b.shape:
        return False
    def zero(v):
        v = sp.cancel(sp.together(sp.expand(v)))
        return v == 0 or sp.simplify(v) == 0

    z = lambda M: all(zero(v) for v in M)  # noqa: E731
    if not z(a.drift - b.drift):
        return False
    for key in set(a.loadings) | set(b.loadings):
        ca = a.loadings.get(key, sp.zeros(*a.shape))
        cb = b.loadings.get(key, sp.zeros(*a.shape))
        if not z(ca - cb):
            return False
    return True


# ==========================================================================================================
# Gaussian moments (Isserlis) of several jointly Gaussian centred variables
# ==========================================================================================================
def centred_moment(idx: tuple, cov) -> sp.Expr:
    """E[z_{i1} ... z_{in}] for centred jointly Gaussian z with covariance ``cov[i, j]`` (Isserlis' theorem)."""
    if len(idx) == 0:
        return sp.Integer(1)
    if len(idx) % 2:
        return sp.Integer(0)
    first, rest = idx[0], idx[1:]
    total = sp.Integer(0)
    for j, other in enumerate(rest):
        c = cov[first, other]
        if c != 0:
            total += c * centred_moment(rest[:j] + rest[j + 1:], cov)
    return total


def gaussian_expectation(expr: sp.Expr, zs: tuple, cov) -> sp.Expr:
    """E[expr] for a polynomial in centred jointly Gaussian ``zs`` with covariance matrix ``cov``."""
    P = sp.Poly(sp.expand(expr), *zs)
    out = sp.Integer(0)
    for powers, coef in P.terms():
        idx = tuple(i for i, p in enumerate(powers) for _ in range(p))
        out += coef * centred_moment(idx, cov)
    return sp.expand(out)


def _truncate(expr: sp.Expr, order: int) -> sp.Expr:
    P = sp.Poly(sp.expand(expr), EPS)
    return sp.expand(sum(c * EPS**k for (k,), c in P.terms() if k <= order))


def _phi_prime_series(h: sp.Expr, order: int) -> sp.Expr:
    """phi'(h) = sum_{n <= order} phi^{(n+1)}(0) h^n / n! (Taylor polynomial, symbols PHI[n])."""
    return sum(PHI[n + 1] * h**n / factorial(n) for n in range(order + 1))


# Generic pair/quadruple expansions in placeholder symbols, substituted per entry below.
_M1, _M2, _MU1, _MU2 = sp.symbols("m_1 m_2 mu_1 mu_2", real=True)
_XI1, _XI2, _ETA1, _ETA2 = sp.symbols("xi_1 xi_2 eta_1 eta_2", real=True)
_C = sp.Matrix(4, 4, lambda i, j: sp.Symbol(f"c_{min(i, j)}{max(i, j)}", real=True))


@lru_cache(maxsize=None)
def _pair_mean_expansion() -> tuple[sp.Expr, sp.Expr]:
    """Coefficients of dt and dt^2 in E[phi'(h) w], h = eps^2 m1 + eps xi1, w = eps^2 mu1 + eps eta1.

    Placeholders: c_00 = Var xi1, c_02 = Cov(xi1, eta1), c_22 = Var eta1 (index 0 = xi1, 2 = eta1)."""
    h = EPS**2 * _M1 + EPS * _XI1
    w = EPS**2 * _MU1 + EPS * _ETA1
    ser = _truncate(sp.expand(_phi_prime_series(h, 3) * w), 4)
    zs = (_XI1, _XI2, _ETA1, _ETA2)
    E = gaussian_expectation(ser, zs, _C)
    for k in (0, 1, 3):
        assert sp.expand(E.coeff(EPS, k)) == 0, "odd orders / order 0 must vanish"
    return sp.expand(E.coeff(EPS, 2)), sp.expand(E.coeff(EPS, 4))


@lru_cache(maxsize=None)
def _quad_cov_expansion() -> sp.Expr:
    """Coefficient of dt in Cov(phi'(h1) w1, phi'(h2) w2) with h_i = eps^2 m_i + eps xi_i, w_i = eps^2 mu_i + eps eta_i;
    placeholders c_ij = Cov of (xi1, xi2, eta1, eta2)."""
    zs = (_XI1, _XI2, _ETA1, _ETA2)
    h1, h2 = EPS**2 * _M1 + EPS * _XI1, EPS**2 * _M2 + EPS * _XI2
    w1, w2 = EPS**2 * _MU1 + EPS * _ETA1, EPS**2 * _MU2 + EPS * _ETA2
    a = _truncate(sp.expand(_phi_prime_series(h1, 2) * w1), 3)
    b = _truncate(sp.expand(_phi_prime_series(h2, 2) * w2), 3)
    Eab = gaussian_expectation(_truncate(sp.expand(a * b), 2), zs, _C)
    Ea, Eb = gaussian_expectation(a, zs, _C), gaussian_expectation(b, zs, _C)
    cov = _truncate(sp.expand(Eab - Ea * Eb), 2)
    assert sp.expand(cov.coeff(EPS, 0)) == 0 and sp.expand(cov.coeff(EPS, 1)) == 0
    return sp.expand(cov.coeff(EPS, 2))


# ==========================================================================================================
# Part 2: the ResNet Jacobian
# ==========================================================================================================
@dataclass(frozen=True)
class JacobianSetup:
    """Symbols for the Jacobian SDE at width D under a symbolic Gaussian law (default: Assumption 4, ``general``).

    ``psi[k]`` = psi(x_k), ``dpsi[k]`` = psi'(x_k) (free symbols: the derivation holds for any inner activation);
    ``g`` the Jacobian's entries (states); ``Wt[d, k]`` the Brownian coordinate of the weight noise W~_{dk}
    (vec(W~) = sigma^W vec(B^W), so d[W~_{dk}, W~_{d'k'}] = Sigma^W_{(dk),(d'k')} dt, row-major vec);
    ``noise``: an ItoSystem without states carrying these covariances."""

    D: int
    law: laws.GaussianLaw
    psi: sp.Matrix
    dpsi: sp.Matrix
    g: sp.Matrix
    Wt: sp.Matrix
    noise: ItoSystem

    @property
    def brownians(self) -> list:
        return list(self.Wt)

    def sigma_w(self, d: int, k: int, dd: int, kk: int) -> sp.Expr:
        """Sigma^W_{(dk),(dd kk)} (row-major vec)."""
        return self.law.cov_W[d * self.D + k, dd * self.D + kk]

    def W_noise(self) -> MatrixDifferential:
        """dW = mu^W dt + dW~ (Assumption 4, L185-203)."""
        D = self.D
        load = {}
        for d in range(D):
            for k in range(D):
                E = sp.zeros(D, D)
                E[d, k] = 1
                load[self.Wt[d, k]] = E
        return MatrixDifferential(self.law.mean_W, load)


def jacobian_setup(D: int, law: laws.GaussianLaw | None = None) -> JacobianSetup:
    law = law or laws.general(D)
    psi = sp.Matrix([sp.Symbol(f"psi_{k + 1}", real=True) for k in range(D)])
    dpsi = sp.Matrix([sp.Symbol(f"dpsi_{k + 1}", real=True) for k in range(D)])
    g = matrix_state("g", D)
    Wt = sp.Matrix(D, D, lambda i, j: sp.Symbol(f"Wt_{i + 1}{j + 1}"))
    cov = {}
    for a, b in product(range(D * D), repeat=2):
        cov[(Wt[a // D, a % D], Wt[b // D, b % D])] = law.cov_W[a, b]
    return JacobianSetup(D, law, psi, dpsi, g, Wt, ItoSystem([], {}, {}, cov))


def one_step_jacobian(D: int):
    """SymPy Jacobian of one residual step x -> x + phi(dW psi(x) + db) (P0 (11)) with undefined phi, psi.

    Returns (x, dW, db, h, J) with h = dW psi(x) + db and J = d x' / d x (D x D)."""
    phi, psi = sp.Function("phi"), sp.Function("psi")
    x = sp.Matrix([sp.Symbol(f"x_{k + 1}", real=True) for k in range(D)])
    dW = matrix_state("DW", D)
    db = sp.Matrix([sp.Symbol(f"Db_{k + 1}", real=True) for k in range(D)])
    h = dW * x.applyfunc(psi) + db
    xp = x + h.applyfunc(phi)
    return x, dW, db, h, xp.jacobian(x)


@dataclass(frozen=True)
class JacobianStepMoments:
    """One-step moments of Dg = (diag(phi'(h)) dW diag(psi')) g, from the model (Taylor + Isserlis).

    ``drift_coef`` M: E[Dg]/dt -> M g;  ``drift_next`` M1: E[Dg]/dt = (M + dt M1) g + O(dt^2);
    ``weight_cov`` Q[(d,k),(u,k')]: Cov(phi'(h_d) dW_dk, phi'(h_u) dW_uk')/dt -> Q (so that
    d[g_de, g_uv]/dt = sum_{k,k'} psi'_k psi'_k' g_ke g_k'v Q[(d,k),(u,k')]);
    ``covariation``: that D^2 x D^2 tensor (rows vec(g) row-major)."""

    drift_coef: sp.Matrix
    drift_next: sp.Matrix
    weight_cov: sp.Matrix
    covariation: sp.Matrix


def _preact_weight_cov(s: JacobianSetup) -> sp.Matrix:
    """Covariance (per unit dt) of the Gaussian vector (xi_1..xi_D, eta_11..eta_DD): the centred parts of h and dW.

    xi_d = sum_j eta_dj psi_j + eps^b_d with eta = eps^W; W and b independent (Assumption 4)."""
    D = s.D
    n = D + D * D
    C = sp.zeros(n, n)
    for d in range(D):
        for e in range(D):
            C[d, e] = sum(s.psi[j] * s.psi[jj] * s.sigma_w(d, j, e, jj) for j in range(D) for jj in range(D)) \
                + s.law.cov_b[d, e]
    for d in range(D):
        for a in range(D * D):
            u, k = divmod(a, D)
            C[d, D + a] = C[D + a, d] = sum(s.psi[j] * s.sigma_w(d, j, u, k) for j in range(D))
    for a in range(D * D):
        for b in range(D * D):
            C[D + a, D + b] = s.law.cov_W[a, b]
    return C


@derivation
def jacobian_step_moments(D: int, law: laws.GaussianLaw | None = None) -> JacobianStepMoments:
    """Derive the instantaneous mean and covariance of the Jacobian increment under Assumption 4 (general law).

    E[phi'(h_d) dW_de] and Cov(phi'(h_d) dW_dk, phi'(h_u) dW_uk') are expanded in eps = sqrt(dt) with the Taylor
    polynomial of phi' (PHI[n] = phi^(n)(0)) and Isserlis moments of the jointly Gaussian centred parts.
    ``law``: a symbolic law from ``derivations.laws`` (default ``general(D)``, Assumption 4)."""
    s = jacobian_setup(D, law)
    C = _preact_weight_cov(s)
    m = s.law.mean_W * s.psi + s.law.mean_b
    e1, e2 = _pair_mean_expansion()
    M, M1 = sp.zeros(D, D), sp.zeros(D, D)
    for d in range(D):
        for e in range(D):
            a = D + d * D + e
            sub = {_M1: m[d], _MU1: s.law.mean_W[d, e], _C[0, 0]: C[d, d], _C[0, 2]: C[d, a], _C[2, 2]: C[a, a]}
            M[d, e] = sp.expand(e1.xreplace(sub)) * s.dpsi[e]
            M1[d, e] = sp.expand(e2.xreplace(sub)) * s.dpsi[e]
    q = _quad_cov_expansion()
    Q = sp.zeros(D * D, D * D)
    for a in range(D * D):
        d, k = divmod(a, D)
        for b in range(D * D):
            u, kk = divmod(b, D)
            idx = (d, u, D + a, D + b)
            sub = {_M1: m[d], _M2: m[u], _MU1: s.law.mean_W[d, k], _MU2: s.law.mean_W[u, kk]}
            for i in range(4):
                for j in range(i, 4):
                    sub[_C[i, j]] = C[idx[i], idx[j]]
            Q[a, b] = sp.expand(q.xreplace(sub))
    g, dp = s.g, s.dpsi
    cov = sp.zeros(D * D, D * D)
    for a in range(D * D):
        d, e = divmod(a, D)
        for b in range(D * D):
            u, v = divmod(b, D)
            cov[a, b] = sp.expand(sum(dp[k] * dp[kk] * g[k, e] * g[kk, v] * Q[d * D + k, u * D + kk]
                                      for k in range(D) for kk in range(D)))
    return JacobianStepMoments(M, M1, Q, cov)


def derived_jacobian_noise(D: int, law: laws.GaussianLaw | None = None) -> tuple[JacobianSetup, MatrixDifferential]:
    """The differential dZ with dg = dZ g derived from the model.

    Drift: the limit M of E[Dg]/dt (:func:`jacobian_step_moments`).  Loadings: the order-sqrt(dt) term of the one-step
    Jacobian diag(phi'(h)) dW diag(psi') is phi'(0) eps^W diag(psi') sqrt(dt), i.e. phi'(0) psi'_k on W~_{dk} in entry
    (d, k).  Self-check: these loadings reproduce the derived covariation tensor of g."""
    s = jacobian_setup(D, law)
    mom = jacobian_step_moments(D, law)
    noise_part = s.W_noise().hadamard(sp.ones(D, 1) * s.dpsi.T).scale(PHI[1])
    dZ = MatrixDifferential(mom.drift_coef, dict(noise_part.loadings))
    dg = dZ.right(s.g)
    got = covariation_tensor(dg, dg, s.noise)
    if any(sp.expand(v) != 0 for v in (got - mom.covariation)):
        raise AssertionError("loadings do not reproduce the derived covariation of g")
    return s, dZ


def inverse_by_product_rule(s: JacobianSetup, dZ: MatrixDifferential) -> MatrixDifferential:
    """d(g^{-1}) from d(g Y) = dg Y + g dY + d[g, Y] = 0 with dg = dZ g, solved for dY (unknown drift, loadings).

    Loadings first: (C^Z_B g) Y + g C^Y_B = 0; then the drift: (A^Z g) Y + g A^Y + sum rho (C^Z_B g) C^Y_B' = 0.
    Y = g^{-1} is substituted at the end; the result is written in terms of the entries of g."""
    D = s.D
    g = s.g
    Y = g.inv()
    dg = dZ.right(g)
    tidy = lambda M: M.applyfunc(lambda e: sp.factor(sp.cancel(e)))  # noqa: E731
    load = {}
    for b, Cg in dg.loadings.items():
        # unknown loadings U: (C^Z_B g) Y + g U = 0, a linear system in the entries of U (solved by LU)
        load[b] = tidy(g.LUsolve(-(Cg * Y)))
    dY_noise = MatrixDifferential(sp.zeros(D, D), load)
    # unknown drift A: (A^Z g) Y + g A + d[g, Y]/dt = 0
    A = g.LUsolve(-(dg.drift * Y + covariation_matrix(dg, dY_noise, s.noise)))
    return MatrixDifferential(tidy(A), load)


def inverse_by_ito_formula(s: JacobianSetup, dZ: MatrixDifferential) -> MatrixDifferential:
    """d(g^{-1}) by the multi-dimensional Ito formula applied to the rational map g -> g^{-1} (ItoSystem on the
    entries of g)."""
    system = matrix_system(s.g, dZ.right(s.g), s.noise)
    return system_differential(system, s.g.inv())


def left_exponential(U: sp.Matrix, dX: MatrixDifferential) -> MatrixDifferential:
    """Protter's (left) stochastic exponential U = E(X): dU = U dX."""
    return dX.left(U)


def right_exponential(G: sp.Matrix, dX: MatrixDifferential) -> MatrixDifferential:
    """Protter's right stochastic exponential G = E^R(X): dG = dX G."""
    return dX.right(G)


@dataclass(frozen=True)
class InverseSDEs:
    """d(g^{-1}) for the model's dg = dZ g, by the product rule and by Ito's formula, and whether they agree."""

    product_rule: MatrixDifferential
    ito_formula: MatrixDifferential
    agree: bool


@derivation
def inverse_sdes(D: int) -> InverseSDEs:
    """Both derivations of d(g^{-1}) for the Jacobian SDE derived from the model (general Assumption-4 law), cached."""
    s, dZ = derived_jacobian_noise(D)
    a, b = inverse_by_product_rule(s, dZ), inverse_by_ito_formula(s, dZ)
    return InverseSDEs(a, b, differentials_equal(a, b))
