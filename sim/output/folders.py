"""Output folders a reader can trust: checked before any work, swapped in whole, marked complete.

Three guarantees for the folders ``dtsim run``, ``replicate`` and ``compare``
write:

- ``out_dir_problem`` says, before any simulation runs, why ``--out`` could
  not be written (a path under a regular file, a folder without write
  permission, a folder holding something else), so a long command never fails
  at its very end.
- ``staged_folder`` writes every file into a fresh hidden sibling folder and
  then swaps it into place (an atomic exchange of the two folders on Linux;
  elsewhere the old folder is renamed aside first). A reader sees the old
  results or the new ones, never a mix. Staging folders left by writers that
  were killed are removed by the next writer.
- ``complete.json``, written last into the staging folder, holds the run id
  (also in the folder's own metadata) and every data file with its size and
  SHA-256. ``check_complete`` refuses a folder whose marker is missing or
  whose files do not match it. Files added later (figures, ``report.html``)
  are not data and are not listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.common.processes import process_alive

MARKER = "complete.json"
MARKER_FORMAT = 1
PLAN_FLEET_JSON = "plan_fleet.json"
"""The result of ``dtsim plan fleet --out`` (read by ``viz.fleetplan``)."""
PLAN_FLEET_FIGURE = "fleet_plan.png"
STAGING_TAG = ".dtsim-"
_HASH_CHUNK = 1 << 20  # bytes read at a time when hashing a data file

#: Files other than data that commands add to a results folder (figures, the report).
EXTRA_SUFFIXES = (".png", ".svg", ".gif", ".html")


class IncompleteFolder(ValueError):
    """A results folder without its completion marker, or whose files do not match it."""


# ----- before any work ---------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _can_create_in(folder: Path) -> bool:
    """True if a file can be created in ``folder`` (tried, not guessed: root ignores modes)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def out_dir_problem(out: Path, kind: str | None = None) -> str | None:
    """Why results could not be written to ``out`` (None if they can), checked up front.

    ``kind`` (run, replications, comparison) is the kind of folder about to be
    swapped in whole: an existing non-empty folder must then hold results of
    the same kind only (no subfolders, no sweep store), so replacing it never
    deletes anything else. Nothing is written (the probe file has no name).
    """
    if str(out).strip() == "":
        return "empty path; name a folder (--out . for the current folder)"
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            return "exists and is not a directory"
        if not _can_create_in(out):
            return "folder is not writable"
        if kind is not None:
            return _replace_problem(Path(os.path.realpath(out)), kind)
        return None
    ancestor = _existing_ancestor(out)
    if not ancestor.is_dir():
        return f"cannot create a folder there: {ancestor} is not a directory"
    if not _can_create_in(ancestor):
        return f"cannot create a folder there: {ancestor} is not writable"
    return None


def folder_kind(folder: Path) -> str | None:
    """The kind of results a folder holds, from its marker or its files (None if unknown)."""
    for name, key in ((MARKER, "kind"), ("meta.json", "kind"), ("summary.json", "kind"),
                      ("compare.json", "kind")):
        path = folder / name
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and isinstance(data.get(key), str):
                return str(data[key])
    if (folder / "replications.csv").is_file():
        return "replications"
    if (folder / "daily.csv").is_file():
        return "run"
    return None


def _replace_problem(folder: Path, kind: str) -> str | None:
    entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
    if not entries:
        return None
    if (folder / "results.sqlite").exists():
        return "holds a sweep store (results.sqlite); choose another folder"
    subfolders = [e.name for e in entries if e.is_dir()]
    if subfolders:
        return (f"holds a subfolder ({subfolders[0]}); results replace the whole folder, "
                "so choose an empty or new folder")
    found = folder_kind(folder)
    if found is None:
        return ("holds files that are not dtsim results; results replace the whole folder, "
                "so choose an empty or new folder")
    if found != kind:
        return f"holds results of another kind ({found}); choose another folder"
    return None


# ----- writing -------------------------------------------------------------------------------


def new_run_id() -> str:
    """A fresh identifier for one write of a results folder."""
    return uuid.uuid4().hex


def clean_stale(out: Path) -> list[Path]:
    """Remove staging and set-aside folders of ``out`` left by writers that were killed."""
    target = Path(os.path.realpath(out))
    parent = target.parent
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    prefix = f".{target.name}{STAGING_TAG}"
    for entry in parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        try:
            pid = int(entry.name[len(prefix):].split("-", 1)[0])
        except ValueError:
            continue
        if pid > 0 and process_alive(pid) and pid != os.getpid():
            continue  # another writer is still at work
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 RENAME_EXCHANGE); False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(rc == 0)


def _swap_in(staging: Path, target: Path, aside: Path) -> None:
    """Put ``staging`` at ``target``; the previous ``target`` (if any) is removed.

    An empty ``target`` folder is kept (it may be someone's working directory)
    and the files move into it, the marker last, so until then readers
    refuse it.
    """
    if target.is_dir() and not any(target.iterdir()):
        names = sorted(p.name for p in staging.iterdir() if p.name != MARKER)
        for name in [*names, MARKER]:
            os.replace(staging / name, target / name)
        staging.rmdir()
        return
    try:
        os.rename(staging, target)  # no folder there yet
        return
    except OSError:
        pass
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous results
        return
    os.rename(target, aside)
    os.rename(staging, target)
    shutil.rmtree(aside, ignore_errors=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def staged_folder(out: Path, kind: str, run_id: str) -> Iterator[Path]:
    """Yield a fresh staging folder; on success mark it complete and swap it in at ``out``.

    Everything the block writes into the yielded folder becomes the new
    ``out`` at once; on an error (or Ctrl-C) the staging folder is removed and
    ``out`` is as it was.
    """
    target = Path(os.path.realpath(out))
    problem = out_dir_problem(target, kind)
    if problem:
        raise IncompleteFolder(f"--out {out}: {problem}")
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    stem = f".{target.name}{STAGING_TAG}"
    staging = Path(tempfile.mkdtemp(prefix=f"{stem}{os.getpid()}-", suffix="-new",
                                    dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(staging, 0o777 & ~mask)  # the permissions a plain mkdir would give
    aside = target.parent / f"{stem}{os.getpid()}-{run_id}-old"
    try:
        yield staging
        write_marker(staging, kind, run_id)
        _swap_in(staging, target, aside)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_marker(folder: Path, kind: str, run_id: str) -> Path:
    """Write ``complete.json`` listing every file now in ``folder`` (size and SHA-256)."""
    files = {p.name: {"bytes": p.stat().st_size, "sha256": file_digest(p)}
             for p in sorted(folder.iterdir()) if p.is_file() and p.name != MARKER}
    doc = {"format_version": MARKER_FORMAT, "kind": kind, "run_id": run_id, "files": files}
    path = folder / MARKER
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


# ----- reading -------------------------------------------------------------------------------


def read_marker(folder: Path) -> dict[str, Any]:
    """The completion marker of ``folder`` (IncompleteFolder if absent or unreadable)."""
    path = folder / MARKER
    if not path.is_file():
        raise IncompleteFolder(f"{folder}: no {MARKER}: the results were not written "
                               "completely (or by an older version); write them again")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IncompleteFolder(f"{path}: unreadable ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise IncompleteFolder(f"{path}: not a completion marker (no 'files' object)")
    return doc


def check_complete(folder: Path) -> dict[str, Any]:
    """The marker of ``folder`` once every file it lists is there, unchanged.

    Raises IncompleteFolder when the marker is missing, a listed file is
    missing or differs in size or SHA-256: the folder is not one complete
    write. (The run id in the metadata is covered by its file's digest.)
    """
    folder = Path(folder)
    doc = read_marker(folder)
    for name, info in doc["files"].items():
        path = folder / str(name)
        if not path.is_file():
            raise IncompleteFolder(f"{folder}: {name} is listed in {MARKER} but missing; "
                                   "write the results again")
        if not isinstance(info, dict):
            raise IncompleteFolder(f"{folder / MARKER}: entry {name!r} is not an object")
        if path.stat().st_size != info.get("bytes") or file_digest(path) != info.get("sha256"):
            raise IncompleteFolder(f"{folder}: {name} does not match {MARKER} (changed after "
                                   "the results were written); write the results again")
    return doc
