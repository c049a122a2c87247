"""The command line: listing, running, showing, and one-line errors with exit code 2 on bad input."""
import json
import os
import stat

import pytest

from verify.cli import main


def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_list_shows_every_claim_and_its_state(capsys):
    rc, out, err = run(["list", "--paper", "P0"], capsys)
    assert rc == 0
    lines = out.strip().splitlines()
    assert len(lines) == 77 and lines[0].startswith("P0-1 ")
    assert any(l.startswith("P0-3 ") and " implemented" in l for l in lines)
    rc, out, err = run(["list", "--paper", "P1"], capsys)
    assert rc == 0 and all("not yet implemented" in l for l in out.strip().splitlines())


def test_run_quick_writes_results_with_pending_claims(tmp_path, capsys):
    path = tmp_path / "r.json"
    rc, out, err = run(["run", "P0-11", "P1-1", "--quick", "--no-progress", "--json", str(path)], capsys)
    assert rc == 0
    doc = json.loads(path.read_text())
    by_id = {c["id"]: c for c in doc["claims"]}
    assert by_id["P1-1"]["verdict"] == "pending"
    assert by_id["P0-11"]["verdict"] in {"verified", "erratum"}
    assert doc["alpha_per_check"] > 0 and "family_wise_false_alarm_bound" in doc


def test_show_prints_printed_form_and_checks(capsys):
    rc, out, err = run(["show", "P0-12", "--quick"], capsys)
    assert rc == 0 and "printed statement" in out and "checks:" in out and "verdict:" in out


@pytest.mark.parametrize("argv", [
    ["run", "P0-999"],
    ["run", "X1-3"],
    ["list", "--paper", "P9"],
    ["run", "--paper", "P7"],
    ["run", "P0-3", "--seed", "-1"],
    ["run", "P0-3", "--workers", "0"],
    ["show", "nonsense"],
    ["simulate", "--width", "0"],
    ["simulate", "--depth", "-3"],
    ["simulate", "--sigma-w", "nan"],
    ["simulate", "--sigma-b", "-1"],
    ["simulate", "--draws", "abc"],
    ["simulate", "--inputs", "inf"],
    ["simulate", "--activation", "nosuch", "--draws", "10", "--width", "4", "--depth", "4"],
    ["report", "--results", "/nonexistent/results.json"],
    ["frobnicate"],
])
def test_bad_input_is_one_line_and_exit_2(argv, capsys):
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert err.startswith("verify: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_unreadable_and_invalid_results_files(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    rc, _, err = run(["report", "--results", str(bad)], capsys)
    assert rc == 2 and "not valid JSON" in err
    shape = tmp_path / "shape.json"
    shape.write_text("[1, 2]")
    rc, _, err = run(["report", "--results", str(shape)], capsys)
    assert rc == 2 and "claims" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_output_path_nonroot(tmp_path, capsys):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(stat.S_IREAD | stat.S_IEXEC)
    rc, _, err = run(["run", "P0-3", "--quick", "--json", str(d / "r.json")], capsys)
    assert rc == 2


def test_output_path_under_a_file_is_rejected_before_running(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    rc, out, err = run(["run", "P0-3", "--quick", "--json", str(f / "r.json")], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert out == ""  # nothing ran, nothing half-written


def test_help_explains_verdicts(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "erratum" in out and "z SE + bias" in out
