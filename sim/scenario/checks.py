"""Cross-reference checks of a scenario that a per-field schema cannot express.

Each problem is a (path, message) pair; the loader maps the path to a file
and line. Warnings are things that are legal but probably a mistake.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from sim.scenario.network import Network, closed_in_file, mode_specs
from sim.scenario.params import TOP_FIELDS, check_param_path
from sim.scenario.schema import MAX_DETAINEES, RECEPTION_ONLY, Condition, Scenario

if TYPE_CHECKING:
    from sim.scenario.schema import Action

MAX_VEHICLES = 100_000  # in all: each is a process, and a hostile file must not hang a run
Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def _hint(name: str, options: list[str]) -> str:
    options = list(dict.fromkeys(options))  # a duplicate id (its own error) listed once
    close = difflib.get_close_matches(name, options, n=3)
    if close:
        return f" (did you mean {', '.join(repr(c) for c in close)}?)"
    return f" (known: {', '.join(options[:12])}{', ...' if len(options) > 12 else ''})"


def unknown(ref: str, known: list[str], what: str, path: Path) -> list[Problem]:
    """A problem if ``ref`` is not among ``known`` (with a did-you-mean hint), else none."""
    return [] if ref in known else [(path, f"unknown {what} {ref!r}" + _hint(ref, known))]


def _walk_conditions(cond: Condition, path: Path) -> Iterator[tuple[Condition, Path]]:
    yield cond, path
    for key, sub in (("all", cond.all_), ("any", cond.any_)):
        for i, c in enumerate(sub or []):
            yield from _walk_conditions(c, (*path, key, i))
    if cond.not_ is not None:
        yield from _walk_conditions(cond.not_, (*path, "not"))


def cross_check(s: Scenario) -> list[Problem]:
    """All reference problems in ``s`` (unknown ids, duplicates, unroutable prisons)."""
    problems: list[Problem] = []
    site_ids = [x.id for x in s.sites]
    site_set = set(site_ids)
    kinds = {x.id: x.kind for x in s.sites}
    types = list(s.aircraft)
    leg_ids = [leg.leg_id for leg in s.legs]
    places = set(s.places) | site_set

    seen: set[str] = set()
    for i, site in enumerate(s.sites):
        if site.id in seen:
            problems.append((("sites", i, "id"), f"duplicate site id {site.id!r}"))
        seen.add(site.id)
        for cat in site.detainees:
            if cat not in s.risk_categories:
                problems.append(
                    (
                        ("sites", i, "detainees", cat),
                        f"unknown risk category {cat!r}" + _hint(cat, s.risk_categories),
                    )
                )
    for cat in s.escort_guards_per_detainee or {}:
        problems += unknown(cat, s.risk_categories, "risk category",
                            ("escort_guards_per_detainee", cat))
    if not any(k == "reception" for k in kinds.values()):
        problems.append((("sites",), "no site of kind 'reception': detainees have nowhere to go"))
    if s.total_detainees == 0:
        problems.append((("sites",), "no prison holds any detainees"))
    if s.total_detainees > MAX_DETAINEES:
        problems.append(
            (("sites",), f"{s.total_detainees:,} detainees in all, over the limit {MAX_DETAINEES:,}")
        )
    if len(set(leg_ids)) != len(leg_ids):
        dup = sorted({x for x in leg_ids if leg_ids.count(x) > 1})
        problems.append((("legs",), f"duplicate leg ids {dup}: give them distinct 'id's"))
    for i, leg in enumerate(s.legs):
        for key, ref in (("from", leg.from_), ("to", leg.to)):
            problems += unknown(ref, site_ids, "site", ("legs", i, key))
        if leg.from_ == leg.to:
            problems.append((("legs", i), "a leg must join two different sites"))

    def check_place(ref: object, path: Path) -> None:
        if isinstance(ref, str) and ref not in places:
            problems.append((path, f"unknown place or site {ref!r}" + _hint(ref, sorted(places))))
        if isinstance(ref, tuple) and not (-90 <= ref[0] <= 90 and -180 <= ref[1] <= 180):
            problems.append((path, f"[lat, lon] out of range: {list(ref)}"))

    vehicles = sum(e.count for e in s.fleet) + sum(
        a.add_aircraft.count for t in s.triggers for a in t.then if a.add_aircraft is not None
    )
    if vehicles > MAX_VEHICLES:
        problems.append(
            (("fleet",), f"{vehicles:,} vehicles in all (fleet and rules), over the limit "
                         f"{MAX_VEHICLES:,}")
        )
    for i, entry in enumerate(s.fleet):
        problems += unknown(entry.type, types, "aircraft type", ("fleet", i, "type"))
        problems += unknown(entry.base, site_ids, "site", ("fleet", i, "base"))
    for i, front in enumerate(s.escalation.fronts):
        for j, wp in enumerate(front.path):
            check_place(wp, ("escalation", "fronts", i, "path", j))
    names = [t.name for t in s.triggers]
    for i, trig in enumerate(s.triggers):
        if names.count(trig.name) > 1:
            problems.append((("triggers", i, "name"), f"duplicate trigger name {trig.name!r}"))
        for cond, path in _walk_conditions(trig.when, ("triggers", i, "when")):
            if cond.site is not None:
                problems += unknown(cond.site, site_ids, "site", (*path, "site"))
            if cond.of is not None:
                check_place(cond.of, (*path, "of"))
        for j, act in enumerate(trig.then):
            problems.extend(check_action(s, act, ("triggers", i, "then", j), site_ids, leg_ids))
    problems.extend(_route_problems(s))
    return problems


def check_action(
    s: Scenario, act: Action, path: Path, site_ids: list[str], leg_ids: list[str]
) -> list[Problem]:
    out: list[Problem] = []
    types = list(s.aircraft)
    for key in ("open_site", "close_site"):
        ref = getattr(act, key)
        if ref is not None:
            out += unknown(ref, site_ids, "site", (*path, key))
    for key in ("open_leg", "close_leg"):
        ref = getattr(act, key)
        if ref is not None:
            out += unknown(ref, leg_ids, "leg", (*path, key))
    if act.set_intake_limit is not None:
        where = (*path, "set_intake_limit", "site")
        found = unknown(act.set_intake_limit.site, site_ids, "site", where)
        out += found or _not_a_reception(s, act.set_intake_limit.site, where)
    if act.add_aircraft is not None:
        out += unknown(act.add_aircraft.type, types, "aircraft type", (*path, "add_aircraft", "type"))
        out += unknown(act.add_aircraft.base, site_ids, "site", (*path, "add_aircraft", "base"))
    if act.withdraw_aircraft is not None:
        out += unknown(act.withdraw_aircraft.type, types, "aircraft type",
                       (*path, "withdraw_aircraft", "type"))
    if act.set_param is not None:
        msg = check_param_path(s, act.set_param.path)
        parts = act.set_param.path.split(".")
        if not msg and parts[0] == "sites" and len(parts) == 3 and parts[2] in RECEPTION_ONLY:
            out += _not_a_reception(s, parts[1], (*path, "set_param", "path"))
        elif msg:
            out.append(((*path, "set_param", "path"), msg))
        else:
            msg = _param_value_problem(s, act.set_param.path, act.set_param.value)
            if msg:
                out.append(((*path, "set_param", "value"), msg))
    return out


def _not_a_reception(s: Scenario, site_id: str, path: Path) -> list[Problem]:
    """A problem at ``path`` if site ``site_id`` (a known id) is not a reception: an
    intake limit, beds or releases set on another kind would be ignored."""
    kind = s.site(site_id).kind
    if kind == "reception":
        return []
    receptions = [x.id for x in s.sites if x.kind == "reception"]
    return [(path, f"site {site_id!r} is a {kind}; only a reception takes an intake limit, "
                   f"beds or releases (receptions: {', '.join(receptions) or 'none'})")]


def _param_value_problem(s: Scenario, path: str, value: float) -> str | None:
    """None if ``value`` is valid for the field at ``path`` (a settable run-time parameter).

    The field's own schema decides, so a rule cannot set what a file could not say
    (e.g. zero seats, which would leave a vehicle flying empty sorties forever).
    """
    parts = path.split(".")
    model: BaseModel
    if parts[0] == "sites":
        model = s.site(parts[1])
    elif parts[0] == "aircraft":
        model = s.aircraft[parts[1]]
    elif parts[0] in TOP_FIELDS:
        model = s
    elif parts[1] == "breakout":
        if s.escalation.breakout is None:
            return None  # no breakouts in this scenario: the value is never read
        model = s.escalation.breakout
    else:
        model = s.escalation
    field = parts[-1]
    data = model.model_dump(by_alias=True)
    # a rule's value is a float; a whole one may set a count (seats, beds)
    data[field] = int(value) if float(value).is_integer() else value
    try:
        type(model).model_validate(data)
    except ValidationError as exc:
        errs = [e for e in exc.errors(include_url=False) if e["loc"][:1] == (field,)]
        if errs:
            return f"{value:g} is not a valid {path}: {errs[0]['msg']}"
    return None


def fleet_types(s: Scenario) -> list[str]:
    """Types that can ever fly in ``s``: the fleet and any added by a trigger."""
    names = {e.type for e in s.fleet if e.type in s.aircraft}
    for trig in s.triggers:
        for act in trig.then:
            if act.add_aircraft is not None and act.add_aircraft.type in s.aircraft:
                names.add(act.add_aircraft.type)
    return sorted(names)


def _route_problems(s: Scenario) -> list[Problem]:
    site_ids = {x.id for x in s.sites}
    if any(leg.from_ not in site_ids or leg.to not in site_ids for leg in s.legs):
        return []  # reported above; routing would only repeat it
    if any(e.type not in s.aircraft for e in s.fleet):
        return []  # an unknown type is reported above; routing without it would mislead
    types = fleet_types(s)
    if not types:
        return [(("fleet",), "no aircraft or vehicles: add at least one fleet entry")]
    # A leg the file closes counts if a rule opens it (as a closed site a rule opens).
    net = Network(s, mode_specs(s, types), closed_legs=closed_in_file(s, unless_opened=True))
    modes = sorted({s.aircraft[t].mode for t in types})
    out: list[Problem] = []
    for i, site in enumerate(s.sites):
        if site.kind == "prison" and site.population > 0 and not net.has_route(site.id):
            out.append(
                (
                    ("sites", i),
                    f"prison {site.id!r} has no feasible route to a reception with the "
                    f"fleet's modes {modes} and ranges (check its legs and refuel points)",
                )
            )
    return out


def warnings(s: Scenario) -> list[Problem]:
    """Legal but suspicious things, e.g. a trigger that can never fire."""
    out: list[Problem] = []
    for i, trig in enumerate(s.triggers):
        for cond, path in _walk_conditions(trig.when, ("triggers", i, "when")):
            if isinstance(cond.day, (int, float)) and cond.day > s.horizon_days:
                out.append(
                    (
                        (*path, "day"),
                        f"trigger {trig.name!r} waits for day {cond.day:g}, after the horizon "
                        f"({s.horizon_days} days): it can never fire",
                    )
                )
    opened = {a.open_site for t in s.triggers for a in t.then if a.open_site is not None}
    for i, site in enumerate(s.sites):
        if site.kind == "camp" and site.population > 0:
            out.append((("sites", i, "detainees"),
                        f"camp {site.id!r}: its {site.population:,} people are not part of the "
                        "transfer (a camp is drawn, not emptied); make it a prison to move them"))
        if site.kind == "reception" and not site.open and site.id not in opened:
            out.append((("sites", i, "open"),
                        f"reception {site.id!r} is closed and no trigger opens it: "
                        "nobody can be delivered there"))
    for i, e in enumerate(s.fleet):
        if e.available_from_day > s.horizon_days:
            out.append((("fleet", i, "available_from_day"), "available after the horizon"))
    out.extend(_escort_warnings(s))
    out.extend(_reach_warnings(s))
    return out


def _reach_warnings(s: Scenario) -> list[Problem]:
    """A type that can fly no transfer (every route of its mode has a stretch beyond its
    range: its vehicles never fly), and a crew limit shorter than any transfer flight
    (the first mission of a day or duty is flown whatever its length, so the limit then
    allows one mission a day or duty and no more: ``docs/model.md``, limitation 8)."""
    types = fleet_types(s)
    site_ids = {x.id for x in s.sites}
    if not types or any(leg.from_ not in site_ids or leg.to not in site_ids for leg in s.legs):
        return []  # problems reported elsewhere
    net = Network(s, mode_specs(s, types), closed_legs=closed_in_file(s, unless_opened=True))
    out: list[Problem] = []
    any_hop = any(per_dest for per_dest in net.hops.values())
    for name in types:
        t = s.aircraft[name]
        hops = [h for per_dest in net.hops.values() for h in per_dest.values()
                if h.mode == t.mode]
        if not hops:
            if any_hop:  # other modes move people; with none, the route check says so
                out.append((("aircraft", name, "mode"),
                            f"{name!r} is a {t.mode} type, but no {t.mode} route leads from "
                            "a prison or an airfield to a reception or an airfield (check "
                            f"the legs' modes): its vehicles never move"))
            continue
        flyable = [h for h in hops if h.max_segment_km <= t.range_km + 1e-9]
        if not flyable:
            shortest = min(h.max_segment_km for h in hops)
            out.append((("aircraft", name, "range_km"),
                        f"{name!r} has a range of {t.range_km:,.0f} km, but every {t.mode} "
                        f"route to a reception or an airfield has a stretch of at least "
                        f"{shortest:,.0f} km without a refuel point: its vehicles never fly"))
            continue
        # Progress-making hops of its mode that other types fly but this one cannot: its
        # vehicles then serve only the rest (Kabul 2021 with a staging leg to Germany:
        # the C-17s, at their full-payload range, never flew Qatar to Ramstein).
        useful = {(h.origin, h.dest) for per in net.options.values()
                  for h in per.get(t.mode, ())}
        # The stretches themselves (several routes may share one): a to b, km.
        stretches = sorted({(h.nodes[i], h.nodes[i + 1], km) for h in hops
                            if (h.origin, h.dest) in useful
                            for i, km in enumerate(h.segment_km) if km > t.range_km + 1e-9},
                           key=lambda x: (x[2], x[0], x[1]))
        if stretches:
            named = ", ".join(f"{a} to {b} ({km:,.0f} km)" for a, b, km in stretches[:3])
            more = f" and {len(stretches) - 3} more" if len(stretches) > 3 else ""
            out.append((("aircraft", name, "range_km"),
                        f"{name!r} has a range of {t.range_km:,.0f} km: it cannot fly "
                        f"{named}{more} without a refuel point, on routes other types fly, "
                        "so its vehicles serve only the other routes (range_km is for the "
                        "load it carries: a light load flies farther; or add a refuel "
                        "point)"))
        # A mission after the first flies empty to its pickup from where the last one
        # ended: about a round trip of its hop, at cruise (refuel stops not counted).
        quickest = min(flyable, key=lambda h: h.distance_km)
        hours = 2.0 * quickest.distance_km / t.cruise_kmh
        if hours > t.crew_hours_per_day + 1e-9 and t.crew_hours_per_day < 24.0:  # 24: none
            out.append((("aircraft", name, "crew_hours_per_day"),
                        f"{name!r} crews may fly {t.crew_hours_per_day:g} h, but its shortest "
                        f"round trip ({quickest.origin} to {quickest.dest} and back, "
                        f"{2 * quickest.distance_km:,.0f} km) takes {hours:.1f} h at cruise: "
                        "a crew's first mission of a day or duty is flown whatever its "
                        "length, so the limit allows one mission a day or duty and no "
                        "more (docs/model.md, limitation 8)"))
    return out


def _escort_warnings(s: Scenario) -> list[Problem]:
    """A type too small to take one detainee of a held category with its guards."""
    guards = s.escort_guards_per_detainee or {}
    held = {c for x in s.sites if x.kind == "prison" for c, n in x.detainees.items() if n > 0}
    out: list[Problem] = []
    for name in fleet_types(s):
        seats = s.aircraft[name].seats
        for cat in s.risk_categories:
            need = 1 + math.ceil(guards.get(cat, 0.0) - 1e-9)
            if cat in held and need > seats:
                out.append((("aircraft", name, "seats"),
                            f"{name!r} has {seats} seats: a {cat!r} detainee and the guards "
                            f"({need} seats) never fit, so it takes no mission where one is "
                            "next in the queue"))
    return out
