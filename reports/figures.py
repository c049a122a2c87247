"""Figures of the audit report (matplotlib, PDF, no pyplot state).

* ``verdict_summary``: one horizontal stacked bar per paper, segments = verdict counts.
* ``evidence``: per claim with Monte Carlo or rate checks, every numeric check as
  (estimate - prediction) / tolerance; a check passes iff its point lies in the shaded band [-1, 1].
  Monte Carlo checks carry bars +-z SE / tolerance (thick) and +-(z SE + bias) / tolerance (thin; this
  is +-1 by construction: the thin bar reaches 0 exactly when the check passes).
* ``convergence``: per claim with an optional ``series`` key (list of {"name", "x", "y", "xlabel",
  "ylabel", "reference_slope", "logx", "logy", "yerr"}), one panel per series, with the fitted slope in
  the plotted coordinates and the reference slope drawn through the data's centroid.  Checks are scalars,
  so a rate check alone has no curve to draw; it appears in the evidence plot.

Files are written atomically, with no creation date, so identical inputs give identical PDFs.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from verify.io import atomic_write_bytes

VERDICT_ORDER = ("verified", "erratum", "inconclusive", "not-checkable", "error", "pending")
VERDICT_COLOURS = {
    "verified": "#2a7d2a", "erratum": "#b22222", "inconclusive": "#d98c00", "not-checkable": "#7f7f7f",
    "error": "#8e3b8e", "pending": "#c8c8c8",
}
_PASS, _FAIL, _REJECTED = "#2a7d2a", "#c0392b", "#d98c00"
_MARKERS = {"derived": "o", "printed": "s", "both": "D"}
#: kinds whose checks get an evidence plot
EVIDENCE_KINDS = ("monte-carlo", "rate")


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={"CreationDate": None})
    return atomic_write_bytes(path, buf.getvalue())


def _plain(s: object, width: int = 60) -> str:
    """Text for a matplotlib label: no mathtext (``$`` escaped), shortened to ``width`` characters."""
    s = re.sub(r"\s+", " ", str(s or "")).strip()
    if len(s) > width:
        s = s[: width - 1] + "…"
    return s.replace("$", r"\$")


def as_float(v: Any) -> float:
    """A JSON number as float: None -> nan, "inf"/"-inf" -> +-inf, other strings parsed or nan."""
    if v is None or isinstance(v, bool):
        return float("nan") if v is None else float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v))
    except ValueError:
        return float("nan")


# --------------------------------------------------------------------------------------------------
def verdict_summary(claims: Iterable[dict], path: Path) -> Path | None:
    """Stacked bar per paper of verdict counts; None if there are no claims."""
    counts: dict[str, dict[str, int]] = {}
    for c in claims:
        paper = str(c.get("paper") or "?")
        v = str(c.get("verdict") or "error")
        counts.setdefault(paper, {})
        counts[paper][v] = counts[paper].get(v, 0) + 1
    if not counts:
        return None
    papers = list(counts)
    verdicts = [v for v in VERDICT_ORDER if any(v in counts[p] for p in papers)]
    verdicts += sorted({v for p in papers for v in counts[p]} - set(verdicts))
    fig = Figure(figsize=(6.5, 1.3 + 0.42 * len(papers)))
    ax = fig.add_subplot()
    left = np.zeros(len(papers))
    y = np.arange(len(papers))[::-1]
    for v in verdicts:
        w = np.array([counts[p].get(v, 0) for p in papers], dtype=float)
        ax.barh(y, w, left=left, color=VERDICT_COLOURS.get(v, "#555555"), label=v, height=0.6,
                edgecolor="white", linewidth=0.5)
        for yi, li, wi in zip(y, left, w):
            if wi > 0:
                ax.text(li + wi / 2, yi, str(int(wi)), ha="center", va="center", fontsize=7,
                        color="black" if v in ("pending", "inconclusive") else "white")
        left += w
    ax.set_yticks(y, [_plain(p, 20) for p in papers])
    ax.set_xlabel("number of claims")
    ax.set_xlim(0, max(left.max(), 1) * 1.02)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(ncol=min(len(verdicts), 6), fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------------
def evidence_rows(claim: dict) -> list[dict]:
    """The numeric checks of a claim that can be drawn on the normalised axis (finite tolerance > 0)."""
    rows = []
    for ch in claim.get("checks") or []:
        if not isinstance(ch, dict) or ch.get("kind") == "symbolic":
            continue
        tol = as_float(ch.get("tolerance"))
        if not (math.isfinite(tol) and tol > 0):
            continue
        est, pred = as_float(ch.get("estimate")), as_float(ch.get("prediction"))
        x = (est - pred) / tol
        se, bias = as_float(ch.get("se")), as_float(ch.get("bias"))
        inner = None
        if ch.get("kind") == "monte-carlo" and math.isfinite(se):
            zse = tol - (bias if math.isfinite(bias) else 0.0)
            inner = max(zse, 0.0) / tol
        rows.append(dict(name=str(ch.get("name", "")), target=str(ch.get("target", "both")), x=x,
                         finite=math.isfinite(x), passed=bool(ch.get("passed")), mc=ch.get("kind") == "monte-carlo",
                         inner=inner))
    return rows


def evidence(claim: dict, path: Path) -> Path | None:
    """Normalised evidence plot of a claim; None if it has no Monte Carlo or rate check."""
    if not any(isinstance(ch, dict) and ch.get("kind") in EVIDENCE_KINDS for ch in claim.get("checks") or []):
        return None
    rows = evidence_rows(claim)
    if not rows:
        return None
    n = len(rows)
    height = 1.0 + 0.32 * n
    fig = Figure(figsize=(6.0, height))
    # fixed margins (no tight_layout: it draws the figure twice); the left one fits the longest label
    longest = max(len(_plain(r["name"], 40)) + (13 if not r["finite"] else 0) for r in rows)
    left_in = min(0.3 + 0.062 * longest, 3.2)
    fig.subplots_adjust(left=left_in / 6.0, right=0.97, bottom=0.55 / height, top=1 - 0.3 / height)
    ax = fig.add_subplot()
    finite_x = [abs(r["x"]) for r in rows if r["finite"]]
    xmax = max(finite_x + [1.0])
    ax.axvspan(-1, 1, color="#dfeedd", zorder=0)
    ax.axvline(0, color="#444444", lw=0.8, zorder=1)
    labels = []
    for i, r in enumerate(rows):
        yi = n - 1 - i
        colour = _PASS if r["passed"] else (_REJECTED if r["target"] == "printed" else _FAIL)
        marker = _MARKERS.get(r["target"], "o")
        label = _plain(r["name"], 40)
        if not r["finite"]:
            ax.plot([xmax * 1.3], [yi], marker=">", color=colour, ms=7, zorder=3)
            labels.append(label + " (non-finite)")
            continue
        labels.append(label)
        if r["mc"]:
            ax.errorbar([r["x"]], [yi], xerr=[[1.0], [1.0]], fmt="none", ecolor=colour, elinewidth=0.8,
                        capsize=3, zorder=2)
            if r["inner"] is not None:
                ax.errorbar([r["x"]], [yi], xerr=[[r["inner"]], [r["inner"]]], fmt="none", ecolor=colour,
                            elinewidth=3, alpha=0.6, zorder=2)
        ax.plot([r["x"]], [yi], marker=marker, color=colour, ms=6, zorder=3,
                mfc=colour if r["target"] != "printed" else "white", mew=1.5)
    ax.set_yticks(np.arange(n)[::-1], labels, fontsize=7)
    ax.set_ylim(-0.7, n - 0.3)
    if xmax > 4:
        ax.set_xscale("symlog", linthresh=1.0)
        ax.xaxis.set_major_formatter(FuncFormatter(_plain_tick))
        ax.xaxis.set_minor_formatter(NullFormatter())
        lim = xmax * 2.0
    else:
        lim = max(2.0, xmax * 1.4)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("(estimate − prediction) / tolerance")
    ax.set_title(_plain(claim.get("id", ""), 30), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def _plain_tick(v: float, _pos=None) -> str:
    """Tick label without mathtext (fast): -100, -10, -1, 0, 1, 10, 1e+03 ..."""
    if v == 0:
        return "0"
    return f"{v:g}".replace("-", "\u2212")


# --------------------------------------------------------------------------------------------------
def _minor_tick(v: float, _pos=None) -> str:
    """Label the minor ticks 2 and 5 of each decade (for axes spanning little more than a decade)."""
    if v <= 0:
        return ""
    mant = v / 10 ** math.floor(math.log10(v))
    return _plain_tick(v) if min(abs(mant - 2), abs(mant - 5)) < 1e-6 else ""


def _series_arrays(s: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    x = np.array([as_float(v) for v in s.get("x") or []], dtype=float)
    y = np.array([as_float(v) for v in s.get("y") or []], dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"series {s.get('name')!r}: x and y have different lengths ({x.size} and {y.size})")
    yerr = s.get("yerr")
    e = None
    if yerr is not None:
        e = np.array([as_float(v) for v in yerr], dtype=float)
        if e.shape != y.shape:
            raise ValueError(f"series {s.get('name')!r}: yerr and y have different lengths")
    keep = np.isfinite(x) & np.isfinite(y)
    if s.get("logx"):
        keep &= x > 0
    if s.get("logy"):
        keep &= y > 0
    dropped = int((~keep).sum())
    return x[keep], y[keep], (None if e is None else np.where(np.isfinite(e[keep]), e[keep], 0.0)), dropped


def _fwd(v: np.ndarray, log: bool) -> np.ndarray:
    return np.log10(v) if log else v


def convergence(claim: dict, path: Path) -> Path | None:
    """One panel per entry of ``claim["series"]``; None when the claim has no series."""
    series = [s for s in claim.get("series") or [] if isinstance(s, dict)]
    if not series:
        return None
    ncol = min(len(series), 2)
    nrow = math.ceil(len(series) / ncol)
    w, h = 3.3 * ncol, 2.7 * nrow
    fig = Figure(figsize=(w, h))
    # fixed margins in inches (tight_layout would draw the figure twice)
    fig.subplots_adjust(left=0.75 / w, right=1 - 0.15 / w, bottom=0.5 / h, top=1 - 0.55 / h,
                        wspace=0.9 / 2.4, hspace=1.05 / 1.65)
    for k, s in enumerate(series):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        x, y, e, dropped = _series_arrays(s)
        logx, logy = bool(s.get("logx")), bool(s.get("logy"))
        if x.size:
            ax.errorbar(x, y, yerr=e, fmt="o-", ms=4, lw=1, capsize=2, color="#1f4e79", label="data")
        if x.size >= 2 and np.ptp(x) > 0:
            fx, fy = _fwd(x, logx), _fwd(y, logy)
            slope = np.polyfit(fx, fy, 1)[0]
            ax.plot([], [], " ", label=f"fitted slope {slope:.3g}")
            ref = s.get("reference_slope")
            if ref is not None and math.isfinite(as_float(ref)):
                r = as_float(ref)
                grid = np.linspace(fx.min(), fx.max(), 50)
                line = fy.mean() + r * (grid - fx.mean())
                gx = 10 ** grid if logx else grid
                gy = 10 ** line if logy else line
                ax.plot(gx, gy, "--", color="#b22222", lw=1, label=f"reference slope {r:g}")
        for log, axis, setscale in ((logx, ax.xaxis, ax.set_xscale), (logy, ax.yaxis, ax.set_yscale)):
            if log:
                setscale("log")
                axis.set_major_formatter(FuncFormatter(_plain_tick))
                data = x if axis is ax.xaxis else y
                narrow = data.size and np.log10(data.max() / data.min()) < 1.5
                axis.set_minor_formatter(FuncFormatter(_minor_tick) if narrow else NullFormatter())
        ax.set_xlabel(_plain(s.get("xlabel", "x"), 40), fontsize=8)
        ax.set_ylabel(_plain(s.get("ylabel", "y"), 40), fontsize=8)
        title = _plain(s.get("name", f"series {k + 1}"), 45)
        if dropped:
            title += f"\n({dropped} point(s) dropped: non-finite or <= 0 on a log axis)"
        ax.set_title(title, fontsize=8)
        ax.tick_params(which="both", labelsize=7)
        if x.size:
            ax.legend(fontsize=6, frameon=False)
    return _save(fig, path)
