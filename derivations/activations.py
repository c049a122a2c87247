"""Symbolic activations phi, psi of P0 (Assumption 5, L209-211) and their Taylor data at 0.

Each entry of ``SYMBOLIC_ACTIVATIONS`` maps a name to a function of a SymPy symbol returning the activation
as an exact SymPy expression.  ``numeric.activations`` holds the NumPy twins (tests check they agree).

Names
-----
``tanh``      tanh(x)                       phi'(0) = 1,   phi''(0) = 0     (P0 experiments, L705)
``swish``     x * sigmoid(x)                phi'(0) = 1/2, phi''(0) = 1/2   (P0 L739)
``sin``       sin(x)                        phi'(0) = 1,   phi''(0) = 0
``identity``  x                             phi'(0) = 1,   phi''(0) = 0
``poly``      x + x**2/2 - x**3/6           phi'(0) = 1,   phi''(0) = 1, phi'''(0) = -1
``sigmoid0``  sigmoid(x) - 1/2              phi'(0) = 1/4, phi''(0) = 0
``linear:a``  a * x (a parsed exactly, e.g. ``linear:0.7`` -> 7/10 x)
``relu``      Max(0, x) -- P0 Remark 9 only; not differentiable at 0, so ``taylor_at_zero`` raises.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from derivations.cache import derivation


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


SYMBOLIC_ACTIVATIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "tanh": lambda x: sp.tanh(x),
    "swish": lambda x: x * _sigmoid(x),
    "sin": lambda x: sp.sin(x),
    "identity": lambda x: x,
    "poly": lambda x: x + x**2 / 2 - x**3 / 6,
    "sigmoid0": lambda x: _sigmoid(x) - sp.Rational(1, 2),
    "relu": lambda x: sp.Max(0, x),
}

#: Activations that are not C^3 at the origin (Assumption 5 fails); Taylor data are undefined.
NON_SMOOTH = frozenset({"relu"})


def parse_linear_slope(name: str) -> sp.Rational:
    """The exact slope ``a`` of ``linear:<a>`` (``"linear:0.7"`` -> 7/10, ``"linear:3/2"`` -> 3/2)."""
    if not name.startswith("linear:"):
        raise ValueError(f"not a linear activation name: {name!r}")
    text = name.split(":", 1)[1].strip()
    try:
        a = sp.Rational(text)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise ValueError(f"unknown activation {name!r}: slope {text!r} is not a number") from exc
    return a


def symbolic_activation(name: str, x: sp.Expr) -> sp.Expr:
    """The activation ``name`` applied to the SymPy expression ``x`` (exact coefficients)."""
    if name.startswith("linear:"):
        return parse_linear_slope(name) * x
    try:
        fn = SYMBOLIC_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {sorted(SYMBOLIC_ACTIVATIONS)} and 'linear:<a>'") from None
    return fn(x)


@derivation
def taylor_at_zero(name: str, order: int = 4) -> tuple[sp.Expr, ...]:
    """Exact (phi(0), phi'(0), ..., phi^(order)(0)) of the activation ``name``.

    Raises ValueError for activations that are not smooth at the origin (``relu``).
    """
    if order < 0:
        raise ValueError(f"order must be >= 0, got {order}")
    if name in NON_SMOOTH:
        raise ValueError(f"activation {name!r} is not differentiable at 0 (P0 Remark 9); no Taylor data")
    x = sp.Symbol("x", real=True)
    expr = symbolic_activation(name, x)
    out = []
    for k in range(order + 1):
        val = sp.simplify(sp.diff(expr, x, k).subs(x, 0))
        if val.has(sp.Heaviside, sp.DiracDelta, sp.nan, sp.zoo) or not val.is_number:
            raise ValueError(f"activation {name!r}: derivative of order {k} at 0 is undefined ({val})")
        out.append(sp.nsimplify(val))
    return tuple(out)
