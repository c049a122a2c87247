"""Run the audit functions of a set of claims and collect their results.

Claims run independently (in a process pool when ``workers > 1``); each claim's random streams are
spawned from the run seed and its own id, so results do not depend on order or on the split.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor, as_completed

from numeric import stats
from verify import __version__, registry
from verify.context import AuditContext
from verify.results import ClaimResult, Finding
from verify.verdicts import decide


def run_one(claim_id: str, seed: int, mode: str, figure_dir: str | None = None) -> tuple[dict, int]:
    """Audit one claim; returns (result as JSON dict, number of stochastic checks)."""
    spec = registry.get(claim_id)
    fn = registry.audit_functions().get(spec.id)
    base = dict(id=spec.id, paper=spec.paper, title=spec.title, location=spec.location, category=spec.category,
                status=spec.status)
    if fn is None:
        return ClaimResult(**base, verdict="pending", summary="not yet implemented",
                           reason="no audit implemented for this claim yet").to_json(), 0
    ctx = AuditContext(claim_id=spec.id, seed=seed, mode=mode, figure_dir=Path(figure_dir) if figure_dir else None)
    t0 = time.perf_counter()
    try:
        f: Finding = fn(ctx)
        verdict, reason = decide(f)
        res = ClaimResult(**base, verdict=verdict, summary=f.summary, reason=reason or f.reason, printed=f.printed,
                          derived=f.derived, corrected=f.corrected if verdict == "erratum" else "",
                          difference=f.difference, condition=f.condition, severity=f.severity if verdict == "erratum" else "",
                          steps=list(f.steps), checks=[c.to_json() for c in f.checks], figures=_relative(f.figures, ctx),
                          series=list(f.series) + list(ctx.series),
                          seed=seed)
    except Exception as exc:  # an engine failure must not take the whole audit down; it is reported
        tb = traceback.format_exc(limit=3)
        res = ClaimResult(**base, verdict="error", summary=f"internal error: {type(exc).__name__}: {exc}",
                          reason=tb, seed=seed)
    res.seconds = round(time.perf_counter() - t0, 3)
    return res.to_json(), len(ctx.stochastic_checks)


def _relative(figures, ctx: AuditContext) -> list[str]:
    """Figure paths relative to the results folder (the parent of the figure folder), so results can be moved."""
    base = ctx.figure_dir.parent if ctx.figure_dir else None
    return [os.path.relpath(p, base) if base else str(p) for p in figures]


def run(claim_ids: list[str], *, seed: int, mode: str = "default", workers: int = 1, progress: bool = True,
        figure_dir: str | Path | None = None) -> dict:
    """Audit ``claim_ids`` and return the results document (DESIGN.md section 7)."""
    t0 = time.perf_counter()
    fig = str(figure_dir) if figure_dir else None
    results: dict[str, dict] = {}
    n_stochastic = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(claim_ids), desc="auditing", unit="claim", file=sys.stderr, leave=False,
                   disable=not sys.stderr.isatty() and progress != "force")
    if workers > 1 and len(claim_ids) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futs = {pool.submit(run_one, cid, seed, mode, fig): cid for cid in claim_ids}
            for fut in as_completed(futs):
                res, k = fut.result()
                results[futs[fut]] = res
                n_stochastic += k
                if bar:
                    bar.set_postfix_str(futs[fut]); bar.update()
    else:
        for cid in claim_ids:
            if bar:
                bar.set_postfix_str(cid)
            res, k = run_one(cid, seed, mode, fig)
            results[cid] = res
            n_stochastic += k
            if bar:
                bar.update()
    if bar:
        bar.close()
    claims = [results[c] for c in claim_ids]
    counts: dict[str, int] = {}
    for c in claims:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return {
        "toolkit_version": __version__,
        "seed": seed,
        "mode": mode,
        "alpha_per_check": stats.ALPHA,
        "z_per_check": round(stats.z_two_sided(stats.ALPHA), 4),
        "stochastic_checks": n_stochastic,
        "family_wise_false_alarm_bound": min(1.0, n_stochastic * stats.ALPHA),
        "counts": counts,
        "seconds": round(time.perf_counter() - t0, 2),
        "claims": claims,
    }

