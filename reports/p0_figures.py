"""Figures reproducing P0's numerical experiments (Sec. 6, L703-761; App. B, L1005-1011): Figures 2, 4, 5, 9,
plus the finite-depth bias panel (prediction vs measurement).  matplotlib ``Figure`` objects with the Agg
canvas (no pyplot state); each maker writes a PDF atomically (temporary file in the same folder, then
``os.replace``) and returns the path.  Figure 3 (NTK) is not made here.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from verify.io import atomic_write_bytes

COLOURS = {"resnet": "#1f77b4", "sde": "#ff7f0e", "analytical": "#2ca02c"}


def save_pdf(fig: Figure, path: str | Path) -> str:
    """Write ``fig`` to ``path`` atomically (``verify.io.atomic_write_bytes``: temporary file in the same folder,
    then os.replace; ordinary permissions; no creation date, so identical inputs give identical PDFs)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={"CreationDate": None})
    return str(atomic_write_bytes(Path(path), buf.getvalue()))


def _kde_1d(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    from scipy.stats import gaussian_kde

    return gaussian_kde(x)(grid)


def figure2(samples: Mapping[str, np.ndarray], path, title: str = "") -> str:
    """P0 Fig. 2: 2-D KDE of (y(z1), y(z2)) (left), 1-D KDE + histogram of y(z1) (centre) and y(z2) (right).

    ``samples``: {"resnet": (B, 2), "sde": (B, 2), "analytical": (B, 2)} (finite rows only)."""
    from scipy.stats import gaussian_kde

    fig = Figure(figsize=(12, 3.8))
    axs = fig.subplots(1, 3)
    allx = np.concatenate([s for s in samples.values()])
    lo, hi = np.percentile(allx, 0.5, axis=0), np.percentile(allx, 99.5, axis=0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80))
    for name, s in samples.items():
        col = COLOURS.get(name, None)
        k = gaussian_kde(s[:4000].T)
        dens = k(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        axs[0].contour(gx, gy, dens, levels=5, colors=col, linewidths=1.0)
        axs[0].plot([], [], color=col, label=name)
        for j, ax in ((0, axs[1]), (1, axs[2])):
            grid = np.linspace(lo[j], hi[j], 200)
            ax.hist(s[:, j], bins=50, range=(lo[j], hi[j]), density=True, alpha=0.25, color=col)
            ax.plot(grid, _kde_1d(s[:, j], grid), color=col, label=name)
    axs[0].set_xlabel("y1(z1)")
    axs[0].set_ylabel("y1(z2)")
    axs[0].legend(fontsize=8)
    axs[1].set_xlabel("y1(z1)")
    axs[2].set_xlabel("y1(z2)")
    axs[2].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_pdf(fig, path)


def figure4(z: np.ndarray, draws: Mapping[str, np.ndarray], path, n_paths: int = 25) -> str:
    """P0 Fig. 4 / Fig. 1 style: function samples x_{T,1}(z) (thin lines) with 5/50/95% quantiles, one panel
    per entry of ``draws`` ({title: (B, N) array over the input grid z})."""
    n = len(draws)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows))
    axs = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (title, Y) in zip(axs, draws.items()):
        Y = Y[np.isfinite(Y).all(axis=1)]
        for y in Y[:n_paths]:
            ax.plot(z, y, lw=0.6, alpha=0.6)
        for qq, ls in ((5, "--"), (50, "-"), (95, "--")):
            ax.plot(z, np.percentile(Y, qq, axis=0), color="k", ls=ls, lw=1.2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("z")
    for ax in axs[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return save_pdf(fig, path)


def figure5(z_grids: Mapping[str, np.ndarray], corrs: Mapping[str, np.ndarray], path) -> str:
    """P0 Fig. 5: output-correlation heatmaps rho[x(z1), x(z2)] on [-2, 2]^2, one panel per model."""
    n = len(corrs)
    fig = Figure(figsize=(4.3 * min(n, 2), 3.8 * (-(-n // 2))))
    axs = np.atleast_1d(fig.subplots(-(-n // 2), min(n, 2))).ravel()
    for ax, (title, C) in zip(axs, corrs.items()):
        z = z_grids[title]
        im = ax.imshow(C, origin="lower", extent=(z[0], z[-1], z[0], z[-1]), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("z1")
        ax.set_ylabel("z2")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return save_pdf(fig, path)


def figure9(grid: np.ndarray, surfaces: Mapping[str, np.ndarray], path) -> str:
    """P0 Fig. 9: 2-D function samples on [-2, 2]^2 ({title: (n_draws, G, G)}), one contour map per draw."""
    n_models = len(surfaces)
    n_draws = max(s.shape[0] for s in surfaces.values())
    fig = Figure(figsize=(3.4 * n_draws, 3.0 * n_models))
    axs = np.asarray(fig.subplots(n_models, n_draws)).reshape(n_models, n_draws)
    for r, (title, S) in enumerate(surfaces.items()):
        for c in range(n_draws):
            ax = axs[r, c]
            im = ax.contourf(grid, grid, S[c], levels=20, cmap="viridis")
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax.set_title(f"{title}, draw {c + 1}", fontsize=8)
    fig.tight_layout()
    return save_pdf(fig, path)


def depth_bias_figure(series: Sequence[dict], path) -> str:
    """Measured finite-depth bias (with +-z SE bars where given) next to the prediction c/L, log-log in L."""
    fig = Figure(figsize=(5.2 * len(series), 3.8))
    axs = np.atleast_1d(fig.subplots(1, len(series)))
    for ax, s in zip(axs, series):
        x = np.asarray(s["x"], float)
        for key, style in (("measured", "o"), ("exact_mean_field", "s"), ("predicted", "-")):
            if key not in s:
                continue
            y = np.abs(np.asarray(s[key], float))
            if key == "measured" and "yerr" in s:
                ax.errorbar(x, y, yerr=s["yerr"], fmt=style, label=key, capsize=3)
            else:
                ax.plot(x, y, style, label=key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(s.get("xlabel", "L"))
        ax.set_ylabel(s.get("ylabel", "|bias|"))
        ax.set_title(s.get("name", ""), fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_pdf(fig, path)
