"""``dtsim types``: the library of planning factors (vehicle types and site profiles).

``dtsim types`` lists every entry, one line each; ``dtsim types CH-47F`` shows one entry
with each value's source or planning assumption; ``--json`` prints one JSON document.
A scenario uses an entry with ``extends: library.NAME`` (see docs/library.md).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from sim.cli.helpers import BadInput, guarded
from sim.scenario import library as lib

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
NameArgument = Annotated[str | None, typer.Argument(
    help="A vehicle type or site profile (e.g. CH-47F); none: list them all.")]

VEHICLE_COLUMNS = (
    ("mode", "mode"), ("seats", "seats"), ("troops", "troop_seats"), ("km/h", "cruise_kmh"),
    ("range km", "range_km"), ("turn min", "turnaround_min"), ("MTBF h", "mtbf_flight_hours"),
)
"""(heading, field) of the vehicle table; ``troop_seats`` is a reference fact."""


def _shown(value: Any) -> str:
    """A value as the tables show it: numbers plainly, distributions as ``dist(k=v)``."""
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    if isinstance(value, dict):
        args = ", ".join(f"{k}={v}" for k, v in value.items() if k != "dist")
        return f"{value.get('dist', '')}({args})"
    return str(value)


def _as_json(name: str, section: str, e: lib.Entry) -> dict[str, Any]:
    def fields(items: dict[str, lib.Sourced]) -> dict[str, Any]:
        return {k: {"value": v.value, **({"source": v.source} if v.source else
                                         {"assumption": v.assumption})}
                for k, v in items.items()}

    return {"name": name, "kind": "vehicle" if section == "vehicles" else "site",
            "extends": f"{lib.PREFIX}{name}", "title": e.title,
            "fields": fields(e.fields), "reference": fields(e.reference)}


def _all_entries() -> list[tuple[str, str, lib.Entry]]:
    library = lib.library()
    return [*(("vehicles", n, e) for n, e in library.vehicles.items()),
            *(("sites", n, e) for n, e in library.sites.items())]


def _list(as_json: bool) -> None:
    entries = _all_entries()
    if as_json:
        typer.echo(json.dumps([_as_json(n, s, e) for s, n, e in entries], indent=2))
        return
    vehicles = [(n, e) for s, n, e in entries if s == "vehicles"]
    header = ["type", *(h for h, _ in VEHICLE_COLUMNS), "title"]
    rows = [[n, *(_vehicle_cell(e, f) for _, f in VEHICLE_COLUMNS), e.title] for n, e in vehicles]
    _print_rows(header, rows)
    sites = [(n, e) for s, n, e in entries if s == "sites"]
    typer.echo("")
    _print_rows(["site profile", "fields", "title"],
                [[n, ", ".join(e.fields), e.title] for n, e in sites])
    typer.echo(f"\nseats: detainee seats (guards aboard); troops: troop seats. Use one in a scenario "
               f"with 'extends: {lib.PREFIX}NAME'; 'dtsim types NAME' shows each value's source.",
               err=True)


def _vehicle_cell(e: lib.Entry, field: str) -> str:
    item = e.fields.get(field) or e.reference.get(field)
    return _shown(item.value) if item is not None else "-"


def _print_rows(header: list[str], rows: list[list[str]]) -> None:
    """A plain table: left-aligned words, right-aligned numbers, the last column as it is."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    numeric = [i > 0 and all(r[i] == "-" or r[i].replace(".", "").isdigit() for r in rows)
               for i in range(len(header) - 1)]
    for r in [header, *rows]:
        cells = [c.rjust(w) if num else c.ljust(w)
                 for c, w, num in zip(r[:-1], widths, numeric, strict=True)]
        typer.echo("  ".join([*cells, r[-1]]).rstrip())


def _show(name: str, as_json: bool) -> None:
    try:
        section, e = lib.entry(name)
    except KeyError:
        names = [n for _, n, _ in _all_entries()]
        raise BadInput(f"unknown library type {name!r}{lib.suggestion(name, names)}; "
                       "see 'dtsim types'") from None
    if as_json:
        typer.echo(json.dumps(_as_json(name, section, e), indent=2))
        return
    typer.echo(f"{name}: {e.title}")
    typer.echo(f"use: extends: {lib.PREFIX}{name}")
    for heading, items in (("fields", e.fields), ("reference (not a scenario field)", e.reference)):
        if not items:
            continue
        typer.echo(f"\n{heading}:")
        width = max(len(k) for k in items)
        vwidth = max(len(_shown(v.value)) for v in items.values())
        for key, item in items.items():
            typer.echo(f"  {key:<{width}}  {_shown(item.value):<{vwidth}}  {item.origin}")


def types_cmd(name: NameArgument = None, as_json: JsonOption = False) -> None:
    """The library of planning factors: vehicle types and site profiles, with sources."""
    if name is None:
        _list(as_json)
    else:
        _show(name, as_json)


def register(app: typer.Typer) -> None:
    """Add ``types`` to ``app``."""
    app.command("types")(guarded(types_cmd))
