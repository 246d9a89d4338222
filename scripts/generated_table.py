"""Write a generated Markdown table between two markers of a page, or check it is current.

Shared by the scripts that keep the README's, docs/calibration.md's and
docs/validation.md's tables fresh (``--check`` exits 1 when the page is stale).
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(page: Path, start: str, end: str, table: str, check: bool,
                   script: str) -> int:
    """Put ``table`` between ``start`` and ``end`` in ``page`` (exit code 0), or with
    ``check`` compare only (1 if stale); 2 if the markers are missing."""
    text = page.read_text(encoding="utf-8")
    if start not in text or end not in text:
        print(f"{page.name} lacks the markers {start} and {end}", file=sys.stderr)
        return 2
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{table}\n{end}{tail}"
    if check:
        if new != text:
            print(f"{page.name} table is stale: run python scripts/{script}")
            return 1
        return 0
    page.write_text(new, encoding="utf-8")
    return 0
