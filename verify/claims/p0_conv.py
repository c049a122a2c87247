"""P0, Section 3.2 (L309-421): convolutional ResNets -- Theorem 10, Corollaries 11-13, Assumptions 8-10
(claims P0-17 ... P0-21).

Model (23), L333: x_{t+dt,p} = x_{t,p} + phi(dW psi(x_{t,*p}) + db), p = 1..P = UV, with dW (D x KKD) and db
shared by all positions.  Given the state, the stacked pre-activations over positions (and inputs) are jointly
Gaussian, so every derived form comes from the generic engine ``derivations.diffusion.one_step_limit`` applied
to ``psis = [psi(x_{*1}), ..., psi(x_{*P})]`` (patches as affine maps, ``derivations.conv``) and to a conv law
(``derivations.conv``: Assumption 8 general, Assumption 9 tensor Gaussian and Assumption 10 i.i.d., the last
two with covariances computed from their sampling definitions).  No new expansion code.

Numeric set-up (claim file, P0-17): D = 2 channels, U = V = 4, K = 3, zero padding, swish phi
(phi'(0) = phi''(0) = 1/2), tanh psi, general non-symmetric random factors.  Evidence: exact one-step moments of
the conv step by Gauss-Hermite quadrature (``numeric.conv.one_step_moments``) converging to the derived limits
at rate dt (and rate dt^2 after the derived next-order term); direct Monte Carlo of the dense conv step with the
weights sampled as the model writes them, against quadrature at the same dt (no bias); pathwise Euler of (25)
driven by the network's own increments.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.polys.rings import ring

from derivations import conv, diffusion
from derivations.laws import GaussianLaw
from derivations.compile import compile_expr
from numeric import conv as nconv
from numeric import stats
from numeric.activations import get_activation
from verify.claims.p0_common import ASSUMPTION_5, PHI, general_law_values, phi_values
from verify.registry import audits
from verify.results import Finding

P1, P2 = PHI[1], PHI[2]
D, U, V, K = 2, 4, 4, 3
F = K * K * D
PAD = "zero"
DTS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
DT_MC = 1e-2
SW_, SB_ = sp.symbols("sigma_w sigma_b", positive=True)
SIGMA_W, SIGMA_B = 1.2, 0.7
PHI_N, PSI_N = get_activation("swish"), get_activation("tanh")
SWISH = phi_values("swish")
L = sp.latex


def _diag(M: sp.Matrix) -> sp.Matrix:
    """P0 Table 1: diag(M) is the vector of diagonal entries."""
    return sp.Matrix([M[i, i] for i in range(M.rows)])


# --------------------------------------------------------------------------------------------------------
# Comparison of large polynomial matrices (expand first; compare() only on what cancels)
# --------------------------------------------------------------------------------------------------------

@dataclass
class PolyComparison:
    equal: bool
    stat: str
    latex_difference: str = ""

    def statistic(self) -> str:
        return self.stat


def _is_zero_poly(e: sp.Expr, gens: tuple) -> bool:
    """Exact zero test of a polynomial expression by expansion in a sparse polynomial ring over QQ (fast), with
    sympy's expand as the fallback for coefficients outside QQ."""
    if e == 0:
        return True
    try:
        R_, *_ = ring(gens, sp.QQ)
        return R_.from_expr(e) == 0
    except Exception:  # noqa: BLE001 - e.g. sqrt(2) coefficients: slow path
        return sp.expand(e) == 0


def _compare(derived, printed, *, seed: int = 0) -> PolyComparison:
    """Exact comparison of polynomial matrices: equal iff derived - printed expands to the zero polynomial in
    every entry (a complete identity test for polynomials; ``derivations.compare.compare`` is not used here
    because simplify/factor and the cache key of 1000-term entries cost seconds).  Otherwise report how many
    entries differ and the (non-zero) value of one of them at a random rational point."""
    d_m, p_m = sp.Matrix(derived), sp.Matrix(printed)
    if d_m.shape != p_m.shape:
        return PolyComparison(False, f"shape: derived {d_m.shape} vs printed {p_m.shape}",
                              rf"\text{{shape {d_m.shape} vs {p_m.shape}}}")
    raw = d_m - p_m
    gens = tuple(sorted(raw.free_symbols, key=lambda x: x.name)) or (sp.Symbol("_dummy"),)
    n_all = raw.rows * raw.cols
    nz = next(((i, j) for i in range(raw.rows) for j in range(raw.cols) if not _is_zero_poly(raw[i, j], gens)), None)
    if nz is None:
        return PolyComparison(True, f"derived - printed expands to 0 in all {n_all} entries (polynomial identity)")
    i, j = nz
    e = raw[i, j]
    rnd = random.Random(seed)
    val = e.xreplace({x: sp.Rational(rnd.randint(1, 997), 500) for x in sorted(e.free_symbols, key=lambda s: s.name)})
    n_terms = len(sp.Add.make_args(sp.expand(e))) if len(e.free_symbols) <= 12 else None
    shown = sp.factor(e) if n_terms is not None and n_terms <= 40 else None
    return PolyComparison(False, f"derived - printed is a non-zero polynomial (first in entry order of {n_all}); "
                                 f"entry ({i},{j}) = {val} at a random rational point",
                          rf"[{i},{j}]:\ {L(shown)}" if shown is not None else rf"\text{{entry }}({i},{j})\ne0")


# --------------------------------------------------------------------------------------------------------
# Printed transcriptions (the paper's notation written out by definition)
# --------------------------------------------------------------------------------------------------------

def _cond_cov(law, a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """C[eps^W a + eps^b, eps^W b + eps^b]_{de} = sum_{k,k'} a_k b_k' Cov(eps_{dk}, eps_{ek'}) + Sigma^b_{de}
    (P0 Thm 10, L349; Cov(eps_{dk}, eps_{ek'}) = Sigma^W[dF + k, eF + k'], row-major vec, Assumption 8)."""
    Fi = law.fan_in
    return sp.Matrix(law.D, law.D, lambda d, e: sp.Add(*[a[k] * b[kk] * law.cov_W[d * Fi + k, e * Fi + kk]
                                                         for k in range(Fi) for kk in range(Fi)]) + law.cov_b[d, e])


def _printed_thm10(law, psis):
    """P0 Thm 10, L341-349: mu(x) = [mu_*(x_{*p})]_p, sigma^2(x) = phi'(0)^2 [sigma_*^2(x_{*p}, x_{*p'})]_{p,p'}."""
    n = len(psis)
    blk = {(p, q): _cond_cov(law, psis[p], psis[q]) for p in range(n) for q in range(p, n)}
    blk.update({(q, p): blk[(p, q)].T for p in range(n) for q in range(p + 1, n)})  # C[y, x] = C[x, y]^T
    mu = sp.Matrix.vstack(*[P1 * (law.mean_b + law.mean_W * psis[p]) + sp.Rational(1, 2) * P2 * _diag(blk[(p, p)])
                            for p in range(n)])
    sig = sp.Matrix(sp.BlockMatrix([[blk[(p, q)] for q in range(n)] for p in range(n)]))
    return mu, P1**2 * sig


def _printed_tensor_sigmas(law) -> dict:
    """Assumption 9 as printed (L377): Sigma^{W_O} = sO sO^T, Sigma^{W_U} = sU sU^T, Sigma^{W_V} = sV sV^T,
    Sigma^{W_I} = sI^T sI."""
    p = law.params
    return {"O": p["sigma_O"] * p["sigma_O"].T, "U": p["sigma_U"] * p["sigma_U"].T,
            "V": p["sigma_V"] * p["sigma_V"].T, "I": p["sigma_I"].T * p["sigma_I"]}


def _tensor_cov_entrywise(S: dict, Dd: int, Kk: int) -> sp.Matrix:
    """cov(eps_{o,u,v,i}, eps_{o',u',v',i'}) = S^O_{oo'} S^U_{uu'} S^V_{vv'} S^I_{ii'} (P0 L383), laid out in
    row-major vec order of W in R^{D x (K x K x D)}: index ((o K + u) K + v) D + i."""
    idx = [(o, u, v, i) for o in range(Dd) for u in range(Kk) for v in range(Kk) for i in range(Dd)]
    return sp.Matrix(len(idx), len(idx), lambda r, c: S["O"][idx[r][0], idx[c][0]] * S["U"][idx[r][1], idx[c][1]]
                     * S["V"][idx[r][2], idx[c][2]] * S["I"][idx[r][3], idx[c][3]])


def _tensor_quad_form(S: dict, a: sp.Matrix, b: sp.Matrix, law) -> sp.Matrix:
    """P0 (27)/L391: Sigma^b + Sigma^{W_O} (a^T (Sigma^{W_U} (x) Sigma^{W_V} (x) Sigma^{W_I}) b)."""
    Kr = conv.kron(S["U"], S["V"], S["I"])
    return law.cov_b + S["O"] * (a.T * Kr * b)[0, 0]


# --------------------------------------------------------------------------------------------------------
# Symbolic derivations (cached; shared by claims)
# --------------------------------------------------------------------------------------------------------

def _one_step_limit(law, psis, phi_at_0):
    """The generic engine, bypassing its on-disk cache (pickles of these 300-term matrices load slower than the
    derivation runs); results are cached in memory by the callers."""
    fn = getattr(diffusion.one_step_limit, "uncached", diffusion.one_step_limit)
    return fn(law, psis, phi_at_0)


@lru_cache(maxsize=None)
def _pair(kind: str):
    """one_step_limit for two generic patch vectors a, b in R^{KKD} sharing dW, db (any two positions/inputs)."""
    law = conv.conv_general(D, K) if kind == "general" else conv.conv_iid(D, K, SW_, SB_)
    a, b = conv.generic_patch(K, D, "a"), conv.generic_patch(K, D, "b")
    return law, a, b, _one_step_limit(law, [a, b], ASSUMPTION_5)


@lru_cache(maxsize=None)
def _full_stack(kind: str, Us: int, Vs: int, inputs: int = 1):
    """one_step_limit(law, psis = [psi(x_{*1}), ..., psi(x_{*P})] (per input)) on a small symbolic image."""
    law = conv.conv_general(D, K) if kind == "general" else conv.conv_iid(D, K, SW_, SB_)
    psis = []
    for i in range(inputs):
        psis += conv.psi_patches(Us, Vs, K, D, PAD, name=f"psi{i + 1}" if inputs > 1 else "psi")
    return law, psis, _one_step_limit(law, psis, ASSUMPTION_5)


@lru_cache(maxsize=None)
def _tensor_law(Kk: int = 2):
    return conv.tensor_gaussian(D, Kk)


@lru_cache(maxsize=None)
def _tensor_pair_at(Kk: int, seed: int):
    """one_step_limit of the tensor law for two random rational patch vectors a, b (law parameters symbolic)."""
    law = _tensor_law(Kk)
    rnd = random.Random(1000 + seed)
    a, b = (sp.Matrix([sp.Rational(rnd.randint(-997, 997), 500) for _ in range(Kk * Kk * D)]) for _ in range(2))
    return law, a, b, diffusion.one_step_limit(law, [a, b], ASSUMPTION_5)


def _compiled(M: sp.Matrix):
    out = []
    for i in range(M.rows):
        for j in range(M.cols):
            free = tuple(sorted(M[i, j].free_symbols, key=lambda x: x.name))
            out.append((free, compile_expr(free, M[i, j])))
    return M.shape, out


def _run(compiled, vals, shape):
    (r, c), ents = compiled
    arr = [np.broadcast_to(np.asarray(fn(*[vals[x] for x in free]), float), shape) for free, fn in ents]
    return np.stack(arr, axis=-1).reshape(shape + (r, c))


_MK, _ML, _VKK, _VKL, _VLL = sp.symbols("m_k m_l V_kk V_kl V_ll", real=True)


@lru_cache(maxsize=None)
def _expansion_kernels():
    """The engine's expansion as a function of one Gaussian pair (m_k, m_l, V_kk, V_kl, V_ll), obtained from
    one_step_limit itself on a placeholder law (dW = 0, db ~ N(m, V)), with swish phi."""
    law = GaussianLaw("placeholder", sp.zeros(2, 1), sp.zeros(2, 2), sp.Matrix([_MK, _ML]),
                      sp.Matrix([[_VKK, _VKL], [_VKL, _VLL]]))
    lim = _one_step_limit(law, [sp.Matrix([0])], {**ASSUMPTION_5, **SWISH})
    return {"drift": _compiled(lim.drift[:1, :]), "drift_next": _compiled(lim.drift_next[:1, :]),
            "fourth": _compiled(lim.fourth[:1, :]), "S": _compiled(lim.diffusion[:1, 1:]),
            "S1": _compiled(lim.diffusion_next[:1, 1:])}


@lru_cache(maxsize=None)
def _pair_kernels(kind: str):
    """Compiled law-level pre-activation moments of the pair law: m(a) = E h(a)/dt and V(a, b) = C(h(a), h(b))/dt."""
    law, a, b, lim = _pair(kind)
    return law, a, b, {"m": _compiled(lim.mean_h[:D, :]), "V": _compiled(lim.cov_h[:D, D:])}


def _derived_numeric(kind: str, values: dict, patches: np.ndarray) -> dict:
    """Derived limits on every coordinate (patch p, channel d) of the stacked patches (n, F): the law's (m, V)
    from the symbolic pair law, then the engine's expansion; drift (nD,), S (nD, nD) and next orders."""
    law, a, b, kern = _pair_kernels(kind)
    n = patches.shape[0]
    I, J = (g.ravel() for g in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    vals = dict(values)
    vals.update({a[k]: patches[I, k] for k in range(F)})
    vals.update({b[k]: patches[J, k] for k in range(F)})
    Vp = _run(kern["V"], vals, I.shape).reshape(n, n, D, D)
    m = _run(kern["m"], {x: (v[:n * n:n + 1] if isinstance(v, np.ndarray) else v) for x, v in vals.items()},
             (n,)).reshape(n * D)
    Vf = Vp.transpose(0, 2, 1, 3).reshape(n * D, n * D)
    vd = np.diag(Vf)
    ek = _expansion_kernels()
    one = {_MK: m, _VKK: vd}
    res = {"V": Vf, "m": m}
    for key in ("drift", "drift_next", "fourth"):
        res[key] = _run(ek[key], one, m.shape).reshape(-1)
    two = {_MK: m[:, None], _ML: m[None, :], _VKK: vd[:, None], _VKL: Vf, _VLL: vd[None, :]}
    for key in ("S", "S1"):
        res[key] = _run(ek[key], two, Vf.shape).reshape(Vf.shape)
    return res


# --------------------------------------------------------------------------------------------------------
# Numeric instances
# --------------------------------------------------------------------------------------------------------

def _general_instance(rng):
    AW = rng.normal(size=(D * F, D * F)) * 0.4 / np.sqrt(D * F)
    Ab = rng.normal(size=(D, D)) * 0.6
    return dict(mean_W=rng.normal(size=(D, F)) * 0.4 / np.sqrt(F), Sigma_W=AW @ AW.T,
                mean_b=rng.normal(size=D) * 0.4, Sigma_b=Ab @ Ab.T)


def _tensor_instance(rng):
    """General non-symmetric factors (a transposition error would otherwise be invisible)."""
    inst = dict(sO=0.5 * rng.normal(size=(D, D)) / np.sqrt(D), sU=rng.normal(size=(K, K)) / np.sqrt(K),
                sV=rng.normal(size=(K, K)) / np.sqrt(K), sI=rng.normal(size=(D, D)) / np.sqrt(D),
                sb=0.6 * rng.normal(size=(D, D)), mean_W=0.4 * rng.normal(size=(D, F)) / np.sqrt(F),
                mean_b=0.4 * rng.normal(size=D))
    for k in ("sU", "sV"):
        M = inst[k]
        assert np.abs(M @ M.T - M.T @ M).max() > 0.1, "factor must be far from normal"
    return inst


def _tensor_numlaw(inst):
    return nconv.ConvLaw.tensor_gaussian(inst["mean_W"], inst["sO"], inst["sU"], inst["sV"], inst["sI"], inst["mean_b"],
                                         inst["sb"])


def _general_values_of(nlaw) -> dict:
    """Values of the symbols of the general pair law for a numeric ConvLaw (any assumption), plus swish."""
    law, *_ = _pair("general")
    inst = dict(mean_W=nlaw.mean_W, Sigma_W=nlaw.cov_W(), mean_b=nlaw.mean_b, Sigma_b=nlaw.cov_b())
    return general_law_values(law, inst)


def _psi_patches(x):
    return PSI_N.f(nconv.extract_patches(x, K, PAD)).reshape(-1, F)


def _quad(x, nlaw, dt, pairs=None):
    return nconv.one_step_moments(x, nlaw, PHI_N, PSI_N, K, dt, padding=PAD, pairs=pairs)


# --------------------------------------------------------------------------------------------------------
# Check helpers
# --------------------------------------------------------------------------------------------------------

def _rate_checks(ctx, name, stat, vals, limit, next_term, target="both", mask=None):
    """|m(dt)/dt - limit| = O(dt) (slope 1) and |m(dt)/dt - limit - dt next| = O(dt^2) (slope 2), max over entries."""
    vals, limit, next_term = np.asarray(vals), np.asarray(limit), np.asarray(next_term)
    dts = np.array(DTS).reshape((-1,) + (1,) * limit.ndim)
    e1, e2 = np.abs(vals - limit), np.abs(vals - limit - dts * next_term)
    if mask is not None:
        e1, e2 = e1[:, mask], e2[:, mask]
    e1, e2 = e1.reshape(len(DTS), -1).max(axis=1), e2.reshape(len(DTS), -1).max(axis=1)
    return [ctx.rate_check(f"{name}: first order", f"slope of max|{stat}/dt - limit| vs dt (GH quadrature)", DTS, e1, 1.0,
                           target=target, slack=0.15, note=f"errors {e1[0]:.2e}..{e1[-1]:.2e}"),
            ctx.rate_check(f"{name}: next order", f"slope of max|{stat}/dt - limit - dt*next| vs dt", DTS, e2, 2.0,
                           target="derived", slack=0.25, note=f"errors {e2[0]:.2e}..{e2[-1]:.2e}")]


def _limit_test(ctx, name, stat, value, limit, next_term, target, dt):
    """Deterministic test at the smallest dt: |m(dt)/dt - limit| <= 3 dt max|next-order term| (+1e-10): the
    O(dt) bias budget comes from the derived next-order term; a wrong limit leaves an O(1) error."""
    err = np.abs(np.asarray(value) - np.asarray(limit))
    k = int(np.argmax(err))
    tol = 3.0 * dt * float(np.max(np.abs(next_term))) + 1e-10
    return ctx.exact_check(name, f"{stat}/dt at dt={dt:g} (GH), worst entry", float(np.ravel(value)[k]),
                           float(np.ravel(limit)[k]), target=target, tol=tol,
                           note=f"tolerance 3*dt*max|next-order term| = {tol:.2e}")


def _shape_check(ctx, name, statistic, ok, target, note=""):
    c = ctx.symbolic_check(name, ok, statistic, target=target, note=note)
    c.kind = "shape"
    if not ok:
        c.margin = float("inf")
    return c


def _mc_increments(ctx, stream, nlaw, x, dt, n, coords):
    """Direct Monte Carlo of the dense conv step at fixed x: n draws of (dW, db) from the law's sampler; returns
    the increments Dx at flat coordinates ``coords`` (index (input, p, d)), shape (n, len(coords))."""
    rng = ctx.rng(stream)
    xs = np.asarray(x, float)
    xs = xs[None] if xs.ndim == 3 else xs
    out = []
    for m in np.array_split(np.arange(n), max(1, n // 50_000)):
        dW, db = nlaw.sample(rng, m.size, dt)
        h = nconv.conv_preact(xs[None], dW, db, PSI_N, K, PAD)  # (B, N, P, D)
        out.append(PHI_N.f(h.reshape(m.size, -1)[:, coords]))
    return np.concatenate(out)


def _scaled_cov(a, b, dt):
    e = stats.covariance_estimate(a, b)
    return stats.Estimate(e.value / dt, e.se / dt, e.n, e.n_dropped)


def _scaled_mean(a, dt):
    e = stats.mean_estimate(a)
    return stats.Estimate(e.value / dt, e.se / dt, e.n, e.n_dropped)


def _neighbour_coords():
    """Two positions whose patches overlap (p = (1,1), p' = (1,2)) and one at the border (0,0), 0-based."""
    p, q, r = 1 * V + 1, 1 * V + 2, 0
    return p, q, r


# --------------------------------------------------------------------------------------------------------
# P0-17: Theorem 10
# --------------------------------------------------------------------------------------------------------

@audits("P0-17")
def audit_p0_17(ctx) -> Finding:
    """P0 Thm 10, L337-359 (setting L311, (23) L333): mu = [mu_*(x_{*p})]_p, sigma^2 = phi'(0)^2 [sigma_*^2(x_{*p}, x_{*p'})]."""
    Us, Vs = ctx.size((2, 1), (2, 1), (2, 2))
    law, psis, lim = _full_stack("general", Us, Vs)
    mu_pr, sig_pr = _printed_thm10(law, psis)
    c_mu, c_sig = _compare(lim.drift, mu_pr), _compare(lim.diffusion, sig_pr)
    pe = diffusion.pair_expansion()  # E[Dx_k^4] = sum_j fourth[j] dt^j for any law: dt^0, dt^1 coefficients vanish
    fourth_ok = all(sp.expand(pe.fourth[j].xreplace(ASSUMPTION_5)) == 0 for j in (0, 1))
    checks = [ctx.symbolic_check(f"drift, full stack over P={Us * Vs} positions (D=2, K=3, zero padding)", c_mu.equal,
                                 c_mu.statistic()),
              ctx.symbolic_check(f"diffusion, full {Us * Vs * D}x{Us * Vs * D} stack incl. cross-position blocks",
                                 c_sig.equal, c_sig.statistic()),
              ctx.symbolic_check("Assumption 1 with delta = 2: E[Dx^4] = O(dt^2)", fourth_ok,
                                 "coefficients of dt^0 and dt^1 in E[phi(h)^4] vanish when phi(0) = 0")]
    # --- shape audit of the setting (L311) ------------------------------------------------------------------
    S_ops = conv.patch_operators(U, V, K, D, PAD)
    rows = {S.rows for S, _ in S_ops}
    n_BW = D * K * K * D  # entries of B^W_t in R^{D x K x K x D} (Assumption 8)
    checks += [
        _shape_check(ctx, "patch x_{u-E:u+E, v-E:v+E, .} has K*K*D entries", f"rows of S_p = {sorted(rows)}; K*K*D = {F}",
                     rows == {F}, "derived"),
        _shape_check(ctx, "printed patch / filter input dimension U*V*D (L311)",
                     f"printed x_(*p) in R^(UxVxD) = R^{U * V * D}; extracted patch has {F} entries", U * V * D == F,
                     "printed", note="W in R^{D x (U x V x D)} cannot multiply a K x K x D patch unless K = U = V"),
        _shape_check(ctx, "printed F = UVD vs Assumption 8 (sigma^W in R^{DF x DF} acts on vec(B^W) in R^{DKKD})",
                     f"D*F = {D * U * V * D} (printed F = UVD) vs {n_BW} Brownian coordinates", D * U * V * D == n_BW,
                     "printed"),
        _shape_check(ctx, "F = K*K*D is consistent with Assumption 8", f"D*F = {D * F} = {n_BW}", D * F == n_BW, "derived")]
    # --- numerics: D = 2, U = V = 4, K = 3, general Assumption-8 law ------------------------------------------
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = _general_instance(rng)
    x = rng.normal(size=(U, V, D))
    nlaw = nconv.ConvLaw.general(inst["mean_W"], inst["Sigma_W"], inst["mean_b"], inst["Sigma_b"])
    der = _derived_numeric("general", _general_values_of(nlaw), _psi_patches(x))
    q = [_quad(x, nlaw, dt) for dt in DTS]
    checks += _rate_checks(ctx, "drift (all 32 coordinates)", "E[Dx]", [m["mean"] / dt for m, dt in zip(q, DTS)],
                           der["drift"], der["drift_next"])
    checks += _rate_checks(ctx, "diffusion (32x32, cross-position)", "Cov(Dx)", [m["cov"] / dt for m, dt in zip(q, DTS)],
                           der["S"], der["S1"])
    r4 = np.array([m["m4"] / dt for m, dt in zip(q, DTS)]).max(axis=1)
    checks.append(ctx.rate_check("E[Dx^4]/dt -> 0 linearly (delta = 2)", "slope of max E[Dx^4]/dt vs dt (GH)", DTS, r4, 1.0,
                                 target="both", slack=0.15))
    # --- direct Monte Carlo of the conv step (weights sampled from the law's factor), same dt ------------------
    n = ctx.size(100_000, 400_000, 2_000_000)
    p, pq, r = _neighbour_coords()
    coords = np.array([p * D + 0, pq * D + 1, r * D + 0])
    inc = _mc_increments(ctx, "mc-step", nlaw, x, DT_MC, n, coords)
    qm = _quad(x, nlaw, DT_MC, pairs=(coords[:1], coords[1:2]))
    checks += [ctx.mc_check("E[Dx_{p,1}]/dt, sampled conv step vs quadrature", "one-step mean/dt at dt=0.01",
                            _scaled_mean(inc[:, 0], DT_MC), float(qm["mean"][coords[0]] / DT_MC), target="both",
                            note="both sides exact at the same dt: no bias"),
               ctx.mc_check("Cov(Dx_{p,1}, Dx_{p',2})/dt, overlapping patches, sampled vs quadrature",
                            "one-step cross-position covariance/dt at dt=0.01", _scaled_cov(inc[:, 0], inc[:, 1], DT_MC),
                            float(qm["cov"][coords[0], coords[1]] / DT_MC), target="both",
                            note="both sides exact at the same dt: no bias")]
    return Finding(
        summary="Theorem 10's drift and PD x PD diffusion are exactly what the generic one-step expansion gives for the "
                "stacked patches (no new expansion code), and exact one-step moments of the conv step converge to them at "
                "rate dt; but the setting on L311 misprints the patch/filter dimension as U x V x D (and F = UVD) where "
                "the patch x_{u-E:u+E,v-E:v+E,.} has K x K x D entries (F = K^2 D, as Assumption 8 needs).",
        printed=r"W\in\mathbb R^{D\times(U\times V\times D)},\ x_{\star p}\in\mathbb R^{(U\times V\times D)},\ F=UVD;\quad "
                r"\mu_\star(x_{\star p})=\phi'(0)(\mu^b+\mu^W\psi(x_{\star p}))+\tfrac12\phi''(0)\mathrm{diag}(\mathbb V[\varepsilon^W_t\psi(x_{\star p})+\varepsilon^b_t|x_{\star p}]),\ "
                r"\sigma^2(x)=\phi'(0)^2[\sigma^2_\star(x_{\star p},x_{\star p'})]_{p,p'}",
        derived=r"h_p=\Delta W\psi(x_{\star p})+\Delta b\ \text{jointly Gaussian over }p:\ \mu_{p,d}=\phi'(0)m_{p,d}+\tfrac12\phi''(0)V_{pd,pd},\ "
                r"\Sigma_{pd,p'e}=\phi'(0)^2V_{pd,p'e},\ V_{pd,p'e}=\textstyle\sum_{k,k'}\psi(x_{\star p})_k\psi(x_{\star p'})_{k'}\Sigma^W_{dF+k,eF+k'}+\Sigma^b_{de}",
        corrected=r"W\in\mathbb R^{D\times(K\times K\times D)},\ x_{\star p}\in\mathbb R^{(K\times K\times D)},\ F=K^2D"
                  r"\ \text{(Theorem 10's formulas unchanged)}",
        difference=r"U\times V\times D\ (\text{and }F=UVD)\ \text{typeset for}\ K\times K\times D\ (F=K^2D)\ \text{on L311}",
        condition="Theorem 10's drift and diffusion hold as printed (verified symbolically and numerically); the L311 "
                  "dimensions are consistent only if U = V = K.",
        severity="notation", symbolic_equal=False, checks=checks,
        steps=[r"Patches as affine maps $x_{\star p}=S_p\mathrm{vec}(x)+c\,o_p$ (row-wise positions, row-major $(a,b,d)$), "
               r"so $\psi(x_{\star p})=S_p\psi(x)+\psi(c)o_p$ (symbolic, derivations.conv.psi_patches).",
               r"$(h_1,\dots,h_P)$ shares $\Delta W,\Delta b$: jointly Gaussian; the generic engine "
               r"one\_step\_limit(law, psis=[$\psi(x_{\star1}),\dots,\psi(x_{\star P})$]) gives the $PD$ drift and $PD\times PD$ diffusion.",
               f"Symbolic comparison with the printed block form at U={Us}, V={Vs} (all blocks, zero padding with psi(0) "
               f"a free symbol): drift {'equal' if c_mu.equal else 'DIFFERENT'}, diffusion {'equal' if c_sig.equal else 'DIFFERENT'}.",
               r"Shape audit (L311): the patch has $K^2D=18$ entries, not $UVD=32$; Assumption 8's $\sigma^W\in\mathbb R^{DF\times DF}$ "
               r"acting on $\mathrm{vec}(B^W)\in\mathbb R^{D\cdot K\cdot K\cdot D}$ needs $F=K^2D$.",
               "Numerics at D=2, U=V=4, K=3: derived limits evaluated on all 256 position pairs (compiled pair formula); "
               "quadrature moments of the conv step at dt in {1e-2,...,1e-4}; direct Monte Carlo of the dense conv step."])


# --------------------------------------------------------------------------------------------------------
# P0-18: Corollary 11
# --------------------------------------------------------------------------------------------------------

@audits("P0-18")
def audit_p0_18(ctx) -> Finding:
    """P0 Cor. 11, (25)-(26), L363-369: dx_p = phi'(0)(dW psi_p + db) + 1/2 phi''(0)(d[W psi_p] + d[b]);
    d[x_p^i, x_p'^j] = phi'(0)^2 (d[W psi_p^i, W psi_p'^j] + d[b, b])."""
    law, a, b, lim = _pair("general")
    # (25)-(26) from the Brownian loadings of W, b (Assumption 8): d[W_{dk}, W_{ek'}] = Sigma^W[dF+k, eF+k'] dt
    qv = lambda u, w: sp.Matrix(D, D, lambda d, e: sp.Add(*[u[k] * w[kk] * law.cov_W[d * F + k, e * F + kk]  # noqa: E731
                                                              for k in range(F) for kk in range(F)]))
    drift25 = P1 * (law.mean_W * a + law.mean_b) + sp.Rational(1, 2) * P2 * (_diag(qv(a, a)) + _diag(law.cov_b))
    cov26 = P1**2 * (qv(a, b) + law.cov_b)
    c1, c2 = _compare(lim.drift[:D, :], drift25), _compare(lim.diffusion[:D, D:], cov26)
    checks = [ctx.symbolic_check("drift of (25) vs the model (generic patch, D=2, K=3)", c1.equal, c1.statistic()),
              ctx.symbolic_check("covariation (26), any two patches (positions p, p', inputs i, j)", c2.equal,
                                 c2.statistic())]
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = _general_instance(rng)
    xs = rng.normal(size=(2, U, V, D))
    nlaw = nconv.ConvLaw.general(inst["mean_W"], inst["Sigma_W"], inst["mean_b"], inst["Sigma_b"])
    pp = _psi_patches(xs)  # (2P, F): input-major
    der = _derived_numeric("general", _general_values_of(nlaw), pp)
    n1 = U * V * D
    I, J = (g.ravel() for g in np.meshgrid(np.arange(n1), np.arange(n1, 2 * n1), indexing="ij"))
    vals = []
    for dt in DTS:
        c = _quad(xs, nlaw, dt, pairs=(I, J))["cov"]
        vals.append(c[:n1, n1:] / dt)
    checks += _rate_checks(ctx, "covariation of two inputs, all positions p, p'", "Cov(Dx^i_p, Dx^j_p')", vals,
                           der["S"][:n1, n1:], der["S1"][:n1, n1:])
    # pathwise: conv ResNet vs Euler of (25) driven by the same dW, db
    x0 = xs[0]
    B = ctx.size(300, 600, 4000)
    Ls = ctx.size((20, 80, 320), (20, 80, 320), (50, 200, 800))
    SW, Sb = nlaw.cov_W(), nlaw.cov_b()
    SWdd = np.stack([SW[d * F:(d + 1) * F, d * F:(d + 1) * F] for d in range(D)])
    p1, p2 = 0.5, 0.5  # swish phi'(0), phi''(0)
    rms, ndiv = [], 0
    for Lk in Ls:
        dt = 1.0 / Lk
        xe = np.repeat(x0[None], B, axis=0)

        def drive(l, x, dW, db, xe=xe, dt=dt):
            ps = PSI_N.f(nconv.fast_patches(xe, K, PAD))                          # (B, P, F)
            noise = np.einsum("bpf,bdf->bpd", ps, dW) + db[:, None, :]
            qv_p = np.stack([np.sum((ps @ SWdd[d_]) * ps, axis=-1) for d_ in range(D)], axis=-1) + np.diag(Sb)
            xe += (p1 * noise + 0.5 * p2 * qv_p * dt).reshape(xe.shape)

        res = nconv.simulate_conv(x0, nlaw, L=Lk, T=1.0, phi=PHI_N, psi=PSI_N, K=K, B=B, rng=ctx.rng(f"path-{Lk}"),
                                  padding=PAD, callback=drive)
        ndiv += res.n_diverged
        ok = ~res.diverged
        rms.append(float(np.sqrt(np.mean(np.sum((res.x[ok, 0] - xe[ok]) ** 2, axis=(1, 2, 3))))))
    checks.append(ctx.rate_check("pathwise conv ResNet vs Euler of (25)", "slope of RMS|x_T - x^Euler_T| vs L (same dW, db)",
                                 np.array(Ls, float), np.array(rms), -0.5, target="both", slack=0.15,
                                 note="RMS " + ", ".join(f"L={a_}: {b_:.2e}" for a_, b_ in zip(Ls, rms))
                                      + f"; diverged networks: {ndiv}"))
    equal = c1.equal and c2.equal
    return Finding(
        summary="Corollary 11 holds as printed: (25)'s drift and (26)'s covariation (any positions p, p' and inputs i, j) "
                "equal the model's one-step limits; exact cross-input one-step covariances converge at rate dt, and the "
                "Euler scheme of (25) driven by the network's own dW, db tracks the conv ResNet with RMS ~ L^(-1/2).",
        printed=r"dx^{(i)}_{t,p}=\phi'(0)(dW_t\psi(x^{(i)}_{t,\star p})+db_t)+\tfrac12\phi''(0)(d[W\psi(x^{(i)}_{\star p})]_t+d[b]_t);\ "
                r"d[x^{(i)}_p,x^{(j)}_{p'}]_t=\phi'(0)^2(d[W\psi(x^{(i)}_{\star p}),W\psi(x^{(j)}_{\star p'})]_t+d[b,b]_t)",
        derived=r"d[W\psi_a,W\psi_b]_{de}=\textstyle\sum_{k,k'}\psi_{a,k}\psi_{b,k'}\Sigma^W_{dF+k,eF+k'}dt;\ "
                r"\text{drift }\phi'(0)(\mu^W\psi_a+\mu^b)+\tfrac12\phi''(0)\mathrm{diag}V_{aa},\ \text{covariation }\phi'(0)^2V_{ab}",
        symbolic_equal=equal, checks=checks,
        steps=["one_step_limit(law, [a, b]) for two generic patch vectors (they may be two positions of one input or of "
               "two inputs: only the pair matters, since all pre-activations share dW, db).",
               r"Quadratic (co)variations from the Brownian loadings $d\,\mathrm{vec}(\widetilde W)=\sigma^Wd\,\mathrm{vec}(B^W)$: "
               r"$d[W_{dk},W_{ek'}]=\Sigma^W_{dF+k,eF+k'}dt$; $W$, $b$ independent.",
               "Numerics: two 4x4x2 inputs, cross-input 32x32 block of one-step covariances (GH) vs (26); pathwise coupling "
               "of the network and the Euler scheme of (25) at three depths."])


# --------------------------------------------------------------------------------------------------------
# P0-19: Corollary 12 (tensor Gaussian law)
# --------------------------------------------------------------------------------------------------------

@audits("P0-19")
def audit_p0_19(ctx) -> Finding:
    """P0 Cor. 12, (27) and L391, under Assumption 9."""
    Ks = 2  # symbolic law with general 2x2 factors; patch vectors of length K^2 D = 8 (numerics: K = 3)
    # Identities in all law parameters (sigma's, means, phi'(0), phi''(0) symbolic) at a random rational patch
    # pair (a, b): every form here is (bi)linear in the patches, so a non-zero difference survives a random pair
    # almost surely; the complete law-level identity (all a, b) is P0-20's Sigma^W = Sigma^{W_O} (x) R^T R.
    pairs = [_tensor_pair_at(Ks, 0)]
    law = pairs[0][0]
    Spr, Sder = _printed_tensor_sigmas(law), conv.tensor_factor_covariances(law)
    sO, R, sb = law.params["sigma_O"], law.params["R"], law.params["sigma_b"]
    Fs = Ks * Ks * D
    load = lambda u: sp.Matrix(D, D * Fs, lambda d, j: sO[d, j // Fs] * (R * u)[j % Fs])  # noqa: E731
    forms = {k: [] for k in ("mu", "S", "drift_pr", "drift_fix", "diff27", "cov_pr", "cov_fix")}
    for _, a, b, lim in pairs:
        forms["mu"].append(lim.drift[:D, :])
        forms["S"].append(lim.diffusion[:D, D:])
        forms["drift_pr"].append(P1 * (law.mean_W * a + law.mean_b)
                                 + sp.Rational(1, 2) * P2 * _diag(_tensor_quad_form(Spr, a, a, law)))
        forms["drift_fix"].append(P1 * (law.mean_W * a + law.mean_b)
                                  + sp.Rational(1, 2) * P2 * _diag(_tensor_quad_form(Sder, a, a, law)))
        # diffusion of (27) AS TYPESET: noise sigma^{W_O} dB^W R psi + sigma^b dB^b (no phi'(0)), from its loadings
        forms["diff27"].append(load(a) * load(b).T + sb * sb.T)
        forms["cov_pr"].append(P1**2 * _tensor_quad_form(Spr, a, b, law))
        forms["cov_fix"].append(P1**2 * _tensor_quad_form(Sder, a, b, law))
    st = {k: sp.Matrix.vstack(*v) for k, v in forms.items()}
    c_dpr, c_dfix = _compare(st["mu"], st["drift_pr"]), _compare(st["mu"], st["drift_fix"])
    c_n27, c_n27fix = _compare(st["S"], st["diff27"]), _compare(st["S"], P1**2 * st["diff27"])
    c_cpr, c_cfix = _compare(st["S"], st["cov_pr"]), _compare(st["S"], st["cov_fix"])
    checks = [ctx.symbolic_check("drift of (27) with the printed Sigma^{W_U}, Sigma^{W_V}", c_dpr.equal, c_dpr.statistic(),
                                 target="printed"),
              ctx.symbolic_check("drift with Sigma^{W_U} = sU^T sU, Sigma^{W_V} = sV^T sV", c_dfix.equal, c_dfix.statistic(),
                                 target="derived"),
              ctx.symbolic_check("diffusion of (27) as typeset (noise terms outside phi'(0)(...))", c_n27.equal,
                                 c_n27.statistic(), target="printed"),
              ctx.symbolic_check("diffusion of (27) with phi'(0) on the noise terms", c_n27fix.equal, c_n27fix.statistic(),
                                 target="derived"),
              ctx.symbolic_check("printed covariation (L391) with the printed Sigma's", c_cpr.equal, c_cpr.statistic(),
                                 target="printed"),
              ctx.symbolic_check("covariation with corrected Sigma^{W_U}, Sigma^{W_V}", c_cfix.equal, c_cfix.statistic(),
                                 target="derived")]
    # --- numerics at K = 3 --------------------------------------------------------------------------------------
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = _tensor_instance(rng)
    x = rng.normal(size=(U, V, D))
    nlaw = _tensor_numlaw(inst)
    pp = _psi_patches(x)
    der = _derived_numeric("general", _general_values_of(nlaw), pp)  # general-law formula, Sigma^W of Assumption 9
    p1sq = 0.25
    SO = inst["sO"] @ inst["sO"].T
    Kpr = nconv._kron(inst["sU"] @ inst["sU"].T, inst["sV"] @ inst["sV"].T, inst["sI"].T @ inst["sI"])
    Kfx = nconv._kron(inst["sU"].T @ inst["sU"], inst["sV"].T @ inst["sV"], inst["sI"].T @ inst["sI"])
    Sb = inst["sb"] @ inst["sb"].T

    def vmat(Kr):  # Sigma^b + Sigma^{W_O} psi_p^T Kr psi_q, stacked (PD x PD)
        G = pp @ Kr @ pp.T
        return np.kron(np.ones_like(G), Sb) + np.kron(G, SO)

    V_pr, V_fx = vmat(Kpr), vmat(Kfx)
    m = (pp @ inst["mean_W"].T + inst["mean_b"]).reshape(-1)
    drift_pr_n, drift_fx_n = 0.5 * m + 0.25 * np.diag(V_pr), 0.5 * m + 0.25 * np.diag(V_fx)
    q = [_quad(x, nlaw, dt) for dt in DTS]
    mean_v = [qq["mean"] / dt for qq, dt in zip(q, DTS)]
    cov_v = [qq["cov"] / dt for qq, dt in zip(q, DTS)]
    checks += _rate_checks(ctx, "drift (tensor law, K=3)", "E[Dx]", mean_v, der["drift"], der["drift_next"], target="derived")
    checks += _rate_checks(ctx, "diffusion (tensor law, K=3)", "Cov(Dx)", cov_v, der["S"], der["S1"], target="derived")
    dt0 = DTS[-1]
    checks += [
        _limit_test(ctx, "limit of E[Dx]/dt: derived (Sigma from the sampling definition)", "E[Dx]", mean_v[-1],
                    der["drift"], der["drift_next"], "derived", dt0),
        _limit_test(ctx, "limit of E[Dx]/dt: printed (27) drift", "E[Dx]", mean_v[-1], drift_pr_n, der["drift_next"],
                    "printed", dt0),
        _limit_test(ctx, "limit of E[Dx]/dt: corrected-Sigma (27) drift", "E[Dx]", mean_v[-1], drift_fx_n,
                    der["drift_next"], "derived", dt0),
        _limit_test(ctx, "limit of Cov(Dx)/dt: printed covariation (L391)", "Cov(Dx)", cov_v[-1], p1sq * V_pr, der["S1"],
                    "printed", dt0),
        _limit_test(ctx, "limit of Cov(Dx)/dt: corrected covariation", "Cov(Dx)", cov_v[-1], p1sq * V_fx, der["S1"],
                    "derived", dt0),
        _limit_test(ctx, "limit of Cov(Dx)/dt: diffusion of (27) as typeset (no phi'(0)^2)", "Cov(Dx)", cov_v[-1], V_fx,
                    der["S1"], "printed", dt0)]
    # --- direct Monte Carlo: weights sampled as sigma^{W_O} zeta (sigma^{W_U} (x) sigma^{W_V} (x) sigma^{W_I}) -------
    n = ctx.size(100_000, 400_000, 2_000_000)
    nP = U * V * D
    Iu, Ju = np.triu_indices(nP, k=1)
    sd = np.sqrt(np.diag(V_fx))
    score = np.abs(V_pr - V_fx)[Iu, Ju] / (sd[Iu] * sd[Ju])
    kbest = int(np.argmax(score))
    i0, j0 = int(Iu[kbest]), int(Ju[kbest])
    inc = _mc_increments(ctx, "mc-tensor", nlaw, x, DT_MC, n, np.array([i0, j0]))
    est_cov = _scaled_cov(inc[:, 0], inc[:, 1], DT_MC)
    est_var = stats.variance_estimate(inc[:, 0] / np.sqrt(DT_MC))
    mlaw = (m * DT_MC)
    qd = nconv.gaussian_map_moments(PHI_N, mlaw, V_fx * DT_MC, pairs=([i0], [j0]))
    qp = nconv.gaussian_map_moments(PHI_N, mlaw, V_pr * DT_MC, pairs=([i0], [j0]))
    qn = _quad(x, nlaw, DT_MC, pairs=([i0], [j0]))
    bias_var = abs(qn["cov"][i0, i0] / DT_MC - der["S"][i0, i0])
    checks += [
        ctx.mc_check("Cov(Dx_a, Dx_b)/dt sampled vs quadrature with the derived V", "one-step covariance/dt at dt=0.01",
                     est_cov, float(qd["cov"][i0, j0] / DT_MC), target="derived",
                     note=f"coordinates {i0}, {j0} (largest predicted printed-derived gap); same dt: no bias"),
        ctx.mc_check("Cov(Dx_a, Dx_b)/dt sampled vs quadrature with the printed V (sU sU^T, sV sV^T)",
                     "one-step covariance/dt at dt=0.01", est_cov, float(qp["cov"][i0, j0] / DT_MC), target="printed",
                     note="same dt: no bias"),
        ctx.mc_check("Var(Dx_a)/dt sampled vs derived limit phi'(0)^2 V_aa", "one-step variance/dt at dt=0.01", est_var,
                     float(der["S"][i0, i0]), target="derived", bias=bias_var,
                     note=f"bias budget = exact O(dt) remainder |quadrature - limit| = {bias_var:.2e}"),
        ctx.mc_check("Var(Dx_a)/dt sampled vs the diffusion of (27) as typeset (V_aa, no phi'(0)^2)",
                     "one-step variance/dt at dt=0.01", est_var, float(V_fx[i0, i0]), target="printed", bias=bias_var,
                     note="same bias budget as the derived form")]
    return Finding(
        summary="Corollary 12 as printed is wrong twice: (27) closes phi'(0)(...) before the noise terms, so its diffusion "
                "lacks the factor phi'(0)^2 that its own covariation line (L391) has; and with Assumption 9's printed "
                "Sigma^{W_U} = sU sU^T, Sigma^{W_V} = sV sV^T the drift and covariation are wrong for general factors "
                "(the sampling definition gives sU^T sU, sV^T sV). Corrected forms match exact one-step moments and "
                "directly sampled tensor-Gaussian weights.",
        printed=r"dx_{t,p}=\phi'(0)((\mu^W\psi_p+\mu^b)dt)+\sigma^{W_O}dB^W_t(\sigma^{W_U}\otimes\sigma^{W_V}\otimes\sigma^{W_I})\psi_p+\sigma^bdB^b_t"
                r"+\tfrac12\phi''(0)\mathrm{diag}(\Sigma^b+\Sigma^{W_O}(\psi_p^\top(\Sigma^{W_U}\otimes\Sigma^{W_V}\otimes\Sigma^{W_I})\psi_p))dt,\ "
                r"\Sigma^{W_U}=\sigma^{W_U}\sigma^{W_U\top},\ \Sigma^{W_V}=\sigma^{W_V}\sigma^{W_V\top}",
        derived=r"V_{pq}=\Sigma^b+\Sigma^{W_O}\,\psi_p^\top(\sigma^{W_U\top}\sigma^{W_U}\otimes\sigma^{W_V\top}\sigma^{W_V}\otimes\sigma^{W_I\top}\sigma^{W_I})\psi_q;\ "
                r"\text{drift }\phi'(0)(\mu^W\psi_p+\mu^b)+\tfrac12\phi''(0)\mathrm{diag}V_{pp},\ \text{diffusion }\phi'(0)^2V_{pq}",
        corrected=r"dx_{t,p}=\phi'(0)\big((\mu^W\psi_p+\mu^b)dt+\sigma^{W_O}dB^W_t(\sigma^{W_U}\otimes\sigma^{W_V}\otimes\sigma^{W_I})\psi_p+\sigma^bdB^b_t\big)"
                  r"+\tfrac12\phi''(0)\mathrm{diag}(\Sigma^b+\Sigma^{W_O}(\psi_p^\top(\Sigma^{W_U}\otimes\Sigma^{W_V}\otimes\Sigma^{W_I})\psi_p))dt,\ "
                  r"\Sigma^{W_U}=\sigma^{W_U\top}\sigma^{W_U},\ \Sigma^{W_V}=\sigma^{W_V\top}\sigma^{W_V}",
        difference=r"\text{(i) noise terms lack }\phi'(0)\text{ (diffusion off by }\phi'(0)^2);\ "
                   r"\text{(ii) }\sigma\sigma^\top\text{ for }\sigma^\top\sigma\text{ in }\Sigma^{W_U},\Sigma^{W_V}",
        condition="(i) the typeset diffusion is right only when phi'(0)^2 = 1 (e.g. tanh; swish has 1/4); (ii) the Sigma's are "
                  "right only for normal factors (sU sU^T = sU^T sU, e.g. symmetric or orthogonal sigma^{W_U}, sigma^{W_V}). "
                  "The covariation line L391 has the right phi'(0)^2.",
        severity="mathematical", symbolic_equal=False, checks=checks,
        steps=[r"Assumption 9 law from its sampling definition: $\mathrm{vec}(\sigma^{W_O}\zeta R)=J\,\mathrm{vec}(\zeta)$, "
               r"$\Sigma^W=JJ^\top$ (symbolic, general non-symmetric $2\times2$ factors, $K=2$; numerics $K=3$).",
               "Same expansion engine (one_step_limit) with this law: drift and covariation compared with (27) and L391.",
               r"Diffusion of (27) as typeset, from its Brownian loadings: $\Sigma^b+\Sigma^{W_O}\psi_p^\top R^\top R\psi_q$, "
               r"i.e. without $\phi'(0)^2$.",
               "Numerics (D=2, U=V=4, K=3, swish): the derived limits use the general-law pair formula with Sigma^W of "
               "the tensor law (linear map applied to basis matrices); quadrature at dt = 1e-4 separates the forms; Monte "
               "Carlo of the conv step with eps^W = sO zeta R sampled literally."])


# --------------------------------------------------------------------------------------------------------
# P0-20: Assumption 9
# --------------------------------------------------------------------------------------------------------

@audits("P0-20")
def audit_p0_20(ctx) -> Finding:
    """P0 Assumption 9, L373-383: cov(eps_{o,u,v,i}, eps_{o',u',v',i'}) = Sigma^O_{oo'} Sigma^U_{uu'} Sigma^V_{vv'} Sigma^I_{ii'}."""
    Ks = 2
    law = _tensor_law(Ks)
    Spr, Sfx = _printed_tensor_sigmas(law), conv.tensor_factor_covariances(law)
    c_pr = _compare(law.cov_W, _tensor_cov_entrywise(Spr, D, Ks))
    c_fx = _compare(law.cov_W, _tensor_cov_entrywise(Sfx, D, Ks))
    R = law.params["R"]
    p = law.params
    c_l251 = _compare(R.T * R, conv.kron(p["sigma_U"].T * p["sigma_U"], p["sigma_V"].T * p["sigma_V"],
                                         p["sigma_I"].T * p["sigma_I"]))
    checks = [ctx.symbolic_check("sampling-definition covariance vs printed TN covariances (K=2, D=2)", c_pr.equal,
                                 c_pr.statistic(), target="printed"),
              ctx.symbolic_check("sampling-definition covariance vs sigma^T sigma for U, V, I", c_fx.equal, c_fx.statistic(),
                                 target="derived"),
              ctx.symbolic_check("L251's fact A zeta B ~ MN(0, AA^T, B^T B) with B = sU (x) sV (x) sI", c_l251.equal,
                                 c_l251.statistic(), target="derived", note="B^T B = sU^T sU (x) sV^T sV (x) sI^T sI")]
    # --- numerics at K = 3 --------------------------------------------------------------------------------------
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = _tensor_instance(rng)
    nlaw = _tensor_numlaw(inst)
    C = nlaw.cov_W()  # from the linear map zeta -> vec(sO zeta R) on basis matrices
    SO = inst["sO"] @ inst["sO"].T
    SI = inst["sI"].T @ inst["sI"]
    pr = np.einsum("ab,uv,xy,ij->auxibvyj", SO, inst["sU"] @ inst["sU"].T, inst["sV"] @ inst["sV"].T, SI).reshape(D * F, D * F)
    fx = np.einsum("ab,uv,xy,ij->auxibvyj", SO, inst["sU"].T @ inst["sU"], inst["sV"].T @ inst["sV"], SI).reshape(D * F, D * F)
    tol = 1e-10 * float(np.abs(C).max())
    e_pr, e_fx = np.abs(C - pr), np.abs(C - fx)
    kp = np.unravel_index(int(np.argmax(e_pr)), C.shape)
    checks += [ctx.exact_check("covariance of the linear map vs printed Kronecker form (K=3)", "worst entry of Cov(vec eps^W)",
                               float(C[kp]), float(pr[kp]), target="printed", tol=tol, kind="exact",
                               note=f"max |diff| = {e_pr.max():.3f}; tolerance 1e-10 x max|C| (round-off)"),
               ctx.exact_check("covariance of the linear map vs corrected Kronecker form (K=3)", "worst entry of Cov(vec eps^W)",
                               float(C.ravel()[int(np.argmax(e_fx))]), float(fx.ravel()[int(np.argmax(e_fx))]),
                               target="derived", tol=tol, kind="exact", note=f"max |diff| = {e_fx.max():.1e}")]
    # Monte Carlo of the sampled weights eps = sO zeta R
    n = ctx.size(40_000, 200_000, 1_000_000)
    eps = nlaw.sample_eps(ctx.rng("weights"), n).reshape(n, -1)
    sd = np.sqrt(np.diag(fx))
    score = np.abs(pr - fx) / np.outer(sd, sd)
    np.fill_diagonal(score, 0.0)
    i0, j0 = np.unravel_index(int(np.argmax(score)), score.shape)
    k_var = int(np.argmax(np.abs(np.diag(pr) - np.diag(fx)) / np.diag(fx)))
    ec = stats.covariance_estimate(eps[:, i0], eps[:, j0])
    ev = stats.variance_estimate(eps[:, k_var])
    lbl = lambda r: "(o,u,v,i)=" + str(tuple(int(t) for t in np.unravel_index(r, (D, K, K, D))))  # noqa: E731
    checks += [ctx.mc_check(f"Cov of entries {lbl(i0)}, {lbl(j0)}: derived", "sample covariance of sampled eps^W", ec,
                            float(fx[i0, j0]), target="derived", note="exact law: no bias"),
               ctx.mc_check(f"Cov of entries {lbl(i0)}, {lbl(j0)}: printed", "sample covariance of sampled eps^W", ec,
                            float(pr[i0, j0]), target="printed", note="exact law: no bias"),
               ctx.mc_check(f"Var of entry {lbl(k_var)}: derived", "sample variance (kurtosis-aware SE)", ev,
                            float(fx[k_var, k_var]), target="derived", note="exact law: no bias"),
               ctx.mc_check(f"Var of entry {lbl(k_var)}: printed", "sample variance (kurtosis-aware SE)", ev,
                            float(pr[k_var, k_var]), target="printed", note="exact law: no bias")]
    return Finding(
        summary="Assumption 9's printed Sigma^{W_U} = sU sU^T and Sigma^{W_V} = sV sV^T do not give the covariance of the "
                "weights it defines: eps = sO zeta (sU (x) sV (x) sI) has column covariance sU^T sU (x) sV^T sV (x) sI^T sI "
                "(as the paper's own matrix-Gaussian fact on L251 implies and as it prints for Sigma^{W_I}); sampled weights "
                "reject the printed Kronecker form by many standard errors.",
        printed=r"\Sigma^{W_O}=\sigma^{W_O}\sigma^{W_O\top},\ \Sigma^{W_U}=\sigma^{W_U}\sigma^{W_U\top},\ \Sigma^{W_V}=\sigma^{W_V}\sigma^{W_V\top},\ "
                r"\Sigma^{W_I}=\sigma^{W_I\top}\sigma^{W_I};\ \mathrm{cov}(\varepsilon^W_{o,u,v,i},\varepsilon^W_{o',u',v',i'})=\Sigma^{W_O}_{o,o'}\Sigma^{W_U}_{u,u'}\Sigma^{W_V}_{v,v'}\Sigma^{W_I}_{i,i'}",
        derived=r"\mathrm{Cov}(\mathrm{vec}\,\sigma^{W_O}\zeta R)=\sigma^{W_O}\sigma^{W_O\top}\otimes R^\top R,\quad "
                r"R^\top R=\sigma^{W_U\top}\sigma^{W_U}\otimes\sigma^{W_V\top}\sigma^{W_V}\otimes\sigma^{W_I\top}\sigma^{W_I}",
        corrected=r"\Sigma^{W_U}=\sigma^{W_U\top}\sigma^{W_U},\ \Sigma^{W_V}=\sigma^{W_V\top}\sigma^{W_V}\ (\Sigma^{W_O},\Sigma^{W_I}\text{ as printed})",
        difference=r"\sigma^{W_U}\sigma^{W_U\top}-\sigma^{W_U\top}\sigma^{W_U}\ \text{and likewise for }V"
                   r"\ \text{(also: }\sigma_b\text{ written for }\sigma^b\text{ on L373)}",
        condition="The printed form holds iff sigma^{W_U} and sigma^{W_V} are normal matrices (commute with their transposes), "
                  "e.g. symmetric or orthogonal; the printed Sigma^{W_O}, Sigma^{W_I} are right.",
        severity="mathematical", symbolic_equal=False, checks=checks,
        steps=[r"$\varepsilon=\sigma^{W_O}\zeta R$, $R=\sigma^{W_U}\otimes\sigma^{W_V}\otimes\sigma^{W_I}$, $\zeta$ i.i.d. "
               r"$\mathcal N(0,1)$ ($D\times K^2D$); $\mathrm{Cov}(\mathrm{vec}\,\varepsilon)=JJ^\top$ with $J$ the Jacobian in $\zeta$ "
               r"(symbolic, $K=2$, $D=2$, general non-symmetric factors).",
               "Printed covariance transcribed entrywise from L383 with the printed Sigma definitions of L377.",
               r"Numerics ($K=3$): covariance of the linear map on basis matrices vs both Kronecker forms; Monte Carlo of "
               r"$\sigma^{W_O}\zeta R$ sampled literally, on the entry pairs with the largest predicted gap."])


# --------------------------------------------------------------------------------------------------------
# P0-21: Corollary 13 and Assumption 10
# --------------------------------------------------------------------------------------------------------

@audits("P0-21")
def audit_p0_21(ctx) -> Finding:
    """P0 Cor. 13, (30) and L419, Assumption 10 (L393-411)."""
    Us, Vs = ctx.size((2, 2), (2, 2), (3, 3))
    law, psis, lim = _full_stack("iid", Us, Vs)
    Pn = len(psis)
    s_ = lambda u, w: SB_**2 + SW_**2 / D * (u.T * w)[0, 0]  # noqa: E731
    drift_pr = [sp.Rational(1, 2) * P2 * s_(u, u) * sp.eye(D) for u in psis]        # "(...) I_D dt", a D x D matrix
    drift_fx = sp.Matrix.vstack(*[sp.Rational(1, 2) * P2 * s_(u, u) * sp.ones(D, 1) for u in psis])
    cov_pr = sp.Matrix(sp.BlockMatrix([[P1**2 * s_(u, w) * sp.eye(D) for w in psis] for u in psis]))
    c_dpr = _compare(lim.drift[:D, :], drift_pr[0])
    c_dfx, c_cov = _compare(lim.drift, drift_fx), _compare(lim.diffusion, cov_pr)
    n_BW = law.params["n_brownian_W"]
    checks = [ctx.symbolic_check(f"drift with 1_D, all {Pn} positions (U={Us}, V={Vs}, K=3)", c_dfx.equal, c_dfx.statistic(),
                                 target="derived"),
              _shape_check(ctx, "printed drift (...) I_D dt has the shape of the state x_{t,p}", c_dpr.statistic(),
                           c_dpr.equal, "printed", note="\\mathbb I_D (undefined in Table 1) read as the identity matrix"),
              ctx.symbolic_check(f"covariation (L419) with I_D, all {Pn}x{Pn} position blocks", c_cov.equal, c_cov.statistic()),
              _shape_check(ctx, "printed B^W_t in R^{D x D} (L401) vs W_t in R^{D x K x K x D}",
                           f"B^W has D^2 = {D * D} coordinates; dW needs D*K*K*D = {D * F}", D * D == D * F, "printed",
                           note="dB^W psi(x_{*p}) in (30) is then (D x D)(K^2 D): undefined"),
              _shape_check(ctx, "Brownian coordinates of the sampling definition (L405-411, zeta ~ TN_{D,K,K,D})",
                           f"{n_BW} = D*K*K*D = {D * F}", n_BW == D * F, "derived")]
    # --- numerics: U = V = 4, K = 3, D = 2 -------------------------------------------------------------------------
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    x = rng.normal(size=(U, V, D))
    nlaw = nconv.ConvLaw.iid(D, K, SIGMA_W, SIGMA_B)
    pp = _psi_patches(x)
    vals = {SW_: SIGMA_W, SB_: SIGMA_B}
    der = _derived_numeric("iid", vals, pp)
    q = [_quad(x, nlaw, dt) for dt in DTS]
    checks += _rate_checks(ctx, "drift (i.i.d. conv law)", "E[Dx]", [m["mean"] / dt for m, dt in zip(q, DTS)],
                           der["drift"], der["drift_next"], target="derived")
    checks += _rate_checks(ctx, "diffusion (i.i.d. conv law, cross-position)", "Cov(Dx)",
                           [m["cov"] / dt for m, dt in zip(q, DTS)], der["S"], der["S1"])
    G = pp @ pp.T
    cov_pr_n = 0.25 * np.kron(SIGMA_B**2 + SIGMA_W**2 / D * G, np.eye(D))
    checks.append(_limit_test(ctx, "limit of Cov(Dx)/dt: printed covariation (L419)", "Cov(Dx)", q[-1]["cov"] / DTS[-1],
                              cov_pr_n, der["S1"], "both", DTS[-1]))
    n = ctx.size(100_000, 400_000, 2_000_000)
    p, pq, r = _neighbour_coords()
    coords = np.array([r * D + 1, p * D + 0, pq * D + 0])
    inc = _mc_increments(ctx, "mc-iid", nlaw, x, DT_MC, n, coords)
    qm = _quad(x, nlaw, DT_MC, pairs=(coords[1:2], coords[2:3]))
    checks += [ctx.mc_check("E[Dx_{corner,2}]/dt sampled vs quadrature", "one-step mean/dt at dt=0.01",
                            _scaled_mean(inc[:, 0], DT_MC), float(qm["mean"][coords[0]] / DT_MC), target="both",
                            note="zeta^W sampled i.i.d. as in L405-411; same dt: no bias"),
               ctx.mc_check("Cov(Dx_{p,1}, Dx_{p',1})/dt sampled vs quadrature", "one-step covariance/dt at dt=0.01",
                            _scaled_cov(inc[:, 1], inc[:, 2], DT_MC), float(qm["cov"][coords[1], coords[2]] / DT_MC),
                            target="both", note="same dt: no bias")]
    return Finding(
        summary="Corollary 13's values are right (drift 1/2 phi''(0)(sigma_b^2 + sigma_w^2 |psi(x_{*p})|^2 / D) per channel, "
                "covariation phi'(0)^2(sigma_b^2 + sigma_w^2 <psi_p, psi_p'>/D) I_D, norms over all K^2 D patch entries), but "
                "(30) typesets the drift with a matrix symbol I_D where 1_D is meant, and Assumption 10 gives B^W_t in R^{D x D} "
                "although W_t (and its discretisation zeta^W ~ TN_{D,K,K,D}) lives in R^{D x K x K x D}.",
        printed=r"dx_{t,p}=\phi'(0)\big(\tfrac{\sigma_w}{\sqrt D}dB^W_t\psi(x_{t,\star p})+\sigma_bdB^b_t\big)+\tfrac12\phi''(0)\big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x_{t,\star p})\|^2\big)\mathbb I_Ddt,\ "
                r"B^W_t\in\mathbb R^{D\times D}",
        derived=r"\mu_p=\tfrac12\phi''(0)\big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x_{\star p})\|^2\big)\mathbf 1_D,\ "
                r"\Sigma_{pp'}=\phi'(0)^2\big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\langle\psi(x_{\star p}),\psi(x_{\star p'})\rangle\big)\mathbf I_D",
        corrected=r"\ldots+\tfrac12\phi''(0)\big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x_{t,\star p})\|^2\big)\mathbf 1_Ddt,\quad B^W_t\in\mathbb R^{D\times K\times K\times D}",
        difference=r"\mathbb I_D\ (\text{matrix})\ \text{for}\ \mathbf 1_D\ \text{in the drift of (30)};\ B^W_t\in\mathbb R^{D\times D}\ \text{for}\ \mathbb R^{D\times K\times K\times D}",
        condition="Values right channel by channel when the drift's I_D is read as 1_D (the covariation's I_D is right) and "
                  "B^W_t is read with the shape of W_t, as the discretisation on L405-411 does.",
        severity="notation", symbolic_equal=False, checks=checks,
        steps=[r"Assumption 10 law from its sampling definition $\Delta W=\zeta^W\sigma_w\sqrt{\Delta t/D}$, "
               r"$\zeta^W$ with $D\cdot K\cdot K\cdot D$ i.i.d. entries: $\Sigma^W=\sigma_w^2/D\,I_{DK^2D}$.",
               f"Full stack one_step_limit over the {Pn} patches of a {Us}x{Vs}x2 image (zero padding): drift "
               r"$\tfrac12\phi''(0)(\sigma_b^2+\sigma_w^2\|\psi_p\|^2/D)\mathbf 1_D$, covariation blocks proportional to $I_D$.",
               r"Shape audit: the drift of (30) is typeset with $\mathbb I_D$ (a $D\times D$ matrix if read as $\mathbf I_D$; "
               r"the symbol is undefined in Table 1); $B^W_t\in\mathbb R^{D\times D}$ cannot drive $W_t\in\mathbb R^{D\times K\times K\times D}$.",
               "Numerics (U=V=4, K=3, sigma_w=1.2, sigma_b=0.7, swish/tanh): quadrature rates and direct Monte Carlo."])
