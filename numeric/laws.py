"""Gaussian parameter laws of P0's fully-connected ResNet (11), in factor form.

Assumption 4 (L185-203): dW = mu^W dt + eps^W sqrt(dt), vec(eps^W) ~ N_{D^2}(0, Sigma^W), and
db = mu^b dt + eps^b sqrt(dt), eps^b ~ N_D(0, Sigma^b), fresh and independent at every layer.  ``vec`` is
ROW-MAJOR (P0 L114): vec(A)[d*D + i] = A[d, i], which is NumPy's ``reshape``.  A law stores factors F with
Sigma = F F^T, so vec(eps^W) = factor_W @ z with z ~ N(0, I_k).

Constructors: ``general`` (Assumption 4), ``matrix_gaussian`` (Assumption 6, L241-251:
eps^W = sigma^{W_O} zeta sigma^{W_I}, whose row-major factor is kron(sigma^{W_O}, sigma^{W_I T})),
``iid`` (Assumption 7, L265-283: entries of eps^W ~ N(0, sigma_w^2 / D), eps^b ~ N(0, sigma_b^2 I)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Above this width the iid law does not materialise its D^2 x D^2 factor (memory D^4); its methods use
#: closed forms instead and ``factor_W`` is None.
IID_DENSE_FACTOR_MAX_D = 32


def _finite(name, a):
    a = np.asarray(a, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def psd_sqrt(S: np.ndarray, name: str = "covariance", tol: float = 1e-10) -> np.ndarray:
    """Symmetric PSD square root of a symmetric PSD matrix (eigh; tiny negative eigenvalues clipped)."""
    S = _finite(name, S)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be square, got shape {S.shape}")
    scale = max(float(np.abs(S).max()), 1e-300)
    if not np.allclose(S, S.T, atol=tol * scale, rtol=0):
        raise ValueError(f"{name} must be symmetric")
    lam, V = np.linalg.eigh(0.5 * (S + S.T))
    if lam.size and lam.min() < -tol * max(scale, 1.0) * S.shape[0]:
        raise ValueError(f"{name} is not positive semi-definite (min eigenvalue {lam.min():.3g})")
    return (V * np.sqrt(np.clip(lam, 0.0, None))) @ V.T


@dataclass
class GaussianLaw:
    """Law of the per-layer increments (dW, db) of P0 (11) (Assumption 4), stored by factors.

    mean_W (D, D), factor_W (D*D, k) with vec_rowmajor(eps^W) = factor_W z, mean_b (D,), factor_b (D, kb).
    ``iid = (sigma_w, sigma_b)`` marks Assumption 7 (fast paths; ``factor_W`` is None when D > 32).
    """

    mean_W: np.ndarray
    factor_W: np.ndarray | None
    mean_b: np.ndarray
    factor_b: np.ndarray
    iid: tuple[float, float] | None = None

    def __post_init__(self):
        self.mean_W = _finite("mean_W", self.mean_W)
        if self.mean_W.ndim != 2 or self.mean_W.shape[0] != self.mean_W.shape[1]:
            raise ValueError(f"mean_W must be (D, D), got {self.mean_W.shape}")
        D = self.mean_W.shape[0]
        self.mean_b = _finite("mean_b", self.mean_b)
        if self.mean_b.shape != (D,):
            raise ValueError(f"mean_b must be ({D},), got {self.mean_b.shape}")
        self.factor_b = _finite("factor_b", self.factor_b)
        if self.factor_b.ndim != 2 or self.factor_b.shape[0] != D:
            raise ValueError(f"factor_b must be ({D}, kb), got {self.factor_b.shape}")
        if self.factor_W is None:
            if self.iid is None:
                raise ValueError("factor_W may be None only for an iid law")
        else:
            self.factor_W = _finite("factor_W", self.factor_W)
            if self.factor_W.ndim != 2 or self.factor_W.shape[0] != D * D:
                raise ValueError(f"factor_W must be ({D * D}, k), got {self.factor_W.shape}")
        if self.iid is not None:
            sw, sb = (float(v) for v in self.iid)
            if not (np.isfinite(sw) and np.isfinite(sb) and sw >= 0 and sb >= 0):
                raise ValueError(f"iid sigmas must be finite and >= 0, got {self.iid}")
            self.iid = (sw, sb)
            if np.any(self.mean_W != 0) or np.any(self.mean_b != 0):
                raise ValueError("an iid law (Assumption 7) has zero means")

    # -- basic properties ----------------------------------------------------------------------------
    @property
    def D(self) -> int:
        return self.mean_W.shape[0]

    def cov_W(self) -> np.ndarray:
        """Sigma^W = factor_W factor_W^T (D^2 x D^2, row-major vec)."""
        if self.factor_W is None:
            sw, _ = self.iid
            return (sw * sw / self.D) * np.eye(self.D * self.D)
        return self.factor_W @ self.factor_W.T

    def cov_b(self) -> np.ndarray:
        """Sigma^b = factor_b factor_b^T (D x D)."""
        return self.factor_b @ self.factor_b.T

    # -- sampling --------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, B: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """B independent draws of (dW (B, D, D), db (B, D)) for a layer of size dt (exact discretisation)."""
        if not dt > 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        D, s = self.D, np.sqrt(dt)
        if self.iid is not None:
            sw, sb = self.iid
            dW = rng.standard_normal((B, D, D))
            dW *= sw * s / np.sqrt(D)
            db = rng.standard_normal((B, D))
            db *= sb * s
            return dW, db
        zW = rng.standard_normal((B, self.factor_W.shape[1]))
        dW = (zW @ self.factor_W.T).reshape(B, D, D)
        dW *= s
        dW += self.mean_W * dt
        zb = rng.standard_normal((B, self.factor_b.shape[1]))
        db = zb @ self.factor_b.T
        db *= s
        db += self.mean_b * dt
        return dW, db

    # -- pre-activation moments --------------------------------------------------------------------------
    def preact_mean(self, psi_x: np.ndarray) -> np.ndarray:
        """mu^W psi(x) + mu^b: the drift of h = dW psi(x) + db per unit dt; psi_x (..., D) -> (..., D)."""
        return np.asarray(psi_x, dtype=float) @ self.mean_W.T + self.mean_b

    def preact_cov(self, psi_x: np.ndarray, psi_y: np.ndarray) -> np.ndarray:
        """Cov(eps^W psi_x + eps^b, eps^W psi_y + eps^b) (..., D, D) per unit dt.

        Entry [d, e] = sum_{i,j} Sigma^W[(d,i), (e,j)] psi_x[i] psi_y[j] + Sigma^b[d, e], i.e.
        (I kron psi_x^T) Sigma^W (I kron psi_y) + Sigma^b with row-major vec.  Leading batch axes broadcast.
        """
        px = np.asarray(psi_x, dtype=float)
        py = np.asarray(psi_y, dtype=float)
        D = self.D
        if px.shape[-1] != D or py.shape[-1] != D:
            raise ValueError(f"psi vectors must have last axis {D}")
        Sb = self.cov_b()
        if self.factor_W is None or self.iid is not None:
            sw, _ = self.iid
            dot = np.einsum("...i,...i->...", px, py)
            return (sw * sw / D) * dot[..., None, None] * np.eye(D) + Sb
        F = self.factor_W.reshape(D, D, -1)  # F[d, i, k]
        Ax = np.einsum("dik,...i->...dk", F, px)
        Ay = np.einsum("dik,...i->...dk", F, py)
        return np.einsum("...dk,...ek->...de", Ax, Ay) + Sb

    # -- constructors --------------------------------------------------------------------------------------
    @classmethod
    def general(cls, mean_W, Sigma_W, mean_b, Sigma_b) -> "GaussianLaw":
        """Assumption 4 from covariances: factors are symmetric PSD square roots (singular covariances allowed)."""
        mean_W = _finite("mean_W", mean_W)
        D = mean_W.shape[0]
        Sigma_W = _finite("Sigma_W", Sigma_W)
        Sigma_b = _finite("Sigma_b", Sigma_b)
        if Sigma_W.shape != (D * D, D * D):
            raise ValueError(f"Sigma_W must be ({D * D}, {D * D}), got {Sigma_W.shape}")
        if Sigma_b.shape != (D, D):
            raise ValueError(f"Sigma_b must be ({D}, {D}), got {Sigma_b.shape}")
        return cls(mean_W, psd_sqrt(Sigma_W, "Sigma_W"), mean_b, psd_sqrt(Sigma_b, "Sigma_b"))

    @classmethod
    def matrix_gaussian(cls, mean_W, sigma_O, sigma_I, mean_b, sigma_b) -> "GaussianLaw":
        """Assumption 6 (L241-251): eps^W = sigma_O zeta sigma_I, zeta with iid N(0,1) entries.

        Cov(eps_{oi}, eps_{o'i'}) = (sigma_O sigma_O^T)_{oo'} (sigma_I^T sigma_I)_{ii'}; the row-major factor
        is kron(sigma_O, sigma_I^T) since vec_r(A Z B) = (A kron B^T) vec_r(Z).  ``sigma_b`` is a (D, kb)
        factor of Sigma^b or a scalar s >= 0 (meaning s I).
        """
        mean_W = _finite("mean_W", mean_W)
        D = mean_W.shape[0]
        sigma_O = _finite("sigma_O", sigma_O)
        sigma_I = _finite("sigma_I", sigma_I)
        if sigma_O.shape != (D, D) or sigma_I.shape != (D, D):
            raise ValueError(f"sigma_O and sigma_I must be ({D}, {D})")
        return cls(mean_W, np.kron(sigma_O, sigma_I.T), mean_b, _bias_factor(sigma_b, D))

def _iid_law(cls, D: int, sigma_w: float, sigma_b: float) -> GaussianLaw:
    """Assumption 7 (L265-283): eps^W entries iid N(0, sigma_w^2 / D), eps^b ~ N(0, sigma_b^2 I), zero means.

    For D > IID_DENSE_FACTOR_MAX_D the D^2 x D^2 factor is not materialised (``factor_W`` is None).
    """
    if int(D) != D or D < 1:
        raise ValueError(f"D must be a positive integer, got {D}")
    D = int(D)
    for nm, v in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{nm} must be finite and >= 0, got {v}")
    fW = (sigma_w / np.sqrt(D)) * np.eye(D * D) if D <= IID_DENSE_FACTOR_MAX_D else None
    return cls(np.zeros((D, D)), fW, np.zeros(D), sigma_b * np.eye(D), iid=(float(sigma_w), float(sigma_b)))


# ``GaussianLaw.iid(D, sigma_w, sigma_b)`` is the constructor; on an instance, ``law.iid`` is the dataclass
# field (sigma_w, sigma_b) or None (an instance attribute shadows the class-level classmethod).  Attached
# after the class body so the field's default stays None.
GaussianLaw.iid = classmethod(_iid_law)


def _bias_factor(sigma_b, D):
    sb = _finite("sigma_b", sigma_b)
    if sb.ndim == 0:
        if sb < 0:
            raise ValueError(f"sigma_b must be >= 0, got {float(sb)}")
        return float(sb) * np.eye(D)
    if sb.ndim != 2 or sb.shape[0] != D:
        raise ValueError(f"sigma_b must be a scalar or a ({D}, kb) factor, got {sb.shape}")
    return sb


def random_law(rng: np.random.Generator, D: int, *, mean_scale: float = 0.3, w_scale: float = 1.0,
               b_scale: float = 1.0) -> GaussianLaw:
    """A general Assumption-4 law for tests and claims: non-zero means, random PSD covariances.

    factor_W has iid N(0, w_scale^2 / D^3) entries (non-symmetric, full rank D^2), so each eps^W entry has
    variance ~ w_scale^2 / D, the Assumption-7 scale, but all entries are correlated; factor_b has iid
    N(0, b_scale^2 / D) entries; mean_W ~ mean_scale N(0, 1/D), mean_b ~ mean_scale N(0, 1).
    """
    D = int(D)
    return GaussianLaw(
        mean_W=mean_scale * rng.standard_normal((D, D)) / np.sqrt(D),
        factor_W=w_scale * rng.standard_normal((D * D, D * D)) / D**1.5,
        mean_b=mean_scale * rng.standard_normal(D),
        factor_b=b_scale * rng.standard_normal((D, D)) / np.sqrt(D),
    )
