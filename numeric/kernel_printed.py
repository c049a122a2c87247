"""The NTK recursions AS PRINTED in P3 (transcribed, including their ambiguities), for comparison with the derived ones
of ``numeric.kernel_recursions`` (which the engine uses).

* FFNN, Lemma 2 (L158-162 = L498-502): K^L = Sd^L K^{L-1} + S^L, K^1 = S^1 = s_b^2 + s_w^2 x.x'/d (L681), with
  S^l = s_b^2 + s_w^2 E[phi phi] under S^{l-1} (L471) and Sd^l = s_w^2 E[phi' phi'] (L176).
* CNN, Proposition 1 (L164-176 = L610-618): K^l_{a,a'} = (2k+1)^{-1} sum_b [Sd^l K^{l-1} + S^l]_{a+b,a'+b}, with
  S^l_{a,a'} = s_b^2 + s_w^2 E[phi(y^{l-1}_{1,a}(x)) phi(y^{l-1}_{1,a'}(x'))], Sd^l likewise with phi'; the covariance of y^l
  is q^l_{a,a'} = (s_w^2/(2k+1)) sum_b E[phi phi]_{a+b,a'+b} + s_b^2 (L504-514).
* Dense ResNet, Lemma 3 (L237 = L956): K^l = K^{l-1}(Sd^l + 1) + S^l.  The lemma does not define S^l, Sd^l; B.1 (L465)
  defines S^l(x,x') = E[y^l(x) y^l(x')] (``reading="total"``: S^l = Q^l, the covariance of y^l), while Lemma 4 (L253) and
  the last proof display (L994-996) use the branch expression s_b^2 + s_w^2 E[phi(y^{l-1}) phi(y^{l-1})] (``reading=
  "branch"``; L996 writes the expectation of phi(y^{l+1}) for layer l+1, an index shift we read as y^l).  Sd^l = s_w^2
  E[phi'(y^{l-1}) phi'(y^{l-1})] in both readings.  The forward covariance is Q^l = Q^{l-1} + B^l (L1062 at s_b = 0).
* Convolutional ResNet, Lemma 4 (L253; appendix L1012): K^l = K^{l-1} + (2k+1)^{-1} sum_b [Sd^l K^{l-1} + S^l]_{a+b,a'+b}
  with the branch S^l, Sd^l defined in the lemma.
* Scaled ResNet, proof of Proposition 3 (L1290-1292): Sd^l(x,x) = s_w^2/(2l) f(1), S^l(x,x) = S^{l-1}(x,x) + s_w^2/(2l)
  S^{l-1}(x,x) (i.e. S^l = Q^l, the covariance of y^l), and K^l = K^{l-1}(1 + Sd^l) + S^l: the derivative term carries the
  1/l of the branch, the additive term is the total covariance Q^l (no 1/l).  Transcribed for all entries as
  K^l = K^{l-1}(1 + Bd^l / l) + Q^l, Q^l = Q^{l-1} + B^l / l.  (L1290 also writes Q^l(x,x) = prod_{k=1}^{l}(1 + s_w^2/(2k)) Q^1(x,x)
  with the product from k = 1 although the recursion starts at l = 2.)
"""
from __future__ import annotations

import numpy as np

from numeric.gaussian_maps import expect_matrix, get_activation
from numeric.kernel_recursions import (CONV_ARCHS, KernelRecursion, _check_params, first_layer_conv, first_layer_dense,
                                       shift_average)

READINGS = ("total", "branch")


def printed_recursion(arch: str, act, X: np.ndarray, depth: int, sigma_w: float, sigma_b: float, k: int = 1,
                      reading: str = "total", record: bool = False) -> KernelRecursion:
    """The printed recursion of ``arch`` (module docstring).  ``reading`` selects the meaning of S^l in Lemma 3 (dense
    ResNet) only: 'total' = E[y^l y^l] (B.1, L465), 'branch' = s_b^2 + s_w^2 E[phi(y^{l-1}) phi(y^{l-1})] (L253, L996)."""
    _check_params(arch, depth, sigma_w, sigma_b)
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    act = get_activation(act)
    sw2, sb2 = float(sigma_w) ** 2, float(sigma_b) ** 2
    X = np.asarray(X, float)
    conv = arch in CONV_ARCHS
    if conv:
        N, _, M = X.shape
        Q = first_layer_conv(X, sigma_w, sigma_b, k)
        avg = lambda S: shift_average(S, N, M, k)
    else:
        M = None
        Q = first_layer_dense(X, sigma_w, sigma_b)
        avg = lambda S: S
    K = Q.copy()
    B = Bd = None
    layers = [dict(Q=Q.copy(), K=K.copy(), B=None, Bd=None)] if record else []
    for l in range(2, depth + 1):
        Bl = sb2 + sw2 * expect_matrix(act, Q, "phi")            # branch expression under the covariance of y^{l-1}
        Bdl = sw2 * expect_matrix(act, Q, "dphi")
        if arch in ("ffnn", "cnn"):                             # Lemma 2 / Proposition 1
            K = avg(Bdl * K + Bl)
            Q = avg(Bl)
        elif arch == "resnet":                                  # Lemma 3
            Q = Q + Bl
            S = Q if reading == "total" else Bl
            K = K * (Bdl + 1.0) + S
        elif arch == "conv-resnet":                             # Lemma 4
            K = K + avg(Bdl * K + Bl)
            Q = Q + avg(Bl)
        elif arch == "scaled-resnet":                           # proof of Proposition 3, L1290-1292
            Q = Q + Bl / l
            K = K * (1.0 + Bdl / l) + Q
        elif arch == "scaled-conv-resnet":                      # "the proof for convolutional layers follows the same analysis"
            Q = Q + avg(Bl) / l
            K = K + avg(Bdl * K) / l + Q
        B, Bd = Bl, Bdl
        if record:
            layers.append(dict(Q=Q.copy(), K=K.copy(), B=B.copy(), Bd=Bd.copy()))
    return KernelRecursion(arch, act.name, float(sigma_w), float(sigma_b), depth, Q, K, B, Bd, M, layers)
