"""CITATION.cff is a Citation File Format 1.2.0 file that agrees with the package:
the required keys are there, and its version and licence are the package's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from sim.common.version import __version__

ROOT = Path(__file__).resolve().parents[2]


def citation() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_citation_file_has_the_keys_cff_1_2_0_requires() -> None:
    data = citation()
    assert data["cff-version"] == "1.2.0"
    for key in ("message", "title"):
        assert isinstance(data[key], str) and data[key].strip()
    authors = data["authors"]
    assert isinstance(authors, list) and authors
    # a person has family-names or given-names; an entity has a name
    assert all(isinstance(a, dict) and ({"name", "family-names", "given-names"} & set(a))
               for a in authors)
    assert data["type"] in ("software", "dataset")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(data["date-released"]))


def test_the_citation_names_the_package_version_and_licence() -> None:
    data = citation()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(data["version"]) == __version__ == project["version"]
    assert data["license"] == project["license"]
