"""Compare a derived expression with the printed transcription.

Equal means: ``simplify(derived - printed) == 0`` and the difference vanishes at random rational points
(exact arithmetic).  Works for scalars and matrices.  The residual is reported factored.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from derivations.cache import derivation


@dataclass
class Comparison:
    equal: bool
    difference: sp.Expr | sp.Matrix
    points_checked: int
    shape_derived: tuple
    shape_printed: tuple

    @property
    def latex_difference(self) -> str:
        return sp.latex(self.difference)

    def statistic(self) -> str:
        if self.shape_derived != self.shape_printed:
            return f"shape: derived {self.shape_derived} vs printed {self.shape_printed}"
        return "simplify(derived - printed) == 0 and zero at %d random rational points" % self.points_checked


def _shape(e) -> tuple:
    return tuple(e.shape) if isinstance(e, sp.MatrixBase) else ()


def _positive_symbols(expr) -> list[sp.Symbol]:
    return sorted(expr.free_symbols, key=lambda s: s.name)


@derivation
def compare(derived, printed, *, points: int = 4, seed: int = 0, domain: dict | None = None) -> Comparison:
    """Compare ``derived`` with ``printed``; ``domain`` maps symbols to (low, high) rational ranges."""
    sd, spr = _shape(derived), _shape(printed)
    if sd != spr:
        return Comparison(False, sp.nan, 0, sd, spr)
    diff = sp.Matrix(derived) - sp.Matrix(printed) if sd else sp.sympify(derived) - sp.sympify(printed)
    simp = diff.applyfunc(lambda e: sp.factor(sp.simplify(e))) if sd else sp.factor(sp.simplify(diff))
    symbolic_zero = (simp == sp.zeros(*sd)) if sd else (simp == 0)
    rnd = random.Random(seed)
    free = sorted(diff.free_symbols, key=lambda s: s.name)
    domain = domain or {}
    numeric_zero = True
    for _ in range(points):
        vals = {}
        for s in free:
            lo, hi = domain.get(s, (sp.Rational(1, 5), sp.Rational(2)))
            vals[s] = sp.Rational(lo) + (sp.Rational(hi) - sp.Rational(lo)) * sp.Rational(rnd.randint(1, 997), 1000)
        v = diff.subs(vals)
        v = v.applyfunc(sp.nsimplify) if sd else sp.nsimplify(v)
        is_zero = all(sp.simplify(x) == 0 for x in (v if sd else [v]))
        if not is_zero:
            numeric_zero = False
            break
    return Comparison(bool(symbolic_zero and numeric_zero), simp, points, sd, spr)
