"""SymPy derivations from the models' definitions (no NumPy here beyond lambdify targets)."""
