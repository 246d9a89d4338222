"""The shipped library of planning factors: vehicle types and site handling profiles.

Scenario files once restated every aircraft's seats, speeds, range, ground times and
failure rates; the library holds them once, each value with its public source or marked
as a planning assumption (``library.yaml`` beside this module, package data). A scenario
uses an entry by name and overrides what it needs::

    aircraft:
      ch47: {extends: library.CH-47F, seats: 24}
    sites:
      - {id: rmelan, extends: library.staging-airfield, kind: airfield, lat: 36.9, lon: 42.0}

``fill_from_library`` fills what the scenario omits, before validation; the scenario's own
values (and ``--set``) always win. It reads the shipped file's values as they stand
(``field_values``): checking the whole library against the schema builds validators a
run does not need, so ``library()`` (``dtsim types``) and the test suite check it instead.
The file is read on the first scenario that extends an entry, not before. An unknown
name is a ``file:line: field: message`` problem like any other bad input. Units are the
schema's (km, km/h, minutes, hours).
"""

from __future__ import annotations

import copy
import difflib
import functools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.scenario.reading import ScenarioError
from sim.scenario.schema import AircraftType, Site

__all__ = [
    "LIBRARY_FILE", "PREFIX", "Entry", "Library", "Sourced", "entry", "field_values",
    "fill_from_library", "library",
]

LIBRARY_FILE = Path(__file__).resolve().parent / "library.yaml"
"""The library, shipped as package data of ``sim.scenario``."""
PREFIX = "library."
"""How a scenario's ``extends`` names a library entry: ``library.CH-47F``."""
SITE_IDENTITY = ("id", "name", "lat", "lon", "detainees")
"""Site fields that belong to one place, never to a profile."""

Section = Literal["vehicles", "sites"]


class Sourced(BaseModel):
    """One value and where it comes from: a public ``source`` (document, section) or,
    for a planning assumption, the ``assumption`` and its reason. Exactly one of the two."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    value: Any
    source: str | None = Field(default=None, min_length=1)
    assumption: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_origin(self) -> Sourced:
        if (self.source is None) == (self.assumption is None):
            raise ValueError("give exactly one of 'source' (a public document) or 'assumption'")
        return self

    @property
    def origin(self) -> str:
        """How tables show where the value comes from."""
        return f"source: {self.source}" if self.source else f"assumption: {self.assumption}"


class Entry(BaseModel):
    """A vehicle type or a site profile: scenario ``fields`` and informative ``reference``
    facts (troop seats beside detainee seats) that no scenario field takes."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    title: str = Field(min_length=1)
    fields: dict[str, Sourced] = Field(min_length=1)
    reference: dict[str, Sourced] = Field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The scenario fields as plain data (a fresh copy: callers may change it)."""
        return {k: copy.deepcopy(v.value) for k, v in self.fields.items()}


class Library(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    vehicles: dict[str, Entry]
    sites: dict[str, Entry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields_fit_the_schema(self) -> Library:
        for name, e in self.vehicles.items():
            _check_fields(name, e, AircraftType, AircraftType.model_validate)
        for name, e in self.sites.items():
            if bad := [k for k in e.fields if k in SITE_IDENTITY]:
                raise ValueError(f"site profile {name}: {bad} belong to one place, not a profile")
            _check_fields(name, e, Site, lambda v: Site.model_validate(
                {"id": "profile", "kind": "airfield", "lat": 0, "lon": 0, **v}))
        return self


def _check_fields(name: str, e: Entry, model: type[BaseModel], validate: Any) -> None:
    known = {f.alias or k for k, f in model.model_fields.items()}
    unknown = sorted(set(e.fields) - known)
    if unknown:
        raise ValueError(f"{name}: {unknown} are not fields of {model.__name__}")
    try:
        validate(e.values())
    except ValidationError as exc:
        raise ValueError(f"{name}: {exc}") from None


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the same data as ``yaml.safe_load``, read
twenty times faster (the library is read by every run of a scenario that extends it)."""


def _read(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)


def load_library(path: Path) -> Library:
    """Read and check a library file (the shipped one: ``library()``)."""
    return Library.model_validate(_read(path))


@functools.cache
def library() -> Library:
    """The shipped library, read once."""
    return load_library(LIBRARY_FILE)


@functools.cache
def field_values() -> dict[Section, dict[str, dict[str, Any]]]:
    """The scenario field values of each shipped vehicle type and site profile, by name,
    as the file states them (what ``library()`` holds as ``Entry.values()``, unchecked)."""
    data = _read(LIBRARY_FILE)
    return {section: {name: {key: item["value"] for key, item in e["fields"].items()}
                      for name, e in (data.get(section) or {}).items()}
            for section in ("vehicles", "sites")}


def entry(name: str) -> tuple[Section, Entry]:
    """The vehicle type or site profile called ``name``; KeyError if none."""
    lib = library()
    if name in lib.vehicles:
        return "vehicles", lib.vehicles[name]
    if name in lib.sites:
        return "sites", lib.sites[name]
    raise KeyError(name)


def suggestion(name: str, options: list[str]) -> str:
    """`` (did you mean X?)`` for the closest names, ignoring case; else the valid names."""
    lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(lower[c] for c in close)}?)"
    return f" (valid: {', '.join(options)})"


def _fill(node: Any, path: str, section: Section, problems: list[str]) -> None:
    if not isinstance(node, dict) or "extends" not in node:
        return
    lines = getattr(node, "lines", {})
    where = lines.get("extends", getattr(node, "where", ("?", 0)))
    ref = node.pop("extends")
    kind = "type" if section == "vehicles" else "site profile"
    pos = f"{where[0]}:{where[1]}: " if where[1] else f"{where[0]}: "
    if not isinstance(ref, str) or not ref.startswith(PREFIX):
        problems.append(f"{pos}{path}.extends: expected {PREFIX}NAME, a library {kind} "
                        f"(see 'dtsim types'), got {ref!r}")
        return
    name = ref[len(PREFIX):]
    entries = field_values()[section]
    if name not in entries:
        problems.append(f"{pos}{path}.extends: unknown library {kind} {name!r}"
                        f"{suggestion(name, list(entries))}")
        return
    for key, value in copy.deepcopy(entries[name]).items():
        if key not in node:
            node[key] = value
            if hasattr(node, "lines"):
                node.lines[key] = where  # a problem with a filled value points at `extends`


def fill_from_library(data: Any) -> None:
    """Fill, in place, every ``aircraft`` type and ``sites`` item that ``extends`` a
    library entry with the entry's values it does not set itself, and drop ``extends``.

    Raises ScenarioError naming file, line and field for an unknown or malformed name.
    """
    if not isinstance(data, dict):
        return
    problems: list[str] = []
    aircraft = data.get("aircraft")
    if isinstance(aircraft, dict):
        for key, node in aircraft.items():
            _fill(node, f"aircraft.{key}", "vehicles", problems)
    sites = data.get("sites")
    if isinstance(sites, list):
        for i, node in enumerate(sites):
            label = node.get("id", i) if isinstance(node, dict) else i
            _fill(node, f"sites.{label}", "sites", problems)
    if problems:
        raise ScenarioError(problems)
