"""Extract the claim catalogue from ``../shared/claims/*.md`` into ``verify/catalog/<paper>.json``.

Run once when a claim file changes: ``python tools/extract_catalog.py ../shared/claims``.
The JSON is committed, so the toolkit does not need ``../shared`` at run time.  It carries
metadata only (id, title, location, category, status, printed statement); no verdicts.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HEADER = re.compile(r"^(?:#{2,5}\s+|\*\*)(P\d-D?\d+)\b\**\s*(.*)$")
STATEMENT = re.compile(r"(Statement as printed|Statement \(as printed\)|\*\*Printed|Printed( \(\d+\))?:|Setting as printed)")
STOP = re.compile(r"^\s*[*-]\s+(\*\*)?(Cat\b|Category|\(i\)|\(ii\)|Location|Status|Formal reading)")
CATSTAT = re.compile(r"Cat(?:egory)?:?\**\s*([^.]*)\.\s*\**Status:?\**\s*([^.\n]*)")
LINES = re.compile(r"L\d+(?:[–-]L?\d+)?")


def _clean_title(rest: str) -> str:
    rest = rest.strip().strip("*").strip()
    rest = re.sub(r"^[—–-]\s*", "", rest)
    return rest.rstrip("*").strip()


def parse(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [(i, m) for i, line in enumerate(lines) if (m := HEADER.match(line))]
    claims = []
    for k, (i, m) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        block = lines[i:end]
        # stop the block at the next section heading
        for j, line in enumerate(block[1:], start=1):
            if re.match(r"^#{1,4}\s", line):
                block = block[:j]
                break
        text = "\n".join(block).strip()
        title = _clean_title(m.group(2))
        statement = []
        grabbing = False
        for line in block[1:]:
            if not grabbing and STATEMENT.search(line):
                grabbing = True
                after = STATEMENT.split(line, maxsplit=1)[-1]
                after = re.sub(r"^[^A-Za-z$\"“(]*", "", after) if after else ""
                if after.strip():
                    statement.append(after.strip())
                continue
            if grabbing:
                if STOP.match(line):
                    break
                statement.append(line.rstrip())
        cs = CATSTAT.search(text)
        loc = LINES.findall(m.group(2)) or LINES.findall(text)[:2]
        claims.append({
            "id": m.group(1),
            "title": title,
            "location": ", ".join(loc),
            "category": cs.group(1).strip() if cs else "",
            "status": cs.group(2).strip() if cs else "",
            "statement": "\n".join(statement).strip(),
            "text": text,
        })
    # keep the first occurrence of each id (later mentions are cross-references)
    seen, out = set(), []
    for c in claims:
        if c["id"] not in seen:
            seen.add(c["id"])
            out.append(c)
    return out


def main(argv: list[str]) -> int:
    src = Path(argv[1] if len(argv) > 1 else "../shared/claims")
    dst = Path(__file__).resolve().parent.parent / "verify" / "catalog"
    dst.mkdir(parents=True, exist_ok=True)
    for md in sorted(src.glob("P*.md")):
        paper = md.name.split("-")[0]
        claims = parse(md)
        seed = md.name
        (dst / f"{paper}.json").write_text(json.dumps({"paper": paper, "source": seed, "claims": claims}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{paper}: {len(claims)} claims")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
