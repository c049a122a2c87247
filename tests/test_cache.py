"""Derivation cache (derivations/cache.py) and run independence from the process split.

Specifications: a cached derivation returns what a fresh computation returns; a corrupt entry is recomputed;
editing the derivation code changes the cache folder (a stale result is never read); arguments without a
canonical form bypass the cache; and an audit gives identical results with 1 and 2 worker processes.
"""
import json
import pickle

import sympy as sp

from derivations import cache
from derivations.compare import compare
from verify.runner import run

X, Y = sp.symbols("x y")


def test_cached_equals_fresh_and_survives_a_new_process_view(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIFY_CACHE", str(tmp_path))
    calls = []

    @cache.derivation
    def square_sum(e):
        calls.append(1)
        return sp.expand((e + 1) ** 2)

    a = square_sum(X + Y)
    files = list((tmp_path / "derivations").rglob("*.pkl"))
    assert len(files) == 1 and calls == [1]
    with open(files[0], "rb") as fh:
        assert sp.simplify(pickle.load(fh) - a) == 0
    assert square_sum(X + Y) == a and calls == [1]          # memory hit
    assert square_sum.uncached(X + Y) == a


def test_corrupt_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIFY_CACHE", str(tmp_path))

    @cache.derivation
    def cube(e):
        return sp.expand(e**3)

    key = cache._key(f"{cube.__module__}.{cube.__qualname__}", (X,), {})
    path = tmp_path / "derivations" / cache.code_hash() / f"{key}.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    assert cube(X) == X**3


def test_code_change_moves_the_cache(monkeypatch):
    h1 = cache.code_hash()
    cache.code_hash.cache_clear()
    monkeypatch.setattr(cache.sp, "__version__", "0.0-test")
    try:
        assert cache.code_hash() != h1
    finally:
        cache.code_hash.cache_clear()


def test_uncacheable_arguments_bypass_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIFY_CACHE", str(tmp_path))

    @cache.derivation
    def apply(f, e):
        return f(e)

    assert apply(sp.sin, X) == sp.sin(X)
    assert apply(lambda e: e + 1, X) == X + 1
    assert not list(tmp_path.rglob("*.pkl")) or all("apply" not in p.name for p in tmp_path.rglob("*.pkl"))


def test_compare_is_cached_and_still_discriminates(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIFY_CACHE", str(tmp_path))
    assert compare((X + Y) ** 2, X**2 + 2 * X * Y + Y**2).equal
    assert not compare((X + Y) ** 2, X**2 + Y**2).equal


def test_results_do_not_depend_on_the_number_of_workers():
    ids = ["P0-5", "P0-11", "P0-12", "P0-44"]
    one = run(ids, seed=99, mode="quick", workers=1, progress=False)
    two = run(ids, seed=99, mode="quick", workers=2, progress=False)

    def strip(doc):
        return [json.dumps({k: v for k, v in c.items() if k != "seconds"}, sort_keys=True) for c in doc["claims"]]

    assert strip(one) == strip(two)
