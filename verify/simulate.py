"""``verify simulate``: a finite ResNet (P0 eq. (11), Assumption 7, psi = id) against its doubly infinite limit.

Inputs z are copied to every unit (x0 = z 1_D, as in P0 Sec. 6, L705).  The limit of one unit's output is
the Gaussian transition of P0 eq. (40) with m, q, lambda from the (m, q, lambda) ODE DERIVED by the toolkit
(``derivations.odes.moment_ode``), so for phi''(0) != 0 it includes the drift that eq. (39) omits (P0-40).
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from numeric import stats
from verify.errors import UserError


def _limit_moments(act: str, sigma_w: float, sigma_b: float, T: float, z: list[float]):
    from derivations import odes
    from derivations.activations import taylor_at_zero
    from numeric.odes import integrate

    ode = odes.moment_ode()
    tay = taylor_at_zero(act, 2)
    vals = {odes.phi1: float(tay[1]), odes.a: float(tay[2]), odes.sigma_w: sigma_w, odes.sigma_b: sigma_b}
    rhs = [e.subs(vals) for e in ode.rhs_pair()]
    f = sp.lambdify([odes.INVARIANTS], rhs, "numpy")
    out = {}
    for i, j in itertools.combinations_with_replacement(range(len(z)), 2):
        y0 = [z[i], z[j], z[i] ** 2, z[j] ** 2, z[i] * z[j]]
        res = integrate(lambda t, y: np.asarray(f(y), float), y0, [T])
        if not res.success or not np.all(np.isfinite(res.y)):
            raise UserError(f"the limiting ODE explodes before T = {T} for inputs ({z[i]}, {z[j]}); choose a smaller T")
        mi, mj, qi, qj, lam = res.y[:, -1]
        # eq. (40) with copied inputs: v_0 = q_0 - m_0^2 = 0 and c_0 = lambda_0 - m_0 m_0' = 0, and x_0d = m_0
        out[(i, j)] = dict(mean_i=mi, var_i=qi - mi**2, cov=lam - mi * mj)
    return out


def simulate_against_limit(*, width: int, depth: int, sigma_w: float, sigma_b: float, T: float, activation: str,
                           inputs: list[float], draws: int, seed: int) -> dict:
    from numeric.activations import get_activation
    from numeric.resnet import simulate_iid_lowrank

    try:
        phi = get_activation(activation)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    z = [float(v) for v in inputs]
    x0 = np.array([[v] * width for v in z])
    res = simulate_iid_lowrank(x0, D=width, L=depth, T=T, sigma_w=sigma_w, sigma_b=sigma_b, phi=phi,
                               psi=get_activation("identity"), B=draws, rng=np.random.default_rng(seed))
    ok = ~res.diverged
    out_unit = res.x[ok][:, :, 0]  # unit 1 of every input
    lim = _limit_moments(activation, sigma_w, sigma_b, T, z)
    rows = []
    z_scores = []
    for i, zi in enumerate(z):
        L = lim[(i, i)]
        e = stats.mean_estimate(out_unit[:, i])
        rows.append((f"mean x_T1 (z={zi:g})", e, L["mean_i"]))
        v = stats.variance_estimate(out_unit[:, i])
        rows.append((f"var  x_T1 (z={zi:g})", v, L["var_i"]))
    for i, j in itertools.combinations(range(len(z)), 2):
        c = stats.covariance_estimate(out_unit[:, i], out_unit[:, j])
        rows.append((f"cov  x_T1 (z={z[i]:g}, {z[j]:g})", c, lim[(i, j)]["cov"]))
    table = [f"finite ResNet D={width} L={depth} T={T:g} {activation} sigma_w={sigma_w:g} sigma_b={sigma_b:g}, "
             f"{int(ok.sum())} networks ({int((~ok).sum())} diverged, excluded); limit = P0 eq. (40) with the derived ODE",
             f"{'statistic':<28} {'finite network':>22} {'limit (40)':>12} {'(est-lim)/SE':>13}"]
    for name, e, pred in rows:
        zs = (e.value - pred) / e.se if e.se > 0 else float("nan")
        z_scores.append(zs)
        table.append(f"{name:<28} {e.value:>12.4f} ± {e.se:<8.4f} {pred:>12.4f} {zs:>13.2f}")
    table.append("differences include the finite-depth O(1/L) and finite-width O(1/D) biases; SE is Monte Carlo only")
    return {"width": width, "depth": depth, "T": T, "activation": activation, "sigma_w": sigma_w, "sigma_b": sigma_b,
            "inputs": z, "draws": draws, "seed": seed, "diverged": int((~ok).sum()),
            "rows": [{"statistic": n, "estimate": e.value, "se": e.se, "limit": p} for n, e, p in rows],
            "table": table}
