"""Specification of the convolutional ResNet engines (P0 Sec. 3.2, L309-421): derivations/conv.py, numeric/conv.py.

Properties (all exact: integer/rational arithmetic or float round-off, no Monte Carlo unless stated):
* patch extraction: the NumPy sliding-window implementation and the SymPy index-map implementation give the same
  affine map x_{*p} = S_p vec(x) + c o_p, for every size, odd K and padding (hypothesis); a hand-made image pins
  the orientation (row-wise positions, row-major (a, b, d) inside a patch);
* the conv step equals a naive loop transcription of (23);
* the conv laws' covariances come from their sampling definitions: the tensor-Gaussian law (Assumption 9) has
  Sigma^W = Sigma^{W_O} (x) (sU^T sU (x) sV^T sV (x) sI^T sI) -- NOT the printed sU sU^T -- symbolically and
  numerically, and its literal sampler agrees with its factor (Monte Carlo, z = 5);
* genericity: the stacked one-step limit over all patches is assembled from pair blocks, i.e. the generic engine
  needs nothing conv-specific; PatchLaw.preact_cov equals the base GaussianLaw.preact_cov.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from derivations import conv as dconv
from derivations import diffusion
from derivations.laws import GaussianLaw, general
from numeric import conv as nconv
from numeric.activations import get_activation
from verify.claims.p0_common import ASSUMPTION_5


# ------------------------------------------------------------------------------------------------- patches
@settings(derandomize=True, deadline=None, max_examples=15)
@given(U=st.integers(1, 5), V=st.integers(1, 5), K=st.sampled_from([1, 3, 5]), D=st.integers(1, 2),
       padding=st.sampled_from(["zero", "constant", "copy"]))
def test_numeric_and_symbolic_patch_maps_agree(U, V, K, D, padding):
    S_num, o_num = nconv.patch_matrix(U, V, K, D, padding)
    ops = dconv.patch_operators(U, V, K, D, padding)
    S_sym = np.array([np.array(S.tolist(), dtype=float) for S, _ in ops])
    o_sym = np.array([np.array(o.tolist(), dtype=float).ravel() for _, o in ops])
    assert S_num.shape == (U * V, K * K * D, U * V * D)
    np.testing.assert_array_equal(S_num, S_sym)
    np.testing.assert_array_equal(o_num, o_sym)
    x = np.random.default_rng(U * 100 + V * 10 + K).normal(size=(2, U, V, D))
    np.testing.assert_array_equal(nconv.fast_patches(x, K, padding, 0.3), nconv.extract_patches(x, K, padding, 0.3))
    # every row selects at most one pixel (exactly one for "copy"), and padded rows select none
    np.testing.assert_array_equal(S_num.sum(axis=-1) + o_num, np.ones_like(o_num))


def test_patch_orientation_on_a_labelled_image():
    """x[u, v, d] = 100 (u+1) + 10 (v+1) + (d+1); patch at p = (0, 1) (row-wise index 1) of a 3 x 4 image."""
    U, V, K, D = 3, 4, 3, 2
    u, v, d = np.meshgrid(np.arange(U), np.arange(V), np.arange(D), indexing="ij")
    x = 100.0 * (u + 1) + 10.0 * (v + 1) + (d + 1)
    p = nconv.extract_patches(x, K, "zero").reshape(U * V, K, K, D)[1]
    assert np.all(p[0] == 0)                                  # row u - 1 = -1 is padding
    np.testing.assert_array_equal(p[1, :, 0], [111, 121, 131])  # row u = 0, columns v = 0, 1, 2, channel 1
    np.testing.assert_array_equal(p[2, :, 1], [212, 222, 232])  # row u = 1, channel 2
    pc = nconv.extract_patches(x, K, "copy").reshape(U * V, K, K, D)[0]  # corner (0, 0), border copied
    np.testing.assert_array_equal(pc[:, :, 0], [[111, 111, 121], [111, 111, 121], [211, 211, 221]])
    pk = nconv.extract_patches(x, K, "constant", pad_value=-7.0).reshape(U * V, K, K, D)[0]
    assert pk[0, 0, 0] == -7.0 and pk[1, 1, 0] == 111


def test_psi_patches_apply_psi_to_the_padding_value():
    pp = dconv.psi_patches(2, 2, 3, 1, "zero")
    pad = sp.Symbol("psi_pad", real=True)
    assert pp[0][0] == pad and pp[0][4] == sp.Symbol("psi_11" + "1", real=True)
    assert all(e != pad for e in dconv.psi_patches(2, 2, 3, 1, "copy")[0])


def test_even_K_is_rejected():
    with pytest.raises(ValueError):
        nconv.extract_patches(np.zeros((3, 3, 1)), 2)
    with pytest.raises(ValueError):
        dconv.patch_sources(3, 3, 2, 1)


# ------------------------------------------------------------------------------------------------ conv step
def _naive_step(x, dW, db, phi, psi, K):
    """Loop transcription of (23), zero padding: h_{p,o} = sum_{a,b,i} dW[o, (a K + b) D + i] psi(x[u-E+a, v-E+b, i])."""
    U, V, D = x.shape
    E = (K - 1) // 2
    out = x.copy()
    for u in range(U):
        for v in range(V):
            h = db.copy()
            for a in range(K):
                for b in range(K):
                    uu, vv = u - E + a, v - E + b
                    for i in range(D):
                        val = psi(x[uu, vv, i]) if (0 <= uu < U and 0 <= vv < V) else psi(0.0)
                        h += dW[:, (a * K + b) * D + i] * val
            out[u, v] += phi(h)
    return out


def test_conv_step_matches_a_loop_transcription_of_eq_23():
    rng = np.random.default_rng(5)
    U, V, D, K = 4, 3, 2, 3
    phi, psi = get_activation("swish"), get_activation("sigmoid0")
    x = rng.normal(size=(U, V, D))
    dW, db = rng.normal(size=(D, K * K * D)), rng.normal(size=D)
    fast = nconv.conv_step(x[None], dW[None], db[None], phi, psi, K)[0]
    slow = _naive_step(x, dW, db, phi.f, psi.f, K)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_simulator_flags_divergence_and_keeps_it_out():
    law = nconv.ConvLaw.iid(1, 3, 50.0, 0.0)
    res = nconv.simulate_conv(np.ones((3, 3, 1)), law, L=40, T=1.0, phi=get_activation("linear:3"),
                              psi=get_activation("identity"), K=3, B=8, rng=np.random.default_rng(0), blowup=1e6)
    assert res.n_diverged > 0
    assert np.all(np.isnan(res.x[res.diverged]))
    assert np.all(np.isfinite(res.x[~res.diverged]))


# ----------------------------------------------------------------------------------------------------- laws
def _num(M, vals):
    return np.array(M.xreplace(vals).tolist(), dtype=float)


def test_tensor_law_covariance_from_the_sampling_definition():
    """Symbolic (K=2, D=2) Jacobian covariance == numeric basis-matrix covariance == Sigma^O (x) R^T R, != printed."""
    law = dconv.tensor_gaussian(2, 2, with_means=False)
    p = law.params
    rng = np.random.default_rng(11)
    num = {k: rng.normal(size=(2, 2)) for k in ("sigma_O", "sigma_U", "sigma_V", "sigma_I", "sigma_b")}
    vals = {}
    for k, M in num.items():
        vals.update({p[k][i, j]: M[i, j] for i in range(2) for j in range(2)})
    C_sym = _num(law.cov_W, vals)
    nl = nconv.ConvLaw.tensor_gaussian(np.zeros((2, 8)), num["sigma_O"], num["sigma_U"], num["sigma_V"], num["sigma_I"],
                                       np.zeros(2), num["sigma_b"])
    np.testing.assert_allclose(nl.cov_W(), C_sym, atol=1e-12)
    sO, sU, sV, sI = (num[k] for k in ("sigma_O", "sigma_U", "sigma_V", "sigma_I"))
    derived = np.kron(sO @ sO.T, np.kron(sU.T @ sU, np.kron(sV.T @ sV, sI.T @ sI)))
    printed = np.kron(sO @ sO.T, np.kron(sU @ sU.T, np.kron(sV @ sV.T, sI.T @ sI)))
    np.testing.assert_allclose(C_sym, derived, atol=1e-12)
    assert np.abs(C_sym - printed).max() > 0.5  # the printed Sigma^{W_U}, Sigma^{W_V} are the wrong Gram matrices
    # with symmetric factors the two coincide (the condition under which the printed form holds)
    sUs, sVs = sU + sU.T, sV + sV.T
    np.testing.assert_allclose(np.kron(sUs.T @ sUs, sVs.T @ sVs), np.kron(sUs @ sUs.T, sVs @ sVs.T), atol=1e-12)


def test_literal_tensor_sampler_agrees_with_its_factor():
    """Monte Carlo (n = 40000, seed 3): sample covariances of eps = sO zeta R vs factor covariance, |z| < 5 each."""
    rng = np.random.default_rng(3)
    D, K = 2, 3
    nl = nconv.ConvLaw.tensor_gaussian(np.zeros((D, K * K * D)), rng.normal(size=(D, D)), rng.normal(size=(K, K)),
                                       rng.normal(size=(K, K)), rng.normal(size=(D, D)), np.zeros(D), np.eye(D))
    e = nl.sample_eps(np.random.default_rng(4), 40_000).reshape(40_000, -1)
    C = nl.cov_W()
    for i, j in [(0, 0), (0, 1), (5, 17), (20, 33), (35, 35)]:
        prod = (e[:, i] - e[:, i].mean()) * (e[:, j] - e[:, j].mean())
        z = (prod.mean() - C[i, j]) / (prod.std() / np.sqrt(prod.size))
        assert abs(z) < 5, (i, j, z)


def test_iid_conv_law_from_its_sampling_definition():
    sw, sb = sp.symbols("sigma_w sigma_b", positive=True)
    law = dconv.conv_iid(2, 3, sw, sb)
    assert law.fan_in == 18 and law.params["n_brownian_W"] == 2 * 3 * 3 * 2
    assert sp.simplify(law.cov_W - sw**2 / 2 * sp.eye(36)) == sp.zeros(36, 36)
    assert law.cov_b == sb**2 * sp.eye(2)


def test_patch_law_covariance_equals_the_base_kronecker_formula():
    base = general(2, fan_in=4)
    fast = dconv.as_patch_law(base)
    a = sp.Matrix(sp.symbols("a0:4", real=True))
    b = sp.Matrix([sp.Symbol("b0", real=True), 0, sp.Symbol("b2", real=True), sp.Symbol("b3", real=True)])
    diff = (GaussianLaw.preact_cov(base, a, b) - fast.preact_cov(a, b)).applyfunc(sp.expand)
    assert diff == sp.zeros(2, 2)


# ------------------------------------------------------------------------------------------- genericity
def test_full_stack_is_assembled_from_pair_blocks():
    """one_step_limit over all P patches == pair limits (psi_p, psi_q) block by block (i.i.d. law, U=3, V=2, K=3)."""
    sw, sb = sp.symbols("sigma_w sigma_b", positive=True)
    law = dconv.conv_iid(2, 3, sw, sb)
    psis = dconv.psi_patches(3, 2, 3, 2, "zero")
    full = diffusion.one_step_limit(law, psis, ASSUMPTION_5)
    for p, q in [(0, 0), (0, 1), (2, 5), (4, 3)]:
        pair = diffusion.one_step_limit(law, [psis[p], psis[q]], ASSUMPTION_5)
        blk = full.diffusion[2 * p:2 * p + 2, 2 * q:2 * q + 2] - pair.diffusion[:2, 2:]
        assert blk.applyfunc(sp.expand) == sp.zeros(2, 2)
        assert (full.drift[2 * p:2 * p + 2, :] - pair.drift[:2, :]).applyfunc(sp.expand) == sp.zeros(2, 1)


# ------------------------------------------------------------------------------------------- quadrature
@settings(derandomize=True, deadline=None, max_examples=8)
@given(seed=st.integers(0, 10_000))
def test_gaussian_map_moments_are_exact_for_polynomials(seed):
    """f(h) = h^2: E = m^2 + v, Cov(h_i^2, h_j^2) = 2 c^2 + 4 m_i m_j c, E h^8 closed form; GH is exact."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(4, 4))
    S, m = A @ A.T, rng.normal(size=4)
    out = nconv.gaussian_map_moments(lambda h: h * h, m, S)
    v = np.diag(S)
    np.testing.assert_allclose(out["mean"], m**2 + v, rtol=1e-12)
    np.testing.assert_allclose(out["cov"], 2 * S**2 + 4 * np.outer(m, m) * S, rtol=1e-10, atol=1e-10)
    e8 = m**8 + 28 * m**6 * v + 210 * m**4 * v**2 + 420 * m**2 * v**3 + 105 * v**4
    np.testing.assert_allclose(out["m4"], e8, rtol=1e-10)
