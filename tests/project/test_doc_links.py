"""Every relative link in README.md and docs/*.md points to a file that exists (and, for a
Markdown file with a ``#section``, to a heading that exists), so a reader never follows a
dead link. Links to web pages (``https:``) are not checked: the tests run offline."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)  # fenced code blocks
CODE = re.compile(r"`[^`\n]*`")  # inline code: `[x](y)` there is not a link
INLINE = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def documents() -> list[Path]:
    """The Markdown files whose links are checked: the README and the docs."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def link_targets(text: str) -> list[str]:
    """The targets of the inline, image and reference links of Markdown ``text``,
    outside code."""
    text = CODE.sub("", FENCE.sub("", text))
    return INLINE.findall(text) + REFERENCE.findall(text)


def anchor(heading: str) -> str:
    """The anchor a heading gets on GitHub: lower case, punctuation dropped, spaces to
    hyphens (``## `dtsim replicate` `` -> ``dtsim-replicate``)."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, duplicates numbered as GitHub does."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        a = anchor(heading)
        k = seen.get(a, 0)
        seen[a] = k + 1
        out.add(a if k == 0 else f"{a}-{k}")
    return out


def broken_links(doc: Path) -> list[str]:
    """``doc``'s relative links whose file (or Markdown heading) does not exist."""
    problems = []
    for target in link_targets(doc.read_text(encoding="utf-8")):
        if SCHEME.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        dest = (doc.parent / path_part).resolve() if path_part else doc
        if not dest.exists():
            problems.append(f"{doc.name}: {target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment.lower() not in anchors(dest):
            problems.append(f"{doc.name}: {target}: no such section")
    return problems


def test_every_relative_link_in_the_readme_and_docs_exists() -> None:
    docs = documents()
    assert len(docs) > 5
    assert [p for doc in docs for p in broken_links(doc)] == []


def test_the_readme_links_the_model_description_and_the_citation() -> None:
    targets = link_targets((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "docs/model.md" in targets
    assert "CITATION.cff" in targets


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A section\n\n## Two words\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](there.md) [ok](there.md#two-words) [web](https://example.org/x) "
        "[self](#top)\n# Top\n"
        "[gone](missing.md) [bad](there.md#nowhere) ![img](pic.png)\n"
        "`[code](not-a-link.md)`\n\n```\n[fenced](not-either.md)\n```\n"
        "[ref]: ../nothing.txt\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == [
        "doc.md: missing.md: no such file",
        "doc.md: there.md#nowhere: no such section",
        "doc.md: pic.png: no such file",
        "doc.md: ../nothing.txt: no such file",
    ]
