"""Finite-network NTK of P0's fully-connected ResNet (Sec. 5.4, L565-583): a dense backprop reference and an
exact low-rank sampler (DESIGN.md section 5, item 3).

Model (P0 eq. (11), Assumption 7):  x_{l+1} = x_l + phi(h_l),  h_l = dW_l psi(x_l) + db_l,  l = 0..L-1,
dW_l = sigma_w sqrt(dt/D) eps^W_l,  db_l = sigma_b sqrt(dt) eps^b_l,  dt = T/L,  output  y = <v, x_L>
(v = e_1 gives the paper's y = x_{T,1}, L569; a random v is the output layer G of Sec. 5.5).  The NTK is taken
w.r.t. the reparametrised parameters theta = {eps^W_l, eps^b_l} (L567):

    K^{(i,j)} = <d y^{(i)}/d theta, d y^{(j)}/d theta> = K_W + K_b.

Backprop (recipe R-BP): delta_L = v;  a_l = delta_{l+1} * phi'(h_l);
    K_W += sigma_w^2 dt / D (a^i . a^j)(psi(x^i_l) . psi(x^j_l)),   K_b += sigma_b^2 dt (a^i . a^j),
    delta_l = delta_{l+1} + psi'(x_l) * dW_l^T a_l.
delta_0 = J(y, x_0)^T is returned too (it gives the input-layer NTK term of the completed network, eq. (43)).

* ``method="dense"``: materialises every dW_l (B, D, D); O(B L D^2).  Memory: the dW of a chunk are stored when
  they fit in ``max_bytes``, otherwise regenerated in the backward pass from per-layer seeds (bit-identical).
* ``method="lowrank"``: exact in distribution, O(B L D N^2) (N inputs), never forms dW.
  Forward: Q_l (D x N, orthonormal columns spanning psi(X_l), Gram-Schmidt) and R with psi(X)^T... i.e.
  psi(X) = Q R; since dW has iid N(0, s^2) entries (s^2 = sigma_w^2 dt / D), dW Q = s Z with Z iid standard
  normal, and dW psi(X) = s Z R (rows iid N(0, s^2 psi^T psi): the Gram-Cholesky forward of R-GRAM).
  Backward: dW^T U = Q (dW Q)^T U + (I - Q Q^T) dW^T U.  The first term is known from the forward draw
  (s Q Z^T U).  dW (I - Q Q^T) is independent of dW Q and of everything else the network used, so the second
  term is (I - Q Q^T) Y with Y = dW'^T U for an independent copy dW': the rows of Y are iid N_N(0, s^2 U^T U),
  drawn through the triangular factor R_a of U = Q_a R_a (Gram-Schmidt for N = 2, Householder QR otherwise), so
  R_a^T R_a = U^T U exactly even where U^T U is singular (e.g. at the last layer all inputs share delta_L = v;
  a Cholesky/eigen square root of the Gram matrix would lose sqrt(machine eps) there).
  Memory per network: 3 L N D doubles (Q, Z, phi'(h)); networks are processed in chunks, one chunk per
  worker thread, so memory is O(chunk L D N), not O(B L D N).

Randomness: chunk j uses ``rng.spawn(n_chunks)[j]``; a result depends on (rng state, B, chunk), not on the
number of threads.  Divergence: a network with a non-finite NTK entry is flagged ``diverged`` (its K is NaN).
"""
from __future__ import annotations


import numpy as np

from numeric import default_threads
from numeric.parallel import run_chunks
from numeric.activations import get_activation

METHODS = ("lowrank", "dense")


# ------------------------------------------------------------------------------------------------ helpers
def _activation(phi):
    return get_activation(phi)


def _is_identity(act) -> bool:
    return act.name == "identity"


def _prepare_x0(x0, B: int, D: int) -> np.ndarray:
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 2:
        x0 = np.broadcast_to(x0, (B,) + x0.shape)
    if x0.ndim != 3 or x0.shape[0] != B or x0.shape[2] != D:
        raise ValueError(f"x0 must be (N, {D}) or ({B}, N, {D}); got {np.shape(x0)}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite")
    return x0


def _prepare_readout(readout, B: int, D: int) -> np.ndarray:
    if readout is None:
        v = np.zeros(D)
        v[0] = 1.0
        readout = v
    v = np.asarray(readout, dtype=float)
    if v.ndim == 1:
        v = np.broadcast_to(v, (B, D))
    if v.shape != (B, D):
        raise ValueError(f"readout must be ({D},) or ({B}, {D}); got {v.shape}")
    return v


def _gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(c, N, N) matrix of inner products a[n] . b[m] for (c, N, D) arrays."""
    return np.matmul(a, np.swapaxes(b, 1, 2))


def _orthonormal_basis(p: np.ndarray):
    """Q (c, N, D) with orthonormal (or zero) rows spanning the rows of p, and R (c, N, N) upper triangular with
    p[n] = sum_m R[m, n] Q[m] (i.e. psi(X) = Q R in column layout).  N = 2: explicit Gram-Schmidt (a zero
    residual gives a zero row: Q Q^T is then still the projector onto span(p)); N != 2: Householder QR."""
    c, N, D = p.shape
    if N == 2:
        n0 = np.sqrt(np.einsum("cd,cd->c", p[:, 0], p[:, 0]))
        pos0 = n0 > 0
        q0 = p[:, 0] / np.where(pos0, n0, 1.0)[:, None]
        r01 = np.einsum("cd,cd->c", q0, p[:, 1])
        res = p[:, 1] - r01[:, None] * q0
        n1 = np.sqrt(np.einsum("cd,cd->c", res, res))
        # a residual below rounding level of |p1| is a rank-deficient pair: keep only the first direction
        scale = np.sqrt(np.einsum("cd,cd->c", p[:, 1], p[:, 1]))
        pos1 = n1 > 1e-12 * np.maximum(scale, 1e-300)
        q1 = np.where(pos1[:, None], res / np.where(pos1, n1, 1.0)[:, None], 0.0)
        Q = np.stack([q0, q1], axis=1)
        R = np.zeros((c, 2, 2))
        R[:, 0, 0], R[:, 0, 1], R[:, 1, 1] = n0, r01, np.where(pos1, n1, 0.0)
        return Q, R
    Qc, R = np.linalg.qr(np.swapaxes(p, 1, 2))  # p^T = Qc R, Qc (c, D, N) orthonormal columns
    return np.swapaxes(Qc, 1, 2), R


def _chunking(B: int, per_network_bytes: float, chunk, workers, max_bytes: float):
    if chunk is None:
        nw = workers or default_threads()
        chunk = int(max(1, min(B, max_bytes // max(per_network_bytes, 1.0), -(-B // nw))))
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk}")
    return int(chunk)


# ------------------------------------------------------------------------------------------------ samplers
def _lowrank_chunk(x0, v, r, *, L, dt, D, sigma_w, sigma_b, phi, psi, wrong=None):
    """One chunk of the exact low-rank sampler; ``wrong`` selects a deliberately wrong variant (power tests):
    ``"no-projection"`` uses Y instead of (I - QQ^T) Y, ``"fresh-backward"`` ignores the forward draw
    (dW^T U sampled afresh: Y alone)."""
    c, N, _ = x0.shape
    s = sigma_w * np.sqrt(dt / D)
    sb = sigma_b * np.sqrt(dt)
    psi_id = _is_identity(psi)
    x = np.array(x0, dtype=float)
    Qs = np.empty((L, c, N, D))
    Zs = np.empty((L, c, N, D))
    dphis = np.empty((L, c, N, D))
    Gx = np.empty((L, c, N, N))
    dpsis = None if psi_id else np.empty((L, c, N, D))
    with np.errstate(all="ignore"):
        for l in range(L):
            p = x if psi_id else psi.f(x)
            if not psi_id:
                dpsis[l] = psi.df(x)
            Gx[l] = _gram(p, p)
            Q, R = _orthonormal_basis(p)
            Z = Zs[l]
            r.standard_normal(out=Z)
            zb = r.standard_normal((c, 1, D))
            # h[n] = s sum_m R[m, n] Z[m] + sb zb   (rows of dW psi(X) ~ N(0, s^2 psi^T psi), same db for all n)
            h = np.matmul(np.swapaxes(R, 1, 2), Z)
            h *= s
            h += sb * zb
            Qs[l] = Q
            dphis[l] = phi.df(h)
            x += phi.f(h)
        xT = x
        delta = np.array(np.broadcast_to(v[:, None, :], (c, N, D)), dtype=float)
        KW = np.zeros((c, N, N))
        Kb = np.zeros((c, N, N))
        zeta = np.empty((c, N, D))
        for l in range(L - 1, -1, -1):
            a = delta * dphis[l]
            Ga = _gram(a, a)  # U^T U
            KW += (s * s) * Ga * Gx[l]
            Kb += (sb * sb) * Ga
            Q = Qs[l]
            r.standard_normal(out=zeta)
            # rows of Y iid N(0, U^T U) (times s below): U^T U = R_a^T R_a with R_a from the Gram-Schmidt/QR of the
            # a vectors themselves (exact when U^T U is singular, no cancellation in the Schur complement)
            y = np.matmul(np.swapaxes(_orthonormal_basis(a)[1], 1, 2), zeta)
            if wrong != "no-projection" and wrong != "fresh-backward":
                y -= np.matmul(_gram(y, Q), Q)  # (I - Q Q^T) Y
            if wrong != "fresh-backward":
                y += np.matmul(_gram(a, Zs[l]), Q)  # Q (dW Q)^T U / s = Q Z^T U
            y *= s
            if not psi_id:
                y *= dpsis[l]
            delta += y
    return KW, Kb, xT, delta


def _dense_chunk(x0, v, r, *, L, dt, D, sigma_w, sigma_b, phi, psi, max_bytes):
    """One chunk of the dense backprop reference (every dW_l materialised)."""
    c, N, _ = x0.shape
    s = sigma_w * np.sqrt(dt / D)
    sb = sigma_b * np.sqrt(dt)
    psi_id = _is_identity(psi)
    seeds = r.bit_generator.seed_seq.spawn(L) if L else []
    store = c * L * D * D * 8 <= max_bytes
    dWs = [None] * L
    ps = np.empty((L, c, N, D))
    dphis = np.empty((L, c, N, D))
    dpsis = None if psi_id else np.empty((L, c, N, D))
    x = np.array(x0, dtype=float)

    def draw(l):
        g = np.random.default_rng(seeds[l])
        dW = g.standard_normal((c, D, D))
        dW *= s
        db = g.standard_normal((c, 1, D))
        db *= sb
        return dW, db

    with np.errstate(all="ignore"):
        for l in range(L):
            dW, db = draw(l)
            p = x if psi_id else psi.f(x)
            ps[l] = p
            if not psi_id:
                dpsis[l] = psi.df(x)
            h = np.matmul(p, np.swapaxes(dW, 1, 2)) + db
            dphis[l] = phi.df(h)
            x = x + phi.f(h)
            if store:
                dWs[l] = dW
        xT = x
        delta = np.array(np.broadcast_to(v[:, None, :], (c, N, D)), dtype=float)
        KW = np.zeros((c, N, N))
        Kb = np.zeros((c, N, N))
        for l in range(L - 1, -1, -1):
            dW = dWs[l] if store else draw(l)[0]
            a = delta * dphis[l]
            Ga = _gram(a, a)
            KW += (s * s) * Ga * _gram(ps[l], ps[l])
            Kb += (sb * sb) * Ga
            g = np.matmul(a, dW)  # row n: dW^T a^n
            if not psi_id:
                g *= dpsis[l]
            delta = delta + g
            dWs[l] = None
    return KW, Kb, xT, delta


def backprop_ntk(x0, dWs, dbs, *, dt: float, sigma_w: float, sigma_b: float, phi, psi="identity",
                 readout=None) -> dict:
    """Recipe R-BP for ONE network with given increments dWs (L, D, D), dbs (L, D) at inputs x0 (N, D).

    Returns K_W, K_b (N, N), x_T (N, D), delta_0 (N, D); y = <readout, x_L> (default e_1)."""
    phi_a, psi_a = _activation(phi), _activation(psi)
    x = np.asarray(x0, dtype=float)
    N, D = x.shape
    v = _prepare_readout(readout, 1, D)[0]
    ps, dph, dps = [], [], []
    for dW, db in zip(dWs, dbs):
        p = psi_a.f(x)
        h = p @ np.asarray(dW).T + np.asarray(db)
        ps.append(p)
        dps.append(psi_a.df(x))
        dph.append(phi_a.df(h))
        x = x + phi_a.f(h)
    delta = np.tile(v, (N, 1))
    KW, Kb = np.zeros((N, N)), np.zeros((N, N))
    for l in range(len(ps) - 1, -1, -1):
        a = delta * dph[l]
        KW += sigma_w**2 * dt / D * (a @ a.T) * (ps[l] @ ps[l].T)
        Kb += sigma_b**2 * dt * (a @ a.T)
        delta = delta + dps[l] * (a @ np.asarray(dWs[l]))
    return {"K_W": KW, "K_b": Kb, "x_T": x, "delta_0": delta}


def ntk_samples(x0, *, D: int, L: int, T: float = 1.0, sigma_w: float, sigma_b: float, phi, B: int,
                rng: np.random.Generator, method: str = "lowrank", psi="identity", readout=None,
                chunk: int | None = None, workers: int | None = None, max_bytes: float = 1.3e8,
                _wrong: str | None = None) -> dict:
    """NTK of B independent finite networks (P0 Sec. 5.4, L567-583) at the N inputs x0.

    x0: (N, D) shared, or (B, N, D) per network.  readout: None (y = x_{L,1}), a (D,) vector or (B, D) vectors v
    with y = <v, x_L>.  Returns a dict with ``K_W``, ``K_b`` (B, N, N), ``x_T`` (B, N, D), ``delta_0`` (B, N, D)
    = J(y, x_0)^T per input, and ``diverged`` (B,) (non-finite NTK; those rows are NaN).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if int(L) != L or L < 1 or int(B) != B or B < 1 or int(D) != D or D < 1:
        raise ValueError("D, L, B must be positive integers")
    if not T > 0:
        raise ValueError("T must be > 0")
    for nm, val in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"{nm} must be finite and >= 0, got {val}")
    phi_a, psi_a = _activation(phi), _activation(psi)
    x0 = _prepare_x0(x0, B, D)
    v = _prepare_readout(readout, B, D)
    N = x0.shape[1]
    dt = T / L
    if method == "lowrank":
        per_net = 8.0 * L * D * N * (3 + (0 if _is_identity(psi_a) else 1))
    else:
        per_net = 8.0 * (L * D * N * (2 + (0 if _is_identity(psi_a) else 1)) + 3 * D * D)
    chunk = _chunking(B, per_net, chunk, workers, max_bytes)
    out = {"K_W": np.empty((B, N, N)), "K_b": np.empty((B, N, N)), "x_T": np.empty((B, N, D)),
           "delta_0": np.empty((B, N, D))}
    kw = dict(L=int(L), dt=dt, D=int(D), sigma_w=float(sigma_w), sigma_b=float(sigma_b), phi=phi_a, psi=psi_a)

    def work(lo, hi, r):
        if method == "lowrank":
            res = _lowrank_chunk(x0[lo:hi], v[lo:hi], r, wrong=_wrong, **kw)
        else:
            res = _dense_chunk(x0[lo:hi], v[lo:hi], r, max_bytes=max_bytes, **kw)
        for key, val in zip(("K_W", "K_b", "x_T", "delta_0"), res):
            out[key][lo:hi] = val

    run_chunks(B, chunk, rng, work, workers)
    bad = ~(np.isfinite(out["K_W"]).all(axis=(1, 2)) & np.isfinite(out["K_b"]).all(axis=(1, 2)))
    for key in ("K_W", "K_b"):
        out[key][bad] = np.nan
    out["diverged"] = bad
    return out
