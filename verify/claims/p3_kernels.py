"""Audits of P3 (Hayou, Doucet, Rousseau) Sect. 4.1 kernel claims: Lemma 2 (FFNN NTK recursion, P3-9), Proposition 1
(CNN NTK recursion, P3-10), the EOC points of Sect. 6 (P3-11) and the ReLU arc-cosine map with its expansion at 1 (P3-13).

Engines used (not re-implemented here): ``numeric.kernel_recursions.derived_recursion`` (the recursion derived from the
model's backward pass), ``numeric.kernel_printed.printed_recursion`` (the recursion as printed), ``numeric.empirical_ntk``
(finite-width NTKs by explicit backpropagation, 1/width regression), ``numeric.eoc`` (variance fixed point, chi_1, EOC
root-find), ``derivations.gaussian_maps`` (SymPy polar-coordinate derivation of the ReLU maps).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from derivations.compare import compare
from derivations.gaussian_maps import c as C_SYM
from derivations.gaussian_maps import relu_eoc_map
from numeric.empirical_ntk import empirical_ntks, width_regression
from numeric.eoc import chi1, eoc_point, fixed_point_q, phase
from numeric.gaussian_maps import expect_matrix, expect_quadrature
from numeric.kernel_printed import printed_recursion
from numeric.kernel_recursions import derived_recursion, first_layer_conv, shift_average, unit_inputs
from numeric.stats import z_two_sided
from verify.registry import audits
from verify.results import Check, Finding

SQRT2 = math.sqrt(2.0)


def _rel_diff(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.max(np.abs(A - B)) / max(np.max(np.abs(B)), 1e-300))


def _printed_vs_derived(ctx, arch: str, configs, X, depth: int, k: int = 1) -> list[Check]:
    """Exact check: the printed recursion (transcribed) and the derived one give the same NTK and NNGP matrices."""
    out = []
    for act, sw, sb, label in configs:
        d = derived_recursion(arch, act, X, depth, sw, sb, k=k)
        p = printed_recursion(arch, act, X, depth, sw, sb, k=k)
        err = max(_rel_diff(p.K, d.K), _rel_diff(p.Q, d.Q))
        out.append(ctx.exact_check(f"printed-vs-derived-{arch}-{label}", f"max rel |K_printed - K_derived| at L={depth}",
                                   err, 0.0, target="both", tol=1e-12, kind="exact",
                                   note="same Gaussian maps in both; only the recursion structure differs (rounding only)"))
    return out


def _fw_family_check(ctx, name: str, arch: str, act, X, depth: int, sw: float, sb: float, widths, seeds_per_width,
                     k: int = 1, statistic: str = "") -> tuple[Check, dict]:
    """Finite-width empirical NTKs at several widths, per-entry WLS regression on 1/width, intercept vs the recursion.

    Family of all distinct entries (upper triangle incl. diagonal) tested with Bonferroni: per-entry alpha =
    ctx.alpha / #entries, so the family-wise false-alarm probability is <= ctx.alpha.  Bias budget: after the linear
    extrapolation in 1/n the remainder is O((L/n)^2); with the B.0 bound |bias| <= 3 L/n |K| at first order, we budget
    (3 L / n_min)^2 |K_inf| per entry (added to the tolerance)."""
    rng = ctx.rng(name)
    samples = []
    for n, S in zip(widths, seeds_per_width):
        seeds = rng.integers(0, 2**31 - 1, size=S)
        samples.append(empirical_ntks(arch, act, X, depth, n, sw, sb, [int(s) for s in seeds], k=k))
    fit = width_regression(widths, samples)
    pred = derived_recursion(arch, act, X, depth, sw, sb, k=k).K
    iu = np.triu_indices(pred.shape[0])
    bias = (3.0 * depth / min(widths)) ** 2 * np.abs(pred[iu])
    dev = np.abs(fit.intercept[iu] - pred[iu])
    zfam = z_two_sided(ctx.alpha / len(iu[0]))
    zs = np.maximum(dev - bias, 0.0) / fit.se[iu]
    worst = int(np.argmax(zs))
    ok = bool(np.all(zs <= zfam))
    ctx.stochastic_checks.append(name)
    rel = float(np.mean(dev / np.maximum(np.abs(pred[iu]), 1e-12)))
    chk = Check(name=name, kind="monte-carlo", target="both",
                statistic=statistic or f"max_z over {len(iu[0])} NTK entries, width-extrapolated, {arch} L={depth}",
                estimate=float(fit.intercept[iu][worst]), prediction=float(pred[iu][worst]),
                tolerance=float(zfam * fit.se[iu][worst] + bias[worst]), passed=ok, se=float(fit.se[iu][worst]),
                alpha=ctx.alpha, bias=float(bias[worst]), margin=float(zs[worst]),
                n=int(sum(seeds_per_width)),
                note=(f"widths {list(widths)}, draws {list(seeds_per_width)}; Bonferroni over {len(iu[0])} entries "
                      f"(family alpha {ctx.alpha:g}, z={zfam:.2f}); max z (after bias) {zs[worst]:.2f}; "
                      f"mean rel. error of intercepts {rel:.3g}; bias budget (3L/n_min)^2|K| = 2nd-order remainder "
                      f"of the 1/n expansion (B.0: first-order bias <= 3L/n)"))
    return chk, dict(max_z=float(zs[worst]), mean_rel=rel, zfam=zfam, fit=fit, pred=pred)


def _cnn_without_averaging(X, depth: int, sw: float, sb: float, k: int) -> np.ndarray:
    """Alternative (wrong) CNN NTK: K^l = Sd^l * K^{l-1} + S^l entrywise (no position average), Q^l averaged."""
    N, _, M = X.shape
    Q = first_layer_conv(X, sw, sb, k)
    K = Q.copy()
    for _ in range(2, depth + 1):
        S = sb**2 + sw**2 * expect_matrix("relu", Q, "phi")
        Sd = sw**2 * expect_matrix("relu", Q, "dphi")
        K = Sd * K + S
        Q = shift_average(S, N, M, k)
    return K


# ----------------------------------------------------------------------------------------------------------------------
@audits("P3-9")
def audit_p3_9(ctx) -> Finding:
    """P3, Lemma 2, L158-162 = L498-502: K^L = Sd^L K^{L-1} + S^L, K^1 = S^1 = s_b^2 + s_w^2 x.x'/d (FFNN, NTK param.)."""
    Ccos = np.array([[1.0, 0.3, 0.9], [0.3, 1.0, 0.5], [0.9, 0.5, 1.0]])
    X = unit_inputs(Ccos)                                      # sigma_w^2 x.x'/d = sigma_w^2 * cosines
    tanh_eoc = eoc_point("tanh", 0.2)
    configs = [("relu", SQRT2, 0.0, "relu-eoc"), ("tanh", tanh_eoc.sigma_w, 0.2, "tanh-eoc"),
               ("tanh", 2.5, 0.3, "tanh-chaotic"), ("elu", 1.0, 0.5, "elu-ordered")]
    checks = _printed_vs_derived(ctx, "ffnn", configs, X, depth=ctx.size(6, 12))
    checks += _printed_vs_derived(ctx, "ffnn", [("swish", 1.7, 0.1, "swish")], X, depth=ctx.size(2, 3))  # quadrature: slow
    widths = (128, 256)
    S = ctx.size((40, 20), (240, 120), (600, 300))
    c1, info1 = _fw_family_check(ctx, "fw-ffnn-relu-eoc-L4", "ffnn", "relu", X, 4, SQRT2, 0.0, widths, S)
    c2, info2 = _fw_family_check(ctx, "fw-ffnn-tanh-chaotic-L3", "ffnn", "tanh", X, 3, 2.5, 0.3, widths, S)
    checks += [c1, c2]
    printed = (r"K^{L}(x,x') = \dot\Sigma^{L}(x,x')K^{L-1}(x,x') + \Sigma^{L}(x,x'),\ "
               r"K^1=\Sigma^1=\sigma_b^2+\sigma_w^2 x^\top x'/d")
    derived = (r"K^l = \dot\Sigma^l\odot K^{l-1} + \Sigma^l,\ \Sigma^l=\sigma_b^2+\sigma_w^2\mathbb E_{\Sigma^{l-1}}[\phi\phi],"
               r"\ \dot\Sigma^l=\sigma_w^2\mathbb E_{\Sigma^{l-1}}[\phi'\phi']")
    return Finding(
        summary=(f"Lemma 2 holds: printed recursion == derived (rel. diff <= 1e-12 for 5 activation/phase settings); "
                 f"finite-width NTKs (n = 128, 256, 1/n-extrapolated) match it, max z {info1['max_z']:.2f} (ReLU EOC, L=4) "
                 f"and {info2['max_z']:.2f} (tanh chaotic, L=3) vs Bonferroni z {info1['zfam']:.2f}"),
        printed=printed, derived=derived, symbolic_equal=True, checks=checks,
        steps=["Backward pass of (18): g^{l-1} = (s_w/sqrt n) W^T g^l * phi'(y^{l-1}); the NTK is the sum over layers of "
               "(s_w^2/n)(g.g')(phi.phi') + s_b^2 (g.g') (numeric.empirical_ntk docstring).",
               "Infinite width (gradient independence, L496): (g^l.g'^l) -> prod of Sd, (phi.phi')/n -> E[phi phi]: "
               "K^l = Sd^l K^{l-1} + S^l (numeric.kernel_recursions.derived_recursion).",
               "Transcription of Lemma 2 with L471/L176/L681 (numeric.kernel_printed) agrees with it to rounding.",
               "FW: 3 unit-norm inputs with cosines 0.3, 0.9, 0.5 (d = 3); per-entry WLS intercept in 1/n vs recursion.",
               "Not tested: the delta_ii' factor (cross-output entries); the engine uses one output neuron."])


# ----------------------------------------------------------------------------------------------------------------------
@audits("P3-10")
def audit_p3_10(ctx) -> Finding:
    """P3, Prop. 1, L164-176 = L610-618: K^l_{a,a'} = (2k+1)^{-1} sum_b [Sd^l K^{l-1} + S^l]_{a+b,a'+b} (periodic 1D CNN)."""
    rng = ctx.rng("cnn-inputs")
    N, n0, M, k = 2, 2, 6, 1
    X = rng.standard_normal((N, n0, M))
    X /= np.sqrt(np.mean(X**2, axis=(1, 2), keepdims=True))
    tanh_eoc = eoc_point("tanh", 0.2)
    configs = [("relu", SQRT2, 0.0, "relu-eoc"), ("elu", 1.3, 0.4, "elu")]
    checks = _printed_vs_derived(ctx, "cnn", configs, X, depth=ctx.size(3, 8), k=k)
    if ctx.mode != "quick":                                    # tanh needs 2-D quadrature on 12x12 matrices (~0.3 s/layer)
        checks += _printed_vs_derived(ctx, "cnn", [("tanh", tanh_eoc.sigma_w, 0.2, "tanh-eoc")], X, depth=3, k=k)
    checks += _printed_vs_derived(ctx, "cnn", [("elu", 1.5, 0.3, "elu-k2")], X, depth=ctx.size(2, 6), k=2)
    widths = (48, 96)                                          # (>= 128 channels hits a slow BLAS path here)
    S = ctx.size((60, 30), (300, 150), (1200, 600))
    c1, info = _fw_family_check(ctx, "fw-cnn-relu-eoc-L3", "cnn", "relu", X, 3, SQRT2, 0.0, widths, S, k=k)
    checks.append(c1)
    # power of the FW test: the same finite-width data must reject a plausible wrong reading (no 1/(2k+1) sum_beta
    # averaging in the NTK term, i.e. the dense Lemma 2 applied entrywise to the conv covariances)
    alt = _cnn_without_averaging(X, 3, SQRT2, 0.0, k)
    fit, pred = info["fit"], info["pred"]
    iu = np.triu_indices(pred.shape[0])
    z_alt = float(np.max(np.abs(fit.intercept[iu] - alt[iu]) / fit.se[iu]))
    checks.append(Check(name="fw-power-cnn-no-averaging", kind="monte-carlo", target="both",
                        statistic="max_z of the same FW intercepts against K without beta-averaging (must exceed z_fam)",
                        estimate=z_alt, prediction=info["zfam"], tolerance=info["zfam"], passed=z_alt > info["zfam"],
                        se=1.0, alpha=ctx.alpha, margin=z_alt / info["zfam"],
                        note="shows the FW check can separate recursions differing only by the weight-sharing average"))
    printed = (r"K_{\alpha,\alpha'}^{l} = \frac{1}{2k+1} \sum_{\beta \in ker_{l}} \left[\dot{\Sigma}_{\alpha+\beta,"
               r"\alpha'+\beta}^{l} K_{\alpha+\beta,\alpha'+\beta}^{l-1} + \Sigma_{\alpha+\beta,\alpha'+\beta}^{l} \right],\ "
               r"K^1 = \frac{\sigma_w^2}{n_0(2k+1)}[x,x']_{\alpha,\alpha'} + \sigma_b^2")
    return Finding(
        summary=(f"Proposition 1 holds: printed CNN recursion == derived (rel. diff <= 1e-12, k = 1, 2, three activations); "
                 f"finite-channel NTKs (48, 96 channels, M = 6, k = 1, L = 3, 1/n-extrapolated) match all 78 distinct "
                 f"(input, position) entries, max z {info['max_z']:.2f} vs Bonferroni z {info['zfam']:.2f}"),
        printed=printed, derived=printed, symbolic_equal=True, checks=checks,
        steps=["Weight sharing: the layer-l W-gradient sums over output positions; with the gradient-independence "
               "assumption the position pairs (a+b, a'+b) average with weight 1/(2k+1) (numeric.kernel_recursions).",
               "Printed transcription (numeric.kernel_printed) equals the derived recursion to rounding, incl. k = 2.",
               "FW: periodic CNN, n_0 = 2, M = 6, k = 1, random inputs with unit mean square; all 12x12 entries."])


# ----------------------------------------------------------------------------------------------------------------------
PRINTED_EOC = {"tanh": 1.298, "elu": 1.225}       # L327, sigma_b = 0.2; printed with 3 decimals
HALF_ULP = 0.5e-3


@audits("P3-11")
def audit_p3_11(ctx) -> Finding:
    """P3, L180/L465 (EOC: s_w^2 E[phi'(sqrt q Z)^2] = 1) and L327 (EOC points (0, sqrt2) ReLU, (0.2, 1.225) ELU,
    (0.2, 1.298) tanh)."""
    checks = [ctx.exact_check("relu-eoc-chi1", "chi_1 at (0, sqrt 2), ReLU", chi1("relu", SQRT2, 0.0, 1.0), 1.0,
                              target="both", tol=1e-12, kind="exact",
                              note="homogeneous: chi_1 = s_w^2/2 for every q; q^l = chi_1 q^{l-1} preserved")]
    info = {}
    for act, sw_p in PRINTED_EOC.items():
        pt = eoc_point(act, 0.2)
        q_p = fixed_point_q(act, sw_p, 0.2)
        chi_p = chi1(act, sw_p, 0.2, q_p)
        info[act] = (pt, q_p, chi_p, phase(act, sw_p, 0.2))
        checks.append(ctx.exact_check(f"{act}-root-is-eoc", f"chi_1 at the derived root sigma_w={pt.sigma_w:.7f}",
                                      pt.chi1, 1.0, target="derived", tol=1e-10, kind="quadrature",
                                      note=f"q = {pt.q:.7f}; 1-D Gauss-Legendre expectations ~1e-14"))
        checks.append(ctx.exact_check(
            f"{act}-printed-sigma_w", f"|sigma_w printed - EOC sigma_w| ({act}, sigma_b = 0.2)", sw_p, pt.sigma_w,
            target="printed", tol=HALF_ULP, kind="quadrature",
            note=(f"criterion: a value printed to 3 decimals is a rounding of the EOC value iff it lies within half a unit "
                  f"of the last digit (5e-4); the root is accurate to ~1e-12. At the printed value q = {q_p:.5f}, "
                  f"chi_1 = {chi_p:.5f} ({info[act][3]} phase)")))
        checks.append(ctx.exact_check(
            f"{act}-rounded-derived-sigma_w", "derived EOC sigma_w rounded to 3 decimals vs itself (printing precision)",
            round(pt.sigma_w, 3), pt.sigma_w, target="derived", tol=HALF_ULP, kind="quadrature",
            note="the corrected 3-decimal value is consistent with the root to printing precision"))
    t, e = info["tanh"], info["elu"]
    return Finding(
        summary=(f"EOC definition and ReLU point (0, sqrt2) verified; the Sect. 6 points are not on the EOC to printed "
                 f"precision: at sigma_b = 0.2 the EOC is sigma_w = {t[0].sigma_w:.5f} (tanh, printed 1.298) and "
                 f"{e[0].sigma_w:.5f} (ELU, printed 1.225), {abs(t[0].sigma_w - 1.298) / HALF_ULP:.1f} and "
                 f"{abs(e[0].sigma_w - 1.225) / HALF_ULP:.1f} half-units of the last printed digit away; the printed "
                 f"points are ordered with chi_1 = {t[2]:.5f} / {e[2]:.5f}"),
        printed=r"(\sigma_b,\sigma_w) = (0,\sqrt2)\ \mathrm{ReLU},\ (0.2, 1.225)\ \mathrm{ELU},\ (0.2, 1.298)\ \tanh",
        derived=(rf"(0,\sqrt2)\ \mathrm{{ReLU}},\ (0.2, {e[0].sigma_w:.7f})\ \mathrm{{ELU}}\ (q={e[0].q:.5f}),\ "
                 rf"(0.2, {t[0].sigma_w:.7f})\ \tanh\ (q={t[0].q:.5f})"),
        symbolic_equal=False, checks=checks,
        corrected=r"(\sigma_b,\sigma_w) = (0.2, 1.229)\ \mathrm{ELU},\ (0.2, 1.304)\ \tanh",
        difference=(rf"\Delta\sigma_w = {1.225 - e[0].sigma_w:.4f}\ (\mathrm{{ELU}}),\ {1.298 - t[0].sigma_w:.4f}\ (\tanh);"
                    rf"\ \chi_1 = {e[2]:.5f},\ {t[2]:.5f}"),
        condition=("the printed sigma_w are EOC values for sigma_b ~ 0.194 (tanh) and ~ 0.190 (ELU), not 0.2; at "
                   "sigma_b = 0.2 they are in the ordered phase with 1 - chi_1 ~ 3.4e-3 / 2.5e-3, i.e. correlations "
                   "converge like chi_1^l with e-folding depth ~ 300 / 400 layers, so networks much shallower than that "
                   "behave as on the EOC; Sect. 6 (L327) trains depth-300 FFNNs, where chi_1^300 = e^-1.02 (tanh) and "
                   "e^-0.76 (ELU): the ordered-phase factor is not negligible there. The ReLU point is exact"),
        severity="mathematical",
        steps=["chi_1 = s_w^2 E[phi'(sqrt q Z)^2] with q the stable fixed point of the variance map (numeric.eoc).",
               "Joint root of q = s_b^2 + s_w^2 E phi(sqrt q Z)^2, chi_1 = 1 by brentq on sigma_w (xtol 1e-14).",
               "Criterion for the printed values: printed with 3 decimals (4 significant digits) -> a correct rounding "
               "must lie within 5e-4 of the root. tanh: 6.1e-3 off (12 half-units), ELU: 4.3e-3 off (8.5 half-units).",
               "The printed values are EOC points for a slightly smaller sigma_b (brentq on the EOC curve): ~0.194 (tanh), "
               "~0.190 (ELU). The values are quoted from Hayou et al. (2019) (L327); the discrepancy is inherited."])


# ----------------------------------------------------------------------------------------------------------------------
@audits("P3-13")
def audit_p3_13(ctx) -> Finding:
    """P3, L475-483, L846-849, (21) L1066-1075: ReLU EOC map f(x) = (x asin x + sqrt(1-x^2))/pi + x/2
    = x + 2sqrt2/(3pi)(1-x)^{3/2} + sum_{k>=2} alpha_k (1-x)^{k+1/2}, alpha_k > 0; f' = asin(x)/pi + 1/2."""
    x, t = C_SYM, sp.symbols("t", positive=True)
    f = relu_eoc_map().rewrite(sp.asin)       # 2 E[Z1+ Z(c)+] by polar integration (derived); acos = pi/2 - asin
    f_printed = x * sp.asin(x) / sp.pi + sp.sqrt(1 - x**2) / sp.pi + x / 2          # L1075
    cmp_f = compare(f, f_printed, domain={x: (-0.99, 0.99)})
    fp_printed = sp.asin(x) / sp.pi + sp.Rational(1, 2)                             # L848
    cmp_fp = compare(sp.diff(f, x), fp_printed, domain={x: (-0.99, 0.99)})
    order = 18
    ser = sp.expand(sp.series(sp.simplify(f_printed.subs(x, 1 - t**2)), t, 0, order).removeO())
    coeffs = [sp.nsimplify(sp.simplify(ser.coeff(t, j))) for j in range(order)]
    lead_ok = sp.simplify(coeffs[0] - 1) == 0 and sp.simplify(coeffs[2] + 1) == 0 and coeffs[1] == 0
    cmp_3 = compare(coeffs[3], 2 * sp.sqrt(2) / (3 * sp.pi))
    odd = [(2 * kk + 1, coeffs[2 * kk + 1]) for kk in range(2, order // 2)]
    alphas_pos = all(float(v) > 0 for _, v in odd)
    even_zero = all(sp.simplify(coeffs[j]) == 0 for j in range(4, order, 2))
    kappa = coeffs[5]
    fps = sp.expand(sp.series(sp.simplify(fp_printed.subs(x, 1 - t**2)), t, 0, 4).removeO())
    cmp_fp1 = compare(fps.coeff(t, 1), -sp.sqrt(2) / sp.pi)
    fp_ok = sp.simplify(fps.coeff(t, 0) - 1) == 0 and sp.simplify(fps.coeff(t, 2)) == 0
    sym_equal = bool(cmp_f.equal and cmp_fp.equal and lead_ok and cmp_3.equal and alphas_pos and even_zero
                     and cmp_fp1.equal and fp_ok)
    checks = [ctx.symbolic_check("closed-form-L1075", cmp_f.equal, "polar-integral f vs printed arc-cosine form"),
              ctx.symbolic_check("derivative-L848", cmp_fp.equal, "d/dx f vs asin(x)/pi + 1/2"),
              ctx.symbolic_check("t3-coefficient", cmp_3.equal, "coef of (1-x)^{3/2} = 2 sqrt2/(3 pi)"),
              ctx.symbolic_check("alpha_k>0", alphas_pos and even_zero,
                                 f"coefs of (1-x)^(k+1/2), k=2..{order // 2 - 1}, all > 0; integer powers >= 2 vanish",
                                 note="; ".join(f"t^{j}: {sp.nsimplify(v)}" for j, v in odd[:4])),
              ctx.symbolic_check("fprime-expansion", cmp_fp1.equal and fp_ok, "f'(1-t^2) = 1 - (sqrt2/pi) t + O(t^3)")]
    fnum = sp.lambdify(x, f_printed, "mpmath")
    for cval in (-0.5, 0.3, 0.9, 0.999):
        quad = 2.0 * float(expect_quadrature("relu", 1.0, cval, 1.0, "phi"))
        checks.append(ctx.exact_check(f"quadrature-c={cval}", "2 E[Z1+ Z(c)+] by 2-D quadrature vs closed form", quad,
                                      float(fnum(cval)), target="both", tol=1e-10, kind="quadrature",
                                      note="numeric.gaussian_maps.expect_quadrature (kinked-integrand rule)"))
    # truncated series (through t^15) vs closed form: remainder is the t^17 term, < 2 * coef_17 t^17 at t = 0.3
    tv = 0.3
    trunc = float(ser.subs(t, tv))
    exact = float(fnum(1 - tv**2))
    bound = 2 * float(coeffs[17]) * tv**17
    checks.append(ctx.exact_check("series-truncation", "f(1-t^2) series through t^16 vs closed form at t=0.3",
                                  trunc, exact, target="both", tol=max(bound, 1e-15), kind="exact",
                                  note="tolerance = 2x the first omitted term (t^17 coefficient, positive series)"))
    # MC (optional in the recipe): E[Z1+ Z(c)+] with 2e5 pairs at c = 0.3
    rng = ctx.rng("relu-mc")
    n = ctx.size(50_000, 200_000, 2_000_000)
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    vals = 2 * np.maximum(z1, 0) * np.maximum(0.3 * z1 + math.sqrt(1 - 0.09) * z2, 0)
    checks.append(ctx.mc_check("mc-c=0.3", "2 E[Z1+ Z(0.3)+], Monte Carlo", (float(vals.mean()),
                               float(vals.std(ddof=1) / math.sqrt(n))), float(fnum(0.3)), target="both",
                               note="exact sampling, no bias"))
    return Finding(
        summary=(f"ReLU EOC map verified: polar-integral derivation == printed arc-cosine form (L1075) and f' (L848); "
                 f"in t = sqrt(1-x): f = 1 - t^2 + (2sqrt2/3pi) t^3 + (sqrt2/30pi) t^5 + ..., all odd coefficients "
                 f"through t^17 positive (kappa = {sp.nsimplify(kappa)}), even ones >= t^4 vanish"),
        printed=(r"f(x) = \frac{1}{\pi}x\arcsin x + \frac{1}{\pi}\sqrt{1-x^2} + \frac{x}{2} = x + \frac{2\sqrt2}{3\pi}"
                 r"(1-x)^{3/2} + \sum_{k\ge2}\alpha_k(1-x)^{k+1/2},\ \alpha_k>0"),
        derived=sp.latex(sp.Eq(sp.Function("f")(1 - t**2), ser + sp.O(t**order))),
        symbolic_equal=sym_equal, checks=checks,
        steps=["f(c) = 2 E[Z1+ Z(c)+] (sigma_w^2 = 2, sigma_b = 0, q cancels by homogeneity) by polar coordinates "
               "(derivations.gaussian_maps.relu_polar).",
               f"Series of f(1 - t^2) in t to O(t^{order}) (SymPy); 1 - t^2 = x is the linear part.",
               "The printed sum 'sum_{k=2}' starts at (1-x)^{5/2} = t^5, coefficient kappa of (21).",
               "Quadrature and Monte Carlo cross-checks of the closed form."])


# ----------------------------------------------------------------------------------------------------------------------
def _fpp1(act: str, sigma_w: float, q: float) -> float:
    """f''(1) = sigma_w^2 q E[phi''(sqrt q Z)^2] (Price's theorem twice, P3-12): ELU closed form e^{2q} Phi(-2 sqrt q)
    (E[e^{2u} 1{u<0}], u ~ N(0,q)); tanh by 200-node Gauss-Hermite (smooth integrand)."""
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import ndtr
    if act == "elu":
        e2 = math.exp(2 * q) * float(ndtr(-2 * math.sqrt(q)))
    else:
        z, w = hermegauss(200)
        th = np.tanh(math.sqrt(q) * z)
        e2 = float(np.sum(w * (-2 * th * (1 - th**2)) ** 2) / math.sqrt(2 * math.pi))
    return sigma_w**2 * q * e2


def _leading_constant(layers, gamma, power: int, half_power: bool = False):
    """LS fit of gamma L^power = A + (B log L + C)/L (next order of both expansions) on the given layers, plus a term
    L^{-1/2} when ``half_power`` (phi'' discontinuous: f has a (1-c)^{5/2} term).  Returns A and a misfit half-width
    (3 x the LS standard error scaled by the residual rms: the data are deterministic)."""
    L = np.asarray(layers, float)
    y = np.asarray(gamma, float) * L**power
    cols = [np.ones_like(L), np.log(L) / L, 1.0 / L] + ([L**-0.5] if half_power else [])
    D = np.stack(cols, axis=1)
    beta, *_ = np.linalg.lstsq(D, y, rcond=None)
    r = y - D @ beta
    s2 = float(r @ r) / max(len(L) - 3, 1)
    cov = np.linalg.inv(D.T @ D) * s2
    return float(beta[0]), float(3 * math.sqrt(cov[0, 0])), beta


@audits("P3-15")
def audit_p3_15(ctx) -> Finding:
    """P3, L180, L846, App. Lemmas 2-3 (L535-539, L594-598): on the EOC 1 - c^l ~ 9 pi^2/(2 l^2) (ReLU) and
    1 - c^l ~ kappa/l, kappa = 2/f''(1) (class S: tanh, ELU)."""
    from numeric.kernels import CorrelationMap, deep_ffnn_ntk, local_slopes
    g, s, a, l = sp.symbols("gamma s a l", positive=True)
    # ReLU: gamma' = gamma - s gamma^{3/2} + O(gamma^2)  =>  gamma'^{-1/2} - gamma^{-1/2} -> s/2  =>  gamma_l ~ 4/(s^2 l^2)
    inc_relu = sp.limit((g - s * g**sp.Rational(3, 2)) ** sp.Rational(-1, 2) - g ** sp.Rational(-1, 2), g, 0)
    s_val = 2 * sp.sqrt(2) / (3 * sp.pi)                          # t^3 coefficient, derived in P3-13
    relu_const = sp.simplify(1 / inc_relu**2).subs(s, s_val)  # u_l ~ inc * l, gamma = u^-2
    cmp_relu = compare(relu_const, 9 * sp.pi**2 / 2)
    # class S: gamma' = gamma - a gamma^2 + O(gamma^3), a = f''(1)/2  =>  1/gamma' - 1/gamma -> a  =>  gamma_l ~ 1/(a l)
    inc_s = sp.limit(1 / (g - a * g**2) - 1 / g, g, 0)
    fpp = sp.symbols("f2", positive=True)
    cmp_s = compare(sp.simplify(1 / inc_s).subs(a, fpp / 2), 2 / fpp)
    checks = [ctx.symbolic_check("relu-leading-constant", cmp_relu.equal, "4/s^2 with s = 2sqrt2/(3pi) vs 9pi^2/2"),
              ctx.symbolic_check("classS-leading-constant", cmp_s.equal, "1/a with a = f''(1)/2 vs kappa = 2/f''(1)")]
    Lmax = ctx.size(20_000, 150_000, 1_000_000)
    rec = np.unique(np.logspace(1, math.log10(Lmax), 60).astype(int))
    fit_from = 1000
    cases = [("relu", SQRT2, 0.0, None, 2, 4.5 * math.pi**2)]
    acts = ("tanh",) if ctx.mode == "quick" else ("tanh", "elu")
    for act in acts:
        pt = eoc_point(act, 0.2)
        cases.append((act, pt.sigma_w, 0.2, pt.q, 1, 2.0 / _fpp1(act, pt.sigma_w, pt.q)))
    summary_bits, cmaps = [], {}
    for act, sw, sb, q, power, pred in cases:
        cm = cmaps[act] = CorrelationMap(act, sw, sb, q=q)
        run = deep_ffnn_ntk(cm, 0.3, int(rec[-1]), record=rec)
        m = run.layers >= fit_from
        A, half, beta = _leading_constant(run.layers[m], run.gamma[m], power, half_power=(act == "elu"))
        slopes = local_slopes(run.layers[m], run.gamma[m])
        checks.append(ctx.exact_check(
            f"{act}-leading-constant", f"A in gamma_L L^{power} = A + (B log L + C)/L, L in [1e3, {rec[-1]}]", A, pred,
            target="both", tol=max(0.02 * pred, half), kind="exact",
            note=(f"tolerance 2% (claim recipe B.0); LS misfit half-width {half:.2g}; rel. error {abs(A / pred - 1):.2g}; "
                  f"B = {beta[1]:.4g}, C = {beta[2]:.4g}{'' if act != 'elu' else f', L^-1/2 coef {beta[3]:.4g}'}; "
                  f"chi_1 = {cm.chi1:.12f}")))
        checks.append(ctx.exact_check(
            f"{act}-local-slope", f"d log gamma / d log L over the last decade (predicted -{power})",
            float(np.mean(slopes[-10:])), -power, target="both", tol=0.01, kind="exact",
            note="deterministic recursion; slack 0.01 covers the (log L)/L correction at L >= 1e4"))
        summary_bits.append(f"{act}: A = {A:.5g} vs {pred:.5g}")
    if ctx.mode != "quick":                                   # ELU: phi'' jumps at 0 -> f'(1-t^2) has a t^3 term
        pt, cm = eoc_point("elu", 0.2), cmaps["elu"]
        f2 = _fpp1("elu", pt.sigma_w, pt.q)
        b3 = [((cm.chi1 - cm.sd(t)) / t**2 - f2) / t for t in (1e-3, 3e-3)]
        checks.append(ctx.exact_check("elu-t3-term-of-fprime", "((chi_1 - f'(1-t^2))/t^2 - f''(1))/t at t=1e-3 vs 3e-3",
                                      b3[0], b3[1], target="both", tol=0.01 * abs(b3[1]), kind="quadrature",
                                      note=(f"a stable nonzero t^3 coefficient ({b3[0]:.4f}) justifies the L^-1/2 term "
                                            "of the ELU fit (and means the class-S remainder of App. Lemma 2, "
                                            "beta log l / l^2 + O(l^-2), needs re-examination for ELU: P3-25)")))
    if ctx.mode != "quick":                                   # f''(1) cross-check: Sd(t) = chi_1 - f''(1) t^2 + o(t^2)
        pt, cm = eoc_point("tanh", 0.2), cmaps["tanh"]
        t = 1e-3
        checks.append(ctx.exact_check("tanh-fpp1-vs-map", "(chi_1 - f'(1 - t^2))/t^2 at t = 1e-3 vs f''(1)",
                                      (cm.chi1 - cm.sd(t)) / t**2, _fpp1("tanh", pt.sigma_w, pt.q), target="both",
                                      tol=1e-4 * _fpp1("tanh", pt.sigma_w, pt.q), kind="quadrature",
                                      note="O(t^2) Taylor remainder ~1e-6 relative; map accuracy ~1e-14 / t^2 = 1e-8"))
    return Finding(
        summary="EOC rates verified to leading order: " + "; ".join(summary_bits)
                + f" (deep recursion to L = {rec[-1]}, next-order (log L)/L fitted)",
        printed=(r"1 - c^l \sim \frac{9\pi^2}{2 l^2}\ (\mathrm{ReLU}),\quad 1 - c^l \sim \frac{\kappa}{l},\ "
                 r"\kappa = \frac{2}{f''(1)}\ (\mathcal S)"),
        derived=r"\gamma_l \sim \frac{4}{s^2 l^2},\ s = \frac{2\sqrt2}{3\pi};\quad \gamma_l \sim \frac{2}{f''(1)\, l}",
        symbolic_equal=bool(cmp_relu.equal and cmp_s.equal), checks=checks,
        steps=["ReLU: gamma_{l+1} = gamma_l - s gamma_l^{3/2} + O(gamma_l^2) (P3-13); u = gamma^{-1/2} grows by s/2 "
               "per layer, so gamma_l ~ 4/(s^2 l^2) = 9 pi^2/(2 l^2).",
               "Class S on the EOC (f'(1) = 1): gamma_{l+1} = gamma_l - (f''(1)/2) gamma_l^2 + O(gamma^3); 1/gamma grows "
               "by f''(1)/2, so gamma_l ~ 2/(f''(1) l).",
               "f''(1) = sigma_w^2 q E[phi''(sqrt q Z)^2] (Price), cross-checked against the map's own curvature.",
               "Deep recursion (numeric.kernels.deep_ffnn_ntk, c^1 = 0.3) and LS fit of the leading constant with the "
               "(log L)/L and 1/L corrections (plus L^-1/2 for ELU). Remainders are claims P3-24/P3-25 (not judged here).",
               "ELU: phi'' jumps at 0, so f'(1 - t^2) = 1 - f''(1) t^2 + b t^3 + ... with b ~ 0.25 measured; then "
               "gamma_l l = kappa + O(l^-1/2), and a fit without the L^-1/2 term is biased by ~1% at L = 2e5."])


# ----------------------------------------------------------------------------------------------------------------------
def _fd_check(name, value, pred, tol, target, passed=None, margin=None, statistic="", note=""):
    ok = (abs(value - pred) <= tol) if passed is None else passed
    return Check(name=name, kind="quadrature", target=target, statistic=statistic, estimate=float(value),
                 prediction=float(pred), tolerance=float(tol), passed=bool(ok),
                 margin=float(abs(value - pred) / tol if margin is None else margin), note=note)


@audits("P3-12")
def audit_p3_12(ctx) -> Finding:
    """P3, B.1 L485-494: f(x) = [s_b^2 + s_w^2 E phi(sqrt q Z1) phi(sqrt q Z(x))]/q; f'(1) = 1 on the EOC; f strictly convex,
    f(1) = 1; f^(j)(x) = s_w^2 q^{j-1} E[phi^(j)(Z1) phi^(j)(Z(x))] (printed without sqrt q inside)."""
    from numeric.gaussian_maps import expect
    cs, qs, sw, sb = sp.symbols("c q sigma_w sigma_b", positive=True)
    # erf has closed forms: E[erf(u) erf(v)] = (2/pi) asin(2 s12/sqrt((1+2 s11)(1+2 s22))),
    # E[erf'(u) erf'(v)] = (4/pi) ((1+2 s11)(1+2 s22) - 4 s12^2)^{-1/2}  (derivations.gaussian_maps, A.7)
    f_erf = (sb**2 + sw**2 * 2 / sp.pi * sp.asin(2 * qs * cs / (1 + 2 * qs))) / qs
    dd = lambda s11, s12, s22: 4 / sp.pi / sp.sqrt((1 + 2 * s11) * (1 + 2 * s22) - 4 * s12**2)
    derived_1 = sw**2 * dd(qs, qs * cs, qs)                       # Price, j = 1: s_w^2 q^0 E[phi'(sqrt q Z1) phi'(sqrt q Z(c))]
    printed_1 = sw**2 * dd(1, cs, 1)                              # as printed: phi'(Z1) phi'(Z(c))
    dom = {cs: (0.05, 0.95), qs: (0.2, 3.0), sw: (0.5, 2.0), sb: (0.0, 1.0)}
    cmp_d = compare(sp.diff(f_erf, cs), derived_1, domain=dom)
    cmp_p = compare(sp.diff(f_erf, cs), printed_1, domain=dom)
    checks = [ctx.symbolic_check("erf-fprime-derived", cmp_d.equal, "d f/dc (erf closed form) vs Price form with sqrt q",
                                 target="derived"),
              ctx.symbolic_check("erf-fprime-printed", cmp_p.equal, "d f/dc (erf) vs printed form (no sqrt q)",
                                 target="printed", note="equal only at q = 1")]
    # tanh on its EOC (q = 0.512 != 1): finite differences of f (quadrature) vs the two forms, j = 1, 2
    pt = eoc_point("tanh", 0.2)
    q, s_w, s_b = pt.q, pt.sigma_w, 0.2
    f = lambda c: (s_b**2 + s_w**2 * float(expect("tanh", q, q * c, q, "phi"))) / q
    fp_der = lambda c: s_w**2 * float(expect("tanh", q, q * c, q, "dphi"))
    fp_pr = lambda c: s_w**2 * float(expect("tanh", 1.0, c, 1.0, "dphi"))
    h = 1e-4
    for cval in (-0.5, 0.0, 0.5, 0.9):
        fd = (f(cval + h) - f(cval - h)) / (2 * h)
        checks.append(_fd_check(f"tanh-f'({cval})-derived", fd, fp_der(cval), 1e-7, "derived",
                                statistic="central FD of f vs s_w^2 E[phi'(sqrt q Z1) phi'(sqrt q Z(c))]",
                                note="FD error h^2 f'''/6 ~ 1e-9, quadrature ~1e-14/h"))
        checks.append(_fd_check(f"tanh-f'({cval})-printed", fd, fp_pr(cval), 1e-7, "printed",
                                statistic="central FD of f vs s_w^2 E[phi'(Z1) phi'(Z(c))] (printed)"))
    checks.append(ctx.exact_check("tanh-f(1)=1", "f(1) at the fixed point q", f(1.0), 1.0, target="both", tol=1e-10))
    checks.append(ctx.exact_check("tanh-f'(1)=1-on-EOC", "f'(1) = chi_1 on the EOC", fp_der(1.0), 1.0, target="both",
                                  tol=1e-10))
    # convexity: f'' = s_w^2 q E[phi'' phi''] = sum_n n(n-1) a_n^2 c^{n-2} (Hermite): >= 0 on [0,1]; for odd phi
    # (tanh) only odd n occur, so f'' < 0 on (-1, 0).
    fpp = lambda c: (fp_der(c + h) - fp_der(c - h)) / (2 * h)
    for cval in (0.3, 0.9):
        v = fpp(cval)
        checks.append(_fd_check(f"tanh-f''({cval})>0", v, 0.0, 1e-6, "both", passed=v > 1e-6, margin=abs(v) / 1e-6,
                                statistic="f''(c) by central FD of f' (must be > 0)"))
    v_neg = fpp(-0.5)
    checks.append(_fd_check("tanh-f''(-0.5)>0-printed", v_neg, 0.0, 1e-6, "printed", passed=v_neg > 1e-6,
                            margin=abs(v_neg) / 1e-6, statistic="printed 'f strictly convex' at c = -0.5 (tanh)",
                            note="FD accuracy ~1e-8; tanh is odd so f - s_b^2/q is odd and f'' is odd in c"))
    checks.append(_fd_check("tanh-f''-odd", v_neg, -fpp(0.5), 1e-6, "derived",
                            statistic="f''(-0.5) = -f''(0.5) (odd phi)"))
    return Finding(
        summary=(f"Price identity verified with sqrt q inside: f^(j)(c) = s_w^2 q^(j-1) E[phi^(j)(sqrt q Z1) phi^(j)(sqrt q "
                 f"Z(c))]; the printed form drops sqrt q (wrong unless q = 1; tanh EOC q = {q:.4f}: f'(0.5) "
                 f"{fp_der(0.5):.5f} vs printed {fp_pr(0.5):.5f}); 'f strictly convex' holds on [0,1] but fails for "
                 f"c < 0 with odd phi (tanh: f''(-0.5) = {v_neg:.4f}); f(1) = 1, f'(1) = 1 on the EOC verified"),
        printed=(r"f^{(j)}(x) = \sigma_w^2 q^{j-1} \mathbb{E}[\phi^{(j)}(Z_1)\phi^{(j)}(Z(x))];\ f\ \text{strictly convex}"),
        derived=(r"f^{(j)}(x) = \sigma_w^2 q^{j-1} \mathbb{E}[\phi^{(j)}(\sqrt q Z_1)\phi^{(j)}(\sqrt q Z(x))];\ "
                 r"f'' = \sum_n n(n-1)a_n^2 x^{n-2} \ge 0 \text{ on } [0,1]"),
        symbolic_equal=False, checks=checks,
        corrected=(r"f^{(j)}(x) = \sigma_w^2 q^{j-1} \mathbb{E}[\phi^{(j)}(\sqrt q Z_1)\phi^{(j)}(\sqrt q Z(x))];\ "
                   r"f \text{ strictly convex on } [0,1]"),
        difference=r"\phi^{(j)}(Z) \to \phi^{(j)}(\sqrt q Z);\ \text{convexity only for } x \in [0,1] \text{ in general}",
        condition=("the printed derivative formula holds when q = 1 (or for phi^(j) 0-homogeneous, e.g. ReLU j = 1); its "
                   "positivity conclusion f^(j)(1) > 0 is unaffected. Convexity holds on [0, 1] for every phi (Hermite "
                   "coefficients), on [-1, 1] only if the odd Hermite terms do not dominate (fails for odd phi such as "
                   "tanh); the paper's proofs use f near c = 1, where both statements are harmless"),
        severity="notation",
        steps=["f(c) = [s_b^2 + s_w^2 E phi(u) phi(v)]/q with Cov(u,v) = q c; Price: d/dSigma_12 E[g(u)h(v)] = E[g'(u)h'(v)] "
               "and dSigma_12/dc = q, so f^(j)(c) = s_w^2 q^(j-1) E[phi^(j)(sqrt q Z1) phi^(j)(sqrt q Z(c))].",
               "Exact check with erf (closed forms): SymPy d f/dc equals the derived form for all q, the printed one only "
               "at q = 1.",
               "tanh at its EOC (q = 0.512): central finite differences of f vs both forms at c = -0.5, 0, 0.5, 0.9.",
               "Convexity: Hermite expansion f = sum a_n^2 c^n (+ const); tanh odd => f'' odd => negative for c < 0."])


# ----------------------------------------------------------------------------------------------------------------------
def _per_layer_contributions(act, X, depth, width, sw, sb, seeds) -> np.ndarray:
    """(S, depth) array: layer-l term grad_{theta_l} f(x) grad_{theta_l} f(x)^T of the finite FFNN for the first input,
    from the explicit Jacobian (numeric.empirical_ntk.jacobian; columns W^1, b^1, ..., W^L, b^L)."""
    from numeric.empirical_ntk import jacobian
    from numeric.finite_nets import sample_network
    out = []
    for seed in seeds:
        net = sample_network("ffnn", act, X.shape[1], width, depth, sw, sb, np.random.default_rng(int(seed)))
        J = jacobian(net, X[:1])[0]
        sizes = [net.W[l].size + net.b[l].size for l in range(depth)]
        edges = np.cumsum([0] + sizes)
        out.append([float(J[edges[l]:edges[l + 1]] @ J[edges[l]:edges[l + 1]]) for l in range(depth)])
    return np.array(out)


@audits("P3-14")
def audit_p3_14(ctx) -> Finding:
    """P3, L475: on the ReLU EOC Sigma^l(x,x) = s_w^2 ||x||^2/d for all l; L203: the per-layer NTK terms
    grad_{theta_l} f grad_{theta_l} f^T are of the same order across l (here: exactly equal in the limit)."""
    z, qq = sp.symbols("z q", positive=True)
    Erelu2 = sp.integrate(qq * z**2 * sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi), (z, 0, sp.oo))      # E[relu(sqrt q Z)^2]
    Estep = sp.integrate(sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi), (z, 0, sp.oo))                    # E[1{Z > 0}]
    var_step = sp.simplify(2 * Erelu2)                          # s_w^2 = 2, s_b = 0: Sigma^l(x,x) = 2 E relu^2 = q
    sd_diag = sp.simplify(2 * Estep)                            # Sigma-dot^l(x,x) = 1
    Lsym, lsym = sp.symbols("L l", positive=True, integer=True)
    contrib = qq * sd_diag ** (Lsym - lsym)                     # Sigma^l prod_{k>l} Sigma-dot^k
    cmp_var = compare(var_step, qq)
    cmp_contrib = compare(contrib, qq)
    checks = [ctx.symbolic_check("variance-preserved", cmp_var.equal, "2 E[relu(sqrt q Z)^2] = q"),
              ctx.symbolic_check("per-layer-term", cmp_contrib.equal, "Sigma^l prod_{k>l} Sd^k (x,x) = q for every l")]
    # exact recursion to depth 1000 (closed-form ReLU maps)
    X = unit_inputs(np.array([[1.0, 0.4], [0.4, 1.0]])) * np.array([[1.7], [0.6]])   # different norms
    depth = 1000
    rec = derived_recursion("ffnn", "relu", X, depth, SQRT2, 0.0, record=True)
    q0 = np.diag(rec.layers[0]["Q"])
    dev = max(float(np.max(np.abs(np.diag(r["Q"]) / q0 - 1))) for r in rec.layers)
    checks.append(ctx.exact_check("DR-variance-l<=1000", "max_l max_x |Sigma^l(x,x)/Sigma^1(x,x) - 1|, l <= 1000",
                                  dev, 0.0, target="both", tol=1e-12, kind="exact"))
    checks.append(ctx.exact_check("DR-K(x,x)=Lq", "K^1000(x,x) / (1000 Sigma^1(x,x))", float(rec.K[0, 0] / (depth * q0[0])),
                                  1.0, target="both", tol=1e-12, kind="exact", note="sum of L equal per-layer terms"))
    # finite width: per-layer Gram terms at depth 6, widths 128/256, 1/n extrapolation, Bonferroni over the 6 layers
    L, widths = 6, (128, 256)
    S = ctx.size((24, 12), (120, 60), (800, 400))
    rng = ctx.rng("per-layer")
    samples = [_per_layer_contributions("relu", X, L, n, SQRT2, 0.0, rng.integers(0, 2**31 - 1, size=s))
               for n, s in zip(widths, S)]
    fit = width_regression(widths, samples)
    pred = np.full(L, q0[0])
    bias = (3.0 * L / min(widths)) ** 2 * pred
    zfam = z_two_sided(ctx.alpha / L)
    zs = np.maximum(np.abs(fit.intercept - pred) - bias, 0) / fit.se
    w = int(np.argmax(zs))
    ctx.stochastic_checks.append("fw-per-layer-terms")
    checks.append(Check(name="fw-per-layer-terms", kind="monte-carlo", target="both",
                        statistic=f"max_z over layers of the width-extrapolated per-layer term vs Sigma^1(x,x), L = {L}",
                        estimate=float(fit.intercept[w]), prediction=float(pred[w]),
                        tolerance=float(zfam * fit.se[w] + bias[w]), passed=bool(np.all(zs <= zfam)),
                        se=float(fit.se[w]), alpha=ctx.alpha, bias=float(bias[w]), margin=float(zs[w]), n=int(sum(S)),
                        note=(f"intercepts/q = {np.round(fit.intercept / pred, 3).tolist()}; Bonferroni over {L} layers "
                              f"(z = {zfam:.2f}); bias budget (3L/n_min)^2 q (2nd order of the 1/n expansion)")))
    return Finding(
        summary=(f"ReLU EOC: Sigma^l(x,x) = Sigma^1(x,x) = s_w^2||x||^2/d exactly (derived; recursion to l = 1000, rel. "
                 f"dev {dev:.1e}); every layer contributes exactly Sigma^1(x,x) to K^L(x,x) in the limit, and finite "
                 f"networks (n = 128, 256, extrapolated) agree layer by layer (max z {zs[w]:.2f} vs {zfam:.2f})"),
        printed=r"\Sigma^l(x,x) = \frac{\sigma_w^2}{d}\|x\|^2\ \forall l \ge 1;\ \nabla_{\theta_l}f\nabla_{\theta_l}f^T "
                r"\text{ of the same order across } l",
        derived=r"\Sigma^l(x,x) = \Sigma^1(x,x) = \frac{\sigma_w^2}{d}\|x\|^2,\ "
                r"\nabla_{\theta_l}f\nabla_{\theta_l}f^T(x,x) \to \Sigma^1(x,x)\ \forall l",
        symbolic_equal=bool(cmp_var.equal and cmp_contrib.equal), checks=checks,
        steps=["E[relu(sqrt q Z)^2] = q/2, E[1{Z>0}] = 1/2 (SymPy); with s_w^2 = 2, s_b = 0 the variance map is the "
               "identity and Sigma-dot(x,x) = 1.",
               "Layer-l term of K^L(x,x) = Sigma^l(x,x) prod_{k>l} Sigma-dot^k(x,x) = Sigma^1(x,x) (Lemma 2 unrolled).",
               "Exact recursion for two inputs of different norms to l = 1000; finite-width per-layer Jacobian Grams."])


# ----------------------------------------------------------------------------------------------------------------------
def _corr_fixed_point(act, sw, sb, q):
    """Fixed point c* in [0, 1) of f at variance q (chaotic phase: f(0) - 0 = s_b^2/q >= 0 and f(c) < c just below 1
    since f'(1) = chi_1 > 1), by brentq, and f'(c*) = s_w^2 E[phi'(u) phi'(v)]."""
    from scipy.optimize import brentq
    from numeric.gaussian_maps import expect
    F = lambda c: (sb**2 + sw**2 * float(expect(act, q, q * c, q, "phi"))) / q - c
    c = brentq(F, 0.0, 1.0 - 1e-6, xtol=1e-15, rtol=1e-15)
    return c, sw**2 * float(expect(act, q, q * c, q, "dphi"))


def _log_slope(l, dev):
    return float(np.polyfit(np.asarray(l, float), np.log(np.abs(np.asarray(dev, float))), 1)[0])


@audits("P3-16")
def audit_p3_16(ctx) -> Finding:
    """P3, B.1 L472-474: there exist q, lam > 0 with sup_x |Sigma^l(x,x) - q| <= e^{-lam l}; ordered: sup |c^l - 1| <=
    e^{-gam l}; chaotic: sup_{x != x'} |c^l - c| <= e^{-gam l} (minus signs reconstructed)."""
    from numeric.eoc import variance_map
    checks, info = [], {}
    dt = ctx.size(12, 30)
    cases = [("relu", math.sqrt(1.5), 0.5, "ordered", 60), ("tanh", 1.0, 0.3, "ordered", dt),
             ("tanh", 2.5, 0.3, "chaotic", dt)]
    if ctx.mode == "quick":
        cases.pop(1)
    X = unit_inputs(0.5, d=2)
    for act, sw, sb, ph, depth in cases:
        assert phase(act, sw, sb) == ph
        q = fixed_point_q(act, sw, sb)
        h = 1e-5 * q
        vprime = (float(variance_map(act, sw, sb, q + h)) - float(variance_map(act, sw, sb, q - h))) / (2 * h)
        rec = derived_recursion("ffnn", act, X, depth, sw, sb, record=True)
        ls = np.arange(1, depth + 1)
        qs = np.array([r["Q"][0, 0] for r in rec.layers])
        cs = np.array([r["Q"][0, 1] / math.sqrt(r["Q"][0, 0] * r["Q"][1, 1]) for r in rec.layers])
        win = slice(depth // 3, 2 * depth // 3)
        ok_q = np.abs(qs - q) > 1e-13 * q
        wq = np.zeros(depth, bool); wq[win] = True; wq &= ok_q
        checks.append(ctx.exact_check(f"{act}-{ph}-variance-rate", "slope of log|q^l - q| vs l, against log V'(q)",
                                      _log_slope(ls[wq], qs[wq] - q), math.log(vprime), target="both", tol=2e-3,
                                      kind="exact", note=f"V'(q) = {vprime:.6f} (linearised variance map), q = {q:.6f}"))
        if ph == "ordered":
            cstar, rate = 1.0, chi1(act, sw, sb, q)
        else:
            cstar, rate = _corr_fixed_point(act, sw, sb, q)
        dev = cs - cstar
        wc = np.zeros(depth, bool); wc[win] = True; wc &= np.abs(dev) > 1e-13
        if act != "relu":                                     # ReLU: V'(q) = chi_1 (double eigenvalue, l chi^l term)
            checks.append(ctx.exact_check(f"{act}-{ph}-correlation-rate", "slope of log|c^l - c*| vs l, against log f'(c*)",
                                          _log_slope(ls[wc], dev[wc]), math.log(rate), target="both", tol=2e-2,
                                          kind="exact", note=f"c* = {cstar:.6f}, f'(c*) = {rate:.6f}; window l in "
                                                             f"[{depth // 3}, {2 * depth // 3}], V'(q) = {vprime:.4f} "
                                                             "(mixing of the two modes bounded by the tolerance)"))
        info[(act, ph)] = (q, vprime, cstar, rate)
    # the printed supremum over all inputs: for unbounded phi (ReLU) |Sigma^l(x,x) - q| = V'(q)^{l-1} |Sigma^1(x,x) - q|
    # grows without bound in ||x||, so no lam > 0 gives sup_x <= e^{-lam l} <= 1 (at any l).
    sw, sb = math.sqrt(1.5), 0.5
    q = fixed_point_q("relu", sw, sb)
    l_test, R = 20, 1e4
    Xbig = unit_inputs(0.5, d=2) * R
    rbig = derived_recursion("ffnn", "relu", Xbig, l_test, sw, sb)
    gap = abs(rbig.Q[0, 0] - q)
    checks.append(ctx.exact_check("relu-sup-over-x-printed", f"|Sigma^{l_test}(x,x) - q| at ||x||^2/d = {R**2:.0e} "
                                  "(printed bound e^(-lam l) < 1 for every lam > 0)", gap, 0.0, target="printed",
                                  tol=1.0, kind="exact", note="ReLU ordered (s_b = 0.5, s_w^2 = 1.5)"))
    pred_gap = 0.75 ** (l_test - 1) * abs(1.5 * R**2 + sb**2 - q)
    checks.append(ctx.exact_check("relu-gap-derived", "same gap vs V'(q)^(l-1) |Sigma^1(x,x) - q| (exact, ReLU linear)",
                                  gap, pred_gap, target="derived", tol=1e-10 * pred_gap, kind="exact"))
    # bounded phi: sup over x is finite from l = 2 on (Sigma^2 <= s_b^2 + s_w^2) and decays at the same rate
    rt = derived_recursion("ffnn", "tanh", unit_inputs(0.5, d=2) * 1e3, ctx.size(5, 12), 2.5, 0.3)
    checks.append(ctx.exact_check("tanh-large-input-bounded", f"Sigma^{rt.depth}(x,x) - q, ||x||^2/d = 1e6 (tanh chaotic)",
                                  abs(rt.Q[0, 0] - info[("tanh", "chaotic")][0]), 0.0, target="derived",
                                  tol=(2.5**2 + 0.09) * info[("tanh", "chaotic")][1] ** (rt.depth - 2), kind="exact",
                                  note="bounded phi: |Sigma^2 - q| <= s_b^2 + s_w^2, then contraction by V'(q) per layer"))
    nan4 = (math.nan,) * 4
    (_, v_r, _, _), (_, v_to, _, r_to), (_, v_tc, c_tc, r_tc) = (info[("relu", "ordered")],
                                                                         info.get(("tanh", "ordered"), nan4),
                                                                         info[("tanh", "chaotic")])
    return Finding(
        summary=(f"Exponential convergence verified with the linearised rates (ReLU ordered V'(q) = {v_r:.3f}; tanh "
                 f"ordered V'(q) = {v_to:.3f}, f'(1) = {r_to:.3f}; tanh chaotic V'(q) = {v_tc:.3f}, c* = {c_tc:.4f}, "
                 f"f'(c*) = {r_tc:.3f}); but the printed uniform bound sup_x |Sigma^l(x,x) - q| <= e^(-lam l) is false "
                 f"for unbounded phi (ReLU: gap {gap:.2e} at l = {l_test} for ||x||^2/d = 1e8) and lacks a constant"),
        printed=(r"\sup_{x \in \mathbb{R}^d} |\Sigma^l(x, x) - q| \le e^{-\lambda l};\ \sup|c^l - 1| \le e^{-\gamma l}"
                 r"\ (\text{ordered});\ \sup_{x\neq x'}|c^l - c| \le e^{-\gamma l}\ (\text{chaotic})"),
        derived=(r"|\Sigma^l(x,x) - q| \le C(\|x\|)\, e^{-\lambda l},\ e^{-\lambda} \to V'(q);\ |c^l - c^*| \le "
                 r"C e^{-\gamma l},\ e^{-\gamma} \to \max(f'(c^*), V'(q))"),
        symbolic_equal=False, checks=checks,
        corrected=(r"\sup_{\|x\| \le R} |\Sigma^l(x,x) - q| \le C_R e^{-\lambda l}\ (\text{or } \sup_{x} \text{ for bounded } "
                   r"\phi,\ l \ge 2)"),
        difference=r"\text{prefactor } C \text{ missing; supremum over } \mathbb{R}^d \text{ infinite for unbounded } \phi",
        condition=("holds with a constant C for inputs in a bounded set, or uniformly over R^d for bounded phi (tanh) "
                   "from l = 2 on; rates are the derivatives of the variance map at q and of f at its stable fixed point"),
        severity="mathematical",
        steps=["Linearise q -> V(q) at q (rate V'(q), central FD of the variance map) and f at its stable fixed point "
               "(rate f'(1) = chi_1 ordered, f'(c*) chaotic).",
               "Exact recursion (numeric.kernel_recursions) for two inputs (cosine 0.5): slopes of log|dev| in the "
               "middle third of the depth window vs the log rates.",
               "ReLU (homogeneous, unbounded): Sigma^l(x,x) - q = V'(q)^(l-1) (Sigma^1(x,x) - q) exactly, unbounded in x.",
               "ReLU ordered has V'(q) = chi_1 = s_w^2/2 (double eigenvalue): correlation slope not tested separately."])
