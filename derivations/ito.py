"""Multi-dimensional Ito calculus on explicitly listed states and named Brownian coordinates (SymPy only).

An :class:`ItoSystem` is an SDE written coordinate by coordinate::

    dX = mu_X dt + sum_B c_{X,B} dB,        d[B, B'] = rho_{B,B'} dt,

with states ``X`` (SymPy symbols), drifts ``mu_X``, loadings ``c_{X,B}`` on named Brownian coordinates ``B``
(also symbols) and instantaneous Brownian covariances ``rho`` (default: independent standard BMs; entries may
depend on the state, as in the correlated representation of P0, Lemma 21, L968-970).  For a C^2 function
``F`` of the states the multi-dimensional Ito formula (Oksendal 2003, Sec. 4.2) gives::

    dF = [grad F . mu + 1/2 sum_{X,Y} d2F/dXdY d[X,Y]/dt] dt + sum_B (grad F . c_B) dB,
    d[F, G]/dt = sum_{B,B'} (grad F . c_B)(grad G . c_B') rho_{B,B'}.

The second half of the module builds, from the model's definition, the SDE of the fully i.i.d. ResNet
(P0, eq. (11) with Assumption 7, i.e. eqs. (20)/(33), L287 and L471) for ``N`` inputs at a small symbolic
width ``D``, and the correlated-BM representation of P0, Lemma 21 (L966-970) as printed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable, Mapping, Sequence

import sympy as sp

Symbol = sp.Symbol
Expr = sp.Expr


# ----------------------------------------------------------------------------------------------------------
# The generic engine
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItoDifferential:
    """``dF = drift dt + sum_B loadings[B] dB`` (the Ito differential of one scalar function)."""

    drift: Expr
    loadings: dict


class ItoSystem:
    """A diffusion on named states driven by named (possibly correlated) Brownian coordinates.

    Parameters
    ----------
    states:        the state symbols ``X``.
    drift:         ``{X: mu_X}``; missing states have zero drift.
    loadings:      ``{X: {B: c_{X,B}}}``; missing entries are zero.
    brownian_cov:  ``{(B, B'): rho}`` with ``d[B, B'] = rho dt``; read symmetrically.  A missing diagonal entry
                   is 1 (standard BM), a missing off-diagonal entry 0.  ``None``: independent standard BMs.
    """

    def __init__(self, states: Sequence[Symbol], drift: Mapping[Symbol, Expr],
                 loadings: Mapping[Symbol, Mapping[Symbol, Expr]],
                 brownian_cov: Mapping[tuple[Symbol, Symbol], Expr] | None = None):
        self.states: tuple[Symbol, ...] = tuple(states)
        if len(set(self.states)) != len(self.states):
            raise ValueError("states must be distinct")
        unknown = (set(drift) | set(loadings)) - set(self.states)
        if unknown:
            raise ValueError(f"drift/loadings given for unknown states: {sorted(map(str, unknown))}")
        self.drift: dict[Symbol, Expr] = {x: sp.sympify(drift.get(x, 0)) for x in self.states}
        self.loadings: dict[Symbol, dict[Symbol, Expr]] = {
            x: {b: sp.sympify(c) for b, c in loadings.get(x, {}).items() if sp.sympify(c) != 0} for x in self.states}
        self._cov: dict[tuple[Symbol, Symbol], Expr] = {}
        for (b, bp), v in (brownian_cov or {}).items():
            v = sp.sympify(v)
            for key in ((b, bp), (bp, b)):
                if key in self._cov and sp.simplify(self._cov[key] - v) != 0:
                    raise ValueError(f"inconsistent covariance for {key}")
                self._cov[key] = v
        names: list[Symbol] = []
        for x in self.states:
            names.extend(b for b in self.loadings[x] if b not in names)
        for b, bp in self._cov:
            names.extend(c for c in (b, bp) if c not in names)
        self.brownians: tuple[Symbol, ...] = tuple(names)
        self.correlated = any(k[0] != k[1] and v != 0 for k, v in self._cov.items())

    # -- Brownian covariances ----------------------------------------------------------------------------
    def brownian_covariance(self, b: Symbol, bp: Symbol) -> Expr:
        """rho with ``d[b, bp] = rho dt``."""
        if (b, bp) in self._cov:
            return self._cov[(b, bp)]
        return sp.Integer(1) if b == bp else sp.Integer(0)

    def _pair_sum(self, lf: Mapping[Symbol, Expr], lg: Mapping[Symbol, Expr]) -> Expr:
        """sum_{B,B'} lf[B] lg[B'] rho_{B,B'} (sparse: only non-zero covariances)."""
        if not self.correlated and not self._cov:
            return sp.Add(*[c * lg[b] for b, c in lf.items() if b in lg])
        terms = []
        for b, c in lf.items():
            for bp, cp in lg.items():
                rho = self.brownian_covariance(b, bp)
                if rho != 0:
                    terms.append(c * cp * rho)
        return sp.Add(*terms)

    # -- states ------------------------------------------------------------------------------------------
    def state_covariation(self, x: Symbol, y: Symbol) -> Expr:
        """d[X, Y]/dt for two states."""
        return self._state_cov_matrix[self.states.index(x), self.states.index(y)]

    @cached_property
    def _state_cov_matrix(self) -> sp.Matrix:
        n = len(self.states)
        m = sp.zeros(n, n)
        for a in range(n):
            for b in range(a, n):
                v = self._pair_sum(self.loadings[self.states[a]], self.loadings[self.states[b]])
                m[a, b] = m[b, a] = v
        return m

    def diffusion_matrix(self) -> sp.Matrix:
        """The instantaneous covariance matrix ``d[X, Y]/dt`` of the states (in ``states`` order)."""
        return self._state_cov_matrix.copy()

    # -- Ito formula -------------------------------------------------------------------------------------
    def loadings_of(self, F: Expr) -> dict[Symbol, Expr]:
        """``{B: grad F . c_B}``: the loadings of ``dF`` on each Brownian coordinate (zeros dropped)."""
        F = sp.sympify(F)
        grads = {x: sp.diff(F, x) for x in self.states}
        out: dict[Symbol, list] = {}
        for x, gx in grads.items():
            if gx == 0:
                continue
            for b, c in self.loadings[x].items():
                out.setdefault(b, []).append(gx * c)
        res = {b: sp.Add(*v) for b, v in out.items()}
        return {b: v for b, v in res.items() if v != 0}

    def loadings_vector(self, F: Expr, brownians: Sequence[Symbol] | None = None) -> sp.Matrix:
        """The loadings of ``dF`` as a column over ``brownians`` (default: all of the system's)."""
        lf = self.loadings_of(F)
        return sp.Matrix([lf.get(b, sp.Integer(0)) for b in (brownians or self.brownians)])

    def drift_of(self, F: Expr) -> Expr:
        """Ito drift of ``F``: grad F . mu + 1/2 sum_{X,Y} d2F/dXdY d[X,Y]/dt."""
        F = sp.sympify(F)
        first = [sp.diff(F, x) for x in self.states]
        terms = [g * self.drift[x] for g, x in zip(first, self.states) if g != 0]
        C = self._state_cov_matrix
        n = len(self.states)
        for a in range(n):
            if first[a] == 0:
                continue
            for b in range(a, n):
                if C[a, b] == 0:
                    continue
                h = sp.diff(first[a], self.states[b])
                if h != 0:
                    terms.append((sp.Rational(1, 2) if a == b else sp.Integer(1)) * h * C[a, b])
        return sp.Add(*terms)

    def covariation(self, F: Expr, G: Expr) -> Expr:
        """d[F, G]/dt = sum_{B,B'} (grad F . c_B)(grad G . c_B') rho_{B,B'}."""
        return self._pair_sum(self.loadings_of(F), self.loadings_of(G))

    def quadratic_variation(self, F: Expr) -> Expr:
        """d[F]/dt = d[F, F]/dt."""
        return self.covariation(F, F)

    def differential(self, F: Expr) -> ItoDifferential:
        """The Ito differential ``dF`` (drift and loadings)."""
        return ItoDifferential(self.drift_of(F), self.loadings_of(F))

    def noise_covariation(self, lf: Mapping[Symbol, Expr], lg: Mapping[Symbol, Expr]) -> Expr:
        """d[M, N]/dt for two noise terms ``M = sum lf[B] dB``, ``N = sum lg[B] dB`` of this system
        (e.g. transcribed printed diffusion terms)."""
        return self._pair_sum({b: sp.sympify(c) for b, c in lf.items()}, {b: sp.sympify(c) for b, c in lg.items()})


# ----------------------------------------------------------------------------------------------------------
# One residual step, x -> x + phi(h), h Gaussian with mean mu dt and covariance C dt: the diffusion limit
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepLimits:
    """Limits of one step ``Delta x_d = phi(h_d)`` with ``(h_d, h_e) ~ N(dt (mu_d, mu_e), dt [[c_dd, c_de],
    [c_de, c_ee]])``: ``drift = lim E[phi(h_d)]/dt``, ``covariation = lim Cov(phi(h_d), phi(h_e))/dt`` and the
    next-order (O(dt)) coefficients of both, in terms of the symbols below (``p[k]`` = phi^{(k)}(0))."""

    drift: Expr
    covariation: Expr
    drift_next: Expr
    covariation_next: Expr
    p: tuple
    mu_d: Symbol
    mu_e: Symbol
    c_dd: Symbol
    c_de: Symbol
    c_ee: Symbol


@lru_cache(maxsize=None)
def gaussian_step_limits(order: int = 4) -> StepLimits:
    """The diffusion limit of one step ``phi(h)`` of a Gaussian pre-activation (phi(0) = 0), in this module's symbols.

    The expansion itself is ``derivations.diffusion.pair_expansion`` (Taylor polynomial of phi, h = dt mu + sqrt(dt) Z,
    Isserlis moments); here it is only renamed.  Result (P0, Theorem 2, L215-221 for this law):
    drift = p1 mu_d + p2 c_dd / 2, covariation = p1^2 c_de, and the O(dt) coefficients of both.
    """
    from derivations import diffusion as dif

    if order != 4:
        raise ValueError("the expansion is carried to order dt^2, which needs the Taylor polynomial of degree 4")
    mu_d, mu_e = sp.symbols("mu_d mu_e", real=True)
    c_dd, c_ee = sp.symbols("c_dd c_ee", nonnegative=True)
    c_de = sp.Symbol("c_de", real=True)
    p = tuple(sp.Symbol(f"p{k}", real=True) for k in range(1, order + 1))
    ren = {dif.MK: mu_d, dif.ML: mu_e, dif.VKK: c_dd, dif.VKL: c_de, dif.VLL: c_ee, dif.PHI[0]: 0,
           **{dif.PHI[k]: p[k - 1] for k in range(1, order + 1)}}
    pe = dif.pair_expansion()
    drift, drift_next = pe.mean[1].xreplace(ren), pe.mean[2].xreplace(ren)
    covariation, covariation_next = pe.cov[1].xreplace(ren), pe.cov[2].xreplace(ren)
    if sp.simplify(pe.mean[0].xreplace(ren)) != 0 or sp.simplify(pe.cov[0].xreplace(ren)) != 0:
        raise AssertionError("one-step moments must be O(dt)")
    return StepLimits(drift=drift, covariation=covariation, drift_next=drift_next,
                      covariation_next=covariation_next, p=p, mu_d=mu_d, mu_e=mu_e, c_dd=c_dd, c_de=c_de, c_ee=c_ee)


# ----------------------------------------------------------------------------------------------------------
# The fully i.i.d. ResNet (P0, eq. (11) under Assumption 7) as an ItoSystem
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResNetParams:
    """phi'(0) = ``p1``, phi''(0) = ``p2`` (plain symbols), sigma_w, sigma_b > 0."""

    p1: Symbol = field(default_factory=lambda: sp.Symbol("phi1", real=True, nonzero=True))
    p2: Symbol = field(default_factory=lambda: sp.Symbol("phi2", real=True))
    sigma_w: Symbol = field(default_factory=lambda: sp.Symbol("sigma_w", positive=True))
    sigma_b: Symbol = field(default_factory=lambda: sp.Symbol("sigma_b", positive=True))

    @property
    def symbols(self) -> tuple[Symbol, Symbol, Symbol, Symbol]:
        return (self.p1, self.p2, self.sigma_w, self.sigma_b)


def identity(u: Expr) -> Expr:
    return u


@dataclass
class ResNetIID:
    """SDE of ``N`` inputs through the i.i.d. ResNet of width ``D`` (P0, eq. (11) + Assumption 7, L265-283).

    States ``x[i][d]`` = x^{(i)}_d; Brownian coordinates ``BW[d][k]`` = B^W_{dk} and ``Bb[d]`` = B^b_d shared by
    all inputs.  ``preact[i][d]`` are the loadings of the pre-activation h^{(i)}_d = sum_k dW_dk psi(x_k) + db_d
    with dW = sigma_w/sqrt(D) dB^W (16), db = sigma_b dB^b (17).
    """

    D: int
    N: int
    params: ResNetParams
    psi: Callable[[Expr], Expr]
    x: tuple
    BW: tuple
    Bb: tuple
    preact: tuple
    system: ItoSystem
    step: StepLimits

    # functionals of the states (P0, L473, L563)
    def m(self, i: int) -> Expr:
        return sp.Add(*self.x[i]) / self.D

    def lam(self, i: int, j: int) -> Expr:
        return sp.Add(*[self.psi(a) * self.psi(b) for a, b in zip(self.x[i], self.x[j])]) / self.D

    def q(self, i: int) -> Expr:
        return self.lam(i, i)

    def S(self, i: int, j: int | None = None) -> Expr:
        """sigma_b^2 + sigma_w^2 lambda^{(i,j)} (q^{(i)} when j is None or j == i)."""
        j = i if j is None else j
        return self.params.sigma_b**2 + self.params.sigma_w**2 * self.lam(i, j)

    @property
    def brownians(self) -> tuple:
        return tuple(b for row in self.BW for b in row) + tuple(self.Bb)


def resnet_iid_system(D: int, N: int = 1, psi: Callable[[Expr], Expr] | None = None,
                      params: ResNetParams | None = None, state_names: str = "x") -> ResNetIID:
    """Build the SDE of P0 eq. (20)/(33) FROM THE MODEL: x_{t+dt} = x_t + phi(dW psi(x_t) + db).

    Derivation (documented in ``gaussian_step_limits``): given x, h_d = sum_k dW_dk psi(x_k) + db_d is Gaussian
    with mean 0 and covariance dt * C, C_{(i,d),(j,e)} = sum_{B,B'} a_{(i,d),B} a_{(j,e),B'} rho_{B,B'} where
    a are the pre-activation loadings (sigma_w/sqrt(D) psi(x^{(i)}_k) on B^W_{dk}, sigma_b on B^b_d).  The
    one-step limit gives
      drift of x^{(i)}_d = phi'(0) * 0 + 1/2 phi''(0) C_{(i,d),(i,d)}
                         = 1/2 phi''(0) (quadratic-variation rate of the pre-activation),
      d[x^{(i)}_d, x^{(j)}_e]/dt = phi'(0)^2 C_{(i,d),(j,e)}.
    The martingale part of phi(h_d) at order sqrt(dt) is phi'(0) (h_d - E h_d), so the loading of x^{(i)}_d on
    B is phi'(0) a_{(i,d),B}; the builder checks that these loadings reproduce the derived covariation.
    """
    psi = psi or identity
    prm = params or ResNetParams()
    p1, p2, sw, sb = prm.symbols
    xs = tuple(tuple(sp.Symbol(f"{state_names}{i + 1}_{d + 1}", real=True) for d in range(D)) for i in range(N))
    BW = tuple(tuple(sp.Symbol(f"BW_{d + 1}_{k + 1}") for k in range(D)) for d in range(D))
    Bb = tuple(sp.Symbol(f"Bb_{d + 1}") for d in range(D))
    # pre-activation loadings, from dW = sigma_w/sqrt(D) dB^W (16) and db = sigma_b dB^b (17)
    preact = tuple(tuple({**{BW[d][k]: sw / sp.sqrt(D) * psi(xs[i][k]) for k in range(D)}, Bb[d]: sb}
                         for d in range(D)) for i in range(N))
    step = gaussian_step_limits()
    pre_sys = ItoSystem([], {}, {})  # independent standard BMs (Assumption 7)

    def C(i, d, j, e):
        return pre_sys.noise_covariation(preact[i][d], preact[j][e])

    sub_p = {step.p[0]: p1, step.p[1]: p2}
    drift, load = {}, {}
    for i in range(N):
        for d in range(D):
            drift[xs[i][d]] = step.drift.subs({**sub_p, step.mu_d: 0, step.c_dd: C(i, d, i, d)})
            load[xs[i][d]] = {b: p1 * a for b, a in preact[i][d].items()}
    system = ItoSystem([x for row in xs for x in row], drift, load)
    # self-check: loadings reproduce the derived one-step covariation phi'(0)^2 C
    for i in range(N):
        for j in range(i, N):
            for d in range(D):
                for e in range(D):
                    want = step.covariation.subs({**sub_p, step.c_de: C(i, d, j, e)})
                    got = system.state_covariation(xs[i][d], xs[j][e])
                    if sp.expand(want - got) != 0 and sp.simplify(want - got) != 0:
                        raise AssertionError(f"loadings do not reproduce the step covariation at {(i, d, j, e)}")
    return ResNetIID(D=D, N=N, params=prm, psi=psi, x=xs, BW=BW, Bb=Bb, preact=preact, system=system, step=step)


# ----------------------------------------------------------------------------------------------------------
# Lemma 21's representation, as printed (P0, L966-970)
# ----------------------------------------------------------------------------------------------------------
@dataclass
class Lemma21Representation:
    """States x^{(i)}_d (the same symbols as ``model``), Brownians ``B[i][d]`` = B^{(i)}_d with
    dx^{(i)}_d = phi'(0) S_i^{1/2} dB^{(i)}_d + 1/2 phi''(0) S_i dt and
    d[B^{(i)}_d, B^{(j)}_e] = delta_de S_ij / (S_i S_j)^{1/2} dt, S_ij = sigma_b^2 + sigma_w^2 lambda^{(i,j)}."""

    model: ResNetIID
    B: tuple
    system: ItoSystem


def lemma21_representation(model: ResNetIID) -> Lemma21Representation:
    """Transcribe the representation of P0, Lemma 21 (L968-970) on the states of ``model`` (psi as in model;
    the lemma is stated for psi = identity).  The correlation is the printed one, for all i, j (it is 1 at i=j)."""
    D, N = model.D, model.N
    p1, p2, _, _ = model.params.symbols
    B = tuple(tuple(sp.Symbol(f"B{i + 1}_{d + 1}") for d in range(D)) for i in range(N))
    drift, load, cov = {}, {}, {}
    for i in range(N):
        Si = model.S(i)
        for d in range(D):
            drift[model.x[i][d]] = sp.Rational(1, 2) * p2 * Si
            load[model.x[i][d]] = {B[i][d]: p1 * sp.sqrt(Si)}
    for i in range(N):
        for j in range(i, N):
            rho = model.S(i, j) / sp.sqrt(model.S(i) * model.S(j))
            for d in range(D):
                cov[(B[i][d], B[j][d])] = rho
    system = ItoSystem([x for row in model.x for x in row], drift, load, cov)
    return Lemma21Representation(model=model, B=B, system=system)
