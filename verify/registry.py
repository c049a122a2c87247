"""Claim registry: catalogue metadata (``verify/catalog/<paper>.json``) joined with audit functions.

A paper's claims are implemented in modules under ``verify/claims/``; each audit function is registered
with ``@audits("P0-36")`` and takes an ``AuditContext``, returning a ``Finding``.  A claim without an audit
function is listed as ``pending`` and never given a verdict.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from verify.errors import UserError

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
PAPERS = ("P0", "P1", "P2", "P3", "P4")
ID_RE = re.compile(r"^(P\d)-(D?\d+)$")

_AUDITS: dict[str, Callable] = {}


@dataclass(frozen=True)
class ClaimSpec:
    id: str
    paper: str
    title: str
    location: str
    category: str
    status: str
    statement: str
    text: str

    @property
    def implemented(self) -> bool:
        return self.id in audit_functions()


def audits(claim_id: str):
    """Decorator registering the audit function of one claim."""

    def wrap(fn):
        if claim_id in _AUDITS and _AUDITS[claim_id] is not fn:
            raise RuntimeError(f"claim {claim_id} registered twice")
        _AUDITS[claim_id] = fn
        fn.claim_id = claim_id
        return fn

    return wrap


@lru_cache(maxsize=None)
def _load_claim_modules() -> None:
    import verify.claims as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"verify.claims.{mod.name}")


def audit_functions() -> dict[str, Callable]:
    _load_claim_modules()
    return _AUDITS


@lru_cache(maxsize=None)
def catalog(paper: str) -> tuple[ClaimSpec, ...]:
    path = CATALOG_DIR / f"{paper}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(ClaimSpec(id=c["id"], paper=paper, title=c["title"], location=c["location"], category=c["category"],
                           status=c["status"], statement=c["statement"], text=c["text"]) for c in data["claims"])


def all_claims(paper: str | None = None) -> list[ClaimSpec]:
    papers = PAPERS if paper is None else (check_paper(paper),)
    return [c for p in papers for c in catalog(p)]


def check_paper(paper: str) -> str:
    p = paper.upper()
    if p not in PAPERS:
        raise UserError(f"unknown paper {paper!r} (known: {', '.join(PAPERS)})")
    return p


def get(claim_id: str) -> ClaimSpec:
    m = ID_RE.match(claim_id.strip().upper())
    if not m:
        raise UserError(f"malformed claim id {claim_id!r} (expected e.g. P0-36)")
    cid = f"{m.group(1)}-{m.group(2)}"
    for c in catalog(check_paper(m.group(1))):
        if c.id == cid:
            return c
    raise UserError(f"unknown claim id {claim_id!r}")


def implemented(paper: str | None = None) -> list[ClaimSpec]:
    fns = audit_functions()
    return [c for c in all_claims(paper) if c.id in fns]
