"""`verify bench --quick` runs every benchmark, and each engine agrees with its reference in result.

Timings are reported, never asserted: the machine's load is not the code's property.  What is asserted is the
agreement: the low-rank forward sampler vs the dense simulator (E q_T within z(1e-4) SE of the difference), the
NTK sampler vs dense backprop (same rule), the ReLU recursion vs 40-digit mpmath (relative 1e-10), the cold vs
warm derivation cache and 1 vs 2 workers (identical results).
"""
import json

from verify.cli import main


def test_bench_quick_runs_and_engines_agree_with_references(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"forward-mc", "figure2", "ntk-mc", "kernel-deep", "finite-ntk", "derive", "audit"}
    for name, r in rows.items():
        assert not r["note"].startswith("failed"), (name, r["note"])
        if r["agree"] is not None:
            assert r["agree"], (name, r["note"])
        for key in ("name", "params", "seconds", "reference_seconds", "ratio", "floor_seconds", "floor_ratio"):
            assert key in r
    assert "speed-up" in capsys.readouterr().out


def test_unknown_benchmark_is_bad_input(capsys):
    assert main(["bench", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("verify: error: unknown benchmark")
