"""P0, Section 3.1: the SDE limit of the fully connected ResNet (Theorem 2, Corollaries 3, 4, 5).

Every derived form comes from ``derivations.diffusion.one_step_limit`` (Taylor expansion of one residual
step x + phi(dW psi(x) + db) and Isserlis moments) applied to a parameter law from ``derivations.laws``;
the printed forms are transcribed from the page.  Numeric evidence: exact one-step moments by Gauss-Hermite
quadrature (no Monte Carlo noise) whose error must vanish at the derived rate, direct Monte Carlo of the
model's parameters, and path-level comparisons of finite networks with Euler schemes of the limiting SDEs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from derivations import diffusion, laws
from derivations.compare import compare
from numeric import quadrature, stats
from numeric.activations import get_activation
from numeric.laws import GaussianLaw as NumLaw
from verify.claims.p0_common import (ASSUMPTION_5, PHI, evaluate, general_law_values, linear_form_cov, matrix_field,
                                     phi_values, psi_symbols, random_general_law)
from verify.registry import audits
from verify.results import Finding

P1, P2 = PHI[1], PHI[2]
DTS = (3e-2, 1e-2, 3e-3, 1e-3, 3e-4)  # the asymptotic regime of every check below
L = sp.latex


def _diag(M: sp.Matrix) -> sp.Matrix:
    """P0 Table 1: diag(M) is the vector of diagonal entries."""
    return sp.Matrix([M[i, i] for i in range(M.rows)])


# --------------------------------------------------------------------------------------------------------
# Symbolic derivations (cached: shared by several claims)
# --------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _general(D: int, n_inputs: int = 1):
    law = laws.general(D)
    psis = [psi_symbols(D, f"psi{i + 1}" if n_inputs > 1 else "psi") for i in range(n_inputs)]
    return law, psis, diffusion.one_step_limit(law, psis, ASSUMPTION_5)


def _printed_drift_thm2(law, psi):
    """P0 Thm 2, L217: mu(x) = phi'(0)(mu^b + mu^W psi(x)) + 1/2 phi''(0) diag(V[eps^W psi(x) + eps^b | x])."""
    return P1 * (law.mean_b + law.mean_W * psi) + sp.Rational(1, 2) * P2 * _diag(linear_form_cov(law, psi, psi))


def _printed_diffusion_thm2(law, psi):
    """P0 Thm 2, L221: sigma^2(x) = phi'(0)^2 V[eps^W psi(x) + eps^b | x]."""
    return P1**2 * linear_form_cov(law, psi, psi)


# --------------------------------------------------------------------------------------------------------
# Numeric instances
# --------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _numeric_general(seed: int, D: int = 3):
    rng = np.random.default_rng(seed)
    inst = random_general_law(rng, D)
    x = rng.normal(size=D)
    y = rng.normal(size=D)
    return inst, x, y


def _num_law(inst) -> NumLaw:
    return NumLaw.general(inst["mean_W"], inst["Sigma_W"], inst["mean_b"], inst["Sigma_b"])


def _values_general(D, inst, psis_sym, psis_num, act):
    law, _, _ = _general(D, len(psis_sym))
    vals = general_law_values(law, inst)
    for ps, pn in zip(psis_sym, psis_num):
        vals.update({ps[d]: pn[d] for d in range(D)})
    vals.update(phi_values(act))
    return vals


def _thm2_instance(ctx, D: int = 3):
    """The numeric set-up shared by P0-3/4/5: a random general law (D = 3), a random state x, swish phi
    (phi'(0) = phi''(0) = 1/2, so both coefficients are visible), tanh psi; with the derived limit evaluated there."""
    inst, x, _ = _numeric_general(ctx.seed_sequence("instance").generate_state(1)[0], D)
    _, (psi_sym,), lim = _general(D)
    vals = _values_general(D, inst, [psi_sym], [np.tanh(x)], "swish")
    return x, lim, vals, _num_law(inst), get_activation("swish"), get_activation("tanh")


def _cross_covariation_checks(ctx, name, lim, vals, x, y, nl, cmp, sym_name):
    """Shared by P0-8 and P0-12: the derived cross block of the two-input diffusion (and its next-order term)
    evaluated at ``vals``, checked against exact one-step cross-covariances (swish phi, tanh psi), after the
    symbolic comparison."""
    D = nl.D
    S, S1 = evaluate(lim.diffusion[:D, D:], vals), evaluate(lim.diffusion_next[:D, D:], vals)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    checks, *_ = _convergence_checks(ctx, name, "Cov(Dx^i, Dx^j)",
                                     lambda dt: quadrature.one_step_cross_cov(x, y, nl, phi, psi_f, dt), S, S1)
    return [ctx.symbolic_check(sym_name, cmp.equal, cmp.statistic())] + checks


def _convergence_checks(ctx, name, stat, moment_fn, limit, next_term, target="both"):
    """Two deterministic rate checks from exact quadrature moments m(dt):
    |m(dt)/dt - limit| = O(dt) (slope 1) and |m(dt)/dt - limit - dt next| = O(dt^2) (slope 2).
    A wrong limit gives slope 0; a wrong next-order term gives slope 1 in the second check."""
    vals = np.array([moment_fn(dt) / dt for dt in DTS])
    limit, next_term = np.asarray(limit, float), np.asarray(next_term, float)
    dts = np.array(DTS).reshape((-1,) + (1,) * limit.ndim)
    err1 = np.abs(vals - limit).reshape(len(DTS), -1).max(axis=1)
    err2 = np.abs(vals - limit - dts * next_term).reshape(len(DTS), -1).max(axis=1)
    c1 = ctx.rate_check(f"{name}: first order", f"slope of max|{stat}/dt - limit| vs dt (GH quadrature)", DTS, err1,
                        1.0, target=target, slack=0.15,
                        note=f"errors {err1[0]:.2e}..{err1[-1]:.2e}")
    c2 = ctx.rate_check(f"{name}: next order", f"slope of max|{stat}/dt - limit - dt*next| vs dt", DTS, err2, 2.0,
                        target="derived", slack=0.25, note=f"errors {err2[0]:.2e}..{err2[-1]:.2e}")
    return [c1, c2], vals, err1, err2


# --------------------------------------------------------------------------------------------------------
# P0-3, P0-4, P0-5: Theorem 2
# --------------------------------------------------------------------------------------------------------

@audits("P0-3")
def audit_p0_3(ctx) -> Finding:
    """P0, Thm 2, L215-217: mu(x) = phi'(0)(mu^b + mu^W psi) + 1/2 phi''(0) diag V[eps^W psi + eps^b]."""
    law, (psi,), lim = _general(2)
    printed = _printed_drift_thm2(law, psi)
    cmp = compare(lim.drift, printed)
    x, lim3, vals, nl, phi, psi_f = _thm2_instance(ctx)
    mu, mu1 = evaluate(lim3.drift, vals).ravel(), evaluate(lim3.drift_next, vals).ravel()
    checks, *_ = _convergence_checks(ctx, "drift", "E[Dx]", lambda dt: quadrature.one_step_moments(x, nl, phi, psi_f, dt)["mean"],
                                     mu, mu1)
    checks.insert(0, ctx.symbolic_check("symbolic drift (D=2, general law)", cmp.equal, cmp.statistic()))
    checks.append(_mc_one_step_mean(ctx, nl, x, phi, psi_f, mu, mu1))
    return Finding(
        summary="Theorem 2's infinitesimal mean is re-derived exactly (general Gaussian law, any phi, psi); one-step "
                "moments converge to it at rate dt, and the derived next-order term predicts the O(dt) bias.",
        printed=L(sp.Symbol(r"\mu(x)")) + " = " + r"\phi'(0)(\mu^b+\mu^W\psi(x))+\tfrac12\phi''(0)\,\mathrm{diag}(\mathbb V[\varepsilon^W_t\psi(x)+\varepsilon^b_t|x])",
        derived=r"\mu_d=\phi'(0)\,m_d+\tfrac12\phi''(0)V_{dd},\quad m=\mu^W\psi(x)+\mu^b,\ V=(I\otimes\psi^\top)\Sigma^W(I\otimes\psi)+\Sigma^b;"
                r"\quad \text{next order: } \tfrac12\phi''(0)m_d^2+\tfrac12\phi'''(0)m_dV_{dd}+\tfrac18\phi''''(0)V_{dd}^2",
        symbolic_equal=cmp.equal, checks=checks,
        steps=[r"$h=\Delta W\psi(x)+\Delta b=m\,\Delta t+\xi\sqrt{\Delta t}$ with $\xi\sim\mathcal N(0,V)$ exactly (Assumption 4).",
               r"Taylor: $\phi(h)=\sum_{n\le4}\phi^{(n)}(0)h^n/n!$; Isserlis moments of $\xi$; collect powers of $\sqrt{\Delta t}$ (odd ones vanish).",
               r"$\mathbb E[\Delta x_d]=(\phi'(0)m_d+\tfrac12\phi''(0)V_{dd})\Delta t+(\tfrac12\phi''(0)m_d^2+\tfrac12\phi'''(0)m_dV_{dd}+\tfrac18\phi''''(0)V_{dd}^2)\Delta t^2+O(\Delta t^3)$.",
               r"Compared with the printed form symbolically at $D=2$ (all means and covariances free symbols)."])


def _mc_one_step_mean(ctx, nl, x, phi, psi_f, mu, mu1):
    """Direct Monte Carlo of one residual step (parameters sampled from the law's factor form) at dt = 0.01."""
    dt = 1e-2
    n = ctx.size(100_000, 400_000, 2_000_000)
    rng = ctx.rng("one-step-mc")
    acc = []
    for chunk in np.array_split(np.arange(n), max(1, n // 100_000)):
        dW, db = nl.sample(rng, chunk.size, dt)
        h = np.einsum("bij,j->bi", dW, psi_f.f(x)) + db
        acc.append(phi.f(h)[:, 0] / dt)
    est = stats.mean_estimate(np.concatenate(acc))
    exact = quadrature.one_step_moments(x, nl, phi, psi_f, dt)["mean"][0] / dt
    remainder = abs(exact - (mu[0] + dt * mu1[0]))
    return ctx.mc_check("one-step Monte Carlo of E[Dx_1]/dt at dt=0.01", "mean of phi(h_1)/dt over sampled dW, db",
                        est, float(mu[0] + dt * mu1[0]), target="both", bias=remainder,
                        note=f"prediction = drift + dt*next-order; bias budget = the O(dt^2) remainder {remainder:.2e} "
                             f"computed exactly by quadrature")


@audits("P0-4")
def audit_p0_4(ctx) -> Finding:
    """P0, Thm 2, L221: sigma^2(x) = phi'(0)^2 V[eps^W psi(x) + eps^b | x]."""
    law, (psi,), lim = _general(2)
    printed = _printed_diffusion_thm2(law, psi)
    cmp = compare(lim.diffusion, printed)
    x, lim3, vals, nl, phi, psi_f = _thm2_instance(ctx)
    S, S1 = evaluate(lim3.diffusion, vals), evaluate(lim3.diffusion_next, vals)
    checks, *_ = _convergence_checks(ctx, "diffusion", "Cov(Dx)", lambda dt: quadrature.one_step_moments(x, nl, phi, psi_f, dt)["cov"],
                                     S, S1)
    checks.insert(0, ctx.symbolic_check("symbolic diffusion (D=2, general law)", cmp.equal, cmp.statistic()))
    return Finding(
        summary="Theorem 2's infinitesimal covariance phi'(0)^2 V is re-derived exactly; exact one-step covariances "
                "converge to it at rate dt with the derived next-order term.",
        printed=r"\sigma^2(x)=\phi'(0)^2\,\mathbb V[\varepsilon_t^W\psi(x)+\varepsilon_t^b|x]",
        derived=r"\Sigma_{de}=\phi'(0)^2V_{de};\quad\text{next order: }\tfrac12V_{de}\big(\phi'(0)\phi'''(0)(V_{dd}+V_{ee})+\phi''(0)^2V_{de}+2\phi'(0)\phi''(0)(m_d+m_e)\big)",
        symbolic_equal=cmp.equal, checks=checks,
        steps=[r"$\mathrm{Cov}(\phi(h_d),\phi(h_e))$ expanded to $O(\Delta t^2)$ with Isserlis moments of $(\xi_d,\xi_e)$.",
               r"Order $\Delta t$: $\phi'(0)^2V_{de}$; the order-$\Delta t^2$ coefficient is the finite-depth bias."])


@audits("P0-5")
def audit_p0_5(ctx) -> Finding:
    """P0, Thm 2 and its proof L850-854: E[(Dx_d)^4]/dt -> 0 (Assumption 1 with delta = 2)."""
    law, (psi,), lim = _general(2)
    derived_limit = sp.Matrix([sp.limit(r * diffusion.DT, diffusion.DT, 0) for r in lim.fourth])
    cmp = compare(derived_limit, sp.zeros(2, 1))
    x, lim3, vals, nl, phi, psi_f = _thm2_instance(ctx)
    R = evaluate(lim3.fourth, vals).ravel()
    ratio = np.array([quadrature.one_step_moments(x, nl, phi, psi_f, dt)["m4"] / dt for dt in DTS])
    c_rate = ctx.rate_check("E[Dx^4]/dt -> 0 linearly", "slope of max_d E[Dx_d^4]/dt vs dt (GH)", DTS, ratio.max(axis=1),
                            1.0, target="both", slack=0.15)
    # leading coefficient: E[Dx^4]/dt^2 -> R = 3 phi'(0)^4 V_dd^2; Richardson bias from two dt
    r1, r2 = ratio[-2] / DTS[-2], ratio[-1] / DTS[-1]
    bias = 2.5 * np.max(np.abs(r1 - r2)) * DTS[-1] / (DTS[-2] - DTS[-1])
    c_coef = ctx.exact_check("leading coefficient 3 phi'(0)^4 V_dd^2", f"E[Dx_1^4]/dt^2 at dt={DTS[-1]:g} (GH)", r2[0], R[0],
                             target="derived", tol=float(bias) + 1e-12,
                             note=f"tolerance = 2.5x the O(dt) bias at dt={DTS[-1]:g} measured from the change between "
                                  f"dt={DTS[-2]:g} and {DTS[-1]:g}")
    return Finding(
        summary="The fourth moment of a one-step increment is 3 phi'(0)^4 V_dd^2 dt^2 + O(dt^3), so E[Dx^4]/dt -> 0 "
                "(Assumption 1 with delta = 2) as Theorem 2 states.",
        printed=r"\lim_{\Delta t\downarrow0}\mathbb E[(\Delta\mathbf x_{t,d})^{4}|\mathbf x_t]/\Delta t=0",
        derived=r"\mathbb E[(\Delta x_d)^4]=3\phi'(0)^4V_{dd}^2\,\Delta t^2+O(\Delta t^3)",
        symbolic_equal=cmp.equal,
        checks=[ctx.symbolic_check("symbolic limit", cmp.equal, cmp.statistic()), c_rate, c_coef],
        steps=[r"$\mathbb E\phi(h_d)^4$ expanded to $O(\Delta t^2)$ by Isserlis; with $\phi(0)=0$ the $\Delta t^0$ and $\Delta t^1$ coefficients vanish."])


# --------------------------------------------------------------------------------------------------------
# P0-6: SDE (12), path level
# --------------------------------------------------------------------------------------------------------

@audits("P0-6")
def audit_p0_6(ctx) -> Finding:
    """P0, eq. (12), L223-227: dx = phi'(0) V^{1/2} dB + (phi'(0)(mu^b + mu^W psi) + 1/2 phi''(0) diag V) dt."""
    from numeric.resnet import simulate_dense
    from numeric.sde import euler_maruyama

    law, (psi,), lim = _general(2)
    cmp_drift = compare(lim.drift, _printed_drift_thm2(law, psi))
    # (12) as printed: diffusion coefficient phi'(0) V^{1/2}, so its generator uses phi'(0)^2 V
    cmp_diff = compare(lim.diffusion, P1**2 * linear_form_cov(law, psi, psi))
    equal = cmp_drift.equal and cmp_diff.equal
    D = 2
    rng0 = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = random_general_law(rng0, D, mean_scale=0.4, cov_scale=0.5)
    x0 = rng0.normal(size=D)
    nl = _num_law(inst)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    # compiled kernels of the derived drift and diffusion, as functions of psi(x)
    vals = general_law_values(law, inst)
    vals.update(phi_values("swish"))
    drift_f = matrix_field(lim.drift.subs(vals), list(psi))
    diff_f = matrix_field(lim.diffusion.subs(vals), list(psi))

    def drift(t, x):
        return drift_f(psi_f.f(x))[:, :, 0]

    def diffusion_coef(t, x):
        return np.linalg.cholesky(diff_f(psi_f.f(x)))

    B = ctx.size(10_000, 40_000, 400_000)
    Ls = ctx.size((25, 50), (50, 100), (100, 200))
    feats = {"E x_T1": lambda z: z[:, 0], "E x_T1^2": lambda z: z[:, 0] ** 2, "E x_T1 x_T2": lambda z: z[:, 0] * z[:, 1]}
    res_net, res_eu = {}, {}
    for Lk in Ls:
        r = simulate_dense(x0[None, :], nl, L=Lk, T=1.0, phi=phi, psi=psi_f, B=B, rng=ctx.rng(f"resnet-{Lk}"))
        res_net[Lk] = r.x[:, 0, :]
        e = euler_maruyama(np.tile(x0, (B, 1)), drift, diffusion_coef, T=1.0, steps=Lk, rng=ctx.rng(f"euler-{Lk}"))
        res_eu[Lk] = e.x
    checks = [ctx.symbolic_check("symbolic drift and diffusion of (12)", equal,
                                 cmp_drift.statistic() + "; " + cmp_diff.statistic())]
    La, Lb = Ls
    for fname, f in feats.items():
        en = [stats.mean_estimate(f(res_net[Lk])) for Lk in Ls]
        ee = [stats.mean_estimate(f(res_eu[Lk])) for Lk in Ls]
        rn, re_ = stats.richardson(en[0].value, en[1].value), stats.richardson(ee[0].value, ee[1].value)
        se = np.sqrt(4 * en[1].se**2 + en[0].se**2 + 4 * ee[1].se**2 + ee[0].se**2)
        bias = 0.5 * (abs(en[1].value - en[0].value) + abs(ee[1].value - ee[0].value))
        checks.append(ctx.mc_check(f"ResNet vs Euler of (12): {fname}", f"Richardson(L={La},{Lb}) ResNet - Richardson Euler",
                                   stats.Estimate(rn - re_, float(se), B), 0.0, target="both", bias=float(bias),
                                   note="both sides Richardson-extrapolated 2f(2L)-f(L); bias budget = half the measured "
                                        "first-order changes (the O(1/L^2) remainder)"))
    return Finding(
        summary="SDE (12) has the drift and diffusion derived from the model; finite ResNets and Euler runs of (12) agree in "
                "E f(x_T) for f in {x_1, x_1^2, x_1 x_2} after Richardson extrapolation in depth.",
        printed=r"dx_t=\phi'(0)(\mathbb V[\varepsilon^W\psi(x_t)+\varepsilon^b|x_t])^{1/2}dB_t+\big(\phi'(0)(\mu^b+\mu^W\psi(x_t))+\tfrac12\phi''(0)\mathrm{diag}(\mathbb V[\cdot])\big)dt",
        derived=r"\text{drift }\phi'(0)m+\tfrac12\phi''(0)\mathrm{diag}V,\ \text{diffusion }\phi'(0)^2V\ \text{(P0-3, P0-4)}",
        symbolic_equal=equal, checks=checks,
        steps=["Drift and diffusion from the one-step expansion (P0-3, P0-4), compiled with lambdify.",
               "Finite ResNet (dense simulator, D=2, random Assumption-4 law, swish phi, tanh psi) vs Euler-Maruyama of the "
               "derived SDE, both at depths L and 2L, Richardson-extrapolated."])


# --------------------------------------------------------------------------------------------------------
# P0-7, P0-8: Corollary 3
# --------------------------------------------------------------------------------------------------------

def _qv_of_Wpsi(law, psi):
    """d[W psi(x)]_t / dt from the Brownian loadings of W (Assumption 4): diag((I (x) psi^T) Sigma^W (I (x) psi))."""
    A = sp.kronecker_product(sp.eye(law.D), psi.T)
    return _diag(A * law.cov_W * A.T)


@audits("P0-7")
def audit_p0_7(ctx) -> Finding:
    """P0, Cor. 3, eq. (13), L231-233: dx = phi'(0)(dW psi + db) + 1/2 phi''(0)(d[W psi]_t + d[b]_t)."""
    from numeric.resnet import simulate_dense

    law, (psi,), lim = _general(2)
    # (13) as printed: drift phi'(0)(mu^W psi + mu^b) + 1/2 phi''(0)(d[W psi] + d[b]); noise phi'(0)(dW~ psi + dB^b)
    printed_drift = P1 * (law.mean_W * psi + law.mean_b) + sp.Rational(1, 2) * P2 * (_qv_of_Wpsi(law, psi) + _diag(law.cov_b))
    printed_diff = P1**2 * law.preact_cov(psi, psi)
    c1, c2 = compare(lim.drift, printed_drift), compare(lim.diffusion, printed_diff)
    equal = c1.equal and c2.equal
    # pathwise: the ResNet and the Euler scheme of (13) driven by the same dW, db
    D = 2
    rng0 = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    inst = random_general_law(rng0, D, mean_scale=0.4, cov_scale=0.5)
    x0 = rng0.normal(size=D)
    nl = _num_law(inst)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    p1, p2 = 0.5, 0.5  # swish: phi'(0), phi''(0) (taylor_at_zero)
    SW, Sb = inst["Sigma_W"], inst["Sigma_b"]
    B = ctx.size(500, 2000, 8000)
    Ls = ctx.size((25, 100, 400), (50, 200, 800), (100, 400, 1600))
    rms = []
    for Lk in Ls:
        dt = 1.0 / Lk
        xe = np.tile(x0, (B, 1))

        def drive(l, x, dW, db, xe=xe, dt=dt):
            p = psi_f.f(xe)
            A = np.einsum("de,bk->bdek", np.eye(D), p).reshape(B, D, D * D)  # (I (x) psi^T)
            qv = np.einsum("bdi,ij,bdj->bd", A, SW, A) + np.diag(Sb)
            xe += p1 * (np.einsum("bij,bj->bi", dW, p) + db) + 0.5 * p2 * qv * dt

        r = simulate_dense(x0[None, :], nl, L=Lk, T=1.0, phi=phi, psi=psi_f, B=B, rng=ctx.rng(f"path-{Lk}"), callback=drive)
        rms.append(float(np.sqrt(np.nanmean(np.sum((r.x[:, 0, :] - xe) ** 2, axis=1)))))
    checks = [ctx.symbolic_check("drift and diffusion of (13) vs the model", equal, c1.statistic() + "; " + c2.statistic()),
              ctx.rate_check("pathwise ResNet vs Euler of (13)", "slope of RMS|x_T - x^Euler_T| vs L (same dW, db)",
                             np.array(Ls, float), np.array(rms), -0.5, target="both", slack=0.15,
                             note="RMS " + ", ".join(f"L={a}: {b:.2e}" for a, b in zip(Ls, rms)))]
    return Finding(
        summary="Eq. (13) has the drift and covariance of the model's diffusion limit; driven by the network's own dW, db, "
                "its Euler scheme tracks the finite ResNet with RMS error ~ L^(-1/2).",
        printed=r"dx^{(i)}_t=\phi'(0)(dW_t\psi(x^{(i)}_t)+db_t)+\tfrac12\phi''(0)(d[W\psi(x^{(i)}_t)]_t+d[b]_t)",
        derived=r"d[W\psi(x)]_t+d[b]_t=\mathrm{diag}\big((I\otimes\psi^\top)\Sigma^W(I\otimes\psi)+\Sigma^b\big)dt=\mathrm{diag}(V)\,dt",
        symbolic_equal=equal, checks=checks,
        steps=[r"Quadratic variation of $(W\psi)_d$ from the Brownian loadings of $W$: $\sum_{k,k'}\psi_k\psi_{k'}\Sigma^W_{dk,dk'}$; $W$ and $b$ independent, so $d[W\psi+b]=d[W\psi]+d[b]$ (L876).",
               "Drift and covariance of (13) compared with the one-step expansion (P0-3, P0-4).",
               r"Pathwise: one step of the network minus one Euler step of (13) is $\tfrac12\phi''(0)(h^2-V\Delta t)+O(\Delta t^{3/2})$, a martingale increment, hence RMS $O(L^{-1/2})$."])


@audits("P0-8")
def audit_p0_8(ctx) -> Finding:
    """P0, Cor. 3, eq. (14), L237: d[x^(i), x^(j)] = phi'(0)^2 (d[W psi(x^i), W psi(x^j)] + d[b, b])."""
    law, (pi, pj), lim = _general(2, 2)
    D = 2
    printed = P1**2 * linear_form_cov(law, pi, pj)  # covariation of the two linear forms, by definition
    derived = lim.diffusion[:D, D:]
    cmp = compare(derived, printed)
    D3 = 3
    inst, x, y = _numeric_general(ctx.seed_sequence("instance").generate_state(1)[0], D3)
    _, (q1, q2), lim3 = _general(D3, 2)
    vals = _values_general(D3, inst, [q1, q2], [np.tanh(x), np.tanh(y)], "swish")
    checks = _cross_covariation_checks(ctx, "cross covariation", lim3, vals, x, y, _num_law(inst), cmp,
                                       "symbolic covariation (two inputs, D=2)")
    return Finding(
        summary="The covariation (14) of two inputs' hidden states equals the model's cross-diffusion phi'(0)^2 Cov(h^i, h^j)/dt; "
                "exact one-step cross-covariances converge to it at rate dt.",
        printed=r"d[x^{(i)},x^{(j)}]_t=\phi'(0)^2(d[W\psi(x^{(i)}),W\psi(x^{(j)})]_t+d[b,b]_t)",
        derived=r"\phi'(0)^2\big((I\otimes\psi_i^\top)\Sigma^W(I\otimes\psi_j)+\Sigma^b\big)dt",
        symbolic_equal=cmp.equal, checks=checks,
        steps=["Joint one-step expansion of two inputs sharing dW, db (stacked pre-activations, Isserlis).",
               r"The $\Delta t$ coefficient of $\mathrm{Cov}(\Delta x^{(i)}_d,\Delta x^{(j)}_e)$ is $\phi'(0)^2\,\mathrm{Cov}(h^{(i)}_d,h^{(j)}_e)/\Delta t$."])


# --------------------------------------------------------------------------------------------------------
# P0-9, P0-10: Corollary 4 (matrix-Gaussian law, Assumption 6)
# --------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _matrix_gaussian(n_inputs: int = 1):
    law = laws.matrix_gaussian(2)
    psis = [psi_symbols(2, f"psi{i + 1}" if n_inputs > 1 else "psi") for i in range(n_inputs)]
    return law, psis, diffusion.one_step_limit(law, psis, ASSUMPTION_5)


def _printed_V_cor4(law, pa, pb):
    """P0, L261 / L259: Sigma^b + Sigma^{W_O} (psi_a^T Sigma^{W_I} psi_b), Sigma^{W_O} = sO sO^T, Sigma^{W_I} = sI^T sI."""
    sO, sI, sb = law.params["sigma_O"], law.params["sigma_I"], law.params["sigma_b"]
    return sb * sb.T + (sO * sO.T) * (pa.T * (sI.T * sI) * pb)[0, 0]


def _mg_instance(ctx, D=3):
    rng = np.random.default_rng(ctx.seed_sequence("mg-instance").generate_state(1)[0])
    return dict(mean_W=0.4 * rng.normal(size=(D, D)), sO=rng.normal(size=(D, D)) / np.sqrt(D),
                sI=rng.normal(size=(D, D)) / np.sqrt(D), mean_b=0.4 * rng.normal(size=D), sb=0.6 * rng.normal(size=(D, D))), \
        rng.normal(size=D), rng.normal(size=D)


def _mg_sample_h(rng, inst, psis, n, dt):
    """Sample h = dW psi + db for each input with eps^W = sigma^{W_O} zeta sigma^{W_I} drawn as the model says."""
    D = inst["sO"].shape[0]
    zeta = rng.standard_normal((n, D, D))
    eps = inst["sO"][None] @ zeta @ inst["sI"][None]
    eb = rng.standard_normal((n, D)) @ inst["sb"].T
    dW = inst["mean_W"][None] * dt + eps * np.sqrt(dt)
    db = inst["mean_b"][None] * dt + eb * np.sqrt(dt)
    return [np.einsum("nij,j->ni", dW, p) + db for p in psis]


def _np_printed_V(inst, pa, pb):
    SO, SI = inst["sO"] @ inst["sO"].T, inst["sI"].T @ inst["sI"]
    return inst["sb"] @ inst["sb"].T + SO * float(pa @ SI @ pb)


@audits("P0-9")
def audit_p0_9(ctx) -> Finding:
    """P0, Cor. 4, eq. (15) and L261: V[eps^W psi + eps^b] = Sigma^b + Sigma^{W_O}(psi^T Sigma^{W_I} psi) under Assumption 6."""
    law, (psi,), lim = _matrix_gaussian()
    sO, sI = law.params["sigma_O"], law.params["sigma_I"]
    kron_ok = compare(law.cov_W, sp.kronecker_product(sO * sO.T, sI.T * sI))
    printed_V = _printed_V_cor4(law, psi, psi)
    v_ok = compare(law.preact_cov(psi, psi), printed_V)
    printed_drift = P1 * (law.mean_W * psi + law.mean_b) + sp.Rational(1, 2) * P2 * _diag(printed_V)
    d_ok = compare(lim.drift, printed_drift)
    equal = kron_ok.equal and v_ok.equal and d_ok.equal
    # Monte Carlo of the model (eps^W = sO zeta sI sampled directly) against quadrature with the PRINTED V
    inst, x, _ = _mg_instance(ctx)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    p = psi_f.f(x)
    dt = 1e-2
    V = _np_printed_V(inst, p, p) * dt
    m = (inst["mean_W"] @ p + inst["mean_b"]) * dt
    n = ctx.size(200_000, 1_000_000, 4_000_000)
    rng = ctx.rng("mg-mc")
    (h,) = _mg_sample_h(rng, inst, [p], n, dt)
    fx = phi.f(h) / dt
    checks = [ctx.symbolic_check("Cov(vec(A zeta B)) = AA^T (x) B^T B, row-major", kron_ok.equal, kron_ok.statistic()),
              ctx.symbolic_check("V identity of L261", v_ok.equal, v_ok.statistic()),
              ctx.symbolic_check("drift of (15)", d_ok.equal, d_ok.statistic())]
    for d in range(2):
        pred = quadrature.gauss_expect_1d(phi.f, m[d], V[d, d]) / dt
        checks.append(ctx.mc_check(f"E[Dx_{d + 1}]/dt, sampled vs quadrature with printed V", "one-step mean/dt at dt=0.01",
                                   stats.mean_estimate(fx[:, d]), float(pred), target="both", bias=0.0,
                                   note="both sides exact at the same dt: no bias"))
    pred12 = quadrature.gauss_expect_2d(lambda a, b: phi.f(a) * phi.f(b), m[:2], V[:2, :2]) / dt \
        - quadrature.gauss_expect_1d(phi.f, m[0], V[0, 0]) * quadrature.gauss_expect_1d(phi.f, m[1], V[1, 1]) / dt
    checks.append(ctx.mc_check("Cov(Dx_1, Dx_2)/dt, sampled vs quadrature with printed V", "one-step covariance/dt at dt=0.01",
                               stats.covariance_estimate(fx[:, 0] * np.sqrt(dt), fx[:, 1] * np.sqrt(dt)), float(pred12),
                               target="both", bias=0.0, note="both sides exact at the same dt: no bias"))
    return Finding(
        summary="Under the matrix-Gaussian law the pre-activation covariance is Sigma^b + Sigma^{W_O}(psi^T Sigma^{W_I} psi) with "
                "Sigma^{W_I} = sigma^{W_I T} sigma^{W_I} as printed; eq. (15)'s drift follows, and directly sampled networks agree.",
        printed=r"dx=\phi'(0)((\mu^W\psi+\mu^b)dt+\sigma^{W_O}dB^W\sigma^{W_I}\psi+\sigma^bdB^b)+\tfrac12\phi''(0)\mathrm{diag}(\Sigma^b+\Sigma^{W_O}(\psi^\top\Sigma^{W_I}\psi))dt",
        derived=r"\mathrm{Cov}(\mathrm{vec}(\sigma^{W_O}\zeta\sigma^{W_I}))=\Sigma^{W_O}\otimes\Sigma^{W_I}\ \Rightarrow\ V=\Sigma^b+\Sigma^{W_O}\,\psi^\top\Sigma^{W_I}\psi",
        symbolic_equal=equal, checks=checks,
        steps=[r"Covariance of $\mathrm{vec}(\sigma^{W_O}\zeta\sigma^{W_I})$ from the Jacobian in $\zeta$ (general non-symmetric $2\times2$ factors).",
               r"Mixed-product rule: $(I\otimes\psi^\top)(\Sigma^{W_O}\otimes\Sigma^{W_I})(I\otimes\psi)=\Sigma^{W_O}\,\psi^\top\Sigma^{W_I}\psi$.",
               "Same expansion engine as Theorem 2: only the law changed."])


@audits("P0-10")
def audit_p0_10(ctx) -> Finding:
    """P0, Cor. 4, L259: d[x^i, x^j] = phi'(0)^2 (Sigma^b + Sigma^{W_O} psi(x^i)^T Sigma^{W_I} psi(x^j)) dt."""
    law, (pi, pj), lim = _matrix_gaussian(2)
    printed = P1**2 * _printed_V_cor4(law, pi, pj)
    cmp = compare(lim.diffusion[:2, 2:], printed)
    inst, x, y = _mg_instance(ctx)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    px, py = psi_f.f(x), psi_f.f(y)
    dt = 1e-2
    n = ctx.size(200_000, 1_000_000, 4_000_000)
    hx, hy = _mg_sample_h(ctx.rng("mg-mc2"), inst, [px, py], n, dt)
    pred = _gh_cross(phi, inst, px, py, dt)
    limit = 0.25 * _np_printed_V(inst, px, py)[0, 1]  # phi'(0)^2 = 1/4 for swish
    checks = [ctx.symbolic_check("symbolic covariation (two inputs)", cmp.equal, cmp.statistic()),
              ctx.mc_check("Cov(Dx^i_1, Dx^j_2)/dt sampled vs quadrature with printed covariation", "one-step cross-covariance/dt",
                           _scaled_cov(phi.f(hx[:, 0]), phi.f(hy[:, 1]), dt), float(pred), target="both", bias=0.0,
                           note="both sides exact at the same dt: no bias"),
              ctx.rate_check("quadrature -> printed limit as dt -> 0", "slope of |Cov(Dx^i_1, Dx^j_2)/dt - phi'(0)^2 Sigma_12| vs dt",
                             DTS, [abs(_gh_cross(phi, inst, px, py, h) - limit) for h in DTS], 1.0, target="both", slack=0.15,
                             note="a wrong limit would leave an O(1) error (slope 0)")]
    return Finding(
        summary="Corollary 4's covariation of two inputs, phi'(0)^2(Sigma^b + Sigma^{W_O} psi_i^T Sigma^{W_I} psi_j), matches the "
                "derivation and directly sampled one-step increments.",
        printed=r"d[x^{(i)},x^{(j)}]_t=\phi'(0)^2(\Sigma^b+\Sigma^{W_O}\psi(x^{(i)}_t)^\top\Sigma^{W_I}\psi(x^{(j)}_t))dt",
        derived=r"\phi'(0)^2\,\mathrm{Cov}(h^{(i)},h^{(j)})/dt\ \text{under Assumption 6}",
        symbolic_equal=cmp.equal, checks=checks,
        steps=["Stacked two-input expansion with the matrix-Gaussian law (covariance from the sampling definition)."])


def _gh_cross(phi, inst, px, py, dt):
    """Cov(phi(h^i_1), phi(h^j_2))/dt by 2-D quadrature, with the pair's covariance from the printed formula."""
    mx, my = (inst["mean_W"] @ px + inst["mean_b"]) * dt, (inst["mean_W"] @ py + inst["mean_b"]) * dt
    c = np.array([[_np_printed_V(inst, px, px)[0, 0], _np_printed_V(inst, px, py)[0, 1]],
                  [_np_printed_V(inst, px, py)[0, 1], _np_printed_V(inst, py, py)[1, 1]]]) * dt
    m = np.array([mx[0], my[1]])
    return (quadrature.gauss_expect_2d(lambda a, b: phi.f(a) * phi.f(b), m, c)
            - quadrature.gauss_expect_1d(phi.f, m[0], c[0, 0]) * quadrature.gauss_expect_1d(phi.f, m[1], c[1, 1])) / dt


def _scaled_cov(a, b, dt):
    e = stats.covariance_estimate(a, b)
    return stats.Estimate(e.value / dt, e.se / dt, e.n, e.n_dropped)


# --------------------------------------------------------------------------------------------------------
# P0-11, P0-12: Corollary 5 (i.i.d. law, Assumption 7)
# --------------------------------------------------------------------------------------------------------

SW_, SB_ = sp.symbols("sigma_w sigma_b", positive=True)


@lru_cache(maxsize=None)
def _iid(D: int, n_inputs: int = 1):
    law = laws.iid(D, SW_, SB_)
    psis = [psi_symbols(D, f"psi{i + 1}" if n_inputs > 1 else "psi") for i in range(n_inputs)]
    return law, psis, diffusion.one_step_limit(law, psis, ASSUMPTION_5)


@audits("P0-11")
def audit_p0_11(ctx) -> Finding:
    """P0, Cor. 5, eq. (20), L285-287: drift 1/2 phi''(0)(sigma_b^2 + sigma_w^2/D |psi|^2) I_D dt as printed."""
    D = 3
    law, (psi,), lim = _iid(D)
    s_ = SB_**2 + SW_**2 / D * (psi.T * psi)[0, 0]
    printed = sp.Rational(1, 2) * P2 * s_ * sp.eye(D)           # "(...) I_D dt": a D x D matrix, as typeset
    corrected = sp.Rational(1, 2) * P2 * s_ * sp.ones(D, 1)     # 1_D, as in eq. (33)
    c_printed, c_corr = compare(lim.drift, printed), compare(lim.drift, corrected)
    c_diff = compare(lim.diffusion, P1**2 * s_ * sp.eye(D))
    # numeric: GH one-step drift for the i.i.d. law, swish, psi = tanh
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    x = rng.normal(size=D)
    sw, sb = 1.2, 0.7
    nl = NumLaw.iid(D, sw, sb)
    phi, psi_f = get_activation("swish"), get_activation("tanh")
    vals = {SW_: sw, SB_: sb, **{psi[d]: np.tanh(x[d]) for d in range(D)}, **phi_values("swish")}
    mu, mu1 = evaluate(lim.drift, vals).ravel(), evaluate(lim.drift_next, vals).ravel()
    checks, *_ = _convergence_checks(ctx, "drift (i.i.d. law)", "E[Dx]",
                                     lambda dt: quadrature.one_step_moments(x, nl, phi, psi_f, dt)["mean"], mu, mu1,
                                     target="derived")
    checks.insert(0, ctx.symbolic_check("derived drift equals the corrected form (1_D)", c_corr.equal and c_diff.equal,
                                        c_corr.statistic() + "; diffusion: " + c_diff.statistic(), target="derived"))
    checks.insert(1, ctx.symbolic_check("printed drift term has the shape of the state", False, c_printed.statistic(),
                                        target="printed", note="the printed drift is a D x D matrix; the state is a D-vector"))
    checks[1].kind = "shape"
    checks[1].margin = float("inf")
    return Finding(
        summary="Corollary 5's drift has the right value per unit, 1/2 phi''(0)(sigma_b^2 + sigma_w^2 |psi|^2/D), but eq. (20) "
                "typesets it with the identity matrix I_D where the all-ones vector 1_D is meant (as in eq. (33)).",
        printed=r"dx^{(i)}_t=\phi'(0)\Big(\tfrac{\sigma_w}{\sqrt D}dB^W_t\psi(x^{(i)}_t)+\sigma_bdB^b_t\Big)+\tfrac12\phi''(0)\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x^{(i)}_t)\|^2\Big)\mathbf I_D\,dt",
        derived=r"\mu(x)=\tfrac12\phi''(0)\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x)\|^2\Big)\mathbf 1_D,\qquad \sigma^2(x)=\phi'(0)^2\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x)\|^2\Big)\mathbf I_D",
        corrected=r"dx^{(i)}_t=\phi'(0)\Big(\tfrac{\sigma_w}{\sqrt D}dB^W_t\psi(x^{(i)}_t)+\sigma_bdB^b_t\Big)+\tfrac12\phi''(0)\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\|\psi(x^{(i)}_t)\|^2\Big)\mathbf 1_D\,dt",
        difference=r"\mathbf I_D\ (D\times D)\ \text{in place of}\ \mathbf 1_D\ (D\text{-vector})",
        condition="The values are right unit by unit: the printed form holds when I_D is read as 1_D (as eq. (33) writes it); "
                  "likewise L293 writes the scalar sigma_b^2 + sigma_w^2|psi|^2/D for the matrix V = (...) I_D.",
        severity="notation", symbolic_equal=False, checks=checks,
        steps=[r"Assumption 7 law: $\Sigma^W=\sigma_w^2/D\,I_{D^2}$, $\Sigma^b=\sigma_b^2I_D$, so $V=(\sigma_b^2+\sigma_w^2\|\psi\|^2/D)I_D$.",
               r"Drift (P0-3): $\tfrac12\phi''(0)\mathrm{diag}(V)=\tfrac12\phi''(0)(\sigma_b^2+\sigma_w^2\|\psi\|^2/D)\mathbf 1_D$, a $D$-vector.",
               r"Shape audit: the printed drift $(\cdot)\mathbf I_D\,dt$ is a $D\times D$ matrix in an equation for a $D$-vector."])


@audits("P0-12")
def audit_p0_12(ctx) -> Finding:
    """P0, Cor. 5, L291: d[x^i, x^j] = phi'(0)^2 (sigma_b^2 + sigma_w^2/D <psi(x^i), psi(x^j)>) I_D dt."""
    D = 3
    law, (pi, pj), lim = _iid(D, 2)
    printed = P1**2 * (SB_**2 + SW_**2 / D * (pi.T * pj)[0, 0]) * sp.eye(D)
    cmp = compare(lim.diffusion[:D, D:], printed)
    rng = np.random.default_rng(ctx.seed_sequence("instance").generate_state(1)[0])
    x, y = rng.normal(size=D), rng.normal(size=D)
    sw, sb = 1.2, 0.7
    vals = {SW_: sw, SB_: sb, **{pi[d]: np.tanh(x[d]) for d in range(D)}, **{pj[d]: np.tanh(y[d]) for d in range(D)},
            **phi_values("swish")}
    checks = _cross_covariation_checks(ctx, "cross covariation (i.i.d.)", lim, vals, x, y, NumLaw.iid(D, sw, sb), cmp,
                                       "symbolic covariation, all unit pairs (d, e)")
    return Finding(
        summary="Under Assumption 7 the covariation of two inputs is phi'(0)^2(sigma_b^2 + sigma_w^2<psi_i, psi_j>/D) I_D: distinct "
                "units are uncorrelated, as printed; exact one-step cross-covariances converge to it at rate dt.",
        printed=r"d[x^{(i)},x^{(j)}]_t=\phi'(0)^2\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\langle\psi(x^{(i)}_t),\psi(x^{(j)}_t)\rangle\Big)\mathbf I_Ddt",
        derived=r"\phi'(0)^2\,\mathrm{Cov}(h^{(i)},h^{(j)})/dt=\phi'(0)^2\Big(\sigma_b^2+\tfrac{\sigma_w^2}{D}\langle\psi_i,\psi_j\rangle\Big)\mathbf I_D",
        symbolic_equal=cmp.equal, checks=checks,
        steps=["Stacked two-input expansion with the i.i.d. law at D = 3: all 9 unit pairs compared."])
