"""Exact Jacobians of the finite ResNet (P0 (11), L203; Section 4, L445-447) and Euler schemes of matrix SDEs
driven by the network's own increments (NumPy only; recipe R-JAC).

One layer x' = x + phi(h), h = dW psi(x) + db, has Jacobian ``J = I + diag(phi'(h)) dW diag(psi'(x))``;
``g_T = J_{L-1} ... J_0`` is accumulated layer by layer and ``g_T^{-1}`` is obtained by ``solve``.

:class:`PathwiseJacobian` is a ``callback(l, x, dW, db)`` for ``numeric.resnet.simulate_dense``: before each
layer's update it multiplies the exact Jacobian and advances any number of Euler schemes with the SAME (dW, db):

* ``RightEuler(increment)``:  G <- G + dZ G   (dg = dZ g, a right stochastic exponential),
* ``LeftEuler(increment)``:   U <- U + U dZ   (du = u dZ, a left stochastic exponential),
* ``AdditiveEuler(increment)``: S <- S + dS   (scalar or array processes, e.g. log det g),

where ``increment(x, dW, db, dt)`` returns the Euler increment evaluated at the left point.  The coefficients are
evaluated either at the network's own states or at an Euler scheme of the state SDE (``state_euler``), also
driven by (dW, db).  Diverged paths (non-finite entries) are reported by the caller, never averaged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from numeric.activations import get_activation
from numeric.quadrature import gauss_expect_1d


def step_jacobian(x: np.ndarray, dW: np.ndarray, db: np.ndarray, phi, psi) -> np.ndarray:
    """I + diag(phi'(h)) dW diag(psi'(x)) for a batch: x (B, D), dW (B, D, D), db (B, D) -> (B, D, D)."""
    phi_a, psi_a = _act(phi), _act(psi)
    h = np.einsum("bij,bj->bi", dW, psi_a.f(x)) + db
    J = phi_a.df(h)[:, :, None] * dW * psi_a.df(x)[:, None, :]
    J += np.eye(x.shape[-1])
    return J


def _act(a):
    if isinstance(a, str):
        return get_activation(a)
    if hasattr(a, "df"):
        return a
    raise TypeError("need an Activation (with df) or its name")


def batched_inverse(g: np.ndarray) -> np.ndarray:
    """g^{-1} for a batch (B, D, D) via ``solve`` (LU); singular matrices give non-finite rows."""
    D = g.shape[-1]
    eye = np.broadcast_to(np.eye(D), g.shape)
    out = np.full(g.shape, np.nan)
    ok = np.all(np.isfinite(g), axis=(-2, -1))
    with np.errstate(all="ignore"):
        try:
            out[ok] = np.linalg.solve(g[ok], eye[ok])
        except np.linalg.LinAlgError:
            for i in np.flatnonzero(ok):
                try:
                    out[i] = np.linalg.solve(g[i], np.eye(D))
                except np.linalg.LinAlgError:
                    pass
    return out


def relative_rms(approx: np.ndarray, exact: np.ndarray) -> tuple[float, int]:
    """sqrt(mean ||approx - exact||_F^2) / sqrt(mean ||exact||_F^2) over paths finite in both; returns
    (value, number of paths dropped as non-finite)."""
    a = approx.reshape(approx.shape[0], -1)
    e = exact.reshape(exact.shape[0], -1)
    ok = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(e), axis=1)
    if not ok.any():
        return float("nan"), int((~ok).sum())
    num = np.mean(np.sum((a[ok] - e[ok]) ** 2, axis=1))
    den = np.mean(np.sum(e[ok] ** 2, axis=1))
    return float(np.sqrt(num / den)), int((~ok).sum())


def one_step_jacobian_mean(x: np.ndarray, law, phi, psi, dt: float, n: int = 80) -> np.ndarray:
    """Exact E[J - I] (D, D) of one layer at state x (R-GH): entry (d, e) = E[phi'(h_d) dW_de] psi'(x_e).

    Given x, (h_d, dW_de) is exactly Gaussian, so Stein's lemma gives
    E[phi'(h_d) dW_de] = E[dW_de] E[phi'(h_d)] + Cov(h_d, dW_de) E[phi''(h_d)], two 1-D Gauss-Hermite integrals,
    with Cov(h_d, dW_de) = dt sum_k psi(x_k) Sigma^W_{(dk),(de)} (W independent of b)."""
    phi_a, psi_a = _act(phi), _act(psi)
    x = np.asarray(x, dtype=float)
    D = x.shape[0]
    px = psi_a.f(x)
    mh = law.preact_mean(px) * dt
    vh = np.diag(law.preact_cov(px, px)) * dt
    S = law.cov_W().reshape(D, D, D, D)  # S[d, k, d', k']
    cov_hw = dt * np.einsum("k,dkde->de", px, S)  # Cov(h_d, dW_de)
    e1 = gauss_expect_1d(phi_a.df, mh, vh, n)
    e2 = gauss_expect_1d(phi_a.d2f, mh, vh, n)
    m = law.mean_W * dt * e1[:, None] + cov_hw * e2[:, None]
    return m * psi_a.df(x)[None, :]


# ----------------------------------------------------------------------------------------------------------
# Euler schemes driven by prescribed increments
# ----------------------------------------------------------------------------------------------------------
Increment = Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]


@dataclass
class RightEuler:
    """G <- G + dZ G (Euler scheme of dG = dZ G, G_0 = I)."""

    increment: Increment
    state: np.ndarray | None = None

    def start(self, B: int, D: int):
        self.state = np.broadcast_to(np.eye(D), (B, D, D)).copy()

    def advance(self, x, dW, db, dt):
        self.state = self.state + np.matmul(self.increment(x, dW, db, dt), self.state)


@dataclass
class LeftEuler:
    """U <- U + U dZ (Euler scheme of dU = U dZ, U_0 = I)."""

    increment: Increment
    state: np.ndarray | None = None

    def start(self, B: int, D: int):
        self.state = np.broadcast_to(np.eye(D), (B, D, D)).copy()

    def advance(self, x, dW, db, dt):
        self.state = self.state + np.matmul(self.state, self.increment(x, dW, db, dt))


@dataclass
class AdditiveEuler:
    """S <- S + dS (S_0 = ``initial``)."""

    increment: Increment
    initial: float = 0.0
    state: np.ndarray | None = None

    def start(self, B: int, D: int):
        self.state = np.full(B, float(self.initial))

    def advance(self, x, dW, db, dt):
        self.state = self.state + self.increment(x, dW, db, dt)


@dataclass
class PathwiseJacobian:
    """``callback(l, x, dW, db)`` for ``simulate_dense`` with one input (N = 1).

    Tracks the exact Jacobian product ``g`` of the network and advances every scheme in ``schemes`` with the same
    increments.  Coefficients see ``x_coef``: the network's state, or -- when ``state_euler(x, dW, db, dt)`` is
    given -- an Euler scheme of the state SDE started at ``x0`` and driven by the same (dW, db)."""

    B: int
    D: int
    dt: float
    phi: object
    psi: object
    schemes: dict = field(default_factory=dict)
    state_euler: Callable | None = None
    x0: np.ndarray | None = None

    def __post_init__(self):
        self.g = np.broadcast_to(np.eye(self.D), (self.B, self.D, self.D)).copy()
        for s in self.schemes.values():
            s.start(self.B, self.D)
        self.x_euler = None
        if self.state_euler is not None:
            if self.x0 is None:
                raise ValueError("state_euler needs x0")
            self.x_euler = np.broadcast_to(np.asarray(self.x0, float), (self.B, self.D)).copy()
        self.layers = 0

    def __call__(self, l, x, dW, db):
        xn = x[:, 0, :]
        xc = self.x_euler if self.x_euler is not None else xn
        with np.errstate(all="ignore"):
            for s in self.schemes.values():
                s.advance(xc, dW, db, self.dt)
            if self.x_euler is not None:
                self.x_euler = self.state_euler(self.x_euler, dW, db, self.dt)
            self.g = np.matmul(step_jacobian(xn, dW, db, self.phi, self.psi), self.g)
        self.layers += 1

    def inverse(self) -> np.ndarray:
        """g_T^{-1} of the network (solve)."""
        return batched_inverse(self.g)


@dataclass
class CoupledCoarseJacobian:
    """A coarse network with L / ``factor`` layers driven by the sums of ``factor`` consecutive fine increments
    (the multilevel coupling: the summed (dW, db) have exactly the coarse layer's law under Assumption 4, since
    dW = mu dt + eps sqrt(dt) with Gaussian eps).  ``callback(l, x, dW, db)`` for ``simulate_dense``; tracks the
    coarse state ``x`` (B, D) and Jacobian ``g``.  The fine and coarse networks share their randomness, so the
    difference of their outputs has a small variance (a sharp estimate of the depth bias)."""

    B: int
    D: int
    factor: int
    phi: object
    psi: object
    x0: np.ndarray

    def __post_init__(self):
        self.x = np.broadcast_to(np.asarray(self.x0, float), (self.B, self.D)).copy()
        self.g = np.broadcast_to(np.eye(self.D), (self.B, self.D, self.D)).copy()
        self._dW = np.zeros((self.B, self.D, self.D))
        self._db = np.zeros((self.B, self.D))
        self._count = 0
        self._phi, self._psi = _act(self.phi), _act(self.psi)

    def __call__(self, l, x, dW, db):
        self._dW += dW
        self._db += db
        self._count += 1
        if self._count == self.factor:
            with np.errstate(all="ignore"):
                J = step_jacobian(self.x, self._dW, self._db, self._phi, self._psi)
                h = np.einsum("bij,bj->bi", self._dW, self._psi.f(self.x)) + self._db
                self.x = self.x + self._phi.f(h)
                self.g = np.matmul(J, self.g)
            self._dW[:] = 0.0
            self._db[:] = 0.0
            self._count = 0

    def inverse(self) -> np.ndarray:
        return batched_inverse(self.g)


def chain(*callbacks):
    """One ``callback(l, x, dW, db)`` calling several in order."""
    def cb(l, x, dW, db):
        for c in callbacks:
            c(l, x, dW, db)
    return cb
