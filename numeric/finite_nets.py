"""Finite networks of P3 in the NTK parameterisation (eq. (10)-(13), L139-154, L259, L274), NumPy only.

Dense (``arch`` in ffnn, resnet, scaled-resnet), hidden width n, depth L, input dimension d:
    y^1 = (s_w/sqrt(d)) W^1 x + s_b b^1
    ffnn:    y^l = (s_w/sqrt(n)) W^l phi(y^{l-1}) + s_b b^l                              l = 2..L
    resnet:  y^l = y^{l-1} + s_l [(s_w/sqrt(n)) W^l phi(y^{l-1}) + s_b b^l],  s_l = 1 (resnet), 1/sqrt(l) (scaled-resnet)
Convolutional (cnn, conv-resnet, scaled-conv-resnet), n channels, M positions (periodic), filter 2k+1, n_0 input channels:
    y^l_{i,a} = (s_w/sqrt(n_{l-1}(2k+1))) sum_{j, |b|<=k} W^l_{i,j,b} phi(y^{l-1}_{j,a+b}) + s_b b^l_i   (x instead of phi(y^0))
    and the residual versions as above with this layer as the branch.
All weights and biases iid N(0, 1).  The network output is f(x) = y^L_1(x) (dense) or f_a(x) = y^L_{1,a}(x) (conv), as in
P3's kernel results (one output unit, s = identity).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numeric.gaussian_maps import get_activation
from numeric.kernel_recursions import ARCHS, CONV_ARCHS, branch_scale


@dataclass
class Network:
    """Parameters of one network: W[l], b[l] for l = 0..L-1 (layer l+1 of the paper)."""

    arch: str
    activation: str
    sigma_w: float
    sigma_b: float
    W: list
    b: list
    k: int = 1

    @property
    def depth(self) -> int:
        return len(self.W)

    @property
    def conv(self) -> bool:
        return self.arch in CONV_ARCHS

    def scale(self, l: int) -> float:
        """s_l for layer l (1-based); the first layer has no skip and s_1 = 1."""
        if l == 1 or "resnet" not in self.arch:
            return 1.0
        return branch_scale(self.arch, l)

    def fan_in(self, l: int) -> int:
        W = self.W[l - 1]
        return W.shape[1] * (W.shape[2] if self.conv else 1)


def sample_network(arch: str, act, d: int, width: int, depth: int, sigma_w: float, sigma_b: float,
                   rng: np.random.Generator, k: int = 1) -> Network:
    """Draw a network (``d`` = input dimension, or input channels n_0 for conv archs)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}")
    act = get_activation(act)
    conv = arch in CONV_ARCHS
    W, b = [], []
    for l in range(1, depth + 1):
        fan = d if l == 1 else width
        shape = (width, fan, 2 * k + 1) if conv else (width, fan)
        W.append(rng.standard_normal(shape))
        b.append(rng.standard_normal(width))
    return Network(arch, act.name, float(sigma_w), float(sigma_b), W, b, k)


def _unfold(A: np.ndarray, k: int) -> np.ndarray:
    """U[..., j, a, b] = A[..., j, (a + b) mod M] for b = -k..k (index b + k)."""
    return np.stack([np.roll(A, -b, axis=-1) for b in range(-k, k + 1)], axis=-1)


def layer_map(net: Network, l: int, A: np.ndarray) -> np.ndarray:
    """The (non-residual) layer l applied to A = x (l = 1) or phi(y^{l-1}): (N, fan) -> (N, n) or (N, C, M) -> (N, n, M)."""
    W, b = net.W[l - 1], net.b[l - 1]
    c = net.sigma_w / math.sqrt(net.fan_in(l))
    if net.conv:
        return c * np.einsum("ijb,Njab->Nia", W, _unfold(A, net.k), optimize=True) + net.sigma_b * b[None, :, None]
    return c * A @ W.T + net.sigma_b * b


def forward(net: Network, X: np.ndarray) -> list:
    """[y^1, ..., y^L] for inputs X (N, d) or (N, n_0, M)."""
    act = get_activation(net.activation)
    ys = [layer_map(net, 1, np.asarray(X, float))]
    res = "resnet" in net.arch
    for l in range(2, net.depth + 1):
        F = layer_map(net, l, act.f(ys[-1]))
        ys.append(ys[-1] + net.scale(l) * F if res else F)
    return ys


def output(net: Network, X: np.ndarray) -> np.ndarray:
    """f(x) = y^L_1(x): shape (N,) for dense archs, (N, M) (one value per position) for conv archs."""
    return forward(net, X)[-1][:, 0]
