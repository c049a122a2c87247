"""Gaussian expectation maps of P3 (Hayou, Doucet, Rousseau): for (u, v) ~ N(0, Sigma), Sigma = [[s11, s12], [s12, s22]],

    E_phi(Sigma)  = E[phi(u) phi(v)],        E_dphi(Sigma) = E[phi'(u) phi'(v)],

the two maps every NNGP / NTK recursion is made of (P3 L471, L176; claim file A.5, A.7).

Evaluation
----------
* Closed forms (derived and checked in ``derivations/gaussian_maps.py``):
  ReLU-like phi(x) = lam x (x > 0), beta x (x <= 0) (Definition 1, L182): with c = s12 / sqrt(s11 s22), theta = arccos c,
      E_phi  = sqrt(s11 s22) [(lam^2 + beta^2) J1(c) - 2 lam beta J1(-c)],  J1(c) = (sqrt(1 - c^2) + (pi - theta) c) / (2 pi),
      E_dphi = (lam^2 + beta^2) (pi - theta) / (2 pi) + 2 lam beta theta / (2 pi);
  erf: E_phi = (2/pi) arcsin(2 s12 / sqrt((1 + 2 s11)(1 + 2 s22))), E_dphi = (4/pi) [(1 + 2 s11)(1 + 2 s22) - 4 s12^2]^(-1/2);
  linear a x: E_phi = a^2 s12, E_dphi = a^2.
* Quadrature for any activation, written in conditional form so that a singular covariance is harmless:
  u = a z1, v = b (c z1 + s z2), a = sqrt(s11), b = sqrt(s22), s = sqrt((1 - c)(1 + c)), z1, z2 iid N(0, 1), and
      E[g(u) h(v)] = E_{z1}[ g(a z1) H(b c z1, b s) ],   H(m, tau) = E[h(m + tau Z)].
  Smooth (analytic) activations: Gauss-Hermite in z1 and z2 (the integrand is analytic in both, uniformly in s).
  Activations with a kink at 0 (ELU, ReLU-like): H in closed form (normal cdf / pdf, exp), and the z1 integral by
  composite Gauss-Legendre on a panel grid graded geometrically towards 0 (down to 1e-12), because for s -> 0
  H(b c z1, b s) has a boundary layer of width ~ s at z1 = 0 that a global rule cannot see.
* Near correlation 1 the quantity the depth rates need is the gap E[phi(u)^2] - E[phi(u) phi(v)] (equal variances q,
  correlation 1 - gamma), which a difference of two O(1) numbers loses.  ``gap_phi`` computes it without cancellation
  by Price's theorem:  d/ds12 E[phi(u) phi(v)] = E[phi'(u) phi'(v)], hence
      gap_phi(q, gamma) = q * int_0^gamma E_dphi(q, correlation 1 - w) dw   (Gauss-Legendre in sqrt(w)),
  relative accuracy ~1e-14 down to gamma = 1e-300.

Accuracy: |error| <= 1e-12 (absolute, for O(1) values) against 30-digit mpmath quadrature at correlations 1 - 1e-k,
k <= 8 (``tests/test_gaussian_maps.py``); the gaps to 1e-12 relative.

Activation names (``get_activation``): relu, leaky_relu:<a> (slopes 1 and a), relu_like:<lam>,<beta>, linear:<a>,
identity, erf, tanh, elu (alpha = 1, as in P3's experiments), softplus, sigmoid, swish.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy.special import erf as _erf
from scipy.special import expit, log_ndtr, ndtr

Fn = Callable[[np.ndarray], np.ndarray]

_SQRT_PI = math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class P3Activation:
    """An activation with derivatives, its kinks, and (optionally) closed-form Gaussian means.

    ``relu_like`` = (lam, beta) for a ReLU-like phi (Def. 1, L182), else None.  ``linear`` = slope for phi = a x.
    ``gauss_mean(m, tau)`` = E[phi(m + tau Z)] and ``gauss_mean_d(m, tau)`` = E[phi'(m + tau Z)] (vectorised, tau >= 0),
    required when ``kink`` is True (phi' or phi'' jumps at 0).  ``smooth``: phi is analytic on R.
    """

    name: str
    f: Fn
    df: Fn
    d2f: Fn
    smooth: bool
    kink: bool = False
    relu_like: tuple[float, float] | None = None
    linear: float | None = None
    gauss_mean: Callable | None = None
    gauss_mean_d: Callable | None = None

    def __call__(self, x):
        return self.f(x)

    @property
    def homogeneous(self) -> bool:
        """phi(t x) = t phi(x) for t > 0 (ReLU-like and linear): the correlation map does not depend on the variances."""
        return self.relu_like is not None or self.linear is not None


# ---------------------------------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------------------------------

def _ratio(m, tau):
    """m / tau with tau = 0 mapped to +-inf (sign of m; m = 0 -> +inf, a convention of measure zero)."""
    m, tau = np.broadcast_arrays(np.asarray(m, float), np.asarray(tau, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(tau > 0, m / np.where(tau > 0, tau, 1.0), np.where(m >= 0, np.inf, -np.inf))
    return r


def _relu_mean(m, tau):
    """E[(m + tau Z)_+] = m Phi(m/tau) + tau phi(m/tau)."""
    r = _ratio(m, tau)
    pdf = np.where(np.isfinite(r), np.exp(-0.5 * np.where(np.isfinite(r), r, 0.0) ** 2) * _INV_SQRT_2PI, 0.0)
    return m * ndtr(r) + tau * pdf


def _step_mean(m, tau):
    """E[1{m + tau Z > 0}] = Phi(m / tau)."""
    return ndtr(_ratio(m, tau))


def _make_relu_like(lam: float, beta: float, name: str) -> P3Activation:
    def f(x):
        x = np.asarray(x, float)
        return np.where(x > 0, lam * x, beta * x)

    def df(x):
        x = np.asarray(x, float)
        return np.where(x > 0, lam, beta) + 0.0 * x

    def mean(m, tau):
        m = np.asarray(m, float)
        # lam relu(x) - beta relu(-x);  E relu(-(m + tau Z)) = E relu(-m + tau Z)
        return lam * _relu_mean(m, tau) - beta * _relu_mean(-m, tau)

    def mean_d(m, tau):
        p = _step_mean(m, tau)
        return lam * p + beta * (1.0 - p)

    return P3Activation(name, f, df, lambda x: 0.0 * np.asarray(x, float), smooth=False, kink=True,
                        relu_like=(float(lam), float(beta)), gauss_mean=mean, gauss_mean_d=mean_d)


def _make_linear(a: float, name: str) -> P3Activation:
    return P3Activation(name, lambda x: a * np.asarray(x, float), lambda x: a + 0.0 * np.asarray(x, float),
                        lambda x: 0.0 * np.asarray(x, float), smooth=True, linear=float(a),
                        gauss_mean=lambda m, tau: a * np.asarray(m, float) + 0.0 * np.asarray(tau, float),
                        gauss_mean_d=lambda m, tau: a + 0.0 * np.asarray(m, float) * np.asarray(tau, float))


def _elu(x):
    x = np.asarray(x, float)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _elu_d(x):
    x = np.asarray(x, float)
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))


def _elu_d2(x):
    x = np.asarray(x, float)
    return np.where(x > 0, 0.0, np.exp(np.minimum(x, 0.0)))


def _exp_tail(m, tau):
    """E[e^{m + tau Z} 1{m + tau Z < 0}] = exp(m + tau^2/2) Phi(-m/tau - tau), overflow-free (log-space)."""
    m, tau = np.broadcast_arrays(np.asarray(m, float), np.asarray(tau, float))
    r = _ratio(m, tau)
    with np.errstate(invalid="ignore", over="ignore"):
        lg = m + 0.5 * tau * tau + log_ndtr(-r - tau)
    return np.where(np.isneginf(lg) | np.isnan(lg), np.where((tau == 0) & (m < 0), np.exp(np.minimum(m, 0.0)), 0.0),
                    np.exp(np.minimum(lg, 700.0)))


def _elu_mean(m, tau):
    # x 1{x>0} + (e^x - 1) 1{x<0}
    return _relu_mean(m, tau) + _exp_tail(m, tau) - (1.0 - _step_mean(m, tau))


def _elu_mean_d(m, tau):
    return _step_mean(m, tau) + _exp_tail(m, tau)


def _softplus(x):
    return np.logaddexp(0.0, np.asarray(x, float))


def _sig_d1(x):
    return expit(x) * expit(-np.asarray(x, float))


def _sig_d2(x):
    s, sm = expit(x), expit(-np.asarray(x, float))
    return s * sm * (sm - s)


def _swish(x):
    x = np.asarray(x, float)
    return x * expit(x)


def _swish_d1(x):
    x = np.asarray(x, float)
    s, sm = expit(x), expit(-x)
    return s + x * s * sm


def _swish_d2(x):
    x = np.asarray(x, float)
    s, sm = expit(x), expit(-x)
    return s * sm * (2.0 + x * (sm - s))


def _erf_d1(x):
    x = np.asarray(x, float)
    return 2.0 / _SQRT_PI * np.exp(-x * x)


def _erf_d2(x):
    x = np.asarray(x, float)
    return -2.0 * x * _erf_d1(x)


def _tanh_d1(x):
    t = np.tanh(x)
    return 1.0 - t * t


def _tanh_d2(x):
    t = np.tanh(x)
    return -2.0 * t * (1.0 - t * t)


_TABLE: dict[str, P3Activation] = {
    "relu": _make_relu_like(1.0, 0.0, "relu"),
    "identity": _make_linear(1.0, "identity"),
    "erf": P3Activation("erf", lambda x: _erf(np.asarray(x, float)), _erf_d1, _erf_d2, smooth=True,
                        gauss_mean=lambda m, tau: _erf(np.asarray(m, float) / np.sqrt(1.0 + 2.0 * np.asarray(tau, float) ** 2))),
    "tanh": P3Activation("tanh", lambda x: np.tanh(np.asarray(x, float)), _tanh_d1, _tanh_d2, smooth=True),
    "elu": P3Activation("elu", _elu, _elu_d, _elu_d2, smooth=False, kink=True, gauss_mean=_elu_mean,
                        gauss_mean_d=_elu_mean_d),
    "softplus": P3Activation("softplus", _softplus, lambda x: expit(np.asarray(x, float)), _sig_d1, smooth=True),
    "sigmoid": P3Activation("sigmoid", lambda x: expit(np.asarray(x, float)), _sig_d1, _sig_d2, smooth=True),
    "swish": P3Activation("swish", _swish, _swish_d1, _swish_d2, smooth=True),
}

KNOWN = tuple(sorted(_TABLE)) + ("leaky_relu:<a>", "relu_like:<lam>,<beta>", "linear:<a>")


def _number(text: str, name: str) -> float:
    try:
        v = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"unknown activation {name!r}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"unknown activation {name!r}: {text!r} is not finite")
    return v


def get_activation(name: str | P3Activation) -> P3Activation:
    """The activation called ``name`` (see ``KNOWN``); a ``P3Activation`` is returned unchanged.  ValueError if unknown."""
    if isinstance(name, P3Activation):
        return name
    if not isinstance(name, str):
        raise ValueError(f"unknown activation {name!r}")
    key = name.strip().lower()
    if key in _TABLE:
        return _TABLE[key]
    if key.startswith("leaky_relu:"):
        a = _number(key.split(":", 1)[1], name)
        return _make_relu_like(1.0, a, key)
    if key.startswith("relu_like:"):
        parts = key.split(":", 1)[1].split(",")
        if len(parts) != 2:
            raise ValueError(f"unknown activation {name!r}: expected relu_like:<lam>,<beta>")
        lam, beta = (_number(p, name) for p in parts)
        return _make_relu_like(lam, beta, key)
    if key.startswith("linear:"):
        return _make_linear(_number(key.split(":", 1)[1], name), key)
    raise ValueError(f"unknown activation {name!r}; known: {', '.join(KNOWN)}")


# ---------------------------------------------------------------------------------------------------------------
# covariance parametrisation
# ---------------------------------------------------------------------------------------------------------------

def _polar(s11, s12, s22, gamma=None):
    """(a, b, c, s) with u = a z1, v = b (c z1 + s z2); gamma = 1 - c may be passed exactly (then s from it)."""
    s11, s12, s22 = np.broadcast_arrays(np.asarray(s11, float), np.asarray(s12, float), np.asarray(s22, float))
    if np.any(s11 < 0) or np.any(s22 < 0) or not (np.all(np.isfinite(s11)) and np.all(np.isfinite(s22))
                                                  and np.all(np.isfinite(s12))):
        raise ValueError("covariance entries must be finite with non-negative variances")
    a, b = np.sqrt(s11), np.sqrt(s22)
    ab = a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(ab > 0, s12 / np.where(ab > 0, ab, 1.0), 0.0)
    if np.any(np.abs(c) > 1 + 1e-12):
        raise ValueError("covariance is not positive semi-definite (|correlation| > 1)")
    c = np.clip(c, -1.0, 1.0)
    if gamma is None:
        s = np.sqrt(np.maximum((1.0 - c) * (1.0 + c), 0.0))
    else:
        g = np.broadcast_to(np.asarray(gamma, float), c.shape)
        c = 1.0 - g
        s = np.sqrt(np.maximum(g * (2.0 - g), 0.0))
    return a, b, c, s


# ---------------------------------------------------------------------------------------------------------------
# quadrature rules
# ---------------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _gh(n: int):
    z, w = hermegauss(n)
    return z, w / w.sum()


@lru_cache(maxsize=4)
def _graded_rule(nodes_per_panel: int = 20, zmax: float = 11.0, smallest: float = 1e-12, ratio: float = 4.0):
    """Nodes z and weights w (Gaussian density folded in) for E f(Z), f smooth on each side of 0 with layers near 0.

    Panels [0, smallest], [smallest, ratio*smallest], ... up to 0.5, then [0.5, 1], [1, 1.5], ... up to zmax; mirrored.
    """
    edges = [0.0, smallest]
    while edges[-1] * ratio < 0.5:
        edges.append(edges[-1] * ratio)
    x = 0.5
    while x < zmax - 1e-12:
        edges.append(x)
        x += 0.5
    edges.append(zmax)
    edges = np.array(sorted(set(edges)))
    t, wt = leggauss(nodes_per_panel)
    lo, hi = edges[:-1, None], edges[1:, None]
    z = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
    w = (0.5 * (hi - lo) * wt).ravel() * np.exp(-0.5 * z * z) * _INV_SQRT_2PI
    z = np.concatenate([-z[::-1], z])
    w = np.concatenate([w[::-1], w])
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def _default_nodes(a, b) -> int:
    """Gauss-Hermite size for analytic activations at scales a, b (poles at distance ~1/scale from the real axis)."""
    scale = float(np.max(np.concatenate([np.ravel(a), np.ravel(b), [0.0]])))
    return int(min(350, max(160, math.ceil(200 * scale))))


_GL16 = leggauss(16)
_GH_MAX_SCALE = 1.2      # above this standard deviation Gauss-Hermite loses digits for tanh-like activations


def _tail_panels(lo, hi, k: int = 4):
    """GL nodes/weights (Gaussian density included) on [lo, hi] (arrays, broadcast), k equal panels of 16 nodes."""
    t, wt = _GL16
    lo, hi = np.asarray(lo, float)[..., None], np.asarray(hi, float)[..., None]
    width = np.maximum(hi - lo, 0.0) / k
    j = np.arange(k)[:, None]
    a = lo[..., None] + j * width[..., None]                   # (..., k, 1)
    z = (a + 0.5 * width[..., None] * (t + 1.0)).reshape(*lo.shape[:-1], -1)
    w = (0.5 * width[..., None] * wt + 0.0 * a).reshape(*lo.shape[:-1], -1) * np.exp(-0.5 * z * z) * _INV_SQRT_2PI
    return z, w


def _scaled_rule(mean, sigma):
    """Nodes z, weights w with sum w F(mean + sigma z) ~ E F(mean + sigma Z) for F with features on |x| <= 6.

    x-panels of width 0.25 on [-6, 6] (z = (x - mean)/sigma, restricted to |z| <= 12) and 4 x 16-node panels on each
    Gaussian tail beyond.  ``mean``: array (E,), ``sigma`` > 0 scalar.  Returns (E, n) arrays.
    """
    xp, wp = _panel_rule_x()
    mean = np.asarray(mean, float)[:, None]
    z = (xp - mean) / sigma
    w = np.where(np.abs(z) <= 12.0, wp / sigma * np.exp(-0.5 * z * z) * _INV_SQRT_2PI, 0.0)
    zl_hi = np.clip((-6.0 - mean[:, 0]) / sigma, -12.0, 12.0)
    zr_lo = np.clip((6.0 - mean[:, 0]) / sigma, -12.0, 12.0)
    zl, wl = _tail_panels(np.full_like(zl_hi, -12.0), zl_hi)
    zr, wr = _tail_panels(zr_lo, np.full_like(zr_lo, 12.0))
    return np.concatenate([zl, z, zr], axis=1), np.concatenate([wl, w, wr], axis=1)


def _expect_smooth(g: Fn, h: Fn, a, b, c, s, n: int | None = None, chunk: int = 64):
    """Analytic g, h: Gauss-Hermite in z1 and z2 while the standard deviations are <= 1.2, else composite panels."""
    shape = a.shape
    a, b, c, s = (np.ravel(x) for x in (a, b, c, s))
    out = np.empty(a.size)
    small = (a <= _GH_MAX_SCALE) & (b <= _GH_MAX_SCALE)
    idx = np.flatnonzero(small)
    if idx.size:
        nn = n or _default_nodes(a[idx], b[idx])
        z, w = _gh(nn)
        for i in range(0, idx.size, chunk):
            sl = idx[i:i + chunk]
            m = (b[sl] * c[sl])[:, None] * z                      # (E, n) conditional means of v
            tau = (b[sl] * s[sl])[:, None, None]
            H = h(m[:, :, None] + tau * z) @ w                    # (E, n) inner expectation over z2
            out[sl] = (g(a[sl][:, None] * z) * H) @ w
    for i in np.flatnonzero(~small):                               # large scales: composite panels, one entry at a time
        if a[i] > 0:
            zo, wo = (x[0] for x in _scaled_rule(np.zeros(1), a[i]))
        else:
            zo, wo = _gh(64)
        m = b[i] * c[i] * zo
        tau = b[i] * s[i]
        if tau <= _GH_MAX_SCALE:
            zi, wi = _gh(n or _default_nodes(np.array([tau]), np.array([0.0])))
            H = h(m[:, None] + tau * zi) @ wi
        else:
            zi, wi = _scaled_rule(m, tau)                         # (n_o, n_i) per outer node
            H = np.sum(wi * h(m[:, None] + tau * zi), axis=1)
        out[i] = np.sum(wo * g(a[i] * zo) * H)
    return out.reshape(shape)


def _expect_kinked(g: Fn, H: Callable, a, b, c, s, chunk: int = 256):
    shape = a.shape
    a, b, c, s = (np.ravel(x) for x in (a, b, c, s))
    z, w = _graded_rule()
    out = np.empty(a.size)
    for i in range(0, a.size, chunk):
        sl = slice(i, i + chunk)
        Hz = H((b[sl] * c[sl])[:, None] * z, (b[sl] * s[sl])[:, None] + 0.0 * z)
        out[sl] = (g(a[sl][:, None] * z) * Hz) @ w
    return out.reshape(shape)


def _pair(act: P3Activation, kind: str):
    if kind == "phi":
        return act.f, act.gauss_mean
    if kind == "dphi":
        return act.df, act.gauss_mean_d
    raise ValueError(f"kind must be 'phi' or 'dphi', got {kind!r}")


def expect_quadrature(act, s11, s12, s22, kind: str = "phi", n: int | None = None, gamma=None):
    """E[g(u) g(v)] (g = phi or phi') by quadrature, whatever closed form exists (used to check closed forms).

    ``n``: Gauss-Hermite nodes per dimension for analytic activations (default: by the scale, 96..400).
    ``gamma``: optional exact 1 - correlation (overrides s12's correlation; s12 is then only used for nothing).
    """
    act = get_activation(act)
    g, Hmean = _pair(act, kind)
    a, b, c, s = _polar(s11, s12, s22, gamma)
    if act.kink:
        return _expect_kinked(g, Hmean, a, b, c, s)
    return _expect_smooth(g, g, a, b, c, s, n)


# ---------------------------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------------------------

def _theta(c, gamma=None):
    """arccos c, from gamma = 1 - c without cancellation when given: theta = 2 arcsin(sqrt(gamma / 2))."""
    if gamma is not None:
        return 2.0 * np.arcsin(np.sqrt(np.clip(np.asarray(gamma, float), 0.0, 2.0) / 2.0))
    return np.arccos(np.clip(c, -1.0, 1.0))


def relu_J1(c, gamma=None):
    """E[relu(z1) relu(z2)] for unit variances and correlation c: (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi)."""
    th = _theta(c, gamma)
    c = np.cos(th) if gamma is not None else np.asarray(c, float)
    return (np.sin(th) + (np.pi - th) * c) / (2.0 * np.pi)


def relu_J0(c, gamma=None):
    """P(z1 > 0, z2 > 0) for unit variances and correlation c: (pi - arccos c) / (2 pi)."""
    return (np.pi - _theta(c, gamma)) / (2.0 * np.pi)


def _closed_form(act: P3Activation, kind: str, s11, s12, s22, gamma=None):
    s11, s12, s22 = np.broadcast_arrays(np.asarray(s11, float), np.asarray(s12, float), np.asarray(s22, float))
    if act.linear is not None:
        a = act.linear
        return a * a * s12 if kind == "phi" else a * a + 0.0 * s12
    if act.relu_like is not None:
        lam, beta = act.relu_like
        a, b, c, _ = _polar(s11, s12, s22, gamma)
        if kind == "phi":
            th = _theta(c, gamma)
            j1 = (np.sin(th) + (np.pi - th) * c) / (2.0 * np.pi)
            j1m = (np.sin(th) - th * c) / (2.0 * np.pi)           # J1(-c): arccos(-c) = pi - theta
            return a * b * ((lam * lam + beta * beta) * j1 - 2.0 * lam * beta * j1m)
        th = _theta(c, gamma)
        return ((lam * lam + beta * beta) * (np.pi - th) + 2.0 * lam * beta * th) / (2.0 * np.pi)
    if act.name == "erf":
        d1, d2 = 1.0 + 2.0 * s11, 1.0 + 2.0 * s22
        if kind == "phi":
            return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * s12 / np.sqrt(d1 * d2), -1.0, 1.0))
        return (4.0 / np.pi) / np.sqrt(d1 * d2 - 4.0 * s12 * s12)
    return None


def has_closed_form(act) -> bool:
    act = get_activation(act)
    return act.linear is not None or act.relu_like is not None or act.name == "erf"


def expect(act, s11, s12, s22, kind: str = "phi", gamma=None, n: int | None = None):
    """E[phi(u) phi(v)] (kind='phi') or E[phi'(u) phi'(v)] (kind='dphi') for (u, v) ~ N(0, [[s11, s12], [s12, s22]]).

    Arguments broadcast; closed forms where they exist, else quadrature (module docstring).  ``gamma`` optionally gives
    1 - correlation exactly: a correlation computed from s12 carries an absolute error ~1e-16, which arccos (ReLU) and
    the conditional sd sqrt(1 - c^2) amplify to ~1e-8 at c = 1; pass gamma (or use ``gap_phi``) near c = 1.
    """
    act = get_activation(act)
    _pair(act, kind)
    out = _closed_form(act, kind, s11, s12, s22, gamma)
    if out is not None:
        return out
    return expect_quadrature(act, s11, s12, s22, kind, n=n, gamma=gamma)


def expect_matrix(act, S: np.ndarray, kind: str = "phi") -> np.ndarray:
    """The matrix [E g(u_i) g(u_j)]_{ij} for u ~ N(0, S) (S symmetric PSD, N x N); each pair evaluated once."""
    S = np.asarray(S, float)
    N = S.shape[0]
    iu = np.triu_indices(N)
    d = np.diag(S)
    off = iu[0] != iu[1]
    vals = np.empty(iu[0].size)
    vals[off] = expect(act, d[iu[0][off]], S[iu][off], d[iu[1][off]], kind)
    vals[~off] = variance_expect(act, d, kind)       # exact correlation 1 on the diagonal (arccos is ill-conditioned there)
    out = np.empty((N, N))
    out[iu] = vals
    out[(iu[1], iu[0])] = vals
    return out


@lru_cache(maxsize=8)
def _panel_rule_x(nodes: int = 16):
    """Gauss-Legendre panels for a 1-D integral over x in [-6, 6] (panel width 0.25, where activations have their features)."""
    edges = np.linspace(-6.0, 6.0, 49)
    t, wt = leggauss(nodes)
    lo, hi = edges[:-1, None], edges[1:, None]
    return (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel(), (0.5 * (hi - lo) * wt).ravel()


def variance_expect(act, q, kind: str = "phi"):
    """E[g(sqrt(q) Z)^2], Z ~ N(0, 1), g = phi or phi' (vectorised in q >= 0), to ~1e-14 at any scale.

    1-D composite rule: Gauss-Legendre panels of width 0.25 in x = sqrt(q) z on |x| <= 6 (split at the kink 0), plus
    panels of width 0.5 in z on the Gaussian tails |z| <= 12 beyond; closed forms where they exist.
    """
    act = get_activation(act)
    g, _ = _pair(act, kind)
    q = np.asarray(q, float)
    if np.any(q < 0) or not np.all(np.isfinite(q)):
        raise ValueError("variance must be finite and >= 0")
    cf = _closed_form(act, kind, q, q, q, gamma=np.zeros_like(q))
    if cf is not None:
        return cf
    shape = q.shape
    out = np.empty(q.size)
    xp, wp = _panel_rule_x()
    t, wt = leggauss(16)
    for i, qi in enumerate(q.ravel()):
        a = math.sqrt(qi)
        if a == 0.0:
            out[i] = float(g(np.array(0.0))) ** 2
            continue
        zc = min(6.0 / a, 12.0)                            # the x-panels cover |z| <= zc
        x = xp[np.abs(xp) <= a * zc + 1e-15] if zc < 6.0 / a else xp * (zc * a / 6.0)
        w = wp[np.abs(xp) <= a * zc + 1e-15] if zc < 6.0 / a else wp * (zc * a / 6.0)
        z = x / a
        total = np.sum(w / a * np.exp(-0.5 * z * z) * _INV_SQRT_2PI * g(x) ** 2)
        if zc < 12.0:                                      # Gaussian tails in z
            edges = np.arange(zc, 12.0 + 1e-12, 0.5)
            if edges[-1] < 12.0:
                edges = np.append(edges, 12.0)
            lo, hi = edges[:-1, None], edges[1:, None]
            zt = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
            wt_ = (0.5 * (hi - lo) * wt).ravel() * np.exp(-0.5 * zt * zt) * _INV_SQRT_2PI
            total += np.sum(wt_ * (g(a * zt) ** 2 + g(-a * zt) ** 2))
        out[i] = total
    return out.reshape(shape)


_GL_GAP = leggauss(40)


def gap_phi(act, q, gamma):
    """E[phi(u)^2] - E[phi(u) phi(v)] for Var u = Var v = q and correlation 1 - gamma, without cancellation.

    Price's theorem: = q int_0^gamma E_dphi(q, q, q (1 - w)) dw = q int_0^{sqrt(gamma)} 2 r E_dphi(correlation 1 - r^2) dr,
    by 40-point Gauss-Legendre in r (E_dphi(1 - r^2) is smooth in r for every activation here, ReLU included).
    """
    act = get_activation(act)
    q, gamma = np.broadcast_arrays(np.asarray(q, float), np.asarray(gamma, float))
    if np.any(gamma < 0) or np.any(gamma > 2):
        raise ValueError("gamma = 1 - correlation must lie in [0, 2]")
    t, w = _GL_GAP
    R = np.sqrt(gamma)[..., None] * 0.5 * (t + 1.0)            # (..., 40) nodes in r
    qq = np.broadcast_to(q[..., None], R.shape)
    ed = expect(act, qq, qq * (1.0 - R * R), qq, "dphi", gamma=R * R)
    return q * np.sqrt(gamma) * 0.5 * np.sum(w * 2.0 * R * ed, axis=-1)
