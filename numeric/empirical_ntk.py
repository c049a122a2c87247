"""Empirical NTK of P3's finite networks by explicit backpropagation in NumPy (no autodiff), and its comparison with the
infinite-width recursions (claim file B.0, FW protocol).

For f = y^L_1 (dense) the backward pass is g^L = e_1,  g^{l-1} = [skip] g^l + s_l (s_w/sqrt(n)) (W^l)^T g^l * phi'(y^{l-1})
([skip] = 1 for ResNets); the gradient w.r.t. W^l is s_l (s_w/sqrt(n)) g^l (x) phi(y^{l-1}) and w.r.t. b^l is s_l s_b g^l
(layer 1: (s_w/sqrt(d)) g^1 (x) x, s_b g^1).  Hence, exactly (the Jacobian rows are outer products),
    K(x, x') = sum_l s_l^2 [ (s_w^2/fan_l) (g^l . g'^l)(a^{l-1} . a'^{l-1}) + s_b^2 (g^l . g'^l) ],   a^0 = x, a^l = phi(y^l).
Convolutional nets: rows are (input, output position); the W-gradient G[i,j,b] = sum_a g[i,a] a^{l-1}[j, a+b] is formed
explicitly and K += (s_w^2/fan) G G^T + s_b^2 (sum_a g)(sum_a g)^T.  ``jacobian`` forms the full parameter Jacobian
(small nets; used to validate ``ntk`` and, by central differences, the backward pass).

Width extrapolation: E K_n = K_inf + b/n + O(n^-2) (the O(depth/width) bias of finite networks); ``width_regression``
fits the per-width means by weighted least squares in 1/n and returns the intercept with its standard error, which is
then compared with the recursion within z(alpha) SE (``fw_compare``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numeric.finite_nets import Network, _unfold, forward, output, sample_network
from numeric.gaussian_maps import get_activation
from numeric.stats import z_two_sided


def _rows_for_output(net: Network, N: int, M: int | None):
    """Row bookkeeping: dense -> rows = inputs; conv -> rows = (input, position) with input index r // M."""
    if M is None:
        return np.arange(N)
    return np.repeat(np.arange(N), M)


def _backward(net: Network, ys: list, X: np.ndarray, collect):
    """Run the backward pass from f = y^L_1 (every output position for conv nets), calling collect(l, g, a_prev, rows)."""
    act = get_activation(net.activation)
    N = X.shape[0]
    n = ys[-1].shape[1]
    res = "resnet" in net.arch
    if net.conv:
        M = ys[-1].shape[2]
        rows = _rows_for_output(net, N, M)
        g = np.zeros((N * M, n, M))
        g[np.arange(N * M), 0, np.tile(np.arange(M), N)] = 1.0
    else:
        rows = _rows_for_output(net, N, None)
        g = np.zeros((N, n))
        g[:, 0] = 1.0
    for l in range(net.depth, 0, -1):
        a_prev = np.asarray(X, float) if l == 1 else act.f(ys[l - 2])
        collect(l, g, a_prev, rows)
        if l == 1:
            break
        s = net.scale(l)
        c = net.sigma_w / math.sqrt(net.fan_in(l))
        W = net.W[l - 1]
        dphi = act.df(ys[l - 2])[rows]
        if net.conv:
            back = np.zeros((g.shape[0], W.shape[1], g.shape[2]))
            for bi, b in enumerate(range(-net.k, net.k + 1)):
                back += np.einsum("ij,ria->rja", W[:, :, bi], np.roll(g, b, axis=-1), optimize=True)
            back = c * back * dphi
        else:
            back = c * (g @ W) * dphi
        g = g + s * back if res else back
    return rows


def ntk(net: Network, X: np.ndarray) -> np.ndarray:
    """The empirical NTK of f = y^L_1: (N, N) dense, (N M, N M) conv (row i*M + a = input i, output position a)."""
    X = np.asarray(X, float)
    ys = forward(net, X)
    R = X.shape[0] * (ys[-1].shape[2] if net.conv else 1)
    K = np.zeros((R, R))

    def collect(l, g, a_prev, rows):
        nonlocal K
        s2 = net.scale(l) ** 2
        fan = net.fan_in(l)
        A = a_prev[rows]
        if net.conv:
            G = np.einsum("ria,rjab->rijb", g, _unfold(A, net.k), optimize=True).reshape(R, -1)
            gb = g.sum(axis=2)
            K += s2 * (net.sigma_w**2 / fan * (G @ G.T) + net.sigma_b**2 * (gb @ gb.T))
        else:
            gg = g @ g.T
            K += s2 * (net.sigma_w**2 / fan * gg * (A @ A.T) + net.sigma_b**2 * gg)

    _backward(net, ys, X, collect)
    return K


def jacobian(net: Network, X: np.ndarray) -> np.ndarray:
    """The explicit Jacobian d f / d theta (rows as in ``ntk``; columns W^1, b^1, ..., W^L, b^L flattened)."""
    X = np.asarray(X, float)
    ys = forward(net, X)
    blocks = {}

    def collect(l, g, a_prev, rows):
        s = net.scale(l)
        c = net.sigma_w / math.sqrt(net.fan_in(l))
        A = a_prev[rows]
        if net.conv:
            gW = s * c * np.einsum("ria,rjab->rijb", g, _unfold(A, net.k), optimize=True)
            gb = s * net.sigma_b * g.sum(axis=2)
        else:
            gW = s * c * g[:, :, None] * A[:, None, :]
            gb = s * net.sigma_b * g
        blocks[l] = np.concatenate([gW.reshape(len(rows), -1), gb], axis=1)

    _backward(net, ys, X, collect)
    return np.concatenate([blocks[l] for l in range(1, net.depth + 1)], axis=1)


def jacobian_fd(net: Network, X: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of f w.r.t. every parameter (same layout as ``jacobian``; small nets only)."""
    cols = []
    for l in range(net.depth):
        for P in (net.W[l], net.b[l]):
            flat = P.reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + h
                fp = output(net, X).reshape(-1)
                flat[i] = old - h
                fm = output(net, X).reshape(-1)
                flat[i] = old
                cols.append((fp - fm) / (2 * h))
    return np.stack(cols, axis=1)


def empirical_ntks(arch: str, act, X: np.ndarray, depth: int, width: int, sigma_w: float, sigma_b: float,
                   seeds, k: int = 1) -> np.ndarray:
    """NTKs of independent networks, one per seed (``seeds``: iterable of ints): array (S, R, R)."""
    X = np.asarray(X, float)
    d = X.shape[1]
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        net = sample_network(arch, act, d, width, depth, sigma_w, sigma_b, rng, k=k)
        out.append(ntk(net, X))
    return np.array(out)


@dataclass(frozen=True)
class WidthFit:
    """Per-entry WLS fit mean_n = intercept + slope / n; se = SE of the intercept; chi2 = weighted residual sum."""

    intercept: np.ndarray
    se: np.ndarray
    slope: np.ndarray
    chi2: np.ndarray
    dof: int


def width_regression(widths, samples: list) -> WidthFit:
    """Regress per-width sample means on 1/width, entrywise.

    ``samples[i]``: array (S_i, ...) of independent draws at ``widths[i]``.  Weights 1/SE_i^2 with SE_i = sd/sqrt(S_i);
    with two widths the fit is exact (dof 0); with one width the intercept is the mean (slope 0).
    """
    widths = np.asarray(widths, float)
    means = np.array([np.mean(s, axis=0) for s in samples])
    ses = np.array([np.std(s, axis=0, ddof=1) / math.sqrt(len(s)) for s in samples])
    if len(widths) == 1:
        return WidthFit(means[0], ses[0], np.zeros_like(means[0]), np.zeros_like(means[0]), 0)
    x = 1.0 / widths
    shp = means.shape[1:]
    m2, s2 = means.reshape(len(widths), -1), np.maximum(ses.reshape(len(widths), -1), 1e-300)
    icpt, se, slope, chi2 = (np.empty(m2.shape[1]) for _ in range(4))
    Xd = np.stack([np.ones_like(x), x], axis=1)
    for e in range(m2.shape[1]):
        w = 1.0 / s2[:, e] ** 2
        A = Xd.T @ (w[:, None] * Xd)
        cov = np.linalg.inv(A)
        beta = cov @ (Xd.T @ (w * m2[:, e]))
        icpt[e], slope[e] = beta
        se[e] = math.sqrt(cov[0, 0])
        chi2[e] = float(np.sum(w * (m2[:, e] - Xd @ beta) ** 2))
    return WidthFit(icpt.reshape(shp), se.reshape(shp), slope.reshape(shp), chi2.reshape(shp), len(widths) - 2)


@dataclass(frozen=True)
class FWComparison:
    """|intercept - prediction| <= z * se entrywise; ``z`` from the per-entry false-alarm probability ``alpha``."""

    passed: bool
    zscores: np.ndarray
    z: float
    fit: WidthFit


def fw_compare(fit: WidthFit, prediction: np.ndarray, alpha: float = 1e-4, entries=None) -> FWComparison:
    """Compare the width-extrapolated NTK with an infinite-width prediction (all entries, or the boolean mask ``entries``).

    The per-entry false-alarm probability is alpha / (number of entries tested) (Bonferroni), so the family-wise false
    alarm probability is <= alpha.  The O(1/n^2) remainder of the extrapolation is not budgeted: at n >= 128 and depth
    <= 5 it is below (3 L/n)^2 ~ 1e-2 of K, under the SE of the intercept at the sample sizes used (the caller must keep it so).
    """
    pred = np.asarray(prediction, float)
    mask = np.ones(pred.shape, bool) if entries is None else np.asarray(entries, bool)
    z = z_two_sided(alpha / max(int(mask.sum()), 1))
    zs = (fit.intercept - pred) / fit.se
    return FWComparison(bool(np.all(np.abs(zs[mask]) <= z)), zs, z, fit)
