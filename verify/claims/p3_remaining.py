"""P3 (Hayou, Doucet, Rousseau), Appendix Lemmas 5 and 6 (L702-814): asymptotics of a_l = lambda_l a_{l-1} + b_l.

Both lemmas are audited the same way: a SymPy ansatz a_l = A l + X (log l) + Y solved order by order in h = 1/l
(the l^{-1} coefficient of a_l/l - q/(1+alpha) decides the sign, hence whether the two-sided Theta with positive
constants, as defined at L700, can hold), and an exact float recursion to L = 10^6 (quick: 10^5) compared with it.

P3-4 (frozen NTK, cited theorem): (7) from (6) symbolically, and the finite-width NTK drift along GD shrinking with
width. P3-40 (Figure 1a): the structure of |AK^L - AK^infinity| on the EOC for ReLU and ELU (recursion to L = 1e5).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from numeric.eoc import eoc_point
from numeric.kernels import CorrelationMap, deep_ffnn_ntk
from verify.claims.p3_depth import H, Q, _ansatz_log, _log_series_fit, _series
from verify.registry import audits
from verify.results import Check, Finding


# ------------------------------------------------------------------------------------------------------------------
# the recursion, exactly (float), recorded on a log grid
# ------------------------------------------------------------------------------------------------------------------
def linear_recursion(lam, b, L: int, l0: int, lo: int = 1000, points: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """a_{l0-1} = 0, a_l = lam(l) a_{l-1} + b(l) for l = l0..L; returns (layers, a_layers) on a log grid in [lo, L].
    (Every lambda_l used is in (0, 1), so the float recursion is stable: relative error ~ 1e-16 per step.)"""
    grid = set(np.unique(np.round(np.logspace(math.log10(lo), math.log10(L), points)).astype(int)).tolist())
    a, out = 0.0, {}
    for l in range(l0, L + 1):
        a = a * lam(l) + b(l)
        if l in grid:
            out[l] = a
    Ls = np.array(sorted(out))
    return Ls, np.array([out[k] for k in Ls])


def lemma5_ansatz(alpha, mu, nu):
    """lambda_l = 1 - alpha/l + mu/l^2, b_l = q + nu/l^2; ansatz a_l = A l + X + Y/l: returns (A, X) (h = 1/l)."""
    A, X, Y = sp.symbols("A X Y")
    l = 1 / H
    a_l = A * l + X + Y * H
    a_prev = A * (l - 1) + X + Y * H / (1 - H)
    lam = 1 - alpha * H + mu * H**2
    R = sp.expand(sp.series(a_l - lam * a_prev - Q - nu * H**2, H, 0, 2).removeO())
    sol = sp.solve([R.coeff(H, 0), R.coeff(H, 1)], [A, X], dict=True)[0]
    return sp.simplify(sol[A]), sp.simplify(sol[X])


def _product_identity_ok(alpha: int, k: int, l: int) -> bool:
    """L735: prod_{j=k+1}^l (1 - (1+alpha)/j) = (l-alpha-1)!/l! * k!/(k-alpha-1)! (exact rationals, k > alpha)."""
    lhs = sp.prod([1 - sp.Rational(1 + alpha, j) for j in range(k + 1, l + 1)])
    rhs = sp.factorial(l - alpha - 1) / sp.factorial(l) * sp.factorial(k) / sp.factorial(k - alpha - 1)
    return sp.simplify(lhs - rhs) == 0


def _tol_two_depth(Ls: np.ndarray, y: np.ndarray, floor: float) -> float:
    """Bias budget of y(L_max) for a sequence y(L) = y_inf + Y/L + ...: the remainder Y/L_max is the measured change
    y(L_max/10) - y(L_max) divided by 9; the budget is 10 x that (floor for float round-off)."""
    j = int(np.argmin(np.abs(Ls - Ls[-1] / 10)))
    return max(10.0 * abs(y[-1] - y[j]) / 9.0, floor)


# ------------------------------------------------------------------------------------------------------------------
# P3-19: Appendix Lemma 5
# ------------------------------------------------------------------------------------------------------------------
@audits("P3-19")
def audit_p3_19(ctx) -> Finding:
    """P3, App. Lemma 5, L702-758: a_l = a_{l-1} lambda_l + b_l, lambda_l = 1 - alpha/l + Theta(l^-2), b_l = q + o(1/l)
    => a_l/l = q/(1+alpha) + Theta(1/l).

    Derived: with lambda_l = 1 - alpha/l + mu/l^2, a_l/l = q/(1+alpha) + X/l + o(1/l), X = q(alpha+mu)/(alpha(1+alpha));
    under the paper's Theta (positive constants, L700) mu > 0, so X > 0 and the lemma holds; it would fail for
    mu <= -alpha (a sign-free reading of Theta(l^-2)), where X <= 0."""
    checks, steps, series = [], [], []
    al, mu, nu = sp.symbols("alpha mu nu", positive=True)
    A, X = lemma5_ansatz(al, mu, nu)
    X_der = Q * (al + mu) / (al * (1 + al))
    checks.append(ctx.symbolic_check("limit-constant", sp.simplify(A - Q / (1 + al)) == 0,
                                     "A = q/(1+alpha) from the O(1) order of the ansatz", target="both"))
    checks.append(ctx.symbolic_check("first-correction", sp.simplify(X - X_der) == 0,
                                     "X = q(alpha+mu)/(alpha(1+alpha)) (independent of nu: b_l = q + o(1/l))",
                                     target="both", note="X > 0 for mu > 0 (the paper's Theta(l^-2))"))
    ok = all(_product_identity_ok(a, k, l) for a, k, l in [(1, 2, 7), (2, 3, 9), (3, 5, 12)])
    checks.append(ctx.symbolic_check("product-identity-L735", ok,
                                     "prod_{j=k+1}^l (1-(1+alpha)/j) = (l-alpha-1)!/l! k!/(k-alpha-1)!", target="both",
                                     note="exact rationals for (alpha,k,l) in (1,2,7),(2,3,9),(3,5,12); for k <= alpha "
                                          "the product is 0 (so the x_0 term of the proof vanishes identically)"))
    L = ctx.size(10**5, 10**6, 10**6)
    # the recipe's case: alpha = 3, mu = 1, b_l = 1 + 0.5/l^2  (lambda_l > 0 from l = 3)
    cases = [(3, 1.0, 0.5, 3, "recipe"), (1, -1.0, 0.0, 2, "boundary mu=-alpha")]
    for alpha, m, n_, l0, label in cases:
        Ls, a = linear_recursion(lambda l: 1 - alpha / l + m / l**2, lambda l: 1.0 + n_ / l**2, L, l0)
        y = Ls * (a / Ls - 1.0 / (1 + alpha))
        Xv = float(X_der.subs({Q: 1, al: alpha, mu: m}))
        tol = _tol_two_depth(Ls, y, 1e-9)
        name = "L-dev-recipe" if label == "recipe" else "L-dev-boundary"
        checks.append(ctx.exact_check(name, f"L (a_L/L - q/(1+alpha)) at L = {L} ({label}: alpha={alpha}, mu={m}, "
                                            f"nu={n_})", float(y[-1]), Xv, target="derived" if label != "recipe"
                                      else "both", tol=tol, kind="exact",
                                      note="bias budget: 10 x the measured change of L*dev over the last decade "
                                           "(the remainder is O(1/L)); exact float recursion"))
        series.append(_series(f"P3-19 {label}: L*dev - X", Ls, y - Xv, "|L dev - X|", ref=-1.0))
        steps.append(f"{label}: L*dev({L}) = {y[-1]:.9f} vs X = {Xv:.9f} (tol {tol:.2e})")
    steps.append("mu = -alpha (outside the paper's Theta(l^-2) with positive constants): X = 0, so a_l/l - q/(1+alpha) "
                 "= o(1/l) and no positive lower constant exists; mu < -alpha makes the deviation negative")
    return Finding(
        summary=("App. Lemma 5 holds: a_l/l = q/(1+alpha) + X/l + o(1/l), X = q(alpha+mu)/(alpha(1+alpha)) > 0 for the "
                 "positive l^-2 coefficient mu that the paper's Theta requires; recursion to L = 1e6 matches X to 1e-7"),
        printed=r"\frac{a_l}{l}=\frac{q}{1+\alpha}+\Theta(l^{-1})",
        derived=r"\frac{a_l}{l}=\frac{q}{1+\alpha}+\frac{q(\alpha+\mu)}{\alpha(1+\alpha)}\,l^{-1}+o(l^{-1})",
        symbolic_equal=True, checks=checks, steps=steps, series=series,
        condition="the two-sided Theta(1/l) needs mu > -alpha (mu = l^-2 coefficient of lambda_l); guaranteed by the "
                  "paper's definition of Theta (positive constants, L700), not by a sign-free reading")


# ------------------------------------------------------------------------------------------------------------------
# P3-20: Appendix Lemma 6
# ------------------------------------------------------------------------------------------------------------------
@audits("P3-20")
def audit_p3_20(ctx) -> Finding:
    """P3, App. Lemma 6, L762-814: lambda_l = 1 - alpha/l + kappa log l/l^2 + O(l^{-1-beta}), b_l = q + O(1/l) =>
    A log l/l <= a_l/l - q/(1+alpha) <= B log l/l with A, B > 0.

    Derived: a_l/l - q/(1+alpha) = X log l/l + O(1/l), X = kappa q/(alpha(1+alpha)); kappa is unrestricted in the
    statement, and A, B > 0 needs kappa > 0 (the proof silently takes kappa_1, kappa_2 > 0). For kappa < 0 (e.g. tanh
    on the EOC, where the lemma is used) the deviation is negative: |.| = Theta(log l/l) with the sign of kappa."""
    checks, steps, series = [], [], []
    al, ka = sp.symbols("alpha kappa")
    A, X = _ansatz_log(al, ka)
    X_der = ka * Q / (al * (1 + al))
    checks.append(ctx.symbolic_check("limit-constant", sp.simplify(A - Q / (1 + al)) == 0,
                                     "A = q/(1+alpha)", target="both"))
    checks.append(ctx.symbolic_check("log-coefficient", sp.simplify(X - X_der) == 0,
                                     "X = kappa q/(alpha(1+alpha)) from the (log l)/l order of the ansatz",
                                     target="derived"))
    checks.append(ctx.symbolic_check("sign-printed", False,
                                     "printed: A, B > 0 for every real kappa; derived: sign(X) = sign(kappa)",
                                     target="printed", note="fails for kappa <= 0"))
    L = ctx.size(10**5, 10**6, 10**6)
    for alpha, kap in [(2, 1.0), (2, -1.0)]:
        Ls, a = linear_recursion(lambda l: 1 - alpha / l + kap * math.log(l) / l**2, lambda l: 1.0, L, 3)
        dev = a / Ls - 1.0 / (1 + alpha)
        Xf, rms = _log_series_fit(Ls, dev)
        Xw, _ = _log_series_fit(Ls[Ls >= 10 * Ls[0]], dev[Ls >= 10 * Ls[0]])
        Xv = float(X_der.subs({Q: 1, al: alpha, ka: kap}))
        tol = max(10 * abs(Xf - Xw), 1e-5)
        tag = "pos" if kap > 0 else "neg"
        note = ("fit of dev on (A log L + B)/L + (C log^2 L + D log L + E)/L^2 over L in [1e3, L_max]; budget: 10 x the "
                f"change of the fitted A when the window starts a decade later (floor 1e-5); fit rms {rms:.1e}")
        checks.append(ctx.exact_check(f"log-coefficient-{tag}-derived", f"fitted X (kappa={kap}, alpha={alpha}, q=1)",
                                      Xf, Xv, target="derived", tol=tol, kind="exact", note=note))
        # the printed lower bound A log l/l with A > 0 forces X >= 0: statistic min(0, X_fit), printed prediction 0
        checks.append(ctx.exact_check(f"sign-{tag}-printed", f"min(0, fitted X) (kappa={kap}); printed A > 0 => 0",
                                      min(0.0, Xf), 0.0, target="printed", tol=tol, kind="exact", note=note))
        checks.append(ctx.exact_check(f"sign-{tag}-derived", f"min(0, fitted X) (kappa={kap}); derived min(0, X)",
                                      min(0.0, Xf), min(0.0, Xv), target="derived", tol=tol, kind="exact", note=note))
        series.append(_series(f"P3-20 kappa={kap}: |L dev/log L|", Ls, Ls * dev / np.log(Ls), "|L dev / log L|"))
        steps.append(f"kappa = {kap}: fitted X = {Xf:.8f} vs derived {Xv:.8f} (tol {tol:.1e}); "
                     f"dev(L={Ls[-1]}) = {dev[-1]:.3e}")
    steps.append("proof gaps: 'appendix lemma 5 with beta = 1/2' (Lemma 5 has no beta and needs Theta(l^-2), not "
                 "O(l^-3/2)); kappa_1, kappa_2 > 0 tacitly assume kappa > 0")
    return Finding(
        summary=("App. Lemma 6 holds only for kappa > 0: a_l/l - q/(1+alpha) = kappa q/(alpha(1+alpha)) log l/l + O(1/l), "
                 "negative for kappa < 0 (recursion to L = 1e6, alpha = 2, kappa = -1: fitted X = -1/6), so no A > 0"),
        printed=r"A\frac{\log l}{l}\le\frac{a_l}{l}-\frac{q}{1+\alpha}\le B\frac{\log l}{l},\ A,B>0",
        derived=r"\frac{a_l}{l}-\frac{q}{1+\alpha}=\frac{\kappa q}{\alpha(1+\alpha)}\frac{\log l}{l}+O(l^{-1})",
        symbolic_equal=False, checks=checks, steps=steps, series=series,
        corrected=r"\frac{a_l}{l}-\frac{q}{1+\alpha}=\frac{\kappa q}{\alpha(1+\alpha)}\frac{\log l}{l}+O(l^{-1})"
                  r"\ (\text{two-sided }\Theta\text{ with }A,B>0\text{ iff }\kappa>0)",
        difference=r"\text{sign of the }\log l/l\text{ term is that of }\kappa",
        condition="kappa > 0 (the statement leaves kappa unrestricted; for kappa < 0, e.g. tanh on the EOC, "
                  "|a_l/l - q/(1+alpha)| = Theta(log l/l) with a negative deviation)",
        severity="mathematical")


# ------------------------------------------------------------------------------------------------------------------
# P3-4: infinite-width dynamics (6)/(7), cited from Jacot et al. (2018): the NTK is frozen during GD as n -> infinity
# ------------------------------------------------------------------------------------------------------------------
def gd_ntk_drift(X: np.ndarray, Y: np.ndarray, width: int, depth: int, seed: int, eta: float = 0.5,
                 steps: int = 20) -> tuple[float, float, float]:
    """Full-batch GD on (1/2N)||f(X) - Y||^2 of a ReLU EOC FFNN (sigma_w = sqrt 2, sigma_b = 0, NTK parameterisation,
    numeric/finite_nets.py); returns (sup_t ||K_t - K_0||_F/||K_0||_F, initial and final residual norms).
    theta <- theta - eta (1/N) J^T (f - Y) is the Euler step of (6) with gradient nabla_z l = z - y, i.e. of (7)."""
    from numeric.empirical_ntk import jacobian, ntk
    from numeric.finite_nets import output, sample_network
    N = X.shape[0]
    net = sample_network("ffnn", "relu", X.shape[1], width, depth, math.sqrt(2.0), 0.0, np.random.default_rng(seed))
    K0 = ntk(net, X)
    r0 = float(np.linalg.norm(output(net, X).reshape(-1) - Y))
    sup = 0.0
    for _ in range(steps):
        g = jacobian(net, X).T @ (output(net, X).reshape(-1) - Y) / N
        o = 0
        for l in range(depth):
            w = net.W[l].size
            net.W[l] -= eta * g[o:o + w].reshape(net.W[l].shape)
            o += w
            net.b[l] -= eta * g[o:o + net.b[l].size]
            o += net.b[l].size
        sup = max(sup, float(np.linalg.norm(ntk(net, X) - K0) / np.linalg.norm(K0)))
    return sup, r0, float(np.linalg.norm(output(net, X).reshape(-1) - Y))


def _slope_with_se(widths, samples) -> tuple[float, float]:
    """Weighted LS slope of log(mean drift) on log(width); SE by the delta method from the per-width sample SE
    (independent networks at each width)."""
    x = np.log(np.asarray(widths, float))
    m = np.array([np.mean(s) for s in samples])
    se = np.array([np.std(s, ddof=1) / math.sqrt(len(s)) for s in samples]) / m   # SE of log mean
    w = 1 / se**2
    xb = np.sum(w * x) / np.sum(w)
    slope = float(np.sum(w * (x - xb) * np.log(m)) / np.sum(w * (x - xb) ** 2))
    return slope, float(math.sqrt(1 / np.sum(w * (x - xb) ** 2)))


@audits("P3-4")
def audit_p3_4(ctx) -> Finding:
    """P3, (6)/(7), L94-103 (cited: Jacot et al. 2018): as n_1..n_L -> infinity the NTK K_{theta_t} of GD training
    stays at its initial limit K^L for t < T; (7) is (6) with the squared loss (nabla_z l = z - y).

    Checkable: (7) from (6) symbolically; and, at finite width, the relative NTK drift along GD decreasing to 0 with
    width (one-sided: slope of log drift vs log n < 0 at z = 3.89). The limit theorem itself is cited, not re-proved."""
    checks, steps = [], []
    z, y = sp.symbols("z y")
    loss = (z - y) ** 2 / 2
    checks.append(ctx.symbolic_check("(7)-from-(6)", sp.simplify(sp.diff(loss, z) - (z - y)) == 0,
                                     "nabla_z (1/2)(z - y)^2 = z - y turns (6) into (7)", target="both"))
    rng = ctx.rng("p3-4-data")
    N, d, depth = 6, 4, 3
    X = rng.standard_normal((N, d))
    X *= math.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.sin(X.sum(axis=1))
    widths = ctx.size((16, 32, 64, 128), (16, 32, 64, 128, 256), (16, 32, 64, 128, 256, 512, 1024))
    reps = ctx.size(14, 12, 24)
    seeds = ctx.seed_sequence("p3-4-nets").generate_state(len(widths) * reps)
    samples, fits = [], []
    for i, n in enumerate(widths):
        runs = [gd_ntk_drift(X, Y, n, depth, int(seeds[i * reps + r])) for r in range(reps)]
        samples.append([r[0] for r in runs])
        fits.append(np.mean([r[2] / r[1] for r in runs]))
    slope, se = _slope_with_se(widths, samples)
    upper = slope + 3.89 * se
    # one-sided: frozen-in-the-limit => drift -> 0 => slope < 0; passes iff slope + 3.89 SE < 0 (alpha = 1e-4);
    # built by hand (ctx.mc_check is two-sided) and counted among the run's stochastic checks
    ctx.stochastic_checks.append("ntk-drift-decreases-with-width")
    checks.append(Check(name="ntk-drift-decreases-with-width", kind="monte-carlo", target="both",
                        statistic="slope of log mean sup_t ||K_t - K_0||_F/||K_0||_F vs log n (one-sided: < 0)",
                        estimate=slope, prediction=0.0, tolerance=0.0, passed=bool(upper < 0), se=se, alpha=1e-4,
                        bias=0.0, margin=float(-slope / se), n=reps * len(widths),
                        note=f"{reps} independent ReLU EOC nets per width, depth {depth}, N = {N}, eta = 0.5, 20 GD "
                             "steps; one-sided z = 3.89; SE by the delta method from per-width sample SEs; no bias "
                             "budget needed: the claim is only the sign (drift -> 0), any finite-width curvature of "
                             "log drift vs log n is part of what the slope measures (literature: O(n^-1/2) upper bound "
                             "of Lee et al. 2019, ~1/n observed by Dyer & Gur-Ari 2019)"))
    ctx.series.append(_series("P3-4 NTK drift vs width", np.asarray(widths, float),
                              np.array([np.mean(s) for s in samples]), "sup_t ||K_t-K_0||/||K_0||", ref=-0.5))
    steps.append(f"widths {list(widths)}: mean drift {[round(float(np.mean(s)), 4) for s in samples]}; "
                 f"slope {slope:.3f} +- {se:.3f}; mean final/initial residual {[round(float(v), 3) for v in fits]}")
    return Finding(
        summary=(f"(7) follows from (6); at finite width the relative NTK drift along GD shrinks with width "
                 f"(ReLU EOC, depth 3: log-log slope {slope:.2f} +- {se:.2f}, widths {widths[0]}-{widths[-1]}); the "
                 "infinite-width theorem itself is cited (Jacot et al. 2018), not re-proved"),
        printed=r"df_t(\mathcal X)=-\frac1N\hat K^L(f_t(\mathcal X)-\mathcal Y)dt,\ K_{\theta_t}\to K^L",
        derived=r"\nabla_z\tfrac12(z-y)^2=z-y;\ \sup_t\|K_{\theta_t}-K_{\theta_0}\|/\|K_{\theta_0}\|\downarrow0\text{ in }n",
        symbolic_equal=True, checks=checks, steps=steps,
        condition="numeric evidence is a finite-width trend (n <= 256 by default), consistent with but not a proof of the cited limit")


# ------------------------------------------------------------------------------------------------------------------
# P3-40: Figure 1a statement (EOC, ReLU and ELU)
# ------------------------------------------------------------------------------------------------------------------
def _relative_misfit(cols, y) -> tuple[np.ndarray, float]:
    """Least squares of y on the given columns with relative residuals; returns (coefficients, rms relative misfit)."""
    M = np.stack(cols, axis=1) / np.abs(y)[:, None]
    coef, *_ = np.linalg.lstsq(M, np.sign(y), rcond=None)
    res = M @ coef - np.sign(y)
    return coef, float(np.sqrt(np.mean(res**2)))


@audits("P3-40")
def audit_p3_40(ctx) -> Finding:
    """P3, L307/L323 (Figure 1a): on the EOC |K^L/L - AK^infinity| converges "approximately of order L^-1 for ReLU and
    ELU"; "for ELU the exact rate is O(log(L) L^-1)".

    Derived (Lemma 2 recursion, inputs with Sigma^1 = q, c^1 = 0.3): ReLU (0, sqrt 2): dev = (3q/8) log L/L + O(1/L)
    (P3-21); ELU (0.2, root-found sigma_w): phi'' jumps at 0, so dev = X L^-1/2 + ... (P3-22), not O(log L/L)."""
    checks, steps, series = [], [], []
    Lmax = int(ctx.size(3 * 10**4, 10**5, 10**6))
    Ls = np.unique(np.round(np.logspace(1, math.log10(Lmax), 8 * int(round(math.log10(Lmax) - 1)) + 1)).astype(int))
    tol = 1e-4
    tol_note = ("rms relative misfit over L in [1e3, L_max] (30-odd log-spaced depths); tolerance 1e-4: the structure "
                "that is right leaves ~1e-8 (map interpolation and truncation), so 1e-4 is 1e4 x that")
    res = {}
    for act, sb in (("relu", 0.0), ("elu", 0.2)):
        sw = math.sqrt(2.0) if act == "relu" else eoc_point(act, sb).sigma_w
        cm = CorrelationMap(act, sw, sb)
        r = deep_ffnn_ntk(cm, 0.3, Lmax, record=Ls)
        lam = 0.25 if act == "relu" else 1.0 / 3.0
        L = r.layers.astype(float)
        dev = r.K_off / L - cm.q * lam
        res[act] = (cm, L, dev, sw)
        series.append(_series(f"P3-40 {act} EOC: |AK^L - AK^inf|", L, dev, "|AK^L(x,x') - q lambda|", -1.0))
        m = (L >= 10) & (L <= 300)
        s_plot = float(np.polyfit(np.log(L[m]), np.log(np.abs(dev[m])), 1)[0])
        i_min = int(np.argmin(np.abs(dev[m])))
        steps.append(f"{act} (sigma_b = {sb}, sigma_w = {sw:.6f}, q = {cm.q:.6f}): log-log slope of |dev| on [10, 300] = "
                     f"{s_plot:.3f}; min |dev| there {abs(dev[m][i_min]):.2e} at L = {int(L[m][i_min])}; "
                     f"dev(L_max = {int(L[-1])}) = {dev[-1]:.3e}")
    # ReLU control: the same misfit statistic accepts the log L/L structure where it is the derived one (P3-21)
    cm, L, dev, _ = res["relu"]
    far = L >= 1000
    lgr = np.log(L[far])
    coef_r, mis_r = _relative_misfit([lgr / L[far], 1 / L[far], lgr**2 / L[far]**2, lgr / L[far]**2, 1 / L[far]**2],
                                     dev[far])
    Ar = float(coef_r[0])
    checks.append(ctx.exact_check("relu-structure-control", "rms relative misfit of dev = (A log L + B)/L + O(log^2 L/L^2) "
                                  "(ReLU EOC)", mis_r, 0.0, target="derived", tol=tol, kind="exact",
                                  note=tol_note + f"; fitted A = {Ar:.5f} (P3-21 derives 3q/8 = {3 * cm.q / 8:.5f})"))
    # ELU: the same misfit statistic for the printed structure (log L/L class) and the derived one (L^-1/2 leading)
    cm, L, dev, sw = res["elu"]
    L, dev = L[L >= 1000], dev[L >= 1000]
    lg = np.log(L)
    printed_cols = [lg / L, 1 / L, lg**2 / L**2, lg / L**2, 1 / L**2]
    derived_cols = [L**-0.5, lg / L, 1 / L, L**-1.5, lg**2 / L**2, lg / L**2, 1 / L**2]
    _, mis_p = _relative_misfit(printed_cols, dev)
    coef_d, mis_d = _relative_misfit(derived_cols, dev)
    checks.append(ctx.exact_check("elu-structure-printed", "rms relative misfit of dev = (A log L + B)/L + O(log^2 L/L^2)",
                                  mis_p, 0.0, target="printed", tol=tol, kind="exact", note=tol_note))
    checks.append(ctx.exact_check("elu-structure-derived", "rms relative misfit of dev = X L^-1/2 + (A log L + B)/L + ...",
                                  mis_d, 0.0, target="derived", tol=tol, kind="exact", note=tol_note))
    steps.append(f"ELU on [1e3, {int(L[-1])}]: printed-structure misfit {mis_p:.2e}, derived-structure misfit {mis_d:.2e}; "
                 f"fitted L^-1/2 coefficient X = {coef_d[0]:.5f} (P3-22 derives X = -0.447 at sigma_b = 0.2)")
    steps.append("'approximately of order L^-1' on the plotted range depends on the undeclared inputs (Figure 1a is not in the "
                 "text): with c^1 = 0.3 the slopes on [10, 300] above are far from -1 for ELU and ~ -0.66 for ReLU (log L/L "
                 "pre-asymptotics); not graded")
    return Finding(
        summary=(f"Figure 1a text: ReLU's EOC deviation is (3q/8) log L/L (fitted {Ar:.5f}); but ELU's 'exact rate "
                 f"O(log(L) L^-1)' is wrong: dev = X L^-1/2 + ... (X = {coef_d[0]:.3f}); a log L/L-type fit misses by "
                 f"{mis_p:.1e} (relative rms) vs {mis_d:.1e} for the derived structure, so ELU converges slower than ReLU"),
        printed=r"\text{ELU: }|AK^L-AK^\infty|=O(\log(L)L^{-1});\ \text{ReLU, ELU: approximately }L^{-1}",
        derived=r"\text{ReLU: }\tfrac{3q}{8}\tfrac{\log L}{L}+O(L^{-1});\ \text{ELU: }XL^{-1/2}+O(\log L/L)",
        symbolic_equal=False, checks=checks, steps=steps, series=series,
        corrected=r"\text{ELU (EOC): }|AK^L-AK^\infty|=\Theta(L^{-1/2})",
        difference=r"L^{-1/2}\ \text{vs}\ \log(L)L^{-1}",
        condition="the O(log L/L) rate holds for C^3 activations of class S (tanh), not for ELU whose phi'' jumps at 0",
        severity="mathematical")
