"""Shared set-ups for the P0 audits: symbolic states, numeric instances of the laws, evaluation helpers."""
from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import diffusion
from derivations.activations import taylor_at_zero
from derivations.compile import compile_expr
from derivations.laws import GaussianLaw

PHI = diffusion.PHI
#: Assumption 5 (P0, L209-211): phi(0) = 0.
ASSUMPTION_5 = {PHI[0]: sp.Integer(0)}


def psi_symbols(D: int, name: str = "psi") -> sp.Matrix:
    """psi(x) as a column of free real symbols: the derivations hold for any value of the inner activation."""
    return sp.Matrix([sp.Symbol(f"{name}_{d + 1}", real=True) for d in range(D)])


def linear_form_cov(law: GaussianLaw, a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """Transcription helper: C[d, e] = Cov((eps^W a + eps^b)_d, (eps^W b + eps^b)_e), summed index by index.

    (eps^W a)_d = sum_k eps^W_{dk} a_k and vec is row-major, so Cov(eps_{dk}, eps_{ek'}) = Sigma^W[dF+k, eF+k'].
    This is the paper's notation V[eps^W psi(x) + eps^b | x] (P0, Thm 2, L217) written out by definition; it is
    deliberately a different code path from ``GaussianLaw.preact_cov`` (Kronecker products).
    """
    D, F = law.D, law.fan_in
    C = sp.zeros(D, D)
    for d in range(D):
        for e in range(D):
            C[d, e] = sum(a[k] * b[kk] * law.cov_W[d * F + k, e * F + kk] for k in range(F) for kk in range(F)) \
                + law.cov_b[d, e]
    return C


def phi_values(name: str) -> dict:
    """{PHI[n]: phi^(n)(0)} for a named activation (exact, from its SymPy definition)."""
    vals = taylor_at_zero(name, 6)
    return {PHI[n]: sp.nsimplify(v) for n, v in enumerate(vals)}


def random_general_law(rng: np.random.Generator, D: int, mean_scale: float = 0.4, cov_scale: float = 0.6):
    """A general Assumption-4 instance: random (non-symmetric) factors, PSD covariances, non-zero means."""
    AW = rng.normal(size=(D * D, D * D)) * cov_scale / np.sqrt(D)
    Ab = rng.normal(size=(D, D)) * cov_scale
    return dict(mean_W=rng.normal(size=(D, D)) * mean_scale, Sigma_W=AW @ AW.T, mean_b=rng.normal(size=D) * mean_scale,
                Sigma_b=Ab @ Ab.T)


def general_law_values(law: GaussianLaw, inst: dict) -> dict:
    """Map the symbols of ``derivations.laws.general(D)`` to the numbers of a numeric instance."""
    vals = {}
    for i in range(law.mean_W.rows):
        for j in range(law.mean_W.cols):
            vals[law.mean_W[i, j]] = inst["mean_W"][i, j]
    for i in range(law.cov_W.rows):
        for j in range(law.cov_W.cols):
            if isinstance(law.cov_W[i, j], sp.Symbol):
                vals[law.cov_W[i, j]] = inst["Sigma_W"][i, j]
    for i in range(law.D):
        vals[law.mean_b[i]] = inst["mean_b"][i]
        for j in range(law.D):
            if isinstance(law.cov_b[i, j], sp.Symbol):
                vals[law.cov_b[i, j]] = inst["Sigma_b"][i, j]
    return vals


def evaluate(expr, values: dict) -> np.ndarray:
    """Evaluate a SymPy scalar or matrix at numeric ``values`` through a compiled (cached) NumPy kernel."""
    free = sorted((expr.free_symbols if hasattr(expr, "free_symbols") else set()), key=lambda s: s.name)
    missing = [s for s in free if s not in values]
    if missing:
        raise KeyError(f"no value for {missing}")
    fn = compile_expr(free, expr)
    out = fn(*[float(values[s]) for s in free])
    return np.asarray(out, dtype=float)


def rate_series(fn, dts) -> np.ndarray:
    """Evaluate ``fn(dt)`` over a list of step sizes."""
    return np.array([fn(dt) for dt in dts])


def matrix_field(expr: sp.Matrix, syms: list[sp.Symbol]):
    """Compile a matrix expression in ``syms`` to f(values (B, len(syms))) -> (B, rows, cols), entry by entry."""
    kernels = [[compile_expr(tuple(syms), expr[i, j]) for j in range(expr.cols)] for i in range(expr.rows)]

    def f(vals: np.ndarray) -> np.ndarray:
        vals = np.atleast_2d(vals)
        B = vals.shape[0]
        cols = [vals[:, k] for k in range(vals.shape[1])]
        out = np.empty((B, expr.rows, expr.cols))
        for i, row in enumerate(kernels):
            for j, kern in enumerate(row):
                out[:, i, j] = kern(*cols)
        return out

    return f
