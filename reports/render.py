"""Render a results document (verify.runner.run) to ``audit.tex``, its figures, and ``audit.pdf``.

Public API: ``write_report(results, out_dir, *, compile_pdf=True) -> dict`` and ``find_latex()``.

Robustness: every string from a claim is escaped (prose) or validated (math) before it enters the
document (reports.texsafe).  Each math-bearing piece is written on its own line after a marker comment
``%%AUDIT-SNIPPET n``; if pdfLaTeX still stops with an error, the error's line number names the piece,
which is re-rendered as typewriter source, and the document is compiled again (a few rounds; then every
formula is shown as source).  Macros unknown to LaTeX are defined at \\begin{document} as red
placeholders, so they show up in the PDF instead of stopping it.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from reports import figures as figs
from reports import texsafe
from verify import __version__ as TOOLKIT_VERSION
from verify.errors import UserError
from verify.io import atomic_write_text, ensure_writable_dir
from verify.verdicts import WIDE_MARGIN

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "audit.tex.j2"
TEX_NAME = "audit.tex"
#: wall-clock budget for all LaTeX runs of one report, in seconds
LATEX_TIMEOUT_S = 120
#: after this many failed compilations that each set some formulas to source text, every formula is
#: shown as source text (one more compilation); if that fails too, the report has no PDF
MAX_FALLBACK_ROUNDS = 4
SNIPPET_MARK = "%%AUDIT-SNIPPET"
UNDEFINED_MARK = "AUDIT-UNDEFINED-MACRO:"
_AUX_SUFFIXES = (".aux", ".out", ".toc", ".fls", ".fdb_latexmk", ".log", ".pdf")
_VERDICT_COLOUR_NAMES = {
    "verified": "vVerified", "erratum": "vErratum", "inconclusive": "vInconclusive",
    "not-checkable": "vNotCheckable", "pending": "vPending", "error": "vError",
}
_KIND_ABBREV = {"monte-carlo": "MC", "quadrature": "quad", "symbolic": "sym", "exact": "exact", "ode": "ODE",
                "rate": "rate", "shape": "shape"}
_FIGURE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg")


# --------------------------------------------------------------------------------------------------
# compiler discovery
# --------------------------------------------------------------------------------------------------
def find_latex() -> str | None:
    """``"latexmk"`` or ``"pdflatex"`` (whichever can build the PDF, latexmk preferred), or None."""
    if shutil.which("pdflatex") is None:
        return None  # latexmk -pdf needs pdflatex too
    return "latexmk" if shutil.which("latexmk") else "pdflatex"


# --------------------------------------------------------------------------------------------------
# number formatting
# --------------------------------------------------------------------------------------------------
def fmt_num(v: Any, digits: int = 4) -> str:
    """A number as LaTeX with ``digits`` significant digits; None -> ``--``; "inf" -> infinity."""
    if v is None:
        return "--"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        s = _group_digits(abs(v)) if abs(v) >= 10000 else str(abs(v))
        return f"${'-' if v < 0 else ''}{s}$"
    x = figs.as_float(v)
    if isinstance(v, str) and math.isnan(x) and v.strip().lower() not in ("nan",):
        return texsafe.escape_text(v)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return r"$\infty$" if x > 0 else r"$-\infty$"
    if x == 0:
        return "0"
    a = abs(x)
    if 1e-3 <= a < 1e5:
        s = f"{x:.{digits}g}"
        if "e" not in s:
            return f"${s}$"
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return rf"${mant}\times10^{{{int(exp)}}}$"


def _group_digits(n: int) -> str:
    s = str(n)
    groups = []
    while s:
        groups.append(s[-3:])
        s = s[:-3]
    return "{,}".join(reversed(groups))


def _fmt_seed(v: Any) -> str:
    return "--" if v is None else texsafe.escape_text(v)


def fmt_seconds(v: Any) -> str:
    x = figs.as_float(v)
    if not math.isfinite(x):
        return "--"
    if x < 60:
        return f"{x:.1f}\\,s"
    m, s = divmod(int(round(x)), 60)
    return f"{m}\\,min {s}\\,s"


# --------------------------------------------------------------------------------------------------
# snippets (the pieces that may fail to compile)
# --------------------------------------------------------------------------------------------------
@dataclass
class _Snippets:
    """Renders math-bearing fields, numbering them; ``bad`` maps source strings to be shown as source text
    (because LaTeX failed on them) to the reason; ``safe`` shows every formula as source text."""

    bad: dict[str, str]
    safe: bool
    count: int = 0
    where: dict[int, str] = field(default_factory=dict)
    source: dict[int, str] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)
    static_fallbacks: list[tuple[str, str]] = field(default_factory=list)

    def _open(self, where: str, source: str) -> tuple[int, str]:
        self.count += 1
        self.where[self.count] = where
        self.source[self.count] = source
        return self.count, f"%\n{SNIPPET_MARK} {self.count}\n"

    def _forced(self, sid: int) -> str | None:
        if self.source[sid] in self.bad:
            return self.bad[self.source[sid]]
        if self.safe:
            return "the document did not compile with its formulas"
        return None

    def mixed(self, s: Any, where: str = "") -> str:
        """Prose with optional inline ``$...$`` math."""
        if s is None or str(s).strip() == "":
            return ""
        s = str(s)
        pieces = texsafe.split_inline_math(s)
        if pieces is None or not any(is_math for is_math, _ in pieces):
            return texsafe.escape_text(s)
        sid, mark = self._open(where, s)
        if self._forced(sid):
            return mark + texsafe.escape_text(s)
        out = []
        for is_math, p in pieces:
            if not is_math:
                out.append(texsafe.escape_text(p))
                continue
            problem = texsafe.math_problem(p)
            if problem:
                self.static_fallbacks.append((where, problem))
                return mark + texsafe.escape_text(s)
            src = texsafe.math_source(p)
            self.words |= texsafe.control_words(src)
            out.append(f"${src}$")
        return mark + "".join(out)

    def display(self, s: Any, where: str = "") -> str:
        """A displayed formula (scaled down or broken across lines when too wide)."""
        if s is None or str(s).strip() == "":
            return ""
        s = str(s).strip()
        sid, mark = self._open(where, s)
        reason = self._forced(sid) or texsafe.math_problem(s)
        if reason:
            if s not in self.bad and not self.safe:
                self.static_fallbacks.append((where, reason))
            return mark + r"\auditverbatim{" + texsafe.verbatim_math(s) + "}{" + texsafe.escape_text(reason) + "}"
        src = texsafe.math_source(s)
        self.words |= texsafe.control_words(src)
        return mark + r"\auditmath{" + src + "}"


# --------------------------------------------------------------------------------------------------
# the document model
# --------------------------------------------------------------------------------------------------
def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-") or "claim"


def _compress_ids(ids: list[str]) -> str:
    """``P0-1, P0-2, P0-3, P0-7`` -> ``P0-1--3, P0-7`` (runs of consecutive numbers with one prefix)."""
    out: list[str] = []
    run: list[tuple[str, int]] = []

    def flush():
        if not run:
            return
        p, a = run[0]
        b = run[-1][1]
        out.append(f"{p}{a}" if a == b else (f"{p}{a}, {p}{b}" if b == a + 1 else f"{p}{a}--{b}"))
        run.clear()

    for cid in ids:
        m = re.fullmatch(r"(.*?)(\d+)", cid)
        if m and run and run[-1][0] == m.group(1) and run[-1][1] + 1 == int(m.group(2)):
            run.append((m.group(1), int(m.group(2))))
            continue
        flush()
        if m:
            run.append((m.group(1), int(m.group(2))))
        else:
            out.append(texsafe.escape_text(cid))
    flush()
    return ", ".join(out)


def _claims(results: Any) -> list[dict]:
    if not isinstance(results, dict) or not isinstance(results.get("claims"), list):
        raise UserError("results document must be a JSON object with a 'claims' list (as written by verify run)")
    claims = []
    for k, c in enumerate(results["claims"]):
        if not isinstance(c, dict):
            raise UserError(f"results document: claim #{k + 1} is not an object")
        c = dict(c)
        c.setdefault("id", f"claim-{k + 1}")
        c["id"] = str(c["id"])
        c["verdict"] = str(c.get("verdict") or "error")
        claims.append(c)
    return claims


def _check_row(ch: dict) -> dict:
    kind = str(ch.get("kind", ""))
    target = str(ch.get("target", ""))
    passed = bool(ch.get("passed"))
    if passed:
        result = r"\textcolor{vVerified}{pass}"
    elif target == "printed":
        result = r"\textcolor{vInconclusive}{rejected}"
    else:
        result = r"\textcolor{vErratum}{\textbf{FAIL}}"
    facts = []
    if ch.get("n") is not None:
        facts.append(f"$n={fmt_num(ch.get('n')).strip('$')}$")
    if ch.get("dropped"):
        facts.append(f"dropped (non-finite) ${fmt_num(ch.get('dropped')).strip('$')}$")
    if kind == "monte-carlo":
        if ch.get("alpha") is not None:
            facts.append(r"$\alpha=" + fmt_num(ch.get("alpha")).strip("$") + "$")
        facts.append("bias budget " + fmt_num(ch.get("bias")))
    return dict(
        name=str(ch.get("name", "")), kind=texsafe.escape_text(_KIND_ABBREV.get(kind, kind)),
        target=texsafe.escape_text(target), statistic=ch.get("statistic", ""),
        estimate=fmt_num(ch.get("estimate")), se=fmt_num(ch.get("se")), prediction=fmt_num(ch.get("prediction")),
        tolerance=fmt_num(ch.get("tolerance")), margin=fmt_num(ch.get("margin"), 3), result=result,
        facts=", ".join(facts), note=ch.get("note", "") or "",
    )


def _verdict_tex(v: str) -> str:
    colour = _VERDICT_COLOUR_NAMES.get(v, "vOther")
    return r"\textcolor{" + colour + r"}{\textbf{" + texsafe.escape_text(v) + "}}"


@dataclass
class _FigureSet:
    summary: str | None = None
    per_claim: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> [(relpath, caption kind)]
    missing: dict[str, list[str]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _make_figures(claims: list[dict], out_dir: Path, fig_dir: Path) -> _FigureSet:
    fs = _FigureSet()
    ensure_writable_dir(fig_dir)
    rel = fig_dir.relative_to(out_dir).as_posix()
    p = figs.verdict_summary(claims, fig_dir / "summary.pdf")
    if p:
        fs.summary = f"{rel}/{p.name}"
        fs.written.append(p)
    used: set[str] = {"summary"}
    for c in claims:
        if c["verdict"] == "pending":
            continue
        base = _safe_name(c["id"])
        k = 1
        while base in used:
            k += 1
            base = f"{_safe_name(c['id'])}-{k}"
        used.add(base)
        entries: list[tuple[str, str]] = []
        for maker, suffix in ((figs.evidence, "evidence"), (figs.convergence, "convergence")):
            try:
                path = maker(c, fig_dir / f"{base}-{suffix}.pdf")
            except (UserError, OSError):
                raise
            except Exception as exc:  # bad data in one claim must not take the report down
                fs.warnings.append(f"{c['id']}: {suffix} figure not drawn ({type(exc).__name__}: {exc})")
                continue
            if path:
                entries.append((f"{rel}/{path.name}", suffix))
                fs.written.append(path)
        for j, given in enumerate(c.get("figures") or [], start=1):
            src = Path(str(given))
            candidates = [src] if src.is_absolute() else [out_dir / src, src]
            found = next((q for q in candidates if q.is_file()), None)
            if found is None or found.suffix.lower() not in _FIGURE_SUFFIXES:
                why = "not found" if found is None else "not a PDF/PNG/JPEG file"
                fs.missing.setdefault(c["id"], []).append(f"{given} ({why})")
                fs.warnings.append(f"{c['id']}: figure {given} {why}")
                continue
            dest = fig_dir / f"{base}-fig{j}{found.suffix.lower()}"
            if found.resolve() != dest.resolve():
                shutil.copyfile(found, dest)
            entries.append((f"{rel}/{dest.name}", "claim"))
            fs.written.append(dest)
        fs.per_claim[c["id"]] = entries
    return fs


_FIGURE_CAPTIONS = {
    "evidence": (r"Evidence: each numeric check as $(\text{estimate}-\text{prediction})/\text{tolerance}$; a check "
                 r"passes iff its point lies in the shaded band $[-1,1]$. Monte Carlo checks: thick bar "
                 r"$\pm z\,\mathrm{SE}$, thin bar $\pm(z\,\mathrm{SE}+\text{bias})$ (it reaches 0 iff the check "
                 r"passes). Circles: derived form; open squares: printed form; diamonds: both (they coincide). "
                 r"Green: pass; orange: printed form rejected; red: failed. The axis is logarithmic beyond "
                 r"$\pm1$ when a point lies far out."),
    "convergence": (r"Convergence: each series as supplied by the claim, with its least-squares slope in the "
                    r"plotted coordinates and, where given, the reference slope through the data's centroid."),
    "claim": r"Figure supplied by the claim's audit.",
}


def _model(results: dict, claims: list[dict], fs: _FigureSet) -> dict:
    seconds_total = results.get("seconds")
    z = results.get("z_per_check")
    counts = results.get("counts") or {}
    if not isinstance(counts, dict) or not counts:
        counts = {}
        for c in claims:
            counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    order = [v for v in figs.VERDICT_ORDER if v in counts] + sorted(set(counts) - set(figs.VERDICT_ORDER))
    views = []
    anchors: set[str] = set()
    for c in claims:
        if c["verdict"] == "pending":
            continue
        anchor = "claim-" + _safe_name(c["id"])
        while anchor in anchors:  # ids differing only in punctuation still get distinct link targets
            anchor += "x"
        anchors.add(anchor)
        checks = [ch for ch in (c.get("checks") or []) if isinstance(ch, dict)]
        steps = c.get("steps") or []
        if isinstance(steps, str):
            steps = [steps]
        views.append(dict(
            id=c["id"], id_tex=texsafe.escape_text(c["id"]), anchor=anchor,
            bookmark=re.sub(r"[^A-Za-z0-9.:-]", "-", c["id"]),
            paper=str(c.get("paper") or ""), title=c.get("title") or "", location=c.get("location") or "",
            category=c.get("category") or "", status=c.get("status") or "",
            verdict=c["verdict"], verdict_tex=_verdict_tex(c["verdict"]),
            summary=c.get("summary") or "", reason=c.get("reason") or "",
            printed=c.get("printed") or "", derived=c.get("derived") or "",
            corrected=c.get("corrected") or "", difference=c.get("difference") or "",
            condition=c.get("condition") or "", severity=c.get("severity") or "",
            steps=[str(s) for s in steps], checks=[_check_row(ch) for ch in checks],
            figures=[(path, _FIGURE_CAPTIONS[kind]) for path, kind in fs.per_claim.get(c["id"], [])],
            missing_figures=fs.missing.get(c["id"], []),
            seconds=fmt_seconds(c.get("seconds")), seed=_fmt_seed(c.get("seed")),
        ))
    pending: dict[str, list[str]] = {}
    for c in claims:
        if c["verdict"] == "pending":
            pending.setdefault(str(c.get("paper") or "?"), []).append(c["id"])
    return dict(
        meta=dict(
            version=texsafe.escape_text(results.get("toolkit_version", "?")),
            renderer_version=texsafe.escape_text(TOOLKIT_VERSION),
            seed=_fmt_seed(results.get("seed")), mode=texsafe.escape_text(results.get("mode", "?")),
            seconds=fmt_seconds(seconds_total) if seconds_total is not None else "--",
            alpha=fmt_num(results.get("alpha_per_check")), z=fmt_num(z),
            n_stochastic=fmt_num(results.get("stochastic_checks")),
            fwer=fmt_num(results.get("family_wise_false_alarm_bound")), n_claims=len(claims),
            wide_margin=fmt_num(WIDE_MARGIN, 3),
        ),
        counts=[(_verdict_tex(v), counts[v]) for v in order],
        counts_verdict=_verdict_tex,
        summary_figure=fs.summary,
        errata=[v for v in views if v["verdict"] == "erratum"],
        claims=views,
        pending=[(f"{texsafe.escape_text(p)} ({len(ids)} claim{'s' if len(ids) != 1 else ''})", _compress_ids(ids))
                 for p, ids in pending.items()],
    )


def _environment(snips: _Snippets) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        line_statement_prefix=None, line_comment_prefix=None,
        trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = texsafe.escape_text
    env.filters["code"] = texsafe.escape_code
    env.filters["mixed"] = snips.mixed
    env.filters["display"] = snips.display
    env.filters["num"] = fmt_num
    return env


_PROVIDES_MARK = "%%AUDIT-PROVIDES"


def _render(model: dict, bad: dict[str, str], safe: bool) -> tuple[str, _Snippets]:
    snips = _Snippets(bad=bad, safe=safe)
    tex = _environment(snips).get_template(TEMPLATE_NAME).render(**model)
    provides = "".join(r"\providecommand{\%s}{\auditundefined{%s}}" % (w, w) for w in sorted(snips.words))
    tex = tex.replace(_PROVIDES_MARK, r"\AtBeginDocument{" + provides + "}", 1)
    return tex, snips


# --------------------------------------------------------------------------------------------------
# compilation
# --------------------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    ok: bool
    timed_out: bool = False
    line: int | None = None
    error: str = ""
    output: str = ""


def _run(cmd: list[str], cwd: Path, deadline: float) -> tuple[int | None, str]:
    env = dict(os.environ, max_print_line="10000", error_line="254", half_error_line="238")
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group of the process started here
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace")


def _log_error(log: Path) -> tuple[int | None, str]:
    """(line, message) of the first LaTeX error in the log, if any."""
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return None, ""
    m = re.search(r"^(?:\./)?" + re.escape(TEX_NAME) + r":(\d+): (.*)$", text, re.M)
    if m:
        return int(m.group(1)), m.group(2).strip()
    m = re.search(r"^! (.*)$", text, re.M)
    if m:
        ln = re.search(r"^l\.(\d+)", text[m.end():], re.M)
        return (int(ln.group(1)) if ln else None), m.group(1).strip()
    return None, ""


def _clean(out_dir: Path) -> None:
    """Remove the auxiliary files of an earlier (possibly failed) run, and its PDF."""
    for suffix in _AUX_SUFFIXES:
        (out_dir / (Path(TEX_NAME).stem + suffix)).unlink(missing_ok=True)


def _probe(out_dir: Path, deadline: float) -> list[tuple[int, str]]:
    """All (line, message) errors of one pdflatex pass that does not stop at the first error (no PDF)."""
    _clean(out_dir)
    _run(["pdflatex", "-draftmode", "-interaction=nonstopmode", "-file-line-error", TEX_NAME], out_dir, deadline)
    log = out_dir / (Path(TEX_NAME).stem + ".log")
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return []
    pattern = r"^(?:\./)?" + re.escape(TEX_NAME) + r":(\d+): (.*)$"
    return [(int(m.group(1)), m.group(2).strip()) for m in re.finditer(pattern, text, re.M)]


def _compile(compiler: str, out_dir: Path, deadline: float) -> _Outcome:
    stem = Path(TEX_NAME).stem
    _clean(out_dir)
    base = ["-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
    if compiler == "latexmk":
        runs = [["latexmk", "-norc", "-pdf", *base, TEX_NAME]]
    else:
        runs = [["pdflatex", *base, TEX_NAME]] * 3
    log = out_dir / (stem + ".log")
    output = ""
    for k, cmd in enumerate(runs):
        rc, output = _run(cmd, out_dir, deadline)
        if rc is None:
            return _Outcome(False, timed_out=True, output=output)
        if rc != 0:
            line, err = _log_error(log)
            return _Outcome(False, line=line, error=err or f"{cmd[0]} exited with status {rc}", output=output)
        if compiler == "pdflatex" and k >= 1:
            text = log.read_text("utf-8", errors="replace") if log.exists() else ""
            if not re.search(r"Rerun to get|Label\(s\) may have changed|Table widths have changed", text):
                break
    if not (out_dir / (stem + ".pdf")).is_file():
        return _Outcome(False, error="the compiler reported success but wrote no PDF", output=output)
    return _Outcome(True, output=output)


def _snippet_at(tex: str, line: int | None) -> int | None:
    """The snippet whose one-line body is line ``line`` (1-based) of ``tex``."""
    if not line:
        return None
    lines = tex.splitlines()
    if 2 <= line <= len(lines):
        m = re.fullmatch(re.escape(SNIPPET_MARK) + r" (\d+)", lines[line - 2])
        if m:
            return int(m.group(1))
    return None


def _undefined_macros(log: Path) -> list[str]:
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return []
    return sorted(set(re.findall(re.escape(UNDEFINED_MARK) + r" ([A-Za-z]+)", text)))


# --------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------
def write_report(results: dict, out_dir: Path, *, compile_pdf: bool = True) -> dict:
    """Write ``audit.tex`` and ``figures/`` into ``out_dir`` and compile ``audit.pdf`` when LaTeX exists.

    Returns {"tex": Path, "pdf": Path | None, "figures": [Path], "latex_log": Path | None,
    "compiler": "latexmk" | "pdflatex" | None, "message": str}.  Raises UserError (one line) for a
    malformed results document or an unwritable folder; a failed compilation is reported in "message"
    (with the log path), never raised.
    """
    out_dir = Path(out_dir)
    claims = _claims(results)
    ensure_writable_dir(out_dir)
    fs = _make_figures(claims, out_dir, out_dir / "figures")
    model = _model(results, claims, fs)
    bad: dict[str, str] = {}
    safe = False
    tex, snips = _render(model, bad, safe)
    tex_path = out_dir / TEX_NAME
    atomic_write_text(tex_path, tex)
    notes = list(fs.warnings)
    notes += [f"{where}: shown as LaTeX source ({why})" for where, why in snips.static_fallbacks]
    result = dict(tex=tex_path, pdf=None, figures=list(fs.written), latex_log=None, compiler=None, message="")

    def finish(message: str) -> dict:
        extra = f" [{len(notes)} note(s): " + "; ".join(notes) + "]" if notes else ""
        result["message"] = message + extra
        return result

    if not compile_pdf:
        return finish(f"wrote {tex_path} (compilation not requested)")
    compiler = find_latex()
    if compiler is None:
        return finish(f"wrote {tex_path}; no LaTeX installed (latexmk/pdflatex not on PATH), so no PDF")
    result["compiler"] = compiler
    log = out_dir / (Path(TEX_NAME).stem + ".log")
    deadline = time.monotonic() + LATEX_TIMEOUT_S
    rounds = 0
    while True:
        outcome = _compile(compiler, out_dir, deadline)
        result["latex_log"] = log if log.exists() else None
        if outcome.ok:
            break
        if outcome.timed_out:
            return finish(f"wrote {tex_path}; {compiler} did not finish within {LATEX_TIMEOUT_S} s, no PDF"
                          + (f" (log: {log})" if log.exists() else ""))
        # which formulas failed? the first error, plus (on the first failure) every error of a pass
        # that does not stop at the first one
        errors = [(outcome.line, outcome.error)]
        if rounds == 0 and not safe:
            errors += _probe(out_dir, deadline)
        newly: dict[str, tuple[str, str]] = {}
        for line, err in errors:
            sid = _snippet_at(tex, line)
            if sid is not None and snips.source[sid] not in bad and snips.source[sid] not in newly:
                newly[snips.source[sid]] = (snips.where.get(sid, "?"), err)
        rounds += 1
        if newly and not safe and rounds <= MAX_FALLBACK_ROUNDS:
            for src, (where, err) in newly.items():
                bad[src] = f"LaTeX error: {err}"
                notes.append(f"{where}: shown as LaTeX source (LaTeX error: {err})")
        elif not safe:
            safe = True
            notes.append(f"all formulas shown as LaTeX source (LaTeX error at line {outcome.line}: {outcome.error})")
        else:
            where = f"line {outcome.line}: " if outcome.line else ""
            result["latex_log"] = log if log.exists() else None
            return finish(f"wrote {tex_path}; {compiler} failed ({where}{outcome.error}), no PDF; see {log}")
        tex, snips = _render(model, bad, safe)
        atomic_write_text(tex_path, tex)
    pdf = out_dir / (Path(TEX_NAME).stem + ".pdf")
    result["pdf"] = pdf
    undefined = _undefined_macros(log)
    if undefined:
        notes.append("macros unknown to LaTeX shown in red: " + ", ".join("\\" + w for w in undefined))
    return finish(f"wrote {pdf}")
