"""Deep NNGP/NTK recursions of a fully connected network in the NTK parameterisation (P3, eq. (10), L139-143):

    Sigma^{l+1}(x, x') = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2,
    Theta^{l+1}(x, x') = Sigma^{l+1}(x, x') + sigma_w^2 E[phi'(u) phi'(v)] Theta^l(x, x'),   (u, v) ~ N(0, Sigma^l),

iterated to great depth (rates such as log L / L cannot be told from 1/L at the depths a network reaches).
Two evaluations of the Gaussian expectations: the ReLU arc-cosine closed forms, and bivariate Gauss-Hermite
quadrature for any smooth activation.  This is the small core that the kernel engine of P3 builds on.

P3 kernel engine additions (below; ``relu_eoc_ntk``, ``relu_eoc_ntk_reference``, ``quadrature_ntk`` are unchanged):
* ``CorrelationMap(act, sigma_w, sigma_b, q=None)``: the correlation map f and f' = Sigma-dot at a fixed variance q, as
  piecewise Chebyshev series in t = sqrt(1 - c) fitted to accurate quadrature (``numeric.gaussian_maps``); the gap
  1 - f(1 - t^2) keeps full relative precision as c -> 1 (Price's theorem: it is the integral of f').
* ``deep_ffnn_ntk(cmap, c1, L, record)``: FFNN NNGP/NTK (Lemma 2, derived) for two inputs at variance q, to L = 10^6 in
  ~2 s for any activation (1-D map per layer).
* ``relu_resnet_deep(c1, L, sigma_w, scaled, q, variant)``: dense ReLU ResNet / scaled ResNet (sigma_b = 0) with the
  variance growth divided out at every step; variants 'derived', 'printed-total', 'printed-branch' (numeric.kernel_printed).
* ``fit_rate(L, dev, model)`` (models in RATE_MODELS: power, log_over_L, power_plus_log, inv_L, inv_log, exp) and
  ``local_slopes(L, dev)``: rate fits with misfit intervals (the data are deterministic).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from numeric.activations import as_function


def _sin_minus_t_cos(t: float) -> float:
    """sin t - t cos t without cancellation (series t^3/3 - t^5/30 + t^7/840 - t^9/45360 below t = 0.01)."""
    if t < 1e-2:
        t2 = t * t
        return t * t2 * (1.0 / 3.0 - t2 * (1.0 / 30.0 - t2 * (1.0 / 840.0 - t2 / 45360.0)))
    return math.sin(t) - t * math.cos(t)


def relu_eoc_ntk(c0: float, L: int, q: float = 1.0) -> tuple[float, float]:
    """ReLU at the Edge of Chaos (sigma_w^2 = 2, sigma_b = 0): (correlation, off-diagonal NTK) after L layers.

    The variance q is preserved; with c = cos t the correlation map is c' = (sin t + (pi - t) cos t)/pi and
    Theta' = q c' + ((pi - t)/pi) Theta.  Near c = 1 (where the depth rates live) the angle is iterated in the
    cancellation-free form 1 - c' = 2 sin^2(t/2) - (sin t - t cos t)/pi, t' = 2 arcsin(sqrt((1 - c')/2)), so 1 - c
    keeps full relative precision down to 1e-300.  Scalar loop over Python floats (fastest for one entry).
    """
    t = math.acos(min(max(float(c0), -1.0), 1.0))
    th = float(q * c0)
    sin, asin, sqrt, pi, cos = math.sin, math.asin, math.sqrt, math.pi, math.cos
    for _ in range(L - 1):
        s = sin(0.5 * t)
        one_minus = 2.0 * s * s - _sin_minus_t_cos(t) / pi
        t_new = 2.0 * asin(sqrt(max(0.5 * one_minus, 0.0)))
        th = q * (1.0 - one_minus) + (pi - t) / pi * th
        t = t_new
    return cos(t), th


def relu_eoc_ntk_reference(c0: float, L: int, q: float = 1.0, dps: int = 40) -> tuple[float, float]:
    """The same recursion in mpmath at ``dps`` digits, directly in c (the bench's accuracy reference)."""
    import mpmath as mp

    with mp.workdps(dps):
        c, th, qq = mp.mpf(c0), mp.mpf(q) * mp.mpf(c0), mp.mpf(q)
        for _ in range(L - 1):
            t = mp.acos(c)
            c_new = (mp.sin(t) + (mp.pi - t) * c) / mp.pi
            th = qq * c_new + (mp.pi - t) / mp.pi * th
            c = c_new
        return float(c), float(th), float(1 - c)


def quadrature_ntk(phi, dphi, Sigma0: np.ndarray, L: int, sigma_w: float, sigma_b: float, n: int = 40):
    """(Sigma^L, Theta^L) (2 x 2) for any activation by bivariate Gauss-Hermite quadrature, n x n nodes per layer."""
    f, df = as_function(phi), as_function(dphi)
    z, w = hermegauss(n)
    w = w / w.sum()
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    W = np.outer(w, w)
    S = np.array(Sigma0, dtype=float)
    Th = S.copy()
    sw2, sb2 = sigma_w**2, sigma_b**2
    for _ in range(L - 1):
        a = math.sqrt(max(S[0, 0], 0.0))
        r = S[0, 1] / a if a > 0 else 0.0
        b = math.sqrt(max(S[1, 1] - r * r, 0.0))
        u, v = a * Z1, r * Z1 + b * Z2
        fu, fv, du, dv = f(u), f(v), df(u), df(v)
        E = np.array([[np.sum(W * fu * fu), np.sum(W * fu * fv)], [0.0, np.sum(W * fv * fv)]])
        E[1, 0] = E[0, 1]
        Ed = np.array([[np.sum(W * du * du), np.sum(W * du * dv)], [0.0, np.sum(W * dv * dv)]])
        Ed[1, 0] = Ed[0, 1]
        S = sw2 * E + sb2
        Th = S + sw2 * Ed * Th
    return S, Th


# =================================================================================================================
# Deep recursions at a fixed variance (any activation) and for ReLU ResNets; rate fits.  (P3 kernel engine)
# =================================================================================================================

import bisect
from dataclasses import dataclass

from numpy.polynomial import chebyshev as _cheb
from numpy.polynomial.legendre import leggauss as _leggauss


def _piece_edges(levels: int = 22) -> list:
    """Edges in t = sqrt(1 - c) on [0, sqrt 2]: geometric towards t = 0 (c = 1) and towards t = sqrt 2 (c = -1)."""
    r2 = math.sqrt(2.0)
    low = [r2 * 2.0**-k for k in range(levels, 0, -1)]
    high = [r2 - (r2 / 2) * 2.0**-k for k in range(0, levels)]
    return [0.0] + low + high + [r2]


class CorrelationMap:
    """The correlation map of P3 (L487, L514) at a fixed variance q, in t = sqrt(1 - c), as piecewise Chebyshev series:

        Sd(t) = sigma_w^2 E[phi'(u) phi'(v)]               (= f'(c), Price; = Sigma-dot of the NTK recursion)
        R(t)  = (1 - f(1 - t^2)) / t^2 = int_0^1 2 s Sd(t s) ds   (gap of the correlation map, relative accuracy near c = 1)

    for (u, v) with variances q and correlation c = 1 - t^2.  Sd is fitted to quadrature values (``gaussian_maps.expect``,
    absolute accuracy ~1e-14) at Chebyshev points of each piece (degree <= 28, truncated at 1e-17 of the piece's scale);
    R from Sd by 40-point Gauss-Legendre in s.  ``q`` defaults to the fixed point q(sigma_b, sigma_w); for homogeneous
    phi (ReLU-like) any q gives the same map when sigma_b = 0.  Evaluation: ``sd(t)``, ``gap_ratio(t)`` (scalars, pure
    Python Clenshaw; ~1 us each).  ``check()`` returns the max deviation from direct quadrature at random points.
    """

    def __init__(self, act, sigma_w: float, sigma_b: float, q: float | None = None, degree: int = 28):
        from numeric import eoc
        from numeric.gaussian_maps import expect, get_activation

        self.act = get_activation(act)
        self.sigma_w, self.sigma_b = float(sigma_w), float(sigma_b)
        if q is None:
            q = 1.0 if (self.act.homogeneous and sigma_b == 0) else eoc.fixed_point_q(self.act, sigma_w, sigma_b)
        if not (math.isfinite(q) and q > 0):
            raise ValueError(f"no finite positive fixed-point variance (q = {q})")
        self.q = float(q)
        self._expect = expect
        self.edges = _piece_edges()
        x = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))     # Chebyshev points of the 1st kind
        lo, hi = np.array(self.edges[:-1])[:, None], np.array(self.edges[1:])[:, None]
        T = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)                           # (P, deg+1)
        vals = self._sd_direct(T)
        self._sd_coef = [self._fit(x, v) for v in vals]
        s, ws = _leggauss(40)
        s = 0.5 * (s + 1.0)
        ws = 0.5 * ws
        R = np.array([[np.sum(ws * 2 * s * self._sd_vec(t * s)) for t in row] for row in T])
        self._r_coef = [self._fit(x, v) for v in R]
        self.chi1 = self.sd(0.0)

    def _sd_direct(self, T):
        T = np.asarray(T, float)
        g = T * T
        q = self.q
        return self.sigma_w**2 * self._expect(self.act, q, q * (1 - g), q, "dphi", gamma=g)

    @staticmethod
    def _fit(x, v):
        c = _cheb.chebfit(x, v, len(x) - 1)
        scale = max(np.max(np.abs(v)), 1e-300)
        keep = np.flatnonzero(np.abs(c) > 1e-17 * scale)
        return [float(a) for a in c[: (keep[-1] + 1 if keep.size else 1)]]

    def _piece(self, t: float) -> int:
        return min(max(bisect.bisect_right(self.edges, t) - 1, 0), len(self.edges) - 2)

    def _eval(self, coefs, t: float) -> float:
        i = self._piece(t)
        a, b = self.edges[i], self.edges[i + 1]
        x = (2.0 * t - a - b) / (b - a)
        c = coefs[i]
        b1 = b2 = 0.0
        x2 = 2.0 * x
        for ck in reversed(c[1:]):
            b1, b2 = ck + x2 * b1 - b2, b1
        return c[0] + x * b1 - b2

    def _sd_vec(self, t):
        return np.array([self._eval(self._sd_coef, float(ti)) for ti in np.ravel(t)]).reshape(np.shape(t))

    def sd(self, t: float) -> float:
        """f'(1 - t^2) = sigma_w^2 E[phi' phi'] at correlation 1 - t^2."""
        return self._eval(self._sd_coef, t)

    def gap_ratio(self, t: float) -> float:
        """(1 - f(1 - t^2)) / t^2."""
        return self._eval(self._r_coef, t)

    def f(self, c: float) -> float:
        """The correlation map f(c) (P3 L487)."""
        g = 1.0 - c
        return 1.0 - g * self.gap_ratio(math.sqrt(max(g, 0.0)))

    def check(self, n: int = 25, seed: int = 0) -> float:
        """max |sd(t) - direct quadrature| over random t (the representation's own error)."""
        t = np.sort(np.random.default_rng(seed).uniform(0, math.sqrt(2), n) ** 2 / math.sqrt(2))
        return float(np.max(np.abs(self._sd_vec(t) - self._sd_direct(t))))


@dataclass
class DeepNTK:
    """Records of a deep FFNN recursion at layers ``layers``: gamma = 1 - c^l, K_off = K^l(x, x'), K_diag = K^l(x, x),
    sd = Sigma-dot^l(x, x') = f'(c^{l-1}) (the factor that multiplied K^{l-1}), Sigma = Sigma^l(x, x')."""

    layers: np.ndarray
    gamma: np.ndarray
    K_off: np.ndarray
    K_diag: np.ndarray
    sd: np.ndarray
    Sigma: np.ndarray
    q: float


def _record_set(L: int, record) -> list:
    if record is None:
        return [L]
    return sorted({int(l) for l in record if 1 <= int(l) <= L})


def deep_ffnn_ntk(cmap: CorrelationMap, c1: float, L: int, record=None, gamma1: float | None = None) -> DeepNTK:
    """FFNN NNGP/NTK recursion (derived = Lemma 2) for two inputs with Sigma^1(x,x) = Sigma^1(x',x') = q (the map's
    variance) and correlation c1 (or 1 - gamma1 given exactly), iterated to depth L with the 1-D correlation map:
        gamma^{l} = t^2 R(t), t = sqrt(gamma^{l-1});  K^l = q (1 - gamma^l) + Sd(t) K^{l-1};  K^l_diag = q + chi1 K^{l-1}_diag.
    Pure-Python scalar loop (~3 us per layer).  ``record``: iterable of layers to keep (default: only L).
    """
    rec = _record_set(L, record)
    q = cmap.q
    g = (1.0 - float(c1)) if gamma1 is None else float(gamma1)
    K, Kd = q * (1.0 - g), q
    chi = cmap.chi1
    out = {1: (g, K, Kd, float("nan"), q * (1.0 - g))}
    edges, sdc, rc = cmap.edges, cmap._sd_coef, cmap._r_coef
    want = set(rec)
    sqrt, bis = math.sqrt, bisect.bisect_right
    npieces = len(edges) - 2
    for l in range(2, L + 1):
        t = sqrt(g)
        i = bis(edges, t) - 1
        i = 0 if i < 0 else (npieces if i > npieces else i)
        a, b = edges[i], edges[i + 1]
        x = (2.0 * t - a - b) / (b - a)
        x2 = 2.0 * x
        c = sdc[i]
        b1 = b2 = 0.0
        for ck in reversed(c[1:]):
            b1, b2 = ck + x2 * b1 - b2, b1
        sd = c[0] + x * b1 - b2
        c = rc[i]
        b1 = b2 = 0.0
        for ck in reversed(c[1:]):
            b1, b2 = ck + x2 * b1 - b2, b1
        g = t * t * (c[0] + x * b1 - b2)
        S = q * (1.0 - g)
        K = S + sd * K
        Kd = q + chi * Kd
        if l in want:
            out[l] = (g, K, Kd, sd, S)
    rows = [out[l] for l in rec if l in out]
    arr = np.array(rows, float).reshape(-1, 5)
    return DeepNTK(np.array([l for l in rec if l in out]), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], q)


def _relu_gap(t: float) -> float:
    """1 - f(cos t) for the ReLU EOC map f(c) = (sin t + (pi - t) c)/pi, without cancellation."""
    s = math.sin(0.5 * t)
    return 2.0 * s * s - _sin_minus_t_cos(t) / math.pi


@dataclass
class DeepResNet:
    """Records of a deep ReLU ResNet recursion (sigma_b = 0): ``log_norm`` = log N_l with N_l = prod_{k=2}^l (1 + s_k^2 a),
    a = sigma_w^2/2 (the variance growth: Q^l(x,x) = N_l Q^1(x,x)); k_off = K^l(x,x')/N_l, k_diag = K^l(x,x)/N_l, gamma = 1 - c^l."""

    layers: np.ndarray
    gamma: np.ndarray
    k_off: np.ndarray
    k_diag: np.ndarray
    log_norm: np.ndarray


def relu_resnet_deep(c1: float, L: int, sigma_w: float, scaled: bool = False, q: tuple = (1.0, 1.0),
                     variant: str = "derived", record=None) -> DeepResNet:
    """Dense ReLU ResNet (eq. (12), s_l = 1) or scaled ResNet (eq. (13), s_l = 1/sqrt(l)), sigma_b = 0, to depth L.

    Forward (exact, A.9): Q^l = Q^{l-1} + s_l^2 B^l, B^l = a sqrt(Q Q') f(c^{l-1}) (a = sigma_w^2/2, f the ReLU EOC map), so
    c^l = (c^{l-1} + s_l^2 a f(c^{l-1})) / (1 + s_l^2 a) and 1 - c^l = (gamma + s_l^2 a gap(gamma)) / (1 + s_l^2 a).
    NTK: variant 'derived':  K^l = K^{l-1} (1 + s_l^2 a f'(c^{l-1})) + s_l^2 B^l;
         variant 'printed-total': K^l = K^{l-1} (1 + s_l^2 a f'(c^{l-1})) + Q^l   (Lemma 3 with Sigma^l = E[y^l y^l]; proof of Prop. 3);
         variant 'printed-branch': K^l = K^{l-1} (1 + a f'(c^{l-1})) + B^l     (Lemma 3 with the branch Sigma^l, no s_l).
    Everything is divided by N_l at each step (no overflow); q = (Q^1(x,x), Q^1(x',x')).
    """
    if variant not in ("derived", "printed-total", "printed-branch"):
        raise ValueError(f"unknown variant {variant!r}")
    rec = set(_record_set(L, record))
    a = sigma_w**2 / 2.0
    qq = math.sqrt(q[0] * q[1])
    t = math.acos(min(max(float(c1), -1.0), 1.0))
    g = 1.0 - float(c1)
    k, kd = qq * float(c1), q[0]                          # K^1(x,x') = Q^1(x,x'), K^1(x,x) = Q^1(x,x)
    logN = 0.0
    out = {}
    if 1 in rec:
        out[1] = (g, k, kd, 0.0)
    pi = math.pi
    for l in range(2, L + 1):
        s2 = 1.0 / l if scaled else 1.0
        e = s2 * a
        fprime = (pi - t) / pi
        fval = 1.0 - _relu_gap(t)
        grow = 1.0 + e
        # branch covariances relative to N_{l-1}: B/N_{l-1} = a sqrt(qq') f(c), diagonal a q
        Bo, Bdiag = a * qq * fval, a * q[0]
        g_new = (g + e * _relu_gap(t)) / grow
        if variant == "derived":
            k = (k * (1.0 + e * fprime) + s2 * Bo) / grow
            kd = (kd * (1.0 + e) + s2 * Bdiag) / grow
        elif variant == "printed-total":
            k = k * (1.0 + e * fprime) / grow + qq * (1.0 - g_new)
            kd = kd * (1.0 + e) / grow + q[0]
        else:
            k = (k * (1.0 + a * fprime) + Bo) / grow
            kd = (kd * (1.0 + a) + Bdiag) / grow
        logN += math.log1p(e)
        g = g_new
        t = 2.0 * math.asin(math.sqrt(max(0.5 * g, 0.0)))
        if l in rec:
            out[l] = (g, k, kd, logN)
    ls = sorted(out)
    arr = np.array([out[l] for l in ls], float).reshape(-1, 4)
    return DeepResNet(np.array(ls), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


# ---------------------------------------------------------------------------------------------------------------
# rate fits
# ---------------------------------------------------------------------------------------------------------------

RATE_MODELS = {
    "power": ("X L^-p", lambda L, X, p: X * L**-p, (1.0, 1.0)),
    "log_over_L": ("(A log L + B)/L", lambda L, A, B: (A * np.log(L) + B) / L, (1.0, 0.0)),
    "power_plus_log": ("X L^-p + (A log L + B)/L", lambda L, X, p, A, B: X * L**-p + (A * np.log(L) + B) / L,
                       (0.1, 1.5, 1.0, 0.0)),
    "inv_L": ("A/L + B/L^2", lambda L, A, B: A / L + B / L**2, (1.0, 0.0)),
    "inv_log": ("A/log L + B/log(L)^2", lambda L, A, B: A / np.log(L) + B / np.log(L) ** 2, (1.0, 0.0)),
    "exp": ("X exp(-r L)", lambda L, X, r: X * np.exp(-r * L), (1.0, 0.1)),
}


@dataclass(frozen=True)
class RateFit:
    """Least-squares fit of a deviation sequence by one model (relative residuals; deterministic data, so ``ci`` is a
    misfit interval: the t-interval of the linearised LS covariance scaled by the residual variance, level ``level``)."""

    model: str
    formula: str
    params: tuple
    ci: tuple
    rms_rel_residual: float
    n: int


def fit_rate(L, dev, model: str, level: float = 0.95, p0=None) -> RateFit:
    """Fit dev(L) by ``model`` (one of RATE_MODELS) minimising relative residuals (dev - model)/dev."""
    from scipy import stats as _st
    from scipy.optimize import least_squares

    if model not in RATE_MODELS:
        raise ValueError(f"unknown rate model {model!r}; known: {', '.join(RATE_MODELS)}")
    formula, fn, init = RATE_MODELS[model]
    L = np.asarray(L, float)
    y = np.asarray(dev, float)
    if model == "exp":
        sl = np.polyfit(L, np.log(np.abs(y)), 1)
        init = (float(np.sign(y[0]) * math.exp(sl[1])), float(-sl[0]))
    elif model == "power":
        sl = np.polyfit(np.log(L), np.log(np.abs(y)), 1)
        init = (float(np.sign(y[0]) * math.exp(sl[1])), float(-sl[0]))
    p_init = np.array(p0 if p0 is not None else init, float)
    res = least_squares(lambda p: (y - fn(L, *p)) / np.abs(y), p_init, x_scale="jac", max_nfev=20000,
                        xtol=1e-15, ftol=1e-15, gtol=1e-15)
    r = res.fun
    dof = max(len(L) - len(p_init), 1)
    s2 = float(r @ r) / dof
    try:
        cov = np.linalg.pinv(res.jac.T @ res.jac) * s2
        half = _st.t.isf((1 - level) / 2, dof) * np.sqrt(np.maximum(np.diag(cov), 0.0))
    except np.linalg.LinAlgError:
        half = np.full(len(p_init), np.inf)
    ci = tuple((float(p - h), float(p + h)) for p, h in zip(res.x, half))
    return RateFit(model, formula, tuple(float(p) for p in res.x), ci, float(math.sqrt(float(r @ r) / len(r))), len(L))


def local_slopes(L, dev) -> np.ndarray:
    """d log|dev| / d log L between consecutive points (length n - 1), the local exponent of a power law."""
    L = np.log(np.asarray(L, float))
    y = np.log(np.abs(np.asarray(dev, float)))
    return np.diff(y) / np.diff(L)
