"""Width-first (D -> infinity at fixed depth) recursions of P0, Sec. 5.6 (L677-701), by Gauss-Hermite quadrature.

Derivation: ``derivations.width_first`` (given the states, the pre-activations of two inputs are iid over units,
N(0, dt [[S_x, S_xy], [S_xy, S_y]]) with S = sigma_b^2 + sigma_w^2 <psi, psi'>/D -> sigma_b^2 + sigma_w^2
E[psi(eps) psi(gamma)], and independent of the unit's own state).

* ``nngp_recursion``: phi = identity (Sec. 5.6), any psi: Sigma_{l+1} = Sigma_l + dt (s + w E[psi(eps) psi(gamma)]),
  (eps, gamma) ~ N(0, Sigma_l) (all three entries; the page writes only the upper-right one).
* ``moment_recursion``: psi = identity, any phi: means m and raw second moments lambda = E[x_d x'_d]:
  m_i += E phi(h_i), lambda_ij += m_i E phi(h_j) + m_j E phi(h_i) + E phi(h_i) phi(h_j) (exact in the width-first
  limit at every dt).
"""
from __future__ import annotations

import numpy as np

from numeric.activations import as_function
from numeric.quadrature import gauss_expect_1d, gauss_expect_2d


def _pair_expect(f, cov, n):
    """E f(h1) f(h2), E f(h1)^2, E f(h2)^2 for (h1, h2) ~ N(0, cov)."""
    cross = float(gauss_expect_2d(lambda a, b: f(a) * f(b), np.zeros(2), cov, n=n))
    d1 = float(gauss_expect_1d(lambda a: f(a) ** 2, 0.0, cov[0, 0], n=2 * n))
    d2 = float(gauss_expect_1d(lambda a: f(a) ** 2, 0.0, cov[1, 1], n=2 * n))
    return cross, d1, d2


def nngp_recursion(Sigma0, psi, *, L: int, T: float = 1.0, sigma_w: float = 1.0, sigma_b: float = 0.0,
                   n: int = 60) -> np.ndarray:
    """Covariances Sigma_l (L + 1, 2, 2) of one unit for two inputs in the width-first limit (phi = identity)."""
    f = as_function(psi)
    dt = T / L
    S = np.array(Sigma0, dtype=float)
    out = np.empty((L + 1, 2, 2))
    out[0] = S
    for l in range(L):
        cross, d1, d2 = _pair_expect(f, S, n)
        inc = dt * (sigma_b**2 + sigma_w**2 * np.array([[d1, cross], [cross, d2]]))
        S = S + inc
        out[l + 1] = S
    return out


def moment_recursion(m0, lam0, phi, *, L: int, T: float = 1.0, sigma_w: float = 1.0, sigma_b: float = 1.0,
                     n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Means m (L + 1, 2) and raw second moments lambda (L + 1, 2, 2) in the width-first limit (psi = identity)."""
    f = as_function(phi)
    dt = T / L
    m = np.array(m0, dtype=float)
    lam = np.array(lam0, dtype=float)
    ms, lams = [m.copy()], [lam.copy()]
    for _ in range(L):
        cov = dt * (sigma_b**2 + sigma_w**2 * lam)
        e1 = np.array([float(gauss_expect_1d(f, 0.0, cov[k, k], n=2 * n)) for k in range(2)])
        cross, d1, d2 = _pair_expect(f, cov, n)
        prod = np.array([[d1, cross], [cross, d2]])
        lam = lam + np.outer(m, e1) + np.outer(e1, m) + prod
        m = m + e1
        ms.append(m.copy())
        lams.append(lam.copy())
    return np.array(ms), np.array(lams)
