"""Gaussian parameter laws of P0, defined once and used by every derivation.

A law gives the mean of the weights and biases and the covariance of their noise, with vec row-major
(P0, Table 1, L114):  dW = mu^W dt + eps^W sqrt(dt), db = mu^b dt + eps^b sqrt(dt),
vec(eps^W) ~ N(0, Sigma^W), eps^b ~ N(0, Sigma^b).  The one-step pre-activation for input x,
h = dW psi(x) + db, is then Gaussian with mean (mu^W psi + mu^b) dt and, across two inputs x, y,
Cov(h(x), h(y)) = [(I (x) psi_x^T) Sigma^W (I (x) psi_y) + Sigma^b] dt.

* ``general``:        Assumption 4 (P0, L185-203), Sigma^W, Sigma^b arbitrary symmetric.
* ``matrix_gaussian``: Assumption 6 (P0, L241-251), eps^W = sigma^{W_O} zeta sigma^{W_I}.
* ``iid``:            Assumption 7 (P0, eqs. (16)-(19), L265-283), Var dW_ij = sigma_w^2 dt / D.
* ``conv``:           the same construction with patch vectors in place of psi(x) (Assumptions 8-10).

The expansion engine (``derivations.diffusion``) only sees ``preact_mean`` and ``preact_cov``: a new law
is a new subclass, not new expansion code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


def vec_rowmajor(M: sp.Matrix) -> sp.Matrix:
    """Row-major vectorisation (P0, Table 1, L114): rows traversed first-to-last, last index fastest."""
    return sp.Matrix([M[i, j] for i in range(M.rows) for j in range(M.cols)])


@dataclass
class GaussianLaw:
    """mu^W (D x D'), Sigma^W (DD' x DD', row-major vec), mu^b (D x 1), Sigma^b (D x D).

    D' is the length of the vector the weights multiply (D for a dense layer, K*K*D for a patch).
    ``factor_W`` / ``factor_b`` (optional) are the square-root factors the law was defined by, so a
    simulator can sample eps = factor @ z exactly as the model is written.
    """

    name: str
    mean_W: sp.Matrix
    cov_W: sp.Matrix
    mean_b: sp.Matrix
    cov_b: sp.Matrix
    factor_W: sp.Matrix | None = None
    factor_b: sp.Matrix | None = None
    params: dict = field(default_factory=dict)

    @property
    def D(self) -> int:
        return self.mean_W.rows

    @property
    def fan_in(self) -> int:
        return self.mean_W.cols

    def preact_mean(self, psi_x: sp.Matrix) -> sp.Matrix:
        """E[h]/dt = mu^W psi(x) + mu^b  (P0, proof of Thm 2, L826)."""
        return self.mean_W * psi_x + self.mean_b

    def preact_cov(self, psi_x: sp.Matrix, psi_y: sp.Matrix) -> sp.Matrix:
        """Cov(h(x), h(y))/dt = (I (x) psi_x^T) Sigma^W (I (x) psi_y) + Sigma^b, row-major vec."""
        D = self.D
        Ax = sp.kronecker_product(sp.eye(D), psi_x.T)
        Ay = sp.kronecker_product(sp.eye(D), psi_y.T)
        return Ax * self.cov_W * Ay.T + self.cov_b

    def stacked(self, psis: list[sp.Matrix]) -> tuple[sp.Matrix, sp.Matrix]:
        """Mean (ND x 1) and covariance (ND x ND) of the pre-activations of N inputs, input-major."""
        means = sp.Matrix.vstack(*[self.preact_mean(p) for p in psis])
        blocks = [[self.preact_cov(p, q) for q in psis] for p in psis]
        return means, sp.Matrix(sp.BlockMatrix(blocks))


def _sym_matrix(prefix: str, rows: int, cols: int, symmetric: bool = False) -> sp.Matrix:
    if symmetric:
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{min(i, j)}{max(i, j)}", real=True))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i}{j}", real=True))


def general(D: int, fan_in: int | None = None) -> GaussianLaw:
    """Assumption 4 with fully symbolic means and symmetric covariances (P0, L185-203)."""
    F = fan_in or D
    return GaussianLaw("Assumption 4 (general Gaussian)", _sym_matrix("muW", D, F), _sym_matrix("SW", D * F, D * F, True),
                       _sym_matrix("mub", D, 1), _sym_matrix("Sb", D, D, True))


def matrix_gaussian(D: int, *, with_means: bool = True) -> GaussianLaw:
    """Assumption 6 (P0, L241-251): eps^W = sigma^{W_O} zeta sigma^{W_I}, eps^b = sigma^b zeta_b, zeta i.i.d. N(0,1).

    The covariance is computed from the sampling definition, entry by entry:
    Cov(eps_{oi}, eps_{o'i'}) = sum_{k,l} sO_{ok} sI_{li} sO_{o'k} sI_{li'}.
    """
    sO, sI, sb = _sym_matrix("sO", D, D), _sym_matrix("sI", D, D), _sym_matrix("sb", D, D)
    zeta = _sym_matrix("z", D, D)
    eps = sO * zeta * sI
    v = vec_rowmajor(eps)
    zs = list(zeta)
    # covariance of a linear map of i.i.d. standard normals: J J^T with J the Jacobian in zeta
    J = v.jacobian(zs)
    mean_W = _sym_matrix("muW", D, D) if with_means else sp.zeros(D, D)
    mean_b = _sym_matrix("mub", D, 1) if with_means else sp.zeros(D, 1)
    return GaussianLaw("Assumption 6 (matrix Gaussian)", mean_W, sp.expand(J * J.T), mean_b, sp.expand(sb * sb.T),
                       factor_W=J, factor_b=sb, params={"sigma_O": sO, "sigma_I": sI, "sigma_b": sb})


def iid(D: int, sigma_w: sp.Symbol | None = None, sigma_b: sp.Symbol | None = None, fan_in: int | None = None) -> GaussianLaw:
    """Assumption 7 (P0, eqs. (16)-(19)): dW = sigma_w/sqrt(D) dB^W, db = sigma_b dB^b (zero means)."""
    F = fan_in or D
    sw = sigma_w if sigma_w is not None else sp.Symbol("sigma_w", positive=True)
    sb = sigma_b if sigma_b is not None else sp.Symbol("sigma_b", positive=True)
    return GaussianLaw("Assumption 7 (i.i.d.)", sp.zeros(D, F), sw**2 / D * sp.eye(D * F), sp.zeros(D, 1),
                       sb**2 * sp.eye(D), factor_W=sw / sp.sqrt(D) * sp.eye(D * F), factor_b=sb * sp.eye(D),
                       params={"sigma_w": sw, "sigma_b": sb})


def numeric_values(law: GaussianLaw, values: dict) -> dict:
    """Substitute numbers into the law; returns plain nested lists (mean_W, cov_W, mean_b, cov_b) as floats."""
    out = {}
    for key in ("mean_W", "cov_W", "mean_b", "cov_b"):
        M = getattr(law, key).subs(values)
        out[key] = [[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
    return out
