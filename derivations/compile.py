"""Lambdify SymPy expressions to NumPy callables, cached in memory and on disk.

The disk cache (``~/.cache/resnet-limits-verify`` or ``$VERIFY_CACHE``) is keyed by a hash of the
expression's ``srepr``, the argument list, the SymPy version and ``CODE_VERSION``; bump ``CODE_VERSION``
when the compilation itself changes, so a stale cache is never used.  The cached artefact is the generated
Python source, re-executed on load.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import sympy as sp

CODE_VERSION = "3"


def cache_dir() -> Path:
    d = Path(os.environ.get("VERIFY_CACHE", Path.home() / ".cache" / "resnet-limits-verify")) / "kernels"
    return d


def _key(args, expr) -> str:
    h = hashlib.sha256()
    for part in (CODE_VERSION, sp.__version__, sp.srepr(tuple(args)), sp.srepr(expr)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


@lru_cache(maxsize=512)
def _compile_cached(args: tuple, expr) -> callable:
    key = _key(args, expr)
    path = cache_dir() / f"{key}.py"
    src = None
    if path.exists():
        src = path.read_text()
    if src is None:
        src = _numpy_source(args, expr)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(src)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home still compiles, just without the disk cache
    ns: dict = {}
    exec(compile(src, str(path), "exec"), ns)  # noqa: S102 - our own generated source
    return ns["_kernel"]


def _numpy_source(args, expr) -> str:
    from sympy.printing.numpy import SciPyPrinter

    printer = SciPyPrinter({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})
    names = [printer.doprint(a) for a in args]
    body = printer.doprint(expr)
    return "import functools\nimport math\nimport numpy\nimport scipy.special\n\ndef _kernel(%s):\n    return %s\n" % (", ".join(names), body)


def compile_expr(args, expr):
    """Return a NumPy function of ``args`` evaluating ``expr`` (scalar, or Matrix -> ndarray)."""
    args = tuple(args)
    if isinstance(expr, sp.MatrixBase):
        expr = sp.ImmutableMatrix(expr)
    return _compile_cached(args, expr)
