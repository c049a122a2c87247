"""Convolutional ResNet of P0, Section 3.2 (L309-421), in NumPy: patches, parameter laws, step, simulator,
exact one-step moments.

    x_{t+dt, p} = x_{t, p} + phi(dW_t psi(x_{t, *p}) + db_t),   p = 1..P = UV (row-wise),   eq. (23), L333

State x (..., U, V, D).  The patch at p = (u, v) is x[u-E:u+E+1, v-E:v+E+1, :] of the padded image, flattened
row-major over (a, b, d) (offsets a, b, channel d fastest), F = K*K*D entries; padding "zero"/"constant"
(background value ``pad_value``) or "copy" (nearest border pixel), P0 L311.  The weight increment dW is
D x F, the same at every position.  This module is independent of ``derivations.conv`` (np.pad + sliding
windows here, index maps there); tests check the two agree.

Laws (``ConvLaw``): Assumption 8 (``general``: any Sigma^W), Assumption 9 (``tensor_gaussian``: sampled as
the model writes it, eps^W = sigma^{W_O} zeta (sigma^{W_U} (x) sigma^{W_V} (x) sigma^{W_I})), Assumption 10
(``iid``: entries N(0, sigma_w^2 / D)).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from numeric import quadrature
from numeric.activations import as_function
from numeric.laws import psd_sqrt

PADDINGS = ("zero", "constant", "copy")


# ---------------------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------------------

def extract_patches(x: np.ndarray, K: int, padding: str = "zero", pad_value: float = 0.0) -> np.ndarray:
    """Patches of x (..., U, V, D) -> (..., P, K*K*D), positions row-wise, entries row-major (a, b, d)."""
    if K < 1 or K % 2 == 0:
        raise ValueError(f"K must be a positive odd integer, got {K}")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    x = np.asarray(x, dtype=float)
    if x.ndim < 3:
        raise ValueError(f"x must be (..., U, V, D), got shape {x.shape}")
    E = (K - 1) // 2
    widths = [(0, 0)] * (x.ndim - 3) + [(E, E), (E, E), (0, 0)]
    if padding == "copy":
        xp = np.pad(x, widths, mode="edge")
    else:
        xp = np.pad(x, widths, mode="constant", constant_values=0.0 if padding == "zero" else float(pad_value))
    U, V, D = x.shape[-3:]
    win = sliding_window_view(xp, (K, K), axis=(-3, -2))  # (..., U, V, D, K, K)
    win = np.moveaxis(win, -3, -1)                         # (..., U, V, K, K, D)
    return win.reshape(x.shape[:-3] + (U * V, K * K * D))


@lru_cache(maxsize=64)
def _gather_index(U: int, V: int, K: int, D: int, padding: str) -> np.ndarray:
    """Index (P, F) into [vec(x), pad] reproducing ``extract_patches`` (built by running it on a labelled image:
    entry j + 1 at flat position j, background 0, so the label minus one is the source, -1 the padding)."""
    labels = np.arange(1, U * V * D + 1, dtype=float).reshape(U, V, D)
    mode = "copy" if padding == "copy" else "constant"
    idx = extract_patches(labels, K, mode, pad_value=0.0).astype(np.int64) - 1
    idx[idx < 0] = U * V * D  # the appended background slot
    idx.setflags(write=False)
    return idx


def fast_patches(x: np.ndarray, K: int, padding: str = "zero", pad_value: float = 0.0) -> np.ndarray:
    """Same result as ``extract_patches`` (a test checks it) by one gather; used in the per-layer hot loop."""
    x = np.asarray(x, dtype=float)
    U, V, D = x.shape[-3:]
    idx = _gather_index(U, V, K, D, padding)
    flat = x.reshape(x.shape[:-3] + (U * V * D,))
    c = 0.0 if padding in ("zero", "copy") else float(pad_value)
    ext = np.concatenate([flat, np.full(flat.shape[:-1] + (1,), c)], axis=-1)
    return ext[..., idx]


def patch_matrix(U: int, V: int, K: int, D: int, padding: str = "zero") -> tuple[np.ndarray, np.ndarray]:
    """Extraction as matrix products: S (P, F, UVD) and the padded-entry mask o (P, F), patches = S vec(x) + c o
    (c the background value; 0 for "zero" padding; o = 0 for "copy").

    Built by pushing the basis images through ``extract_patches`` (linearity), the mask from x = 0, c = 1.
    """
    n = U * V * D
    basis = np.eye(n).reshape(n, U, V, D)
    mode = "copy" if padding == "copy" else "constant"
    o = extract_patches(np.zeros((U, V, D)), K, mode, pad_value=1.0)   # (P, F)
    lin = extract_patches(basis, K, mode, pad_value=1.0) - o[None]     # (n, P, F)
    return np.moveaxis(lin, 0, -1), o


# ---------------------------------------------------------------------------------------------------------
# Parameter laws
# ---------------------------------------------------------------------------------------------------------

def _kron(*ms):
    out = ms[0]
    for m in ms[1:]:
        out = np.kron(out, m)
    return out


@dataclass
class ConvLaw:
    """Law of (dW (D, F), db (D,)): dW = mean_W dt + eps^W sqrt(dt), vec_rowmajor(eps^W) = factor_W z.

    ``sampler(rng, B) -> eps^W (B, D, F)`` (optional) draws eps^W as the model writes it (e.g. sO zeta R);
    ``sample`` uses it when present, else the factor.  ``factor_W`` always defines the covariance.
    """

    mean_W: np.ndarray
    factor_W: np.ndarray
    mean_b: np.ndarray
    factor_b: np.ndarray
    sampler: Callable | None = None
    name: str = "conv law"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        self.mean_W = np.asarray(self.mean_W, float)
        self.factor_W = np.asarray(self.factor_W, float)
        self.mean_b = np.asarray(self.mean_b, float)
        self.factor_b = np.asarray(self.factor_b, float)
        D, F = self.mean_W.shape
        if self.factor_W.ndim != 2 or self.factor_W.shape[0] != D * F:
            raise ValueError(f"factor_W must be ({D * F}, k), got {self.factor_W.shape}")
        if self.mean_b.shape != (D,) or self.factor_b.ndim != 2 or self.factor_b.shape[0] != D:
            raise ValueError("mean_b must be (D,) and factor_b (D, kb)")
        for nm in ("mean_W", "factor_W", "mean_b", "factor_b"):
            if not np.all(np.isfinite(getattr(self, nm))):
                raise ValueError(f"{nm} must be finite")

    @property
    def D(self) -> int:
        return self.mean_W.shape[0]

    @property
    def fan_in(self) -> int:
        return self.mean_W.shape[1]

    def cov_W(self) -> np.ndarray:
        return self.factor_W @ self.factor_W.T

    def cov_b(self) -> np.ndarray:
        return self.factor_b @ self.factor_b.T

    def sample_eps(self, rng: np.random.Generator, B: int) -> np.ndarray:
        if self.sampler is not None:
            return self.sampler(rng, B)
        z = rng.standard_normal((B, self.factor_W.shape[1]))
        return np.einsum("bk,fk->bf", z, self.factor_W).reshape(B, self.D, self.fan_in)

    def sample(self, rng: np.random.Generator, B: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """B independent draws of (dW (B, D, F), db (B, D)) for a layer of size dt (exact discretisation)."""
        if not dt > 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        s = np.sqrt(dt)
        dW = self.sample_eps(rng, B) * s + self.mean_W * dt
        db = rng.standard_normal((B, self.factor_b.shape[1])) @ self.factor_b.T * s + self.mean_b * dt
        return dW, db

    # -- pre-activations h_p = dW psi_p + db, per unit dt -----------------------------------------------------
    def preact_mean(self, psi_patches: np.ndarray) -> np.ndarray:
        """(..., F) -> (..., D): mu^W psi_p + mu^b."""
        return np.asarray(psi_patches, float) @ self.mean_W.T + self.mean_b

    def loadings(self, psi_patches: np.ndarray) -> np.ndarray:
        """(..., F) -> (..., D, k): the noise of h_p is loadings @ z (z the law's standard normals)."""
        Fw = self.factor_W.reshape(self.D, self.fan_in, -1)
        return np.einsum("dfk,...f->...dk", Fw, np.asarray(psi_patches, float))

    def preact_cov(self, psi_a: np.ndarray, psi_b: np.ndarray) -> np.ndarray:
        """Cov(eps^W a + eps^b, eps^W b + eps^b) (..., D, D) per unit dt."""
        return np.einsum("...dk,...ek->...de", self.loadings(psi_a), self.loadings(psi_b)) + self.cov_b()

    def stacked(self, psi_patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint law of (h_1, ..., h_n) per unit dt for patch vectors (n, F): mean (nD,), cov (nD, nD).

        Position-major ordering (index p D + d), i.e. vec_rowmajor of the (n, D) array, as in P0 (24)."""
        A = self.loadings(psi_patches).reshape(-1, self.factor_W.shape[1])
        n = psi_patches.shape[0]
        Sb = np.kron(np.ones((n, n)), self.cov_b())
        return self.preact_mean(psi_patches).reshape(-1), A @ A.T + Sb

    # -- constructors ---------------------------------------------------------------------------------------
    @classmethod
    def general(cls, mean_W, Sigma_W, mean_b, Sigma_b) -> "ConvLaw":
        """Assumption 8 (L313-331): vec(eps^W) ~ N_{DF}(0, Sigma^W), eps^b ~ N_D(0, Sigma^b)."""
        return cls(mean_W, psd_sqrt(Sigma_W, "Sigma_W"), mean_b, psd_sqrt(Sigma_b, "Sigma_b"),
                   name="Assumption 8")

    @classmethod
    def tensor_gaussian(cls, mean_W, sO, sU, sV, sI, mean_b, sb) -> "ConvLaw":
        """Assumption 9 (L373-377): eps^W = sO zeta (sU (x) sV (x) sI), zeta (D, KKD) i.i.d. N(0, 1).

        Sampling follows that product literally.  The factor is the linear map zeta -> vec_rowmajor(eps^W),
        built column by column from the same product on the basis matrices zeta = E_j (no identity used).
        """
        sO, sU, sV, sI, sb = (np.asarray(a, float) for a in (sO, sU, sV, sI, sb))
        R = _kron(sU, sV, sI)
        D, F = sO.shape[0], R.shape[0]
        basis = np.eye(D * F).reshape(D * F, D, F)
        factor = (sO[None] @ basis @ R[None]).reshape(D * F, D * F).T  # column j = vec(sO E_j R)

        def sampler(rng, B, sO=sO, R=R, D=D, F=F):
            zeta = rng.standard_normal((B, D, F))
            return sO[None] @ zeta @ R[None]

        return cls(mean_W, factor, mean_b, sb, sampler=sampler, name="Assumption 9",
                   params=dict(sigma_O=sO, sigma_U=sU, sigma_V=sV, sigma_I=sI, R=R))

    @classmethod
    def iid(cls, D: int, K: int, sigma_w: float, sigma_b: float) -> "ConvLaw":
        """Assumption 10 (L393-411): Delta W = zeta sigma_w / sqrt(D) sqrt(dt), zeta (D, KKD) i.i.d. N(0, 1)."""
        F = K * K * D

        def sampler(rng, B, D=D, F=F, s=sigma_w / np.sqrt(D)):
            return s * rng.standard_normal((B, D, F))

        return cls(np.zeros((D, F)), sigma_w / np.sqrt(D) * np.eye(D * F), np.zeros(D), sigma_b * np.eye(D),
                   sampler=sampler, name="Assumption 10", params=dict(sigma_w=sigma_w, sigma_b=sigma_b))


# ---------------------------------------------------------------------------------------------------------
# The conv step and a dense simulator
# ---------------------------------------------------------------------------------------------------------

def conv_preact(x, dW, db, psi, K: int, padding: str = "zero", pad_value: float = 0.0) -> np.ndarray:
    """h_p = dW psi(x_{*p}) + db for all positions: x (B, ..., U, V, D), dW (B, D, F), db (B, D) -> (B, ..., P, D).

    psi is applied to the padded patch (so psi(pad_value) enters at the border, as in (23))."""
    psi_f = as_function(psi)
    pp = psi_f(fast_patches(x, K, padding, pad_value))               # (B, ..., P, F)
    B = max(pp.shape[0], dW.shape[0])
    flat = pp.reshape(pp.shape[0], -1, pp.shape[-1])                     # (B or 1, n, F), n = (..., P)
    if flat.shape[0] == 1 and B > 1:   # one state, many parameter draws: no broadcast copy of the patches
        h = np.einsum("nf,bdf->bnd", flat[0], dW)
    else:
        h = np.einsum("bnf,bdf->bnd", flat, dW)
    out_shape = (B,) + pp.shape[1:-1] + (dW.shape[1],)
    return h.reshape(out_shape) + db.reshape(db.shape[:1] + (1,) * (pp.ndim - 2) + db.shape[1:])


def conv_step(x, dW, db, phi, psi, K: int, padding: str = "zero", pad_value: float = 0.0) -> np.ndarray:
    """One layer of (23): x (B, ..., U, V, D) -> same shape."""
    phi_f = as_function(phi)
    h = conv_preact(x, dW, db, psi, K, padding, pad_value)
    return x + phi_f(h).reshape(x.shape)


@dataclass
class ConvSimResult:
    x: np.ndarray          # (B, N, U, V, D), NaN for diverged networks
    diverged: np.ndarray   # (B,)

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())


def simulate_conv(x0, law: ConvLaw, *, L: int, T: float = 1.0, phi, psi, K: int, B: int, rng: np.random.Generator,
                  padding: str = "zero", pad_value: float = 0.0, callback=None, blowup: float = 1e8) -> ConvSimResult:
    """B independent conv ResNets (23) of depth L, dt = T/L, fresh (dW, db) from ``law`` at every layer, shared
    by the N inputs x0 (N, U, V, D) (or one input (U, V, D)).  ``callback(l, x, dW, db)`` sees each layer's
    state (B, N, U, V, D) and increments BEFORE the update.  Networks with a non-finite entry or |x| > blowup
    are flagged ``diverged`` and frozen at NaN (never averaged)."""
    x0 = np.asarray(x0, float)
    if x0.ndim == 3:
        x0 = x0[None]
    if x0.ndim != 4 or x0.shape[-1] != law.D:
        raise ValueError(f"x0 must be (N, U, V, {law.D}), got {x0.shape}")
    if law.fan_in != K * K * law.D:
        raise ValueError(f"law fan-in {law.fan_in} != K*K*D = {K * K * law.D}")
    dt = T / L
    x = np.repeat(x0[None], B, axis=0)
    bad = np.zeros(B, bool)
    for l in range(L):
        dW, db = law.sample(rng, B, dt)
        if callback is not None:
            callback(l, x, dW, db)
        with np.errstate(over="ignore", invalid="ignore"):
            x = conv_step(x, dW, db, phi, psi, K, padding, pad_value)
            now = ~(np.abs(x).reshape(B, -1).max(axis=1) <= blowup)
        if now.any():
            bad |= now
            x[now] = np.nan
    return ConvSimResult(x, bad)


# ---------------------------------------------------------------------------------------------------------
# Exact one-step moments (Gauss-Hermite): h ~ N(mean, cov) exactly given the state
# ---------------------------------------------------------------------------------------------------------

def gaussian_map_moments(f, mean: np.ndarray, cov: np.ndarray, *, n1: int = 80, n2: int = 60,
                         pairs: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Moments of f(h) for h ~ N(mean, cov) (n,): ``mean`` E f(h_i), ``m4`` E f(h_i)^4 (1-D GH) and ``cov``
    Cov(f(h_i), f(h_j)) (n, n) by 2-D GH on each pair, centred at the 1-D means; ``pairs`` = (I, J) restricts
    the off-diagonal entries computed (the others are NaN)."""
    f = as_function(f)
    mean, cov = np.asarray(mean, float), np.asarray(cov, float)
    n = mean.size
    var = np.clip(np.diag(cov).copy(), 0.0, None)
    m1 = quadrature.gauss_expect_1d(f, mean, var, n=n1)
    m4 = quadrature.gauss_expect_1d(lambda h: f(h) ** 4, mean, var, n=n1)
    out = np.full((n, n), np.nan)
    out[np.diag_indices(n)] = quadrature.gauss_expect_1d(lambda h: (f(h) - m1[:, None]) ** 2, mean, var, n=n1)
    if pairs is None:
        I, J = np.triu_indices(n, k=1)
    else:
        I, J = (np.asarray(a, int) for a in pairs)
        keep = I != J
        I, J = I[keep], J[keep]
    if I.size:
        pm = np.stack([mean[I], mean[J]], axis=-1)
        pc = np.empty((I.size, 2, 2))
        pc[:, 0, 0], pc[:, 1, 1] = var[I], var[J]
        pc[:, 0, 1] = pc[:, 1, 0] = cov[I, J]
        cI, cJ = m1[I][:, None, None], m1[J][:, None, None]
        val = quadrature.gauss_expect_2d(lambda a, b: (f(a) - cI) * (f(b) - cJ), pm, pc, n=n2)
        out[I, J] = val
        out[J, I] = val
    return {"mean": m1, "cov": out, "m4": m4}


def one_step_moments(x, law: ConvLaw, phi, psi, K: int, dt: float, *, padding: str = "zero", pad_value: float = 0.0,
                     pairs=None, n1: int = 80, n2: int = 60) -> dict:
    """Exact one-step moments of Dx = phi(h) for the conv step (23) at states x (N, U, V, D) or (U, V, D).

    All N P D pre-activations share dW, db, so they are jointly Gaussian: mean law.preact_mean dt, covariance
    law.stacked dt (inputs, then positions, then channels).  Returns mean (NPD,), cov (NPD, NPD), m4 (NPD,)."""
    psi_f = as_function(psi)
    x = np.asarray(x, float)
    pp = psi_f(extract_patches(x, K, padding, pad_value)).reshape(-1, law.fan_in)
    m, S = law.stacked(pp)
    return gaussian_map_moments(phi, m * dt, S * dt, n1=n1, n2=n2, pairs=pairs)
