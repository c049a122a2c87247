"""Chunked, seed-stable parallel Monte Carlo: chunk j of the B networks draws from ``rng.spawn(n_chunks)[j]``, so a
result depends only on (rng state, B, chunk), never on the number of threads that ran the chunks."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from numeric import default_threads


def run_chunks(B: int, chunk: int, rng: np.random.Generator, work, workers: int | None) -> None:
    """Call ``work(lo, hi, child_rng)`` for consecutive chunks of ``range(B)``, on up to ``workers`` threads."""
    bounds = [(lo, min(lo + chunk, B)) for lo in range(0, B, chunk)]
    jobs = list(zip(bounds, rng.spawn(len(bounds))))
    if workers is None:
        workers = min(default_threads(), len(jobs))
    if workers <= 1 or len(jobs) == 1:
        for (lo, hi), r in jobs:
            work(lo, hi, r)
        return
    with ThreadPoolExecutor(max_workers=workers) as ex:
        for f in [ex.submit(work, lo, hi, r) for (lo, hi), r in jobs]:
            f.result()
