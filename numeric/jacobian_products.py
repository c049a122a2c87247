"""Dense Jacobian products of P0's ResNet for the NTK audit (recipe R-JAC; P0 Sec. 4 and Sec. 5.4, L585-605).

For each of B networks (P0 eq. (11), psi = identity, Assumption 7, every dW_l materialised) and two inputs, the
Jacobian g_l = J(x_l, x_0) is propagated with the one-step Jacobian I + diag(phi'(h_l)) dW_l, and the
following per-network statistics are returned (t = l dt, left-point Riemann sums over l = 0..L-1):

* U_T = g_T^T g_T: mean diagonal, RMS off-diagonal, tau(U_T^2) = tr(U_T^2)/D, extreme eigenvalues;
* W_T = g_T g_T^T: mean diagonal and entry (0, 0)  (item (ii), L603);
* I = sum_l dt (g_l^T g_l)^{-1}: mean diagonal and entry (0, 0)  (item (i), L603); U_T^{-1} mean diagonal;
* S = g_T I g_T^T: mean diagonal and entry (0, 0)  (the sandwich, L605);
* the printed integral forms (P0-47/48, L587-591) with y = x_{T,1}:
  K_W^int = phi'(0)^2 sigma_w^2 [g_T (sum_l dt lambda_l U_l^{-1}) g_T^T]_{00},  K_b^int = phi'(0)^2 sigma_b^2 S_00,
  with g the Jacobian of input 0 and lambda_l = <x^0_l, x^1_l>/D;
* optionally (``backprop=True``) the backprop NTK K_W, K_b (recipe R-BP) of the SAME network, for pathwise
  comparisons (memory O(chunk L D^2));
* P0-46: ||g^{(0)}_T - g^{(1)}_T||_F / ||g^{(0)}_T||_F and the mean |phi'(h) - phi'(0)| over layers and units.

The inverse Jacobians are formed with ``numpy.linalg.inv`` (cost ~ 3 L D^3 per network).
"""
from __future__ import annotations

import numpy as np

from numeric.activations import get_activation

KEYS = ("U_diag", "U_offdiag_rms", "U_tau2", "U_eig_min", "U_eig_max", "W_diag", "W_00", "Uinv_T_diag",
        "I_diag", "I_00", "S_diag", "S_00", "KW_int", "Kb_int", "jac_rel_diff", "dphi_dev")


def _diag_mean(M: np.ndarray) -> np.ndarray:
    return np.einsum("cii->c", M) / M.shape[-1]


def jacobian_run(x0, *, D: int, L: int, T: float = 1.0, sigma_w: float, sigma_b: float, phi, B: int,
                 rng: np.random.Generator, backprop: bool = False, inverses: bool = True,
                 chunk: int | None = None) -> dict:
    """Per-network Jacobian statistics (see module docstring) for two inputs x0 (2, D) or (B, 2, D).

    ``inverses=False`` skips the O(D^3) inverse Jacobians (I, S, K^int, U^{-1} statistics are then NaN)."""
    act = get_activation(phi)
    phi1 = float(act.df(np.zeros(1))[0])
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 2:
        x0 = np.broadcast_to(x0, (B,) + x0.shape)
    if x0.shape != (B, 2, D):
        raise ValueError(f"x0 must be (2, {D}) or ({B}, 2, {D})")
    dt = T / L
    s = sigma_w * np.sqrt(dt / D)
    sb = sigma_b * np.sqrt(dt)
    if chunk is None:
        per = 8.0 * D * D * (L if backprop else 1) + 64.0 * D * D
        chunk = int(max(1, min(B, 6.4e7 // per)))
    out = {k: np.empty(B) for k in KEYS}
    if backprop:
        out["KW_bp"] = np.empty((B, 2, 2))
        out["Kb_bp"] = np.empty((B, 2, 2))
    eye = np.eye(D)
    for lo in range(0, B, chunk):
        hi = min(lo + chunk, B)
        c = hi - lo
        x = np.array(x0[lo:hi])
        g = np.broadcast_to(eye, (c, 2, D, D)).copy()
        I = np.zeros((c, D, D))
        Ilam = np.zeros((c, D, D))
        dev = np.zeros(c)
        store = [] if backprop else None
        for l in range(L):
            dW = rng.standard_normal((c, D, D)) * s
            db = rng.standard_normal((c, 1, D)) * sb
            if inverses:
                ginv = np.linalg.inv(g[:, 0])
                Uinv = np.matmul(ginv, np.swapaxes(ginv, 1, 2))
                lam_l = np.einsum("cd,cd->c", x[:, 0], x[:, 1]) / D
                I += dt * Uinv
                Ilam += (dt * lam_l)[:, None, None] * Uinv
            h = np.matmul(x, np.swapaxes(dW, 1, 2)) + db
            dphi = act.df(h)
            dev += np.abs(dphi - phi1).mean(axis=(1, 2)) / L
            if backprop:
                store.append((dW, x.copy(), dphi))
            g = g + dphi[:, :, :, None] * np.matmul(dW[:, None], g)
            x = x + act.f(h)
        gT = g[:, 0]
        U = np.matmul(np.swapaxes(gT, 1, 2), gT)
        W = np.matmul(gT, np.swapaxes(gT, 1, 2))
        S = np.matmul(np.matmul(gT, I), np.swapaxes(gT, 1, 2))
        Slam = np.matmul(np.matmul(gT, Ilam), np.swapaxes(gT, 1, 2))
        ev = np.linalg.eigvalsh(U)
        off = U - U * eye
        sl = slice(lo, hi)
        out["U_diag"][sl] = _diag_mean(U)
        out["U_offdiag_rms"][sl] = np.sqrt((off**2).sum(axis=(1, 2)) / (D * (D - 1)))
        out["U_tau2"][sl] = (U**2).sum(axis=(1, 2)) / D
        out["U_eig_min"][sl], out["U_eig_max"][sl] = ev[:, 0], ev[:, -1]
        out["W_diag"][sl], out["W_00"][sl] = _diag_mean(W), W[:, 0, 0]
        out["Uinv_T_diag"][sl] = _diag_mean(np.linalg.inv(U)) if inverses else np.nan
        out["I_diag"][sl], out["I_00"][sl] = _diag_mean(I), I[:, 0, 0]
        out["S_diag"][sl], out["S_00"][sl] = _diag_mean(S), S[:, 0, 0]
        out["KW_int"][sl] = phi1**2 * sigma_w**2 * Slam[:, 0, 0]
        out["Kb_int"][sl] = phi1**2 * sigma_b**2 * S[:, 0, 0]
        if not inverses:
            for k in ("I_diag", "I_00", "S_diag", "S_00", "KW_int", "Kb_int"):
                out[k][sl] = np.nan
        out["jac_rel_diff"][sl] = (np.linalg.norm(g[:, 0] - g[:, 1], axis=(1, 2))
                                   / np.linalg.norm(g[:, 0], axis=(1, 2)))
        out["dphi_dev"][sl] = dev
        if backprop:
            delta = np.zeros((c, 2, D))
            delta[:, :, 0] = 1.0
            KW = np.zeros((c, 2, 2))
            Kb = np.zeros((c, 2, 2))
            for dW, xl, dphi in reversed(store):
                a = delta * dphi
                Ga = np.matmul(a, np.swapaxes(a, 1, 2))
                KW += (s * s) * Ga * np.matmul(xl, np.swapaxes(xl, 1, 2))
                Kb += (sb * sb) * Ga
                delta = delta + np.matmul(a, dW)
            out["KW_bp"][sl], out["Kb_bp"][sl] = KW, Kb
    return out
