"""`verify kernel` (verify/kernel_cmd.py): prints the derived-recursion kernel; bad input -> one line on stderr, exit 2.

The command is exercised through ``kernel_cmd.main`` (the same parser class and error handling as ``verify``'s CLI,
which registers the command with two lines).
"""
import json

import numpy as np
import pytest

from numeric.kernel_recursions import derived_recursion, unit_inputs
from verify.kernel_cmd import main

BASE = ["kernel", "--arch", "ffnn", "--activation", "tanh", "--depth", "4", "--sigma-w", "1.3", "--sigma-b", "0.2"]


def _run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_input_cos_prints_the_derived_kernel(capsys):
    rc, out, err = _run(BASE + ["--input-cos", "0.3"], capsys)
    assert rc == 0 and err == ""
    K = np.array([[float(v) for v in line.split()] for line in out.strip().splitlines()])
    ref = derived_recursion("ffnn", "tanh", unit_inputs(0.3), 4, 1.3, 0.2).K
    assert np.array_equal(K, ref)


def test_inputs_file_json_nngp_and_conv(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(3, 6))
    f = tmp_path / "x.npy"
    np.save(f, X)
    rc, out, _ = _run(BASE + ["--inputs", str(f), "--kind", "nngp", "--json"], capsys)
    doc = json.loads(out)
    assert rc == 0 and doc["arch"] == "ffnn" and doc["kind"] == "nngp" and doc["n_inputs"] == 3
    assert np.allclose(doc["kernel"], derived_recursion("ffnn", "tanh", X, 4, 1.3, 0.2).Q, rtol=0, atol=0)
    rc, out, _ = _run(["kernel", "--arch", "cnn", "--activation", "relu", "--depth", "3", "--sigma-w", "1.4",
                       "--sigma-b", "0.1", "--inputs", str(f), "--channels", "2", "--json"], capsys)
    doc = json.loads(out)
    ref = derived_recursion("cnn", "relu", X.reshape(3, 2, 3), 3, 1.4, 0.1).K
    assert rc == 0 and doc["positions"] == 3 and np.allclose(doc["kernel"], ref, rtol=0, atol=0)


@pytest.mark.parametrize("change", [
    ["--arch", "transformer"], ["--activation", "nosuch"], ["--activation", "leaky_relu:x"], ["--depth", "0"],
    ["--depth", "2.5"], ["--sigma-w", "nan"], ["--sigma-w", "-1"], ["--sigma-b", "inf"], ["--sigma-b", "abc"],
])
def test_bad_parameters_exit_2_with_one_line(change, capsys):
    argv = list(BASE) + ["--input-cos", "0.3"]
    i = argv.index(change[0])
    argv[i + 1] = change[1]
    rc, out, err = _run(argv, capsys)
    assert rc == 2 and out == "" and err.startswith("verify: error:") and err.count("\n") == 1


def test_bad_input_files_exit_2(tmp_path, capsys):
    bad = {
        "missing": tmp_path / "nope.npy",
        "garbage": tmp_path / "g.npy",
        "3d": tmp_path / "a3.npy",
        "text": tmp_path / "s.npy",
        "nan": tmp_path / "n.npy",
    }
    bad["garbage"].write_text("not numpy")
    np.save(bad["3d"], np.zeros((2, 2, 2)))
    np.save(bad["text"], np.array(["a", "b"]))
    np.save(bad["nan"], np.array([[1.0, np.nan]]))
    for name, path in bad.items():
        rc, out, err = _run(BASE + ["--inputs", str(path)], capsys)
        assert rc == 2 and out == "" and err.count("\n") == 1, (name, err)
    rc, _, err = _run(BASE + ["--input-cos", "1.5"], capsys)
    assert rc == 2
    rc, _, err = _run(BASE, capsys)                      # neither --inputs nor --input-cos
    assert rc == 2
