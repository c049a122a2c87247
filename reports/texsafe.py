"""Turn the strings of a results document into LaTeX that compiles.

Three kinds of field:

* plain text (ids, locations, tracebacks): every LaTeX special character is escaped;
* mixed text (titles, summaries, conditions, steps, notes): prose that may contain inline ``$...$`` math;
  the prose is escaped and the math kept, provided the dollars pair up and the math passes ``math_problem``;
  otherwise the whole string is shown as escaped text;
* math (printed, derived, corrected, difference): LaTeX math, validated by ``math_problem``.

Non-ASCII characters are mapped to LaTeX commands (Greek letters, relations, blackboard letters, accents)
so that pdfLaTeX with the default OT1 font encoding never meets a character it cannot typeset; anything not
in the tables is shown as ``[U+XXXX]``.
"""
from __future__ import annotations

import re
import unicodedata

# --------------------------------------------------------------------------------------------------
# Unicode tables
# --------------------------------------------------------------------------------------------------
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "vartheta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ϖ": "varpi", "ρ": "rho", "ϱ": "varrho", "σ": "sigma", "ς": "varsigma",
    "τ": "tau", "υ": "upsilon", "φ": "varphi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_GREEK_LATIN_CAPITALS = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX"))

#: characters with a math-mode rendering (used in math, and inside \ensuremath in text)
MATH_MAP: dict[str, str] = {c: "\\" + n + " " for c, n in _GREEK.items()}
MATH_MAP.update(_GREEK_LATIN_CAPITALS)
MATH_MAP.update({
    "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ", "≈": r"\approx ", "≡": r"\equiv ", "∼": r"\sim ", "≃": r"\simeq ",
    "≅": r"\cong ", "∝": r"\propto ", "→": r"\to ", "←": r"\leftarrow ", "↦": r"\mapsto ", "⇒": r"\Rightarrow ",
    "⇐": r"\Leftarrow ", "⇔": r"\Leftrightarrow ", "↔": r"\leftrightarrow ", "↓": r"\downarrow ",
    "↑": r"\uparrow ", "∈": r"\in ", "∉": r"\notin ", "∋": r"\ni ", "⊂": r"\subset ", "⊆": r"\subseteq ",
    "⊃": r"\supset ", "⊇": r"\supseteq ", "∪": r"\cup ", "∩": r"\cap ", "∞": r"\infty ", "∂": r"\partial ",
    "∇": r"\nabla ", "√": r"\surd ", "∑": r"\sum ", "∏": r"\prod ", "∫": r"\int ", "±": r"\pm ", "∓": r"\mp ",
    "×": r"\times ", "·": r"\cdot ", "⋅": r"\cdot ", "∘": r"\circ ", "⊗": r"\otimes ", "⊕": r"\oplus ",
    "⊙": r"\odot ", "‖": r"\| ", "−": "-", "–": "-", "∀": r"\forall ", "∃": r"\exists ", "¬": r"\neg ",
    "∧": r"\wedge ", "∨": r"\vee ", "⪰": r"\succeq ", "⪯": r"\preceq ", "≽": r"\succeq ", "≼": r"\preceq ",
    "≻": r"\succ ", "≺": r"\prec ", "≪": r"\ll ", "≫": r"\gg ", "⊤": r"\top ", "⊥": r"\perp ", "ᵀ": r"^{\top}",
    "′": "'", "″": "''", "‴": "'''", "ℓ": r"\ell ", "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}",
    "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}", "ℙ": r"\mathbb{P}", "𝔼": r"\mathbb{E}", "𝕍": r"\mathbb{V}",
    "𝟙": r"\mathbb{1}", "𝒳": r"\mathcal{X}", "𝒴": r"\mathcal{Y}", "𝓛": r"\mathcal{L}", "ℒ": r"\mathcal{L}",
    "𝒩": r"\mathcal{N}", "𝒪": r"\mathcal{O}", "𝒟": r"\mathcal{D}", "½": r"\tfrac{1}{2}", "¼": r"\tfrac{1}{4}",
    "¾": r"\tfrac{3}{4}", "…": r"\ldots ", "⋯": r"\cdots ", "°": r"^{\circ}", "∅": r"\emptyset ",
    "⟨": r"\langle ", "⟩": r"\rangle ", "⌊": r"\lfloor ", "⌋": r"\rfloor ", "⌈": r"\lceil ", "⌉": r"\rceil ",
    "∣": r"\mid ", "⋆": r"\star ", "∗": "*", "÷": r"\div ", "≔": r"\coloneqq ", "□": r"\square ",
})
for _i, (_sup, _sub) in enumerate(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "₀₁₂₃₄₅₆₇₈₉")):
    MATH_MAP[_sup] = "^{%d}" % _i
    MATH_MAP[_sub] = "_{%d}" % _i
MATH_MAP.update({"⁻": "^{-}", "⁺": "^{+}", "ⁿ": "^{n}", "ᵢ": "_{i}", "ⱼ": "_{j}", "ₜ": "_{t}"})

#: text-mode renderings that differ from \ensuremath{MATH_MAP[c]}
TEXT_MAP: dict[str, str] = {
    "–": "--", "—": "---", "‘": "`", "’": "'", "‚": ",", "“": "``", "”": "''", "„": ",,", "…": r"\ldots{}",
    "§": r"\S{}", "¶": r"\P{}", "•": r"\textbullet{}", "®": r"\textregistered{}", "™": r"\texttrademark{}",
    "©": r"\copyright{}", "£": r"\pounds{}", "¢": "c", "€": "EUR", "«": r"\ensuremath{\ll}",
    "»": r"\ensuremath{\gg}", "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,", "\u2002": " ", "\u2003": " ",
    "ß": r"\ss{}", "Ø": r"\O{}", "ø": r"\o{}", "Æ": r"\AE{}", "æ": r"\ae{}", "Œ": r"\OE{}", "œ": r"\oe{}",
    "Ł": r"\L{}", "ł": r"\l{}", "ı": r"\i{}", "¿": r"?`", "¡": r"!`", "′": "'", "″": "''",
}
# combining marks: text accent command, math accent command
_COMBINING = {
    "\u0300": ("\\`", r"\grave"), "\u0301": ("\\'", r"\acute"), "\u0302": ("\\^", r"\hat"),
    "\u0303": ("\\~", r"\tilde"), "\u0304": ("\\=", r"\bar"), "\u0306": ("\\u", r"\breve"),
    "\u0307": ("\\.", r"\dot"), "\u0308": ('\\"', r"\ddot"), "\u030a": ("\\r", r"\mathring"),
    "\u030b": ("\\H", None), "\u030c": ("\\v", r"\check"), "\u0327": ("\\c", None),
}

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#",
    "_": r"\_\allowbreak{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}", "/": r"/\allowbreak{}",
}


def _unknown(ch: str) -> str:
    return "[U+%04X]" % ord(ch)


def escape_text(s: object) -> str:
    """Escape plain text for LaTeX: specials, non-ASCII characters; whitespace runs become one space."""
    if s is None:
        return ""
    s = unicodedata.normalize("NFD", str(s))
    out: list[str] = []
    for ch in s:
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif ch in "\t\r\n\f\v":
            out.append(" ")
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0:
            continue  # control characters carry nothing printable
        elif ch in _COMBINING:
            acc = _COMBINING[ch][0]
            if out and len(out[-1]) == 1 and out[-1].isalpha():
                out[-1] = acc + "{" + out[-1] + "}"
            # a mark on anything else (a command, a space) is dropped
        elif unicodedata.combining(ch):
            continue
        elif ch in TEXT_MAP:
            out.append(TEXT_MAP[ch])
        elif ch in MATH_MAP:
            out.append(r"\ensuremath{" + MATH_MAP[ch].strip() + "}")
        else:
            nfkc = unicodedata.normalize("NFKC", ch)
            if nfkc != ch and all(" " <= c <= "~" for c in nfkc):
                out.append(escape_text(nfkc))
            else:
                out.append(_unknown(ch))
    text = re.sub(r" {2,}", " ", "".join(out))
    # let long tokens such as ``f(a,b)=x*y`` break at their punctuation
    return re.sub(r"(?<!\\)([*=,;])(?=\S)", r"\1\\allowbreak{}", text)


def escape_code(s: object) -> str:
    """Escape multi-line text (a traceback) keeping its line breaks: lines joined by ``\\newline``."""
    lines = [escape_text(line.replace(" ", "\u00a0")) for line in str(s or "").splitlines()]
    return r"\newline ".join(line for line in lines if line.strip("~ "))


def math_unicode(s: str) -> str:
    """Map the non-ASCII characters of a LaTeX math string to math commands."""
    s = unicodedata.normalize("NFD", s)
    out: list[str] = []
    for ch in s:
        if ch in "\t\r\n\f\v":
            out.append(" ")
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0:
            continue
        elif ch in _COMBINING:
            acc = _COMBINING[ch][1]
            if acc and out and len(out[-1]) == 1 and out[-1].isalpha():
                out[-1] = acc + "{" + out[-1] + "}"
        elif unicodedata.combining(ch):
            continue
        elif ch in MATH_MAP:
            tok = MATH_MAP[ch]
            # runs of super/subscript characters (x²³, Aᵀ²) form one script, not a double superscript
            if tok[:2] in ("^{", "_{") and out and out[-1][:2] == tok[:2] and out[-1].endswith("}"):
                out[-1] = out[-1][:-1] + " " + tok[2:]
            else:
                out.append(tok)
        elif ch in TEXT_MAP:
            out.append(r"\text{" + TEXT_MAP[ch] + "}")
        else:
            nfkc = unicodedata.normalize("NFKC", ch)
            if nfkc != ch and all(" " <= c <= "~" for c in nfkc):
                out.append(nfkc)
            else:
                out.append(r"\text{" + _unknown(ch) + "}")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Math validation
# --------------------------------------------------------------------------------------------------
#: environments that may appear inside a math display
MATH_ENVIRONMENTS = frozenset({
    "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "aligned", "alignedat",
    "gathered", "split", "cases", "dcases", "rcases", "array", "subarray", "matrix*", "pmatrix*", "bmatrix*",
    "multlined",
})
#: commands that would change the document rather than typeset a formula
FORBIDDEN_COMMANDS = frozenset({
    "documentclass", "usepackage", "input", "include", "write", "immediate", "openout", "openin", "read",
    "def", "gdef", "edef", "xdef", "let", "futurelet", "catcode", "csname", "endcsname", "newcommand",
    "renewcommand", "providecommand", "DeclareMathOperator", "makeatletter", "makeatother", "special",
    "par", "verb", "section", "subsection", "chapter", "item", "newpage", "clearpage", "end", "begin",
    "expandafter", "afterassignment", "aftergroup", "everypar", "everymath", "output", "shipout",
    "directlua", "pdfprimitive", "errmessage", "batchmode", "nonstopmode", "scrollmode", "errorstopmode",
    "endinput", "dump", "bye", "halign", "valign", "noalign", "pdfobj", "pdfliteral", "label", "ref",
    "footnote", "marginpar", "caption", "hline", "cline", "multicolumn", "tag", "nonumber", "notag",
})
_TOKEN = re.compile(r"\\begin\s*\{([^{}]*)\}|\\end\s*\{([^{}]*)\}|\\([A-Za-z]+)\*?|\\(.)|(\^\^)|([{}&#$%])|(.)",
                    re.DOTALL)


def math_problem(s: str) -> str | None:
    """Why ``s`` cannot be typeset as math inside ``$...$``/a display (None when it looks fine).

    Checks brace and environment balance, ``\\left``/``\\right`` pairing, stray ``$ % # ^^``, alignment
    characters outside an environment, paragraph breaks, and commands that act on the document.
    Undefined macros are not detected here; the renderer shows them in red instead of failing.
    """
    if re.search(r"\n[ \t\r\f\v]*\n", s):
        return "blank line inside math"
    depth = 0
    envs: list[str] = []
    lefts = 0
    for m in _TOKEN.finditer(s):
        begin, end, word, symbol, caret, special, _other = m.groups()
        if begin is not None:
            if begin not in MATH_ENVIRONMENTS:
                return f"environment {begin!r} is not allowed inside math"
            envs.append(begin)
        elif end is not None:
            if not envs or envs[-1] != end:
                return f"\\end{{{end}}} without matching \\begin"
            envs.pop()
        elif word is not None:
            if word in FORBIDDEN_COMMANDS:
                return f"command \\{word} is not allowed inside math"
            if word == "left":
                lefts += 1
            elif word == "right":
                lefts -= 1
                if lefts < 0:
                    return "\\right without \\left"
        elif symbol is not None:
            if symbol in "[]()":
                return f"math delimiter \\{symbol} inside math"
            if symbol == "\\" and not envs:
                return "line break \\\\ outside an environment"
        elif caret is not None:
            return "^^ character escape"
        elif special is not None:
            if special == "{":
                depth += 1
            elif special == "}":
                depth -= 1
                if depth < 0:
                    return "unbalanced braces: '}' without '{'"
            elif special == "&":
                if not envs:
                    return "alignment '&' outside an environment"
            else:
                return f"unescaped {special!r} inside math"
    if depth:
        return f"unbalanced braces: {depth} '{{' not closed"
    if envs:
        return f"\\begin{{{envs[-1]}}} not closed"
    if lefts:
        return "\\left without \\right"
    return None


def math_source(s: str) -> str:
    """Prepare validated math for the document: non-ASCII mapped, whitespace on one line."""
    return re.sub(r"\s+", " ", math_unicode(s)).strip()


def control_words(s: str) -> set[str]:
    """Names of the control words (``\\name``) in ``s``."""
    return {m.group(1) for m in re.finditer(r"(?<!\\)(?:\\\\)*\\([A-Za-z]+)", s)}


# --------------------------------------------------------------------------------------------------
# Mixed text
# --------------------------------------------------------------------------------------------------
_DOLLAR = re.compile(r"(?<!\\)(\$\$|\$)")


def split_inline_math(s: str) -> list[tuple[bool, str]] | None:
    """Split text into (is_math, piece) at unescaped ``$``/``$$``; None if the delimiters do not pair."""
    parts = _DOLLAR.split(s)
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(parts):
        text = parts[i]
        if text:
            out.append((False, text.replace(r"\$", "$")))
        if i + 1 >= len(parts):
            break
        opener = parts[i + 1]
        if i + 3 >= len(parts) or parts[i + 3] != opener:
            return None
        out.append((True, parts[i + 2]))
        i += 4
    return out


def verbatim_math(s: str) -> str:
    """LaTeX source shown as typewriter text (with break points), for math that cannot be compiled."""
    body = escape_text(s)
    body = re.sub(r"([+=,]) ?", r"\1\\allowbreak{} ", body)
    return r"\texttt{" + body + "}"
