"""NumPy/SciPy engines: compiled kernels, quadrature, finite-network simulators, SDE/ODE solvers, statistics.

No SymPy here beyond functions that ``derivations.compile`` has already lambdified.
"""

import os as _os


def default_threads() -> int:
    """Threads a numeric engine may use by default: ``$VERIFY_THREADS`` if set (the audit runner sets it to 1 in
    each of its worker processes, so processes x threads never exceeds the cores), else the number of cores."""
    env = _os.environ.get("VERIFY_THREADS", "")
    return max(1, int(env)) if env.isdigit() and int(env) > 0 else (_os.cpu_count() or 1)
