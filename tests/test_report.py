"""Specification of the report renderer (reports/): escaping, math validation, figures, LaTeX build.

The end-to-end tests render one synthetic results document that exercises every verdict and every
awkward input the renderer must survive: LaTeX specials in prose, inline math in steps, a formula far
wider than the page, a ``series`` for the convergence figure, malformed math caught before compiling
(unbalanced braces), malformed math caught only by LaTeX (a double superscript), and an unknown macro.
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import figures, render, texsafe
from verify.context import AuditContext
from verify.errors import UserError

Z = 3.8906  # z(1e-4), two-sided
NO_LATEX = "no LaTeX installed (latexmk/pdflatex not on PATH)"
ALL_TEXT_CHARS = "".join(sorted(set(texsafe.TEXT_MAP) | set(texsafe.MATH_MAP))) + " " + "".join(
    chr(c) for c in range(32, 127))
ALL_MATH_CHARS = "".join(sorted(set(texsafe.MATH_MAP) | set(texsafe.TEXT_MAP)))
LONG_FORMULA = " + ".join(r"\frac{\left(x_{%d} - \mu\right)^{2}}{\sigma^{2}}" % i for i in range(40))


def _check(name, kind, target, est, pred, tol, passed, **kw):
    d = dict(name=name, kind=kind, target=target, statistic=kw.pop("statistic", "E[x_T^2]"), estimate=est,
             prediction=pred, tolerance=tol, passed=passed, se=None, alpha=None, bias=None, margin=None, n=None,
             dropped=None, note="")
    d.update(kw)
    return d


def _claim(cid, verdict, **kw):
    d = dict(id=cid, paper=cid.split("-")[0], title=f"Title of {cid}", location="L100--L120", category="CF",
             status="R", verdict=verdict, summary="", reason="", printed="", derived="", corrected="",
             difference="", condition="", severity="", steps=[], checks=[], figures=[], seed=7, seconds=0.5)
    d.update(kw)
    return d


def synthetic_results() -> dict:
    claims = [
        _claim("P0-36", "verified", title=r"Prop. 18, $\lambda_T$ for $\phi''(0)=0$. L531–533.",
               summary="Drift matches: 50% & x_1 ~ ^ # {braces} \\ back $5",
               printed=r"\mu(x) = \tfrac12 \phi''(0) x", derived=r"\mu(x) = \frac{1}{2} \phi''(0) x",
               steps=[r"Expand $\phi(u) = \phi(0) + \phi'(0) u + O(u^3)$ with 5% error & more",
                      "Gaussian moments (Isserlis) of dW_t, σ² ≤ 1", "an unpaired $ dollar"],
               checks=[_check("symbolic identity", "symbolic", "both", 0.0, 0.0, 0.0, True),
                       _check("MC mean, tanh", "monte-carlo", "both", 1.02, 1.0, Z * 0.01 + 0.005, True, se=0.01,
                              alpha=1e-4, bias=0.005, margin=2.0, n=40000, dropped=3,
                              note="bias budget: Richardson, L=64 vs 128"),
                       _check("quadrature", "quadrature", "both", 0.333333, 1 / 3, 1e-6, True, margin=0.33)]),
        _claim("P0-40", "erratum", summary=r"Printed drift misses a factor $\phi'(0)^2$",
               printed=r"\sigma^2(x) = \phi''(0)^2", derived=r"\sigma^2(x) = \phi'(0)^2 \phi''(0)^2",
               corrected=r"\sigma^2(x) = \phi'(0)^2 \phi''(0)^2",
               difference=r"\left(\phi'(0)^2 - 1\right)\phi''(0)^2",
               condition=r"only when $\phi'(0)=1$ (e.g. tanh)", severity="mathematical",
               checks=[_check("MC, derived", "monte-carlo", "derived", 0.49, 0.5, Z * 0.005, True, se=0.005,
                              alpha=1e-4, bias=0.0, margin=2.0, n=10000),
                       _check("MC, printed", "monte-carlo", "printed", 0.49, 1.0, Z * 0.005, False, se=0.005,
                              alpha=1e-4, bias=0.0, margin=102.0, n=10000),
                       _check("rate in L", "rate", "derived", -0.98, -1.0, 0.25, True, margin=0.08)],
               series=[dict(name="bias vs depth", x=[8, 16, 32, 64, 128], y=[0.1, 0.05, 0.026, 0.0124, "nan"],
                            xlabel="depth L", ylabel="|bias|", reference_slope=-1, logx=True, logy=True),
                       dict(name="linear", x=[1, 2, 3], y=[2, 4.1, 5.9], reference_slope=2)]),
        _claim("P0-41", "inconclusive", reason="printed form rejected only narrowly; more samples would settle it",
               printed=LONG_FORMULA, derived=LONG_FORMULA + " + 1",
               checks=[_check("MC", "monte-carlo", "printed", 1.0, 1.1, 0.05, False, se=0.01, bias=0.011,
                              margin=10.0)]),
        _claim("P0-50", "not-checkable", reason="needs MNIST training (data not here)"),
        _claim("P0-51", "pending", summary="not yet implemented"),
        _claim("P0-52", "pending"), _claim("P0-53", "pending"), _claim("P1-2", "pending"),
        _claim("P1-7", "error", summary="internal error: ValueError: boom",
               reason="Traceback (most recent call last):\n  File \"x.py\", line 3\n\n    raise ValueError('a_{1}')"),
        _claim("P1-8", "erratum", summary="malformed formulas", printed="\\frac{", derived=r"\undefinedmacro{x}",
               corrected=r"x^2^3", difference="1", condition="never", severity="notation",
               checks=[_check("exact", "exact", "derived", 1.0, 1.0, 0.01, True, margin=0.0),
                       _check("exact", "exact", "printed", 1.0, 2.0, 0.01, False, margin=100.0)],
               figures=["does/not/exist.pdf"]),
        # every Unicode character the tables know, in prose, in inline math and in a display:
        # none may need a fallback (checked in test_pdf_is_built_despite_malformed_math)
        _claim("P0-60", "verified", title="Unicode " + ALL_TEXT_CHARS, summary=ALL_TEXT_CHARS,
               steps=["inline $" + ALL_MATH_CHARS + "$ math", "accents: x\u0304 y\u0302 Ḃ ö"],
               printed=ALL_MATH_CHARS, derived=ALL_MATH_CHARS,
               checks=[_check("q", "quadrature", "both", 1.0, 1.0, 1e-9, True, note=ALL_TEXT_CHARS)]),
    ]
    counts: dict[str, int] = {}
    for c in claims:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return dict(toolkit_version="0.1.0", seed=20261123, mode="default", alpha_per_check=1e-4, z_per_check=Z,
                stochastic_checks=4, family_wise_false_alarm_bound=4e-4, counts=counts, seconds=12.34,
                claims=claims)


# --------------------------------------------------------------------------------------------------
# escaping and validation
# --------------------------------------------------------------------------------------------------
def _strip_escapes(tex: str) -> str:
    """Remove the escape sequences escape_text emits; what is left must contain no LaTeX specials.
    (\\ensuremath{...} holds a fixed math rendering of a Unicode symbol from texsafe.MATH_MAP.)"""
    tex = re.sub(r"\\ensuremath\{(?:[^{}]|\{[^{}]*\})*\}", "", tex)
    tex = re.sub(r"\\[A-Za-z]+(\{\})?", "", tex)       # \textbackslash{}, \allowbreak{}, \ensuremath ...
    return re.sub(r"\\[{}$&%#_,'`^~\"=.]", "", tex)     # \{ \} \$ \& \% \# \_ \, and accents


@settings(derandomize=True, deadline=None, max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_escaped_text_is_ascii_and_has_no_live_specials(s):
    """Any string (any Unicode) escapes to ASCII in which $ % # & _ ^ ~ and backslashes are all escaped
    and braces balance, so prose can never break the document."""
    tex = texsafe.escape_text(s)
    assert tex.isascii()
    rest = _strip_escapes(tex)
    assert not set(rest) & set("$%#&_^\\"), (s, tex, rest)
    if "\u00a0" not in s:  # a no-break space is the one character that becomes a live ~
        assert "~" not in rest
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_escape_examples():
    assert texsafe.escape_text("50% & x_1") == r"50\% \& x\_\allowbreak{}1"
    assert texsafe.escape_text("a\n\n  b") == "a b"
    assert texsafe.escape_text("σ² ≤ 1") == r"\ensuremath{\sigma}\ensuremath{^{2}} \ensuremath{\le} 1"
    assert texsafe.escape_text("Øksendal, Kloeden–Platen") == r"\O{}ksendal, Kloeden--Platen"
    assert texsafe.escape_text("é") == r"\'{e}" and texsafe.escape_text("x\u0304") == r"\={x}"
    assert texsafe.escape_text("f(a,b)=x*y") == r"f(a,\allowbreak{}b)=\allowbreak{}x*\allowbreak{}y"
    assert texsafe.escape_text("\U0001F600") == "[U+1F600]"


def test_inline_math_split():
    assert texsafe.split_inline_math(r"a $x$ b") == [(False, "a "), (True, "x"), (False, " b")]
    assert texsafe.split_inline_math(r"$$y$$") == [(True, "y")]
    assert texsafe.split_inline_math(r"costs \$5") == [(False, "costs $5")]
    assert texsafe.split_inline_math("one $ only") is None
    assert texsafe.split_inline_math("mixed $$x$ delimiters$") is None


@pytest.mark.parametrize("bad, why", [
    ("\\frac{", "unbalanced braces"), ("x}", "unbalanced braces"), (r"\left( x", r"\left without"),
    (r"a & b", "alignment"), (r"a \\ b", "line break"), (r"\begin{matrix} a", "not closed"),
    (r"\begin{equation} a \end{equation}", "not allowed"), (r"x % comment", "unescaped '%'"),
    (r"$x$", "unescaped '$'"), ("a\n\n b", "blank line"), (r"\input{file}", "not allowed"),
    (r"\end{document}", "without matching"),
])
def test_math_problems_are_found(bad, why):
    assert why in (texsafe.math_problem(bad) or "")


def test_sympy_latex_is_accepted():
    """What claims emit (sympy.latex of scalars and matrices) passes the validator unchanged."""
    import sympy as sp

    x, y = sp.symbols("x y", positive=True)
    exprs = [sp.sqrt(x) / (1 + y) ** 2, sp.Matrix([[x, y], [y ** 2, sp.exp(-x)]]), sp.erf(x / sp.sqrt(2)),
             sp.Piecewise((x, x > 1), (y, True)), sp.Derivative(sp.Function("f")(x), x), sp.Abs(x - y) ** 3]
    for e in exprs:
        assert texsafe.math_problem(sp.latex(e)) is None, sp.latex(e)


def test_number_format():
    assert render.fmt_num(None) == "--"
    assert render.fmt_num("inf") == r"$\infty$" and render.fmt_num("-inf") == r"$-\infty$"
    assert render.fmt_num(0.123456) == "$0.1235$"
    assert render.fmt_num(-1.23456e-7) == r"$-1.235\times10^{-7}$"
    assert render.fmt_num(40000) == "$40{,}000$"
    assert render.fmt_num(float("nan")) == "NaN"


# --------------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------------
@settings(derandomize=True, deadline=None, max_examples=60)
@given(est=st.floats(-10, 10), pred=st.floats(-10, 10), se=st.floats(1e-3, 3), bias=st.floats(0, 1))
def test_evidence_band_is_the_pass_rule(est, pred, se, bias):
    """The evidence plot's band [-1, 1] is exactly the Monte Carlo pass rule |est - pred| <= z SE + bias:
    a check built by AuditContext.mc_check plots inside the band iff it passed (exact, away from the edge)."""
    chk = AuditContext(claim_id="T-1").mc_check("c", "s", (est, se), pred, target="derived", bias=bias).to_json()
    (row,) = figures.evidence_rows({"checks": [chk]})
    assert math.isclose(row["x"], (est - pred) / chk["tolerance"])
    if abs(abs(row["x"]) - 1) > 1e-9:
        assert (abs(row["x"]) <= 1) == chk["passed"]
    assert math.isclose(row["inner"], Z * se / chk["tolerance"], rel_tol=1e-4)


def test_figures_are_drawn_only_when_there_is_something_to_draw(tmp_path):
    doc = synthetic_results()
    by_id = {c["id"]: c for c in doc["claims"]}
    assert figures.evidence(by_id["P0-50"], tmp_path / "a.pdf") is None          # no checks
    assert figures.evidence(by_id["P1-8"], tmp_path / "b.pdf") is None           # deterministic only
    assert figures.convergence(by_id["P0-36"], tmp_path / "c.pdf") is None       # no series
    for maker, cid in ((figures.evidence, "P0-40"), (figures.convergence, "P0-40"), (figures.evidence, "P0-41")):
        p = maker(by_id[cid], tmp_path / f"{cid}-{maker.__name__}.pdf")
        assert p.read_bytes().startswith(b"%PDF")
    p = figures.verdict_summary(doc["claims"], tmp_path / "s.pdf")
    assert p.read_bytes().startswith(b"%PDF")


def test_convergence_rejects_ragged_series(tmp_path):
    with pytest.raises(ValueError, match="different lengths"):
        figures.convergence({"series": [{"name": "s", "x": [1, 2], "y": [1]}]}, tmp_path / "x.pdf")


# --------------------------------------------------------------------------------------------------
# the document and its compilation
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    doc = synthetic_results()
    extra = out / "given.pdf"
    figures.verdict_summary(doc["claims"], extra)  # any PDF will do as a claim-supplied figure
    doc["claims"][0]["figures"] = [str(extra)]
    return out, render.write_report(doc, out)


def test_tex_has_errata_table_first_and_escapes_prose(rendered):
    out, res = rendered
    tex = Path(res["tex"]).read_text()
    assert Path(res["tex"]) == out / "audit.tex"
    errata = tex[tex.index(r"\section{Errata}"): tex.index(r"\section{Audited claims}")]
    assert "P0-40" in errata and "P1-8" in errata and "P0-36" not in errata
    assert tex.index(r"\section{Errata}") < tex.index(r"\section{Claim by claim}")
    assert r"50\% \& x\_\allowbreak{}1" in tex                                   # prose escaped
    assert r"$\phi(u) = \phi(0) + \phi'(0) u + O(u^3)$" in tex                   # inline math kept
    assert r"an unpaired \$ dollar" in tex                                       # lone $ escaped
    assert r"\auditverbatim{\texttt{\textbackslash{}frac\{}" in tex              # malformed math as source
    assert "P0-51--53" in tex and "P1-2" in tex                                  # pending ids, compressed
    assert r"\subsection*{\hypertarget{claim-P0-51}" not in tex                  # pending: no section
    assert "Figure not included: does/" in tex


def test_figures_written_and_referenced(rendered):
    out, res = rendered
    tex = Path(res["tex"]).read_text()
    names = {Path(p).name for p in res["figures"]}
    assert {"summary.pdf", "P0-36-evidence.pdf", "P0-40-evidence.pdf", "P0-40-convergence.pdf",
            "P0-41-evidence.pdf", "P0-36-fig1.pdf"} <= names
    for n in names:
        assert (out / "figures" / n).is_file() and f"figures/{n}" in tex
    assert "P1-8: figure does/not/exist.pdf not found" in res["message"]


def test_pdf_is_built_despite_malformed_math(rendered):
    if render.find_latex() is None:
        pytest.skip(NO_LATEX)
    out, res = rendered
    assert res["pdf"] == out / "audit.pdf" and res["pdf"].read_bytes().startswith(b"%PDF")
    assert res["compiler"] in ("latexmk", "pdflatex")
    msg = res["message"]
    assert "P1-8 printed form: shown as LaTeX source (unbalanced braces" in msg     # caught before LaTeX
    assert "P1-8 corrected form: shown as LaTeX source (LaTeX error: Double superscript" in msg  # by LaTeX
    assert r"\undefinedmacro" in msg                                             # shown in red, reported
    assert "all formulas shown as LaTeX source" not in msg                       # only the bad ones
    assert "P0-60" not in msg                                                    # Unicode tables compile


def test_unrecoverable_compile_failure_is_reported_not_raised(tmp_path, monkeypatch):
    if render.find_latex() is None:
        pytest.skip(NO_LATEX)
    real = render._render

    def broken(model, bad, safe):  # an error outside any formula: no fallback can fix it
        tex, snips = real(model, bad, safe)
        return tex.replace(r"\begin{document}", "\\begin{document}\n\\nosuchcommandanywhere", 1), snips

    monkeypatch.setattr(render, "_render", broken)
    doc = synthetic_results()
    doc["claims"] = doc["claims"][:1]
    res = render.write_report(doc, tmp_path)
    assert res["pdf"] is None and not (tmp_path / "audit.pdf").exists()
    assert res["latex_log"] == tmp_path / "audit.log" and res["latex_log"].is_file()
    assert "failed" in res["message"] and "Undefined control sequence" in res["message"]
    assert str(tmp_path / "audit.log") in res["message"]


def test_a_compiler_that_hangs_is_stopped():
    """The LaTeX run is bounded: past the deadline its process group is killed and None is returned."""
    import time

    t0 = time.monotonic()
    rc, _ = render._run(["sleep", "30"], Path("."), deadline=time.monotonic() + 1.0)
    assert rc is None and time.monotonic() - t0 < 10


def test_without_latex_only_tex_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    doc = synthetic_results()
    doc["claims"] = [c for c in doc["claims"] if c["verdict"] == "not-checkable"]
    res = render.write_report(doc, tmp_path)
    assert res["pdf"] is None and res["compiler"] is None and (tmp_path / "audit.tex").is_file()
    assert NO_LATEX in res["message"]


def test_unwritable_folder_is_a_user_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UserError) as exc:
        render.write_report(synthetic_results(), blocker / "out", compile_pdf=False)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("bad", [[], {"claims": "no"}, {"claims": [1]}])
def test_malformed_results_are_a_user_error(tmp_path, bad):
    with pytest.raises(UserError):
        render.write_report(bad, tmp_path, compile_pdf=False)


def test_rendering_is_deterministic(tmp_path):
    """Same results, same bytes: the .tex and the figure PDFs carry no dates."""
    doc = synthetic_results()
    a = render.write_report(copy.deepcopy(doc), tmp_path / "a", compile_pdf=False)
    b = render.write_report(copy.deepcopy(doc), tmp_path / "b", compile_pdf=False)
    assert Path(a["tex"]).read_bytes() == Path(b["tex"]).read_bytes()
    for pa, pb in zip(sorted(a["figures"]), sorted(b["figures"])):
        assert Path(pa).read_bytes() == Path(pb).read_bytes()
