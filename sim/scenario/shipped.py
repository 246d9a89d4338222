"""The scenarios shipped with dtsim: found by name from any folder, listed, copied out to edit.

They are package data (``sim/scenarios/``, with the classroom pack in
``exercises/``), so an installed wheel has them; in a checkout the top-level
``scenarios/`` folder shows the same files. ``resolve`` turns what a user typed
into a file: an existing path as it is, else a bare name (``baseline`` or
``baseline.yaml``) or a path written as in the README (``scenarios/baseline.yaml``)
into the shipped file, so those work from any folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePath

import yaml

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"
"""The folder of shipped scenarios (package data of ``sim``)."""
QUESTIONS_SUFFIX = ".questions.yaml"
DEFAULT_NAME = "baseline"


def shipped_folder() -> Path:
    """Where the shipped scenarios are."""
    return SHIPPED


def names() -> list[str]:
    """Names of the shipped scenarios (top level, not the exercise pack), baseline first."""
    stems = [p.stem for p in SHIPPED.glob("*.yaml") if not p.name.endswith(QUESTIONS_SUFFIX)]
    return sorted(stems, key=lambda s: (s != DEFAULT_NAME, s))


def description(name: str) -> str:
    """The one-line ``description`` of a shipped scenario (of the file it extends, if it has none)."""
    path = SHIPPED / f"{name}.yaml"
    for _ in range(20):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            return ""
        text = data.get("description")
        if isinstance(text, str) and text.strip():
            return " ".join(text.split())
        parent = data.get("extends")
        if not isinstance(parent, str):
            return ""
        path = path.parent / parent
    return ""


def resolve(ref: str | PurePath) -> Path:
    """The file ``ref`` names: itself if it exists, else a shipped scenario, else ``ref``.

    A shipped scenario is found for a bare name (``baseline``, ``baseline.yaml``) and for a
    path under ``scenarios/`` as the README writes it (``scenarios/exercises/05-uncertainty.yaml``).
    A name that matches nothing comes back unchanged, for the caller to report.
    """
    path = Path(ref)
    if path.exists():
        return path
    parts = path.parts
    if len(parts) >= 2 and parts[0] == "scenarios":
        inside = SHIPPED.joinpath(*parts[1:])
        return inside if inside.is_file() else path
    if len(parts) == 1:
        for candidate in (SHIPPED / parts[0], SHIPPED / f"{parts[0]}.yaml"):
            if candidate.is_file() and not candidate.name.endswith(QUESTIONS_SUFFIX):
                return candidate
    return path


def not_found_hint(ref: str | PurePath) -> str:
    """What to say after ``REF: file not found``: the shipped names, for a bare name."""
    if len(Path(ref).parts) == 1:
        return f" (not a file, nor a shipped scenario: {', '.join(names())}; see 'dtsim scenarios')"
    return ""


def copy_out(name: str, dest: Path) -> list[Path]:
    """Copy shipped scenario ``name`` (and the files it ``extends``) to ``dest``; never overwrite.

    ``dest`` is a file name ending in ``.yaml`` for the scenario itself, or else a folder
    (created if need be); the files it extends keep their names beside the copy, so its
    ``extends`` still works.
    Raises FileNotFoundError for an unknown name, and FileExistsError before copying
    anything if the copy exists or a base file there differs from the shipped one.
    Returns the files written, the scenario first.
    """
    source = resolve(name)
    if not source.is_file() or source.parent != SHIPPED:
        raise FileNotFoundError(name)
    chain = [source]
    while len(chain) < 20:
        data = yaml.safe_load(chain[-1].read_text(encoding="utf-8"))
        parent = data.get("extends") if isinstance(data, dict) else None
        if not isinstance(parent, str):
            break
        chain.append(chain[-1].parent / parent)
    if dest.suffix.lower() in (".yaml", ".yml") and not dest.is_dir():
        folder, first = dest.parent, dest
    else:
        folder, first = dest, dest / source.name
    targets = [first, *(folder / p.relative_to(SHIPPED) for p in chain[1:])]
    pairs = list(zip(chain, targets, strict=True))
    if first.exists():
        raise FileExistsError(first)
    for src, target in pairs[1:]:  # a base file already there unchanged is fine to share
        if target.exists() and (not target.is_file() or target.read_bytes() != src.read_bytes()):
            raise FileExistsError(target)
    written = []
    for src, target in pairs:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            written.append(target)
    return written
