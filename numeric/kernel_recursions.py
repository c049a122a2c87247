"""Infinite-width NNGP and NTK recursions of P3's networks, DERIVED from the finite networks of ``numeric.finite_nets``.

Models (NTK parameterisation, P3 eq. (10)-(13); weights and biases iid N(0, 1)); output = one unit of the last layer:
  ffnn            y^1 = (s_w/sqrt(d)) W^1 x + s_b b^1;   y^l = (s_w/sqrt(n)) W^l phi(y^{l-1}) + s_b b^l
  cnn             y^l_{i,a} = (s_w/sqrt(n (2k+1))) sum_{j, |b|<=k} W^l_{i,j,b} phi(y^{l-1}_{j,a+b}) + s_b b^l_i  (periodic a)
  resnet          y^l = y^{l-1} + s_l F^l(y^{l-1}), F^l = dense (or conv) layer above, s_l = 1          (eq. (12))
  scaled-resnet   the same with s_l = 1/sqrt(l)                                                           (eq. (13))
  conv-resnet, scaled-conv-resnet: F^l the convolutional layer.

Derivation (conditional on layer l-1, the pre-activations of layer l are Gaussian with covariance given by the Gram of
phi(y^{l-1}); the law of large numbers over the n -> infinity units; the gradient-independence of P3 L496 is exact for
these sequential limits [Yang 2020]).  With E_phi[S], E_dphi[S] the Gaussian maps of ``numeric.gaussian_maps``:

  FFNN:   Q^1 = s_w^2 x.x'/d + s_b^2 = K^1;   Q^l = s_b^2 + s_w^2 E_phi[Q^{l-1}],   Qd^l = s_w^2 E_dphi[Q^{l-1}],
          K^l = Q^l + Qd^l * K^{l-1}                                   (entrywise; the chain rule through phi')
  CNN:    entries indexed by (input, position); A = average over the diagonal shifts (a+b, a'+b), |b| <= k:
          Q^1 = s_w^2/(n_0(2k+1)) sum_{j,b} x_{j,a+b} x'_{j,a'+b} + s_b^2,  S^l = s_b^2 + s_w^2 E_phi[Q^{l-1}],
          Sd^l = s_w^2 E_dphi[Q^{l-1}],  Q^l = A S^l,  K^l = A(S^l + Sd^l * K^{l-1})
          (weights shared over positions: E[W_{ijb} W_{ij'b'}] = delta_{jj'} delta_{bb'} pairs position a+b with a'+b only)
  ResNet: B^l = s_b^2 + s_w^2 E_phi[Q^{l-1}] (covariance of the branch F^l), Bd^l = s_w^2 E_dphi[Q^{l-1}],
          Q^l = Q^{l-1} + s_l^2 B^l       (cross terms vanish: W^l, b^l are centred and independent of y^{l-1}),
          K^l = K^{l-1} (1 + s_l^2 Bd^l) + s_l^2 B^l
          (d y^l/d theta_{<l} = d y^{l-1} + s_l (s_w/sqrt n) W^l (phi' * d y^{l-1}); the cross terms are O(n^{-1/2}));
          convolutional: B^l, Bd^l before averaging, Q^l = Q^{l-1} + s_l^2 A B^l, K^l = K^{l-1} + s_l^2 A(Bd^l * K^{l-1} + B^l).

The printed recursions (P3 Lemma 2, Prop. 1, Lemma 3, Lemma 4, proof of Prop. 3) are in ``numeric.kernel_printed``.

Inputs: dense archs take X (N, d); convolutional archs take X (N, n_0, M).  Results are ``KernelRecursion`` objects
holding the last layer (and, with ``record=True``, every layer): matrices over inputs, or over (input, position) pairs
flattened as index i * M + a for convolutional archs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numeric.gaussian_maps import expect_matrix, get_activation

DENSE_ARCHS = ("ffnn", "resnet", "scaled-resnet")
CONV_ARCHS = ("cnn", "conv-resnet", "scaled-conv-resnet")
ARCHS = DENSE_ARCHS + CONV_ARCHS


@dataclass
class KernelRecursion:
    """Layer-L kernels of an architecture: Q = NNGP (covariance of y^L), K = NTK; for ResNets also B, Bd of layer L.

    ``layers``: with record=True, a list of dicts {"Q", "K", "B", "Bd"} for l = 1..L (index l-1).
    ``positions``: M for convolutional archs (matrices are (N M) x (N M)), None for dense ones.
    """

    arch: str
    activation: str
    sigma_w: float
    sigma_b: float
    depth: int
    Q: np.ndarray
    K: np.ndarray
    B: np.ndarray | None = None
    Bd: np.ndarray | None = None
    positions: int | None = None
    layers: list = field(default_factory=list)

    def kernel(self, kind: str = "ntk") -> np.ndarray:
        if kind == "ntk":
            return self.K
        if kind == "nngp":
            return self.Q
        raise ValueError(f"kind must be 'ntk' or 'nngp', got {kind!r}")


def _check_params(arch, depth, sigma_w, sigma_b):
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    for name, v in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if not (math.isfinite(float(v)) and float(v) >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")


def branch_scale(arch: str, l: int) -> float:
    """s_l of the residual branch at layer l >= 2: 1 (resnet), 1/sqrt(l) (scaled-resnet, eq. (13))."""
    return 1.0 / math.sqrt(l) if arch.startswith("scaled") else 1.0


def first_layer_dense(X: np.ndarray, sigma_w: float, sigma_b: float) -> np.ndarray:
    """Q^1 = K^1 = sigma_w^2 X X^T / d + sigma_b^2 (P3 L681; Lemma 3 first bullet)."""
    X = np.asarray(X, float)
    return sigma_w**2 * (X @ X.T) / X.shape[1] + sigma_b**2


def first_layer_conv(X: np.ndarray, sigma_w: float, sigma_b: float, k: int) -> np.ndarray:
    """Q^1_{(i,a),(i',a')} = sigma_w^2/(n_0 (2k+1)) sum_{j,|b|<=k} x_{i,j,a+b} x_{i',j,a'+b} + sigma_b^2 (periodic)."""
    X = np.asarray(X, float)
    N, n0, M = X.shape
    G = np.einsum("ija,kjb->iakb", X, X)                           # (N, M, N, M) channel inner products
    out = np.zeros_like(G)
    for b in range(-k, k + 1):
        out += np.roll(np.roll(G, -b, axis=1), -b, axis=3)
    return (sigma_w**2 / (n0 * (2 * k + 1)) * out + sigma_b**2).reshape(N * M, N * M)


def shift_average(S: np.ndarray, N: int, M: int, k: int) -> np.ndarray:
    """(A S)_{(i,a),(i',a')} = (2k+1)^{-1} sum_{|b|<=k} S_{(i,a+b),(i',a'+b)} with periodic positions."""
    T = S.reshape(N, M, N, M)
    out = np.zeros_like(T)
    for b in range(-k, k + 1):
        out += np.roll(np.roll(T, -b, axis=1), -b, axis=3)
    return (out / (2 * k + 1)).reshape(N * M, N * M)


def derived_recursion(arch: str, act, X: np.ndarray, depth: int, sigma_w: float, sigma_b: float, k: int = 1,
                      record: bool = False) -> KernelRecursion:
    """NNGP and NTK after ``depth`` layers by the derived recursion (module docstring), vectorised over all entries.

    ``X``: (N, d) for dense archs, (N, n_0, M) for convolutional ones (k = half filter width, periodic boundaries).
    """
    _check_params(arch, depth, sigma_w, sigma_b)
    act = get_activation(act)
    sw2, sb2 = float(sigma_w) ** 2, float(sigma_b) ** 2
    conv = arch in CONV_ARCHS
    X = np.asarray(X, float)
    if conv:
        if X.ndim != 3:
            raise ValueError("convolutional architectures take inputs of shape (N, n_0, M)")
        N, _, M = X.shape
        Q = first_layer_conv(X, sigma_w, sigma_b, k)
        avg = lambda S: shift_average(S, N, M, k)
    else:
        if X.ndim != 2:
            raise ValueError("dense architectures take inputs of shape (N, d)")
        M = None
        Q = first_layer_dense(X, sigma_w, sigma_b)
        avg = lambda S: S
    K = Q.copy()
    B = Bd = None
    layers = [dict(Q=Q.copy(), K=K.copy(), B=None, Bd=None)] if record else []
    residual = "resnet" in arch
    for l in range(2, depth + 1):
        S = sb2 + sw2 * expect_matrix(act, Q, "phi")
        Sd = sw2 * expect_matrix(act, Q, "dphi")
        if residual:
            s2 = branch_scale(arch, l) ** 2
            B, Bd = S, Sd
            K = K + s2 * avg(Sd * K + S)
            Q = Q + s2 * avg(S)
        else:
            K = avg(S + Sd * K)
            Q = avg(S)
        if record:
            layers.append(dict(Q=Q.copy(), K=K.copy(), B=None if B is None else B.copy(), Bd=None if Bd is None else Bd.copy()))
    return KernelRecursion(arch, act.name, float(sigma_w), float(sigma_b), depth, Q, K, B, Bd, M, layers)


def kernel(arch: str, act, X: np.ndarray, depth: int, sigma_w: float, sigma_b: float, kind: str = "ntk",
           k: int = 1) -> np.ndarray:
    """The NTK (kind='ntk') or NNGP (kind='nngp') matrix of the inputs under the derived recursion."""
    return derived_recursion(arch, act, X, depth, sigma_w, sigma_b, k=k).kernel(kind)


def unit_inputs(cosines, d: int = 2) -> np.ndarray:
    """Inputs with ||x||^2 = d (so sigma_w^2 x.x/d = sigma_w^2) and prescribed cosines to the first one.

    ``cosines``: scalar C (two inputs, cosine C) or a PSD matrix of cosines (Cholesky rows, d = N).
    """
    C = np.asarray(cosines, float)
    if C.ndim == 0:
        c = float(C)
        if not -1 <= c <= 1:
            raise ValueError(f"a cosine must lie in [-1, 1], got {c}")
        d = max(d, 2)
        X = np.zeros((2, d))
        X[0, 0] = 1.0
        X[1, 0], X[1, 1] = c, math.sqrt(max(1 - c * c, 0.0))
        return X * math.sqrt(d)
    N = C.shape[0]
    w, V = np.linalg.eigh(C)
    if w.min() < -1e-12:
        raise ValueError("the cosine matrix is not PSD")
    F = V * np.sqrt(np.maximum(w, 0.0))
    return F * math.sqrt(N) / np.linalg.norm(F, axis=1, keepdims=True) * 1.0
