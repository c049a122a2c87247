"""Infinite-width recursions (numeric/kernel_recursions.py, numeric/kernel_printed.py, deep engine in numeric/kernels.py).

Specification:
* FW: the DERIVED recursion equals the width-extrapolated (WLS in 1/n over n = 128, 256, 512) mean of the empirical NTK of
  independent finite networks, entry by entry within z(1e-4 / #entries) SE of the intercept (family-wise false alarm
  <= 1e-4 per test; the O(L^2/n^2) remainder is < 1e-3 relative here, well below the intercept SE of ~2-4 %).
* Printed FFNN (Lemma 2), CNN (Prop. 1), conv ResNet (Lemma 4) and dense ResNet Lemma 3 read with the branch Sigma
  coincide with the derived recursions exactly; Lemma 3 read with Sigma^l = E[y^l y^l] and the scaled-ResNet proof (L1292)
  do not (their deviation from the finite networks is asserted in test_printed_resnet_total_reading_is_rejected...).
* Deep engine: the correlation-map iteration equals the layer-by-layer quadrature recursion (1e-12) and 30-digit mpmath
  for ReLU (1e-10 relative at L = 2000); the ReLU ResNet deep iteration equals the N x N recursion; rate fits recover
  the parameters of synthetic sequences.
"""
import math

import numpy as np
import pytest

from numeric.empirical_ntk import empirical_ntks, fw_compare, width_regression
from numeric.kernel_printed import printed_recursion
from numeric.kernel_recursions import derived_recursion, unit_inputs
from numeric.kernels import (CorrelationMap, deep_ffnn_ntk, fit_rate, local_slopes, relu_eoc_ntk_reference,
                             relu_resnet_deep)

WIDTHS, SEEDS = (128, 256, 512), (48, 24, 12)


def _fw(arch, act, X, L, sw, sb, k=1, base=0, widths=WIDTHS):
    samples = [empirical_ntks(arch, act, X, L, n, sw, sb, range(base + 1000 * i, base + 1000 * i + s), k=k)
               for i, (n, s) in enumerate(zip(widths, SEEDS))]
    return width_regression(widths, samples)


def _upper(n):
    return np.triu(np.ones((n, n), bool))


@pytest.mark.parametrize("arch,act,L,sw,sb", [("ffnn", "tanh", 4, 1.3, 0.2), ("resnet", "relu", 5, 1.0, 0.0),
                                              ("scaled-resnet", "relu", 8, 1.0, 0.0), ("resnet", "elu", 4, 1.0, 0.3)])
def test_derived_dense_recursion_matches_finite_networks(arch, act, L, sw, sb):
    X = unit_inputs(0.3)
    fit = _fw(arch, act, X, L, sw, sb)
    cmp = fw_compare(fit, derived_recursion(arch, act, X, L, sw, sb).K, entries=_upper(2))
    assert cmp.passed, cmp.zscores


def test_derived_cnn_recursion_matches_finite_networks():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1, 2, 4))
    fit = _fw("cnn", "relu", X, 3, math.sqrt(2), 0.1, widths=(64, 128, 256))
    pred = derived_recursion("cnn", "relu", X, 3, math.sqrt(2), 0.1).K
    cmp = fw_compare(fit, pred, entries=_upper(4))
    assert cmp.passed, cmp.zscores


def test_printed_resnet_total_reading_and_scaled_proof_are_rejected_by_finite_networks():
    """The same finite-network data that accept the derived recursion reject these printed readings by > 10 SE."""
    X = unit_inputs(0.3)
    for arch, L in (("resnet", 5), ("scaled-resnet", 8)):
        fit = _fw(arch, "relu", X, L, 1.0, 0.0, base=5)
        pr = printed_recursion(arch, "relu", X, L, 1.0, 0.0, reading="total").K
        assert np.all(np.abs(fit.intercept - pr) > 10 * fit.se), arch


def test_printed_equals_derived_where_the_paper_is_unambiguous():
    X = unit_inputs(np.array([[1, 0.3, -0.2], [0.3, 1, 0.6], [-0.2, 0.6, 1]]))
    Xc = np.random.default_rng(2).normal(size=(2, 2, 3))
    for act in ("relu", "tanh", "elu"):
        for arch, XX in (("ffnn", X), ("cnn", Xc), ("conv-resnet", Xc)):
            L = 5 if arch == "ffnn" else 3
            d = derived_recursion(arch, act, XX, L, 1.2, 0.3).K
            p = printed_recursion(arch, act, XX, L, 1.2, 0.3).K
            assert np.max(np.abs(d - p)) <= 1e-12 * np.max(np.abs(d))
        d = derived_recursion("resnet", act, X, 5, 1.2, 0.3).K
        assert np.max(np.abs(d - printed_recursion("resnet", act, X, 5, 1.2, 0.3, reading="branch").K)) <= 1e-12 * np.abs(d).max()
        assert np.max(np.abs(d - printed_recursion("resnet", act, X, 5, 1.2, 0.3, reading="total").K)) > 1e-3 * np.abs(d).max()


def test_correlation_map_iteration_equals_layerwise_quadrature():
    from numeric import eoc
    for act in ("tanh", "elu"):
        p = eoc.eoc_point(act, 0.2)
        cm = CorrelationMap(act, p.sigma_w, 0.2)
        assert cm.check() < 1e-14 and abs(cm.chi1 - 1) < 1e-12
        q, c1, L = p.q, 0.3, 40
        X = unit_inputs(c1) * math.sqrt((q - 0.04) / p.sigma_w**2)          # Sigma^1(x, x) = q
        rec = derived_recursion("ffnn", act, X, L, p.sigma_w, 0.2)
        c1_eff = rec.layers[0]["Q"][0, 1] / q if rec.layers else ((q - 0.04) * c1 + 0.04) / q
        deep = deep_ffnn_ntk(cm, c1_eff, L, record=[L])
        assert abs(deep.K_off[-1] - rec.K[0, 1]) <= 1e-12 * rec.K[0, 1]
        assert abs(deep.K_diag[-1] - rec.K[0, 0]) <= 1e-12 * rec.K[0, 0]


def test_relu_deep_iteration_against_mpmath():
    cm = CorrelationMap("relu", math.sqrt(2), 0.0)
    L = 2000
    c, th, g = relu_eoc_ntk_reference(0.3, L, dps=30)
    d = deep_ffnn_ntk(cm, 0.3, L)
    assert abs(d.K_off[-1] / th - 1) < 1e-10
    assert abs(d.gamma[-1] / g - 1) < 1e-10


@pytest.mark.parametrize("scaled", [False, True])
def test_relu_resnet_deep_equals_matrix_recursion(scaled):
    arch = "scaled-resnet" if scaled else "resnet"
    X = unit_inputs(0.3)                     # Q^1 = sigma_w^2 on the diagonal
    sw, L = 1.3, 25
    rec = derived_recursion(arch, "relu", X, L, sw, 0.0)
    q1 = sw**2
    deep = relu_resnet_deep(0.3, L, sw, scaled=scaled, q=(q1, q1))
    N = math.exp(deep.log_norm[-1])
    assert abs(deep.k_off[-1] * N / rec.K[0, 1] - 1) < 1e-12
    assert abs(deep.k_diag[-1] * N / rec.K[0, 0] - 1) < 1e-12
    assert abs(1 - deep.gamma[-1] - rec.Q[0, 1] / rec.Q[0, 0]) < 1e-13
    pr = printed_recursion(arch, "relu", X, L, sw, 0.0, reading="total").K
    dp = relu_resnet_deep(0.3, L, sw, scaled=scaled, q=(q1, q1), variant="printed-total")
    assert abs(dp.k_off[-1] * N / pr[0, 1] - 1) < 1e-12


def test_rate_fits_recover_synthetic_parameters():
    L = np.unique(np.geomspace(1e3, 1e6, 40).astype(int)).astype(float)
    dev = (0.7 * np.log(L) - 0.2) / L
    f = fit_rate(L, dev, "log_over_L")
    assert abs(f.params[0] - 0.7) < 1e-8 and abs(f.params[1] + 0.2) < 1e-7
    f = fit_rate(L, 3.0 * L**-1.5, "power")
    assert abs(f.params[1] - 1.5) < 1e-8 and f.ci[1][0] <= 1.5 <= f.ci[1][1]
    f = fit_rate(np.arange(1, 60.0), 2.0 * np.exp(-0.3 * np.arange(1, 60.0)), "exp")
    assert abs(f.params[1] - 0.3) < 1e-8
    s = local_slopes(L, 3.0 * L**-1.5)
    assert np.allclose(s, -1.5, atol=1e-12)
