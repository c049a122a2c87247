"""argparse value types with one-line messages (the CLI turns them into ``verify: error: ...`` and exit code 2)."""
from __future__ import annotations

import argparse
import math


def integer(name: str, minimum: int | None = None):
    """An integer >= ``minimum``."""
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {s!r}") from None
        if minimum is not None and v < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}, got {v}")
        return v
    return parse


def number(name: str, *, minimum: float | None = None, maximum: float | None = None, positive: bool = False):
    """A finite float in [minimum, maximum] (strictly above ``minimum`` if ``positive``)."""
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {s!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {s}")
        if minimum is not None and (v < minimum or (positive and v == minimum)):
            raise argparse.ArgumentTypeError(f"{name} must be {'>' if positive else '>='} {minimum:g}, got {v:g}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(f"{name} must be <= {maximum:g}, got {v:g}")
        return v
    return parse
