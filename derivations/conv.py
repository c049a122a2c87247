"""Convolutional ResNet of P0, Section 3.2 (L309-421), in SymPy: patches as linear maps, conv parameter laws.

State x in R^{U x V x D} is handled through vec_rowmajor(x) (index (u V + v) D + d, P0 L114, L311).  A square
filter of odd size K (E = (K-1)/2, unit strides, E-pixel padding) sees at position p = (u, v) (row-wise order,
p = u V + v) the patch x_{*p} = x_{u-E:u+E, v-E:v+E, .}, flattened row-major over (a, b, d) (a, b = 0..K-1
the offsets), a vector of F = K*K*D entries.  With padding, extraction is an AFFINE map

    x_{*p} = S_p vec(x) + c o_p,

S_p a 0/1 selection matrix (F x UVD, at most one 1 per row) and o_p in {0,1}^F marking the padded entries
(constant background c, "zero" padding c = 0); for "copy" padding (border values copied, L311) the
out-of-range index is clamped, so o_p = 0 and S_p has exactly one 1 per row.  Because psi acts entrywise and
S_p selects entries, psi(x_{*p}) = S_p psi(x) + psi(c) o_p.

The conv step (23), x_{t+dt,p} = x_{t,p} + phi(dW psi(x_{t,*p}) + db), shares dW (D x F) and db over all
positions, so the stacked pre-activations over positions are jointly Gaussian: the generic engine
``derivations.diffusion.one_step_limit(law, psis=[psi(x_{*1}), ..., psi(x_{*P})])`` gives the drift and the
full PD x PD diffusion; the conv laws below are ordinary ``derivations.laws.GaussianLaw`` instances with
fan_in = K*K*D whose covariance is computed from the SAMPLING DEFINITION (Jacobian of the linear map from the
standard normals zeta to vec(eps^W)).

* ``conv_general``:    Assumption 8 (L313-331), Sigma^W arbitrary symmetric DF x DF.
* ``tensor_gaussian``: Assumption 9 (L373-377), eps^W = sigma^{W_O} zeta (sigma^{W_U} (x) sigma^{W_V} (x) sigma^{W_I}).
* ``conv_iid``:        Assumption 10 (L393-411), Delta W = zeta^W sigma_w / sqrt(D) sqrt(dt), zeta^W i.i.d. N(0, 1).
"""
from __future__ import annotations

import sympy as sp
from sympy.polys.rings import ring

from derivations.laws import GaussianLaw, _sym_matrix, general, vec_rowmajor

PADDINGS = ("zero", "constant", "copy")


# ---------------------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------------------

def positions(U: int, V: int) -> list[tuple[int, int]]:
    """The P = UV positions in row-wise order (P0 L311): p = u V + v."""
    return [(u, v) for u in range(U) for v in range(V)]


def patch_sources(U: int, V: int, K: int, D: int, padding: str = "zero") -> list[list[int | None]]:
    """For each position, the F = K*K*D indices into vec_rowmajor(x) read by its patch (None = padded entry).

    Entry (a, b, d) of the patch at (u, v) (row-major, d fastest) is x[u - E + a, v - E + b, d]; outside the
    image it is the padding value ("zero"/"constant": None) or the nearest border pixel ("copy": clamped).
    """
    if K < 1 or K % 2 == 0:
        raise ValueError(f"K must be a positive odd integer (P0 L311), got {K}")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    E = (K - 1) // 2
    out = []
    for u, v in positions(U, V):
        src: list[int | None] = []
        for a in range(K):
            for b in range(K):
                uu, vv = u - E + a, v - E + b
                inside = 0 <= uu < U and 0 <= vv < V
                if not inside and padding == "copy":
                    uu, vv, inside = min(max(uu, 0), U - 1), min(max(vv, 0), V - 1), True
                for d in range(D):
                    src.append((uu * V + vv) * D + d if inside else None)
        out.append(src)
    return out


def patch_operators(U: int, V: int, K: int, D: int, padding: str = "zero") -> list[tuple[sp.Matrix, sp.Matrix]]:
    """Patch extraction as matrix products: [(S_p (F x UVD), o_p (F x 1))], x_{*p} = S_p vec(x) + c o_p."""
    n = U * V * D
    ops = []
    for src in patch_sources(U, V, K, D, padding):
        F = len(src)
        S = sp.zeros(F, n)
        o = sp.zeros(F, 1)
        for r, j in enumerate(src):
            if j is None:
                o[r] = 1
            else:
                S[r, j] = 1
        ops.append((S, o))
    return ops


def state_symbols(U: int, V: int, D: int, name: str = "x") -> sp.Matrix:
    """vec_rowmajor of a U x V x D state of free real symbols name_{u,v,d} (1-based in the names)."""
    return sp.Matrix([sp.Symbol(f"{name}_{u + 1}{v + 1}{d + 1}", real=True)
                      for u in range(U) for v in range(V) for d in range(D)])


def patches(x_vec: sp.Matrix, U: int, V: int, K: int, D: int, padding: str = "zero",
            pad_value: sp.Expr = sp.Integer(0)) -> list[sp.Matrix]:
    """x_{*p} = S_p vec(x) + c o_p for p = 1..P (c = 0 for "zero" padding; unused for "copy")."""
    c = sp.Integer(0) if padding == "zero" else sp.sympify(pad_value)
    return [S * x_vec + c * o for S, o in patch_operators(U, V, K, D, padding)]


def psi_patches(U: int, V: int, K: int, D: int, padding: str = "zero", name: str = "psi") -> list[sp.Matrix]:
    """psi(x_{*p}) = S_p psi(x) + psi(c) o_p with psi(x) and psi(c) free symbols (any inner activation).

    For zero padding psi(0) stays a symbol ``<name>_pad`` (it vanishes only for odd psi such as tanh).
    """
    psi_x = state_symbols(U, V, D, name)
    pad = sp.Symbol(f"{name}_pad", real=True)
    return [S * psi_x + pad * o for S, o in patch_operators(U, V, K, D, padding)]


def generic_patch(K: int, D: int, name: str = "psi") -> sp.Matrix:
    """A generic patch vector psi(x_{*p}) in R^{K K D}, entries name_{a b d} (row-major over (a, b, d))."""
    return sp.Matrix([sp.Symbol(f"{name}_{a + 1}{b + 1}{d + 1}", real=True)
                      for a in range(K) for b in range(K) for d in range(D)])


# ---------------------------------------------------------------------------------------------------------
# Parameter laws (Assumptions 8-10), covariances from the sampling definition
# ---------------------------------------------------------------------------------------------------------

class PatchLaw(GaussianLaw):
    """A ``GaussianLaw`` for patch inputs (fan_in = K K D): same mathematics, cheaper covariance.

    ``preact_cov`` evaluates the block form of the base class's Kronecker formula,
    [(I (x) a^T) Sigma^W (I (x) b)]_{de} = sum_{k,k'} a_k b_k' Sigma^W[dF + k, eF + k'] (+ Sigma^b_{de}),
    as one flat sum over the non-zero entries of a and b (the Kronecker product multiplies D^2 F^2 mostly-zero
    entries per block, which dominates the cost for F = 18).  Equality with ``GaussianLaw.preact_cov`` is a
    test (tests/test_conv.py).  The expansion engine is untouched: it only calls ``preact_cov``.
    """

    def preact_cov(self, psi_x: sp.Matrix, psi_y: sp.Matrix) -> sp.Matrix:
        D, F = self.D, self.fan_in
        if psi_x.shape != (F, 1) or psi_y.shape != (F, 1):
            raise ValueError(f"patch vectors must be {F} x 1, got {psi_x.shape} and {psi_y.shape}")
        ax = [(k, psi_x[k]) for k in range(F) if psi_x[k] != 0]
        ay = [(k, psi_y[k]) for k in range(F) if psi_y[k] != 0]
        out = sp.zeros(D, D)
        for d in range(D):
            for e in range(D):
                C = self.cov_W
                out[d, e] = sp.Add(*[a * b * C[d * F + k, e * F + kk] for k, a in ax for kk, b in ay]) + self.cov_b[d, e]
        return out


def as_patch_law(law: GaussianLaw) -> PatchLaw:
    return PatchLaw(law.name, law.mean_W, law.cov_W, law.mean_b, law.cov_b, law.factor_W, law.factor_b, dict(law.params))


def law_from_sampling(name: str, eps_W: sp.Matrix, zeta_W: list[sp.Symbol], mean_W: sp.Matrix, eps_b: sp.Matrix,
                      zeta_b: list[sp.Symbol], mean_b: sp.Matrix, params: dict) -> GaussianLaw:
    """GaussianLaw of eps^W = (linear in zeta_W), eps^b = (linear in zeta_b), zeta i.i.d. N(0, 1).

    vec(eps^W) = J zeta with J the Jacobian in zeta (row-major vec), so Sigma^W = J J^T; same for the bias.
    """
    J, J0 = sp.linear_eq_to_matrix(list(vec_rowmajor(eps_W)), list(zeta_W))  # raises if not linear in zeta
    Jb, Jb0 = sp.linear_eq_to_matrix(list(sp.Matrix(eps_b)), list(zeta_b))
    if any(e != 0 for e in list(J0) + list(Jb0)):
        raise ValueError("eps must be linear (no constant term) in zeta")
    return PatchLaw(name, mean_W, _gram(J), mean_b, _gram(Jb), factor_W=J, factor_b=Jb, params=params)


def _gram(J: sp.Matrix) -> sp.Matrix:
    """J J^T, expanded; products of polynomial entries are formed in a sparse polynomial ring (much faster than
    expanding SymPy products), with plain SymPy as the fallback for non-polynomial entries."""
    gens = tuple(sorted(J.free_symbols, key=lambda s: s.name))
    try:
        if not gens:
            raise ValueError
        R_, *_ = ring(gens, sp.QQ)
        rows = [[R_.from_expr(J[i, j]) for j in range(J.cols)] for i in range(J.rows)]
    except Exception:  # noqa: BLE001 - e.g. sqrt(D) coefficients
        return (J * J.T).applyfunc(sp.expand)
    n = J.rows
    out = sp.zeros(n, n)
    for i in range(n):
        for k in range(i, n):
            acc = R_.zero
            for a, b in zip(rows[i], rows[k]):
                if a and b:
                    acc += a * b
            out[i, k] = out[k, i] = acc.as_expr()
    return out


def conv_general(D: int, K: int) -> GaussianLaw:
    """Assumption 8 (P0 L313-331): vec(eps^W) ~ N_{DF}(0, Sigma^W), F = K*K*D, Sigma^W, Sigma^b free symmetric."""
    law = as_patch_law(general(D, fan_in=K * K * D))
    law.name = "Assumption 8 (general Gaussian, conv)"
    law.params.update({"K": K})
    return law


def kron(*ms: sp.Matrix) -> sp.Matrix:
    out = ms[0]
    for m in ms[1:]:
        out = sp.kronecker_product(out, m)
    return out


def tensor_gaussian(D: int, K: int, *, with_means: bool = True) -> GaussianLaw:
    """Assumption 9 (P0 L373-377): eps^W = sigma^{W_O} zeta (sigma^{W_U} (x) sigma^{W_V} (x) sigma^{W_I}).

    zeta is D x (K K D) with i.i.d. N(0, 1) entries (B^W of Assumption 8, flattened as W is); sigma^{W_O},
    sigma^{W_I} are D x D, sigma^{W_U}, sigma^{W_V} are K x K, all general (non-symmetric) symbol matrices;
    eps^b = sigma^b zeta^b.  The covariance is J J^T with J the Jacobian of vec(eps^W) in zeta.
    """
    F = K * K * D
    sO, sU, sV, sI = (_sym_matrix("sO", D, D), _sym_matrix("sU", K, K), _sym_matrix("sV", K, K),
                      _sym_matrix("sI", D, D))
    sb = _sym_matrix("sb", D, D)
    zeta = _sym_matrix("z", D, F)
    zb = sp.Matrix([sp.Symbol(f"zb_{d}", real=True) for d in range(D)])
    R = kron(sU, sV, sI)
    mean_W = _sym_matrix("muW", D, F) if with_means else sp.zeros(D, F)
    mean_b = _sym_matrix("mub", D, 1) if with_means else sp.zeros(D, 1)
    return law_from_sampling("Assumption 9 (tensor Gaussian)", sO * zeta * R, list(zeta), mean_W, sb * zb, list(zb),
                             mean_b, {"sigma_O": sO, "sigma_U": sU, "sigma_V": sV, "sigma_I": sI, "sigma_b": sb,
                                      "R": R, "K": K})


def conv_iid(D: int, K: int, sigma_w: sp.Expr | None = None, sigma_b: sp.Expr | None = None) -> GaussianLaw:
    """Assumption 10 (P0 L393-411): Delta W = zeta^W sigma_w/sqrt(D) sqrt(dt), zeta^W ~ TN_{D,K,K,D}(0, I, I, I, I).

    zeta^W has D * K * K * D i.i.d. N(0, 1) entries (the TN law with identity covariances), flattened D x KKD;
    Delta b = zeta^b sigma_b sqrt(dt).  Zero means.
    """
    F = K * K * D
    sw = sigma_w if sigma_w is not None else sp.Symbol("sigma_w", positive=True)
    sb = sigma_b if sigma_b is not None else sp.Symbol("sigma_b", positive=True)
    zeta = _sym_matrix("z", D, F)
    zb = sp.Matrix([sp.Symbol(f"zb_{d}", real=True) for d in range(D)])
    return law_from_sampling("Assumption 10 (i.i.d., conv)", sw / sp.sqrt(D) * zeta, list(zeta), sp.zeros(D, F),
                             sb * zb, list(zb), sp.zeros(D, 1), {"sigma_w": sw, "sigma_b": sb, "K": K,
                                                                 "n_brownian_W": len(zeta)})


def tensor_factor_covariances(law: GaussianLaw) -> dict[str, sp.Matrix]:
    """Column covariances implied by eps = sO zeta R (R = sU (x) sV (x) sI): Cov = (sO sO^T) (x) (R^T R), and
    R^T R = (sU^T sU) (x) (sV^T sV) (x) (sI^T sI) (mixed-product rule; cf. the matrix-Gaussian fact on L251)."""
    p = law.params
    return {"O": p["sigma_O"] * p["sigma_O"].T, "U": p["sigma_U"].T * p["sigma_U"],
            "V": p["sigma_V"].T * p["sigma_V"], "I": p["sigma_I"].T * p["sigma_I"]}
