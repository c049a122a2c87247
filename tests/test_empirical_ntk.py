"""Empirical NTK of finite networks by explicit backpropagation (numeric/empirical_ntk.py, numeric/finite_nets.py).

Specification: for every architecture the backprop Jacobian equals central finite differences (relative 1e-7: the
FD truncation error h^2 f''' ~ 1e-12 and rounding eps/h ~ 1e-10 relative to O(1) entries) and the contracted NTK formula
equals J J^T to 1e-12; the width regression recovers a known intercept within its standard error on synthetic data
with a 1/n bias; the NTK is symmetric positive semi-definite.
"""
import numpy as np
import pytest

from numeric.empirical_ntk import fw_compare, jacobian, jacobian_fd, ntk, width_regression
from numeric.finite_nets import forward, output, sample_network

ARCH_ACT = [("ffnn", "tanh"), ("resnet", "elu"), ("scaled-resnet", "swish"), ("cnn", "relu"),
            ("conv-resnet", "tanh"), ("scaled-conv-resnet", "elu")]


@pytest.mark.parametrize("arch,act", ARCH_ACT)
def test_backprop_jacobian_matches_finite_differences_and_ntk_formula(arch, act):
    rng = np.random.default_rng(7)
    conv = "cnn" in arch or "conv" in arch
    net = sample_network(arch, act, 2 if conv else 3, 4, 3, 1.3, 0.4, rng, k=1)
    X = rng.normal(size=(2, 2, 5)) if conv else rng.normal(size=(3, 3))
    J = jacobian(net, X)
    Jfd = jacobian_fd(net, X)
    assert np.max(np.abs(J - Jfd)) <= 1e-7 * np.max(np.abs(J))
    K = ntk(net, X)
    assert np.max(np.abs(K - J @ J.T)) <= 1e-12 * np.max(np.abs(K))
    assert np.allclose(K, K.T, atol=0) and np.linalg.eigvalsh(K).min() > -1e-10 * np.abs(K).max()


def test_forward_shapes_and_resnet_skip():
    rng = np.random.default_rng(0)
    net = sample_network("resnet", "relu", 3, 6, 4, 1.0, 0.0, rng)
    X = rng.normal(size=(2, 3))
    ys = forward(net, X)
    assert len(ys) == 4 and ys[-1].shape == (2, 6)
    # with zero branch weights a ResNet is the identity after layer 1
    for l in range(1, 4):
        net.W[l][:] = 0.0
    assert np.allclose(forward(net, X)[-1], ys[0])
    assert output(net, X).shape == (2,)


def test_width_regression_recovers_intercept_within_its_se():
    rng = np.random.default_rng(3)
    widths = [128, 256, 512]
    true, bias = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[30.0, -10.0], [-10.0, 5.0]])
    samples = [true + bias / n + 0.05 * rng.standard_normal((40, 2, 2)) for n in widths]
    fit = width_regression(widths, samples)
    z = np.abs(fit.intercept - true) / fit.se
    assert np.all(z < 4.5)
    cmp = fw_compare(fit, true)
    assert cmp.passed
    assert not fw_compare(fit, true + 10 * fit.se.max()).passed
