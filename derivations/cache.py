"""On-disk cache of symbolic derivations, keyed by the derivation code itself.

``@derivation`` memoises a pure SymPy function in memory and on disk
(``$VERIFY_CACHE/derivations/<code hash>/<key>.pkl``, default ``~/.cache/resnet-limits-verify``).  The code hash
covers every source file of the ``derivations`` package and the SymPy version, so editing any derivation starts a
fresh cache: a stale result is never used.  The key is a hash of the function's qualified name and a canonical
form of its arguments (``srepr`` for SymPy objects).  Unreadable or corrupt entries are recomputed.

Every decorated function is listed in ``REGISTRY``; ``STATS`` accumulates the time spent in outermost
derivation calls and the cache hits/misses (read by ``verify bench derive``).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import time
from pathlib import Path

import sympy as sp

REGISTRY: dict[str, callable] = {}
STATS = {"seconds": 0.0, "hits": 0, "misses": 0, "calls": 0}
_DEPTH = [0]


@functools.lru_cache(maxsize=None)
def code_hash() -> str:
    h = hashlib.sha256(sp.__version__.encode())
    pkg = Path(__file__).resolve().parent
    for f in sorted(pkg.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cache_root() -> Path:
    return Path(os.environ.get("VERIFY_CACHE", Path.home() / ".cache" / "resnet-limits-verify"))


class _Uncacheable(TypeError):
    """An argument without a canonical, process-independent form (a callable, an arbitrary object)."""


def _canon(obj) -> str:
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return repr(obj)
    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        return sp.srepr(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return type(obj).__qualname__ + "(" + ",".join(_canon(getattr(obj, f.name)) for f in dataclasses.fields(obj)) + ")"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_canon(o) for o in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ",".join(sorted(_canon(k) + ":" + _canon(v) for k, v in obj.items())) + "}"
    if isinstance(obj, (set, frozenset)):
        return "{" + ",".join(sorted(_canon(o) for o in obj)) + "}"
    if hasattr(obj, "tobytes") and hasattr(obj, "shape") and hasattr(obj, "dtype"):  # an array: hash its bytes
        return f"array({obj.dtype},{obj.shape},{hashlib.sha256(obj.tobytes()).hexdigest()})"
    raise _Uncacheable(type(obj).__name__)


def _key(qualname: str, args, kwargs) -> str:
    return hashlib.sha256((qualname + _canon(args) + _canon(kwargs)).encode()).hexdigest()[:40]


def derivation(fn):
    """Decorator: cache a pure derivation in memory and on disk (see module docstring)."""
    qual = f"{fn.__module__}.{fn.__qualname__}"
    REGISTRY[qual] = fn
    memo: dict[str, object] = {}

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            key = _key(qual, args, kwargs)
        except _Uncacheable:
            return fn(*args, **kwargs)
        if key in memo:
            return memo[key]
        outer = _DEPTH[0] == 0
        t0 = time.perf_counter()
        _DEPTH[0] += 1
        try:
            path = cache_root() / "derivations" / code_hash() / f"{key}.pkl"
            value, hit = _load(path)
            if not hit:
                value = _store(path, fn(*args, **kwargs))
            STATS["hits" if hit else "misses"] += 1
        finally:
            _DEPTH[0] -= 1
            if outer:
                STATS["seconds"] += time.perf_counter() - t0
                STATS["calls"] += 1
        memo[key] = value
        return value

    wrapper.uncached = fn
    return wrapper


def _load(path: Path):
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh), True
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None, False


def _store(path: Path, value):
    """Write ``value`` and return it as a later run will read it (SymPy may rebuild an expression in another,
    equal form when unpickling: returning the round-tripped value makes cold and warm runs print the same)."""
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return value  # unpicklable: computed every run
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache still works, uncached
    return pickle.loads(data)
