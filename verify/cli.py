"""Command-line interface: ``verify list | run | show | report | simulate``.

Exit codes: 0 the command ran (an audit that finds errata still exits 0); 2 bad input (one line on
stderr, nothing half-written); 1 an internal failure (a claim whose audit raised is reported as
``error`` in the results and makes ``verify run`` exit 1).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from verify.argtypes import integer, number
from verify.errors import UserError

DEFAULT_SEED = 20261123
DEFAULT_OUT = Path("reports/out")

EPILOG = """\
verdicts:
  verified       derived == printed (symbolically) and every numeric check passes
  erratum        derived != printed; the printed form is rejected by >= 10 SE while the derived form passes
  inconclusive   the evidence cannot separate the two (or a check of the derived form failed: investigate)
  not-checkable  needs data/hardware not here, or is a citation (the reason says which)
  pending        no audit implemented yet

Monte Carlo checks pass iff |estimate - prediction| <= z SE + bias, z = 3.89 (false alarm 1e-4 per check).

examples:
  verify list --paper P0
  verify run P0-36 P0-38 --quick
  verify run --paper P0 --json reports/out/results.json
  verify show P0-33
  verify report --results reports/out/results.json
  verify simulate --width 100 --depth 100 --activation tanh --inputs 0 1 --draws 2000
  verify bench --quick
  verify kernel --arch resnet --activation relu --depth 50 --sigma-w 1 --sigma-b 0 --kind ntk --input-cos 0.5
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str):  # noqa: D401
        raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="verify", description="Audit the mathematics of very deep and very wide residual networks: "
                "re-derive each printed claim with SymPy from the model's definition, check it against quadrature, "
                "ODE solves and Monte Carlo runs of finite networks, and report a verdict with its evidence.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("list", help="list claims and whether they are implemented")
    s.add_argument("--paper", help="P0..P4 (default: all)")
    s.add_argument("--implemented", action="store_true", help="only claims with an audit")

    s = sub.add_parser("run", help="audit claims and write results.json",
                       description="Audit the given claims (default: every implemented claim; pending claims are "
                       "listed in the results with verdict 'pending').")
    s.add_argument("ids", nargs="*", metavar="ID", help="claim ids such as P0-36")
    s.add_argument("--paper", help="restrict to one paper (P0..P4)")
    size = s.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (seconds; used by the tests)")
    size.add_argument("--full", action="store_true", help="the papers' sizes (minutes)")
    s.add_argument("--seed", type=integer("seed", 0), default=DEFAULT_SEED, help=f"run seed (default {DEFAULT_SEED})")
    s.add_argument("--json", dest="json_path", type=Path, help="write the results document here")
    s.add_argument("--workers", type=integer("workers", 1), default=1, help="processes (default 1)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("show", help="one claim: printed form, derivation, checks, verdict")
    s.add_argument("id", metavar="ID")
    s.add_argument("--results", type=Path, help="read the verdict from this results.json instead of running")
    s.add_argument("--quick", action="store_true", help="run at quick size if not read from results")
    s.add_argument("--seed", type=integer("seed", 0), default=DEFAULT_SEED)

    s = sub.add_parser("report", help="render results.json to LaTeX (and PDF where LaTeX is installed)")
    s.add_argument("--results", type=Path, default=DEFAULT_OUT / "results.json")
    s.add_argument("--out", type=Path, default=None, help="output folder (default: the results' folder)")
    s.add_argument("--no-pdf", action="store_true", help="write audit.tex only")

    s = sub.add_parser("bench", help="time the engines against reference implementations in the same process",
                       description="Run benchmarks (default: all): forward-mc, ntk-mc, kernel-deep, derive, audit. Each "
                       "times the toolkit's engine and a reference computation of the same thing, and reports the "
                       "speed-up, the ratio to the physical floor where one exists, and whether the results agree.")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--quick", action="store_true", help="small sizes (about a minute in all)")
    s.add_argument("--json", dest="json_path", type=Path, help="write the rows as a JSON list")

    from verify import kernel_cmd

    kernel_cmd.add_parser(sub)

    s = sub.add_parser("simulate", help="Monte Carlo of a finite ResNet (P0 eq. (11), Assumption 7) against "
                       "the doubly infinite limit (P0 eq. (40))")
    s.add_argument("--width", "-D", type=integer("width", 1), default=100)
    s.add_argument("--depth", "-L", type=integer("depth", 1), default=100)
    s.add_argument("--sigma-w", type=number("sigma-w", minimum=0, positive=True), default=1.0)
    s.add_argument("--sigma-b", type=number("sigma-b", minimum=0), default=1.0)
    s.add_argument("--T", type=number("T", minimum=0, positive=True), default=1.0, help="integration time (default 1)")
    s.add_argument("--activation", default="tanh", help="tanh, swish, sin, identity, poly, linear:<a>")
    s.add_argument("--inputs", type=number("input"), nargs="+", default=[0.0, 1.0],
                   help="scalar inputs z, each copied to all D units (x0 = z 1_D)")
    s.add_argument("--draws", type=integer("draws", 1), default=2000)
    s.add_argument("--seed", type=integer("seed", 0), default=DEFAULT_SEED)
    s.add_argument("--json", dest="json_path", type=Path)
    return p


def _check_output_path(path: Path | None) -> None:
    if path is None:
        return
    from verify.io import ensure_writable_dir

    if path.exists() and path.is_dir():
        raise UserError(f"output path is a folder: {path}")
    ensure_writable_dir(path.parent if str(path.parent) else Path("."))


def cmd_list(a) -> int:
    from verify import registry

    claims = registry.all_claims(a.paper)
    fns = registry.audit_functions()
    n_impl = 0
    for c in claims:
        impl = c.id in fns
        n_impl += impl
        if a.implemented and not impl:
            continue
        state = "implemented" if impl else "not yet implemented"
        print(f"{c.id:<8} {state:<20} {c.category[:10]:<10} {c.title[:70]}")
    print(f"{n_impl} of {len(claims)} claims implemented", file=sys.stderr)
    return 0


def _select(a) -> list[str]:
    from verify import registry

    if a.ids:
        ids = [registry.get(i).id for i in a.ids]
        if a.paper:
            p = registry.check_paper(a.paper)
            ids = [i for i in ids if i.startswith(p + "-")]
        return ids
    return [c.id for c in registry.all_claims(a.paper)]


def cmd_run(a) -> int:
    from verify import runner
    from verify.io import atomic_write_json

    ids = _select(a)
    _check_output_path(a.json_path)
    mode = "quick" if a.quick else "full" if a.full else "default"
    fig_dir = (a.json_path.parent if a.json_path else DEFAULT_OUT) / "figures"
    doc = runner.run(ids, seed=a.seed, mode=mode, workers=a.workers, progress=not a.no_progress, figure_dir=fig_dir)
    _print_table(doc)
    if a.json_path:
        atomic_write_json(a.json_path, doc)
        print(f"results written to {a.json_path}", file=sys.stderr)
    return 1 if doc["counts"].get("error") else 0


def _print_table(doc: dict) -> None:
    shown = [c for c in doc["claims"] if c["verdict"] != "pending"]
    for c in shown:
        print(f"{c['id']:<8} {c['verdict']:<14} {c['seconds']:>7.2f}s  {c['summary'][:90]}")
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(doc["counts"].items()))
    print(f"-- {counts}; {doc['stochastic_checks']} stochastic checks at alpha={doc['alpha_per_check']:g} each "
          f"(family-wise false-alarm bound {doc['family_wise_false_alarm_bound']:.3g}); {doc['seconds']:.1f}s")


def _load_results(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"results file not found: {path} (run `verify run --json {path}` first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read results file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"results file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise UserError(f"results file {path} has no 'claims' list")
    return doc


def cmd_show(a) -> int:
    from verify import registry, runner

    spec = registry.get(a.id)
    res = None
    if a.results:
        doc = _load_results(a.results)
        res = next((c for c in doc["claims"] if c.get("id") == spec.id), None)
        if res is None:
            raise UserError(f"{spec.id} is not in {a.results}")
    else:
        res, _ = runner.run_one(spec.id, a.seed, "quick" if a.quick else "default")
    print(f"{spec.id} — {spec.title}")
    print(f"location: {spec.location}   category: {spec.category}   paper status: {spec.status}")
    print("\nprinted statement:\n  " + spec.statement.replace("\n", "\n  "))
    print(f"\nverdict: {res['verdict']}   ({res.get('seconds', 0):.2f}s)")
    print(f"summary: {res['summary']}")
    for key in ("reason", "printed", "derived", "corrected", "difference", "condition", "severity"):
        if res.get(key):
            print(f"{key}: {res[key]}")
    if res.get("steps"):
        print("derivation:")
        for i, st in enumerate(res["steps"], 1):
            print(f"  {i}. {st}")
    if res.get("checks"):
        print("checks:")
        for c in res["checks"]:
            se = f" SE={c['se']:.3g}" if c.get("se") else ""
            print(f"  [{'pass' if c['passed'] else 'FAIL'}] {c['name']} ({c['kind']}, {c['target']}): "
                  f"{c['statistic']}: estimate={_fmt(c['estimate'])}{se} prediction={_fmt(c['prediction'])} "
                  f"tol={_fmt(c['tolerance'])}" + (f"  — {c['note']}" if c.get("note") else ""))
    return 0


def _fmt(x) -> str:
    return f"{x:.6g}" if isinstance(x, (int, float)) else str(x)


def cmd_report(a) -> int:
    from reports.render import write_report

    doc = _load_results(a.results)
    out = a.out or a.results.parent
    info = write_report(doc, out, compile_pdf=not a.no_pdf)
    print(f"wrote {info['tex']}")
    if info.get("pdf"):
        print(f"wrote {info['pdf']}")
    elif info.get("message"):
        print(info["message"], file=sys.stderr)
    return 0


def cmd_simulate(a) -> int:
    from verify.simulate import simulate_against_limit

    _check_output_path(a.json_path)
    doc = simulate_against_limit(width=a.width, depth=a.depth, sigma_w=a.sigma_w, sigma_b=a.sigma_b, T=a.T,
                                 activation=a.activation, inputs=a.inputs, draws=a.draws, seed=a.seed)
    for line in doc["table"]:
        print(line)
    if a.json_path:
        from verify.io import atomic_write_json

        atomic_write_json(a.json_path, {k: v for k, v in doc.items() if k != "table"})
    return 0


def cmd_bench(a) -> int:
    from verify import bench
    from verify.io import atomic_write_json

    unknown = [n for n in a.names if n not in bench.BENCHMARKS]
    if unknown:
        raise UserError(f"unknown benchmark {unknown[0]!r} (known: {', '.join(bench.BENCHMARKS)})")
    _check_output_path(a.json_path)
    names = a.names or list(bench.BENCHMARKS)
    rows = bench.run_benchmarks(names, a.quick, progress=lambda n: print(f"running {n} ...", file=sys.stderr))
    print(bench.table(rows))
    if a.json_path:
        atomic_write_json(a.json_path, rows)
    return 0


def cmd_kernel(a) -> int:
    from verify import kernel_cmd

    return kernel_cmd.cmd_kernel(a)


COMMANDS = {"bench": cmd_bench, "kernel": cmd_kernel, "list": cmd_list, "run": cmd_run, "show": cmd_show, "report": cmd_report, "simulate": cmd_simulate}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        a = parser.parse_args(argv)
        if not a.cmd:
            parser.print_help()
            return 0
        return COMMANDS[a.cmd](a)
    except UserError as exc:
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `verify list | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
