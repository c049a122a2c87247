"""NumPy activations phi, psi of P0 (Assumption 5, L209-211) with their first three derivatives.

Same names as ``derivations.activations`` (tests check the two agree to 1e-12).  Every callable is
vectorised and overflow-safe (sigmoids via ``scipy.special.expit``, never ``exp`` of a large argument).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np
from scipy.special import expit

Fn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation with derivatives ``df``, ``d2f`` and ``d3f`` (vectorised NumPy callables)."""

    name: str
    f: Fn
    df: Fn
    d2f: Fn
    d3f: Fn | None = None

    def __call__(self, x):
        return self.f(x)


def _tanh_d1(x):
    t = np.tanh(x)
    return 1.0 - t * t


def _tanh_d2(x):
    t = np.tanh(x)
    return -2.0 * t * (1.0 - t * t)


def _tanh_d3(x):
    t = np.tanh(x)
    s = 1.0 - t * t
    return -2.0 * s * (1.0 - 3.0 * t * t)


def _swish(x):
    return x * expit(x)


def _swish_d1(x):
    s, sm = expit(x), expit(-x)  # sm = 1 - s without cancellation
    return s + x * s * sm


def _swish_d2(x):
    s, sm = expit(x), expit(-x)
    return s * sm * (2.0 + x * (sm - s))


def _swish_d3(x):
    # d/dx of s sm (2 + x (1 - 2 s)),  (s sm)' = s sm (1 - 2 s)
    s, sm = expit(x), expit(-x)
    p = s * sm
    return p * (sm - s) * (2.0 + x * (sm - s)) + p * ((sm - s) - 2.0 * x * p)


def _sigmoid0(x):
    return expit(x) - 0.5


def _sigmoid0_d1(x):
    return expit(x) * expit(-x)


def _sigmoid0_d2(x):
    s, sm = expit(x), expit(-x)
    return s * sm * (sm - s)


def _sigmoid0_d3(x):
    s, sm = expit(x), expit(-x)
    p = s * sm
    return p * ((sm - s) ** 2 - 2.0 * p)


def _zeros(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def _ones(x):
    return np.ones_like(np.asarray(x, dtype=float))


def _identity(x):
    return np.asarray(x, dtype=float)


def _linear(a: float) -> Activation:
    return Activation(
        name=f"linear:{a!r}",
        f=lambda x: a * np.asarray(x, dtype=float),
        df=lambda x: np.full_like(np.asarray(x, dtype=float), a),
        d2f=_zeros,
        d3f=_zeros,
    )


_TABLE: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, _tanh_d1, _tanh_d2, _tanh_d3),
    "swish": Activation("swish", _swish, _swish_d1, _swish_d2, _swish_d3),
    "sin": Activation("sin", np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "identity": Activation("identity", _identity, _ones, _zeros, _zeros),
    "poly": Activation(
        "poly",
        lambda x: x + x * x / 2.0 - x**3 / 6.0,
        lambda x: 1.0 + x - x * x / 2.0,
        lambda x: 1.0 - np.asarray(x, dtype=float),
        lambda x: -_ones(x),
    ),
    "sigmoid0": Activation("sigmoid0", _sigmoid0, _sigmoid0_d1, _sigmoid0_d2, _sigmoid0_d3),
    # ReLU (P0 Remark 9): derivative at 0 set to 0 by convention (the point has measure zero).
    "relu": Activation(
        "relu",
        lambda x: np.maximum(np.asarray(x, dtype=float), 0.0),
        lambda x: (np.asarray(x) > 0).astype(float),
        _zeros,
        _zeros,
    ),
}

KNOWN = tuple(sorted(_TABLE)) + ("linear:<a>",)


def get_activation(name: str | Activation) -> Activation:
    """The activation called ``name`` (an ``Activation`` is returned unchanged).

    ``linear:<a>`` accepts a decimal or a fraction (``linear:0.7``, ``linear:3/2``).
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise ValueError(f"unknown activation {name!r}: expected a name or an Activation")
    if name.startswith("linear:"):
        text = name.split(":", 1)[1].strip()
        try:
            a = float(Fraction(text))
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"unknown activation {name!r}: slope {text!r} is not a number") from exc
        act = _linear(a)
        return Activation(name, act.f, act.df, act.d2f, act.d3f)
    try:
        return _TABLE[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(KNOWN)}") from None


def as_function(phi) -> Fn:
    """The value map of ``phi``: an ``Activation``, an activation name, or a plain callable."""
    if isinstance(phi, Activation):
        return phi.f
    if isinstance(phi, str):
        return get_activation(phi).f
    if callable(phi):
        return phi
    raise ValueError(f"not an activation: {phi!r}")
