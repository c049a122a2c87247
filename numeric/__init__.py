"""NumPy/SciPy engines: compiled kernels, quadrature, finite-network simulators, SDE/ODE solvers, statistics.

No SymPy here beyond functions that ``derivations.compile`` has already lambdified.
"""
