"""Turn-by-turn play: the operation pauses each simulated morning and the player decides.

The model is the ordinary ``sim.model.Model``; play only runs it in steps
(``env.run(until=...)``) and adds the player's decisions as *rules* of the
model's own trigger engine. A decision taken at the pause at hour ``T`` is a
``Trigger`` named ``player: <command> [day D]`` with the condition
``{day: D}`` (D = T / 24), appended to ``model.triggers.rules``. Pauses fall
on trigger-check ticks (multiples of ``trigger_check_hours``), and the
engine evaluates the new rule at that very tick, after the scenario's own
rules, exactly as if it had been written at the end of the scenario's
``triggers`` list. So a replayed decision file gives the same KPIs as
``dtsim run`` of the scenario with the equivalent triggers (see
``as_triggers``) on the same seed.

Commands (interactive prompt, or ``command:`` entries of a decision file):

``policy NAME``         set the dispatch policy (set_dispatch)
``hold SITE``           stop pickups at a prison or airfield (close_site)
``release SITE|all``    resume pickups at sites you held (open_site)
``prioritise SITE``     hold every other prison, so all vehicles that can reach
                        SITE serve it; ``release all`` undoes it
``request TYPE N``      N more vehicles of a type in the fleet, arriving at the
                        scenario's base after the scenario's delay for that type
                        (add_aircraft); at most ``request_factor`` x the type's
                        initial count over the whole game
``withdraw TYPE N``     send N vehicles of a type home (withdraw_aircraft)
``ground MODE HOURS``   ground a mode (rotary, fixed_wing, ground) for some hours
``release MODE``        lift a mode's grounding now (release_modes)
``continue`` (or empty) go on to the next morning
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from sim.aircraft import AIRCRAFT_STATES
from sim.detainees import DELIVERED
from sim.escalation import min_distance_to_fronts
from sim.scenario import ScenarioError, read_yaml
from sim.schema import (
    MODES,
    POLICIES,
    Action,
    AddAircraft,
    Condition,
    Ground,
    Scenario,
    Trigger,
    WithdrawAircraft,
)

DEFAULT_REQUEST_DELAY_HOURS = 48.0
"""Delay of requested vehicles when the scenario has no add_aircraft rule for the type."""

HELP = """\
Commands (one a line; an empty line continues to the next morning):
  policy NAME           dispatch policy: {policies}
  hold SITE             stop pickups at a prison or airfield
  release SITE | all    resume pickups at sites you held
  prioritise SITE       hold every other prison until you 'release all'
  request TYPE N        ask for N more vehicles of a type (arrive after a delay)
  withdraw TYPE N       send N vehicles of a type home
  ground MODE HOURS     ground a mode ({modes}) for some hours
  release MODE          lift a mode's grounding now
  status                show the situation again
  continue              go on to the next morning (also: an empty line, c)
  finish                stop deciding and play out the rest of the operation
  help                  this list"""


class DecisionError(ValueError):
    """A decision that cannot be taken; the message says why and what would work."""


@dataclass(frozen=True)
class Decision:
    """One decision: when (day on the scenario's clock), what, and how it was written."""

    day: float
    name: str
    actions: tuple[Action, ...]
    command: str | None = None  # the command text, or None for a raw action
    raw_action: dict[str, Any] | None = None

    @property
    def hour(self) -> float:
        """When the decision takes effect, simulation hours."""
        return self.day * 24.0

    @property
    def label(self) -> str:
        """The decision without the ``player:`` prefix and the day suffix."""
        return self.name.removeprefix("player: ").rsplit(" [day ", 1)[0]

    def explain(self) -> str:
        """What the decision does, in words."""
        closed = [a.close_site for a in self.actions if a.close_site is not None]
        opened = [a.open_site for a in self.actions if a.open_site is not None]
        parts = []
        if closed:
            parts.append(f"no more pickups at {', '.join(closed)} "
                         "(vehicles already on their way complete their sortie)")
        if opened:
            parts.append(f"pickups at {', '.join(opened)} resume")
        parts += [explain_action(a) for a in self.actions
                  if a.close_site is None and a.open_site is None]
        return "; ".join(parts)

    def as_trigger(self) -> Trigger:
        """The equivalent scenario trigger (condition ``{day: D}``)."""
        return Trigger(name=self.name, when=Condition(day=self.day), then=list(self.actions))

    def as_record(self) -> dict[str, Any]:
        """The decision as a decision-file entry (``--record`` format)."""
        entry: dict[str, Any] = {"day": self.day}
        if self.command is not None:
            entry["command"] = self.command
        else:
            entry["action"] = self.raw_action
        return entry


def explain_action(a: Action) -> str:
    """One action in words (for the player's confirmation)."""
    if a.set_dispatch is not None:
        return f"vehicles now choose pickups by {a.set_dispatch}"
    if a.close_site is not None:
        return f"no more pickups at {a.close_site} (vehicles already on their way complete)"
    if a.open_site is not None:
        return f"pickups at {a.open_site} resume"
    if a.add_aircraft is not None:
        x = a.add_aircraft
        return f"{x.count} {x.type} will be available at {x.base} in {x.delay_hours:g} h"
    if a.withdraw_aircraft is not None:
        w = a.withdraw_aircraft
        return f"{w.count} {w.type} leave after their current sortie"
    if a.ground is not None:
        return f"{', '.join(a.ground.modes)} grounded for {a.ground.hours:g} h"
    return f"{a.kind} applied"


def as_triggers(decisions: list[Decision]) -> list[Trigger]:
    """Triggers that, appended to a scenario's ``triggers``, reproduce the decisions."""
    return [d.as_trigger() for d in decisions]


@dataclass
class Context:
    """What a decision is checked against: the scenario and the player's earlier choices."""

    scenario: Scenario
    request_factor: float = 1.0
    held: list[str] = field(default_factory=list)
    requested: Counter[str] = field(default_factory=Counter)
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        from sim.validate import fleet_types

        s = self.scenario
        self.kinds = {x.id: x.kind for x in s.sites}
        self.prisons = [x.id for x in s.sites if x.kind == "prison"]
        self.types = [t for t in s.aircraft if t in set(fleet_types(s))]
        self.leg_ids = [leg.leg_id for leg in s.legs]
        initial: Counter[str] = Counter()
        for e in s.fleet:
            initial[e.type] += e.count
        self.delay: dict[str, float] = {}
        self.base: dict[str, str] = {}
        for trig in s.triggers:
            for a in trig.then:
                if a.add_aircraft is not None:
                    x = a.add_aircraft
                    self.delay.setdefault(x.type, x.delay_hours)
                    self.base.setdefault(x.type, x.base)
                    if initial[x.type] == 0:
                        initial[x.type] = max(initial[x.type], x.count)
        for e in s.fleet:
            self.base.setdefault(e.type, e.base)
        self.limit = {t: int(math.floor(initial[t] * self.request_factor)) for t in self.types}

    def request_left(self, typ: str) -> int:
        """Vehicles of ``typ`` the player may still request in this game."""
        return max(0, self.limit.get(typ, 0) - self.requested[typ])

    def unique_name(self, base: str) -> str:
        """A trigger name not used before in this game (the engine fires each name once)."""
        name, i = base, 2
        while name in self.names:
            name, i = f"{base} #{i}", i + 1
        self.names.add(name)
        return name


def _choices(options: list[str]) -> str:
    return ", ".join(options) if options else "none"


def _close(word: str, options: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(word, options, n=2)
    return f" (did you mean {' or '.join(near)}?)" if near else ""


def _count(word: str, what: str) -> int:
    try:
        n = int(word)
    except ValueError:
        raise DecisionError(f"{what} must be a whole number, got {word!r}") from None
    if n < 1:
        raise DecisionError(f"{what} must be at least 1, got {n}")
    return n


def compile_command(text: str, day: float, ctx: Context) -> Decision:
    """Turn a command into a Decision, checked against ``ctx``; ``ctx`` is updated only on success."""
    words = text.split()
    if not words:
        raise DecisionError("empty command; type 'help' for the list")
    verb, args = words[0].lower(), words[1:]
    s = ctx.scenario
    actions: list[Action]
    held_after = list(ctx.held)
    requested: Counter[str] = Counter()

    def need(n: int, usage: str) -> None:
        if len(args) != n:
            raise DecisionError(f"usage: {usage}")

    if verb == "policy":
        need(1, f"policy NAME, with NAME one of {_choices(list(POLICIES))}")
        if args[0] not in POLICIES:
            raise DecisionError(
                f"unknown policy {args[0]!r}{_close(args[0], list(POLICIES))}; "
                f"policies: {_choices(list(POLICIES))}"
            )
        actions = [Action(set_dispatch=args[0])]  # type: ignore[arg-type]
    elif verb == "hold":
        need(1, "hold SITE (a prison or airfield)")
        site = _site(args[0], ctx, ("prison", "airfield"))
        if site in ctx.held:
            raise DecisionError(f"you already hold {site}")
        actions = [Action(close_site=site)]
        held_after.append(site)
    elif verb == "release" and len(args) == 1 and args[0].lower().replace("-", "_") in MODES:
        mode = args[0].lower().replace("-", "_")
        actions = [Action(release_modes=[mode])]  # type: ignore[list-item]
    elif verb == "release":
        need(1, "release SITE, release all, or release MODE")
        if args[0].lower() == "all":
            if not ctx.held:
                raise DecisionError("you hold no sites")
            actions = [Action(open_site=x) for x in ctx.held]
            held_after = []
        else:
            site = _site(args[0], ctx, ("prison", "airfield"))
            if site not in ctx.held:
                raise DecisionError(
                    f"{site} is not held by you (you hold: {_choices(ctx.held)})"
                )
            actions = [Action(open_site=site)]
            held_after.remove(site)
    elif verb in ("prioritise", "prioritize", "priority"):
        need(1, "prioritise SITE (a prison)")
        site = _site(args[0], ctx, ("prison",))
        others = [p for p in ctx.prisons if p != site and p not in ctx.held]
        actions = [Action(close_site=p) for p in others]
        if site in ctx.held:
            actions.append(Action(open_site=site))
            held_after.remove(site)
        if not actions:
            raise DecisionError(f"{site} is the only prison not already held")
        held_after.extend(others)
    elif verb == "request":
        need(2, "request TYPE N")
        typ = _type(args[0], ctx)
        n = _count(args[1], "N")
        left = ctx.request_left(typ)
        if n > left:
            raise DecisionError(
                f"only {left} more {typ} can be requested in this game "
                f"(limit {ctx.limit.get(typ, 0)}: {ctx.request_factor:g} x the scenario's {typ})"
            )
        delay = ctx.delay.get(typ, DEFAULT_REQUEST_DELAY_HOURS)
        actions = [Action(add_aircraft=AddAircraft(
            type=typ, count=n, base=ctx.base[typ], delay_hours=delay))]
        requested[typ] = n
    elif verb == "withdraw":
        need(2, "withdraw TYPE N")
        typ = _type(args[0], ctx)
        actions = [Action(withdraw_aircraft=WithdrawAircraft(type=typ, count=_count(args[1], "N")))]
    elif verb == "ground":
        need(2, f"ground MODE HOURS, with MODE one of {_choices(list(MODES))}")
        mode = args[0].lower().replace("-", "_")
        if mode not in MODES:
            raise DecisionError(f"unknown mode {args[0]!r}; modes: {_choices(list(MODES))}")
        try:
            hours = float(args[1])
        except ValueError:
            raise DecisionError(f"HOURS must be a number, got {args[1]!r}") from None
        if not 0 < hours <= 24 * s.horizon_days:
            raise DecisionError(f"HOURS must be between 0 and {24 * s.horizon_days}, got {hours:g}")
        actions = [Action(ground=Ground(modes=[mode], hours=hours))]  # type: ignore[list-item]
    else:
        raise DecisionError(f"unknown command {words[0]!r}; type 'help' for the list")
    command = " ".join([verb if verb not in ("prioritize", "priority") else "prioritise", *args])
    name = ctx.unique_name(f"player: {command} [day {day:g}]")
    ctx.held = held_after
    ctx.requested.update(requested)
    return Decision(day, name, tuple(actions), command=command)


def _site(ref: str, ctx: Context, kinds: tuple[str, ...]) -> str:
    ids = [sid for sid, k in ctx.kinds.items() if k in kinds]
    if ref not in ctx.kinds:
        raise DecisionError(f"unknown site {ref!r}{_close(ref, ids)}; sites: {_choices(ids)}")
    if ctx.kinds[ref] not in kinds:
        raise DecisionError(
            f"{ref} is a {ctx.kinds[ref]}; this command takes a {' or '.join(kinds)}: {_choices(ids)}"
        )
    return ref


def _type(ref: str, ctx: Context) -> str:
    if ref not in ctx.types:
        raise DecisionError(
            f"unknown vehicle type {ref!r}{_close(ref, ctx.types)}; types in this operation: "
            f"{_choices(ctx.types)}"
        )
    return ref


def compile_action(raw: Any, day: float, ctx: Context) -> Decision:
    """A raw trigger action (scenario syntax) as a Decision; references are checked."""
    from sim.validate import check_action

    try:
        action = Action.model_validate(raw)
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'action'}: {e['msg']}" for e in exc.errors()
        )
        raise DecisionError(f"not a valid action ({msgs})") from None
    problems = check_action(ctx.scenario, action, ("action",), list(ctx.kinds), ctx.leg_ids)
    if action.add_aircraft is not None and action.add_aircraft.type not in ctx.types:
        problems.append(((), f"vehicle type {action.add_aircraft.type!r} is not in this "
                             f"operation's fleet ({_choices(ctx.types)})"))
    if problems:
        raise DecisionError("; ".join(m for _, m in problems))
    summary = json.dumps(action.model_dump(mode="json", exclude_none=True), separators=(",", ":"))
    name = ctx.unique_name(f"player: {summary} [day {day:g}]")
    return Decision(day, name, (action,), raw_action=action.model_dump(mode="json",
                                                                       exclude_none=True))


def on_tick(hour: float, step: float) -> bool:
    """Whether ``hour`` is a trigger-check tick (a multiple of ``step``)."""
    k = round(hour / step)
    return abs(k * step - hour) < 1e-6


def load_decisions(path: Path, scenario: Scenario, request_factor: float = 1.0) -> list[Decision]:
    """Read a decision file; any problem is a ScenarioError with the file and line."""
    data = read_yaml(path)
    if isinstance(data, dict) and set(data) == {"decisions"}:
        data = data["decisions"]
    if not isinstance(data, list):
        raise ScenarioError([f"{path}:1: expected a list of decisions like "
                             "'- {day: 2.25, command: policy highest_threat}'"])
    ctx = Context(scenario, request_factor)
    step = scenario.trigger_check_hours
    problems: list[str] = []
    out: list[Decision] = []

    def when(i: int) -> float:
        e = data[i]
        day = e.get("day") if isinstance(e, dict) else None
        return float(day) if isinstance(day, (int, float)) else 0.0

    for i in sorted(range(len(data)), key=lambda i: (when(i), i)):
        entry = data[i]
        line = data.lines[i][1] if hasattr(data, "lines") else 0
        where = f"{path}:{line}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping with 'day' and 'command' or 'action'")
            continue
        lines = getattr(entry, "lines", {})
        unknown = set(entry) - {"day", "command", "action", "note"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)} "
                            "(expected day, command or action, note)")
            continue
        day = entry.get("day")
        if isinstance(day, bool) or not isinstance(day, (int, float)):
            problems.append(f"{where}: 'day' must be a number (day 0 = the scenario's start)")
            continue
        if not 0 <= day < scenario.horizon_days:
            problems.append(f"{where}: day {day:g} is outside the run (0 to {scenario.horizon_days})")
            continue
        if not on_tick(day * 24.0, step):
            problems.append(f"{where}: day {day:g} (hour {day * 24:g}) is not a trigger check tick "
                            f"(a multiple of {step:g} h)")
            continue
        if ("command" in entry) == ("action" in entry):
            problems.append(f"{where}: give exactly one of 'command' or 'action'")
            continue
        key = "command" if "command" in entry else "action"
        kline = lines.get(key, (str(path), line))[1]
        try:
            if key == "command":
                if not isinstance(entry["command"], str):
                    raise DecisionError("'command' must be a string, e.g. 'request ch47 2'")
                out.append(compile_command(entry["command"], float(day), ctx))
            else:
                out.append(compile_action(entry["action"], float(day), ctx))
        except DecisionError as exc:
            problems.append(f"{path}:{kline}: {exc}")
    if problems:
        raise ScenarioError(problems)
    return out


def write_decisions(path: Path, decisions: list[Decision], header: str) -> None:
    """Save decisions in the decision-file format (atomically: temp file, then rename)."""
    text = "".join(f"# {line}\n" for line in header.splitlines())
    text += yaml.safe_dump([d.as_record() for d in decisions], sort_keys=False) if decisions else "[]\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class Game:
    """One game: a model run in steps, with the player's decisions as extra trigger rules."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        every_hours: float = 24.0,
        first_hour: float = 6.0,
        request_factor: float = 1.0,
    ) -> None:
        from sim.model import Model

        self.scenario = scenario
        self.seed = seed
        self.model = Model(scenario, seed)
        self.ctx = Context(scenario, request_factor)
        self.step = scenario.trigger_check_hours
        self.every = max(self.step, math.ceil(every_hours / self.step - 1e-9) * self.step)
        self.first = self._align(first_hour)
        self.decisions: list[Decision] = []
        self.cursor = 0  # index into model.events of the last report
        self.t0 = time.perf_counter()
        self.last_news: list[str] = []
        self._stops = 0  # env.run(until=...) calls so far

    def _align(self, hour: float) -> float:
        return math.ceil(hour / self.step - 1e-9) * self.step

    @property
    def now(self) -> float:
        """Simulation time, hours."""
        return float(self.model.env.now)

    @property
    def horizon(self) -> float:
        """End of the run, hours."""
        return float(self.model.horizon)

    def pauses(self) -> Iterator[float]:
        """Pause hours: ``first_hour`` on day 0, then every ``every_hours``, before the horizon."""
        t = self.first
        while t < self.horizon - 1e-9:
            yield t
            t = self._align(t + self.every)

    def advance_to(self, hour: float) -> None:
        """Run the model up to ``hour`` (nothing scheduled at ``hour`` itself has happened yet)."""
        if hour > self.now:
            self.model.env.run(until=hour)
            self._stops += 1

    def decide(self, text: str) -> Decision:
        """Take a command now (at the current pause); raises DecisionError."""
        dec = compile_command(text, self.now / 24.0, self.ctx)
        self.add(dec)
        return dec

    def add(self, dec: Decision) -> None:
        """Add a decision as a rule of the model's trigger engine; it fires at its tick."""
        if dec.hour < self.now - 1e-6:
            raise DecisionError(f"day {dec.day:g} is already past")
        self.model.triggers.rules.append(dec.as_trigger())
        self.decisions.append(dec)

    def finish(self) -> Any:
        """Play out the rest of the horizon and return the Result."""
        from sim.results import build_result

        self.advance_to(self.horizon)
        # Each pause's stop event is counted twice by SimPy (processed, then re-processed on
        # resume); a straight run has one stop event. Count sim_events as a straight run does.
        self.model.env.events_processed -= 2 * (self._stops - 1)
        self._stops = 1
        return build_result(self.model, self.seed, time.perf_counter() - self.t0)

    # ----- the morning report ------------------------------------------------------
    def clock(self, hour: float | None = None) -> str:
        """``day D (date) HH:MM`` for ``hour`` (default: now)."""
        h = self.now if hour is None else hour
        day = int(h // 24)
        date = self.scenario.start + dt.timedelta(days=day)
        hh = h - 24 * day
        return f"day {day} ({date:%a %d %b %Y}) {int(hh):02d}:{int(round((hh % 1) * 60)):02d}"

    def news(self) -> list[str]:
        """Events since the last report, in words."""
        m = self.model
        events = m.events[self.cursor:]
        self.cursor = len(m.events)
        out: list[str] = []
        delivered = sum(e[4] for e in events if e[1] == "unload" and m.kind[e[3]] == "reception")
        sorties = sum(1 for e in events if e[1] == "depart" and e[4] > 0)
        failures: Counter[str] = Counter()
        arrived: Counter[tuple[str, str]] = Counter()
        for t, ev, who, site, n in events:
            when = self.clock(t)
            if ev == "trigger":
                tag = "your order" if who.startswith("player: ") else "news"
                out.append(f"{when}  {tag}: {who.removeprefix('player: ')}")
            elif ev == "threatened":
                out.append(f"{when}  {site} is THREATENED by the front ({n:,} still there)")
            elif ev == "overrun":
                out.append(f"{when}  {site} is OVERRUN")
            elif ev in ("overrun_escape", "breakout"):
                what = "escaped as it was overrun" if ev == "overrun_escape" else "escaped in a breakout"
                out.append(f"{when}  {n:,} detainees at {site} {what}")
            elif ev.startswith("grounded_"):
                why = ev.removeprefix("grounded_")
                out.append(f"{when}  {site} grounded for {n} h ({'storm' if why == 'storm' else why})")
            elif ev == "leg_closed":
                out.append(f"{when}  route {site} closed by the fighting")
            elif ev == "leg_reopened":
                out.append(f"{when}  route {site} reopened")
            elif ev == "failure":
                failures[who.rsplit("-", 1)[0]] += 1
            elif ev == "available" and t > 0:
                arrived[(who.rsplit("-", 1)[0], site)] += 1
            elif ev == "withdrawn":
                out.append(f"{when}  {who} withdrawn")
        for (typ, site), n in sorted(arrived.items()):
            out.append(f"{n} {typ} arrived at {site}")
        if failures:
            out.append("breakdowns: " + ", ".join(f"{typ} {n}" for typ, n in sorted(failures.items())))
        out.append(f"{sorties} loaded sorties, {delivered:,} detainees delivered since the last report")
        return out

    def situation(self) -> dict[str, Any]:
        """The state at the pause, as plain data (for the report and for tests)."""
        m = self.model
        now = self.now
        prisons = []
        for sid in m.site_ids:
            if m.kind[sid] not in ("prison", "airfield"):
                continue
            if m.kind[sid] == "airfield" and m.present[sid] == 0:
                continue
            km = min_distance_to_fronts(m.fronts, m.xy[sid], now)
            prisons.append({
                "site": sid, "kind": m.kind[sid], "held": int(m.present[sid]),
                "status": ("safe", "threatened", "overrun")[m.status[sid]],
                "open": bool(m.site_open[sid]), "held_by_you": sid in self.ctx.held,
                "front_km": None if math.isinf(km) else round(km, 1),
            })
        fleet: dict[str, Counter[str]] = {}
        for a in m.aircraft:
            fleet.setdefault(a.type_name, Counter())[AIRCRAFT_STATES[a.state]] += 1
        d = m.d
        backlog = int(np.count_nonzero((d.state == DELIVERED) & ~(d.t_registered <= now)))
        receptions = []
        for sid in m.site_ids:
            if m.kind[sid] == "reception":
                p = m.params.site[sid]
                receptions.append({
                    "site": sid, "open": bool(m.site_open[sid]), "occupancy": m.occupancy[sid],
                    "beds": p["beds"], "intake_per_day": p["daily_intake_limit"],
                })
        escaped = int(np.count_nonzero(~np.isnan(d.t_escaped)))
        return {
            "hour": now, "day": now / 24.0, "prisons": prisons,
            "fleet": {t: dict(c) for t, c in sorted(fleet.items())},
            "receptions": receptions, "registration_backlog": backlog,
            "delivered": m.delivered_count, "total": m.total, "escaped": escaped,
            "policy": m.policy.name, "held_by_you": list(self.ctx.held),
            "requests_left": {t: self.ctx.request_left(t) for t in self.ctx.types},
        }

    def report(self, fresh: bool = True) -> str:
        """The morning report: news since the last report (``fresh``; else the same news
        again), then the situation."""
        s = self.situation()
        if fresh:
            self.last_news = self.news()
        lines = [f"=== {self.clock()} ===", "News:"]
        lines += [f"  - {x}" for x in self.last_news]
        lines.append("Prisons and staging (held, status, nearest front):")
        for p in s["prisons"]:
            front = "-" if p["front_km"] is None else f"{p['front_km']:.0f} km"
            flag = "  HELD by you" if p["held_by_you"] else ("  closed" if not p["open"] else "")
            lines.append(f"  {p['site']:<14}{p['held']:>7,}  {p['status']:<11} front {front}{flag}")
        lines.append("Vehicles by state:")
        for typ, c in s["fleet"].items():
            parts = ", ".join(f"{n} {st}" for st, n in sorted(c.items()))
            lines.append(f"  {typ:<8}{sum(c.values()):>3}: {parts}")
        for r in s["receptions"]:
            beds = "no limit" if r["beds"] is None else f"{r['beds']:,}"
            intake = "no limit" if r["intake_per_day"] is None else f"{r['intake_per_day']:,}/day"
            state = "open" if r["open"] else "NOT OPEN"
            lines.append(f"Facility {r['site']} ({state}): occupancy {r['occupancy']:,} of {beds} beds; "
                         f"intake {intake}")
        lines.append(f"Registration backlog: {s['registration_backlog']:,}")
        pct = 100.0 * s["delivered"] / s["total"] if s["total"] else 0.0
        lines.append(f"Delivered {s['delivered']:,} of {s['total']:,} ({pct:.0f}%); "
                     f"escaped {s['escaped']:,}")
        held = ", ".join(s["held_by_you"]) or "none"
        left = ", ".join(f"{t} {n}" for t, n in s["requests_left"].items())
        lines.append(f"Policy: {s['policy']}.  Held by you: {held}.  Requests left: {left}.")
        return "\n".join(lines)


# ----- the debrief ---------------------------------------------------------------------

DEBRIEF_KPIS: tuple[tuple[str, str, int], ...] = (
    # (KPI, label, +1 if more is better, -1 if less is better, 0 neutral)
    ("delivered", "delivered", 1),
    ("escaped", "escaped", -1),
    ("remaining", "still held at the end", -1),
    ("completion_day", "completion day", -1),
    ("registration_complete_day", "registration complete day", -1),
    ("at_risk_detainee_days", "at-risk detainee-days", -1),
    ("mean_transfer_hours", "mean transfer hours", -1),
    ("peak_registration_backlog", "peak registration backlog", -1),
    ("sorties_total", "loaded sorties", 0),
    ("flight_hours_total", "flight hours", -1),
)


def _debrief_value(kpis: dict[str, Any], key: str) -> float | None:
    if key == "sorties_total":
        return float(sum(kpis["sorties"].values()))
    if key == "flight_hours_total":
        return round(float(sum(kpis["flight_hours"].values())), 1)
    v = kpis.get(key)
    return None if v is None else float(v)


def debrief_rows(mine: dict[str, Any], default: dict[str, Any]) -> list[dict[str, Any]]:
    """KPI rows: yours, the default plan's, the difference and whether yours is better."""
    rows = []
    for key, label, sign in DEBRIEF_KPIS:
        a, b = _debrief_value(mine, key), _debrief_value(default, key)
        diff = None if a is None or b is None else round(a - b, 3)
        verdict = "same"
        if a is None and b is not None:
            verdict = "worse" if sign < 0 else "n/a"
        elif b is None and a is not None:
            verdict = "better" if sign < 0 else "n/a"
        elif diff and sign:
            verdict = "better" if diff * sign > 0 else "worse"
        rows.append({"kpi": key, "label": label, "you": a, "default": b, "difference": diff,
                     "verdict": verdict})
    return rows


def format_debrief(rows: list[dict[str, Any]], decisions: list[Decision]) -> str:
    """The debrief as text: a table and a few sentences."""

    def f(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"

    lines = ["=== Debrief: your operation against the default plan (same seed, same random "
             "numbers) ===", f"{'':<28}{'you':>12}{'default':>12}{'difference':>12}"]
    for r in rows:
        d = r["difference"]
        diff = "" if d is None else "0" if d == 0 else f"{d:+,.2f}".rstrip("0").rstrip(".")
        mark = {"better": "  better", "worse": "  worse"}.get(r["verdict"], "")
        lines.append(f"{r['label']:<28}{f(r['you']):>12}{f(r['default']):>12}{diff:>12}{mark}")
    by = {r["kpi"]: r for r in rows}
    esc = by["escaped"]
    if esc["difference"]:
        n = abs(esc["difference"])
        lines.append(f"You {'kept' if esc['difference'] < 0 else 'lost'} {n:,.0f} "
                     f"{'more' if esc['difference'] < 0 else 'more'} detainees "
                     f"{'from escaping' if esc['difference'] < 0 else 'to escapes'} than the default plan.")
    comp = by["completion_day"]
    if comp["difference"]:
        lines.append(f"You finished {abs(comp['difference']):.2f} days "
                     f"{'earlier' if comp['difference'] < 0 else 'later'} than the default plan.")
    if decisions and all(r["difference"] in (0, None) and r["verdict"] == "same" for r in rows):
        lines.append("Your decisions did not change the outcome with these random numbers: "
                     "the default plan already did the same.")
    lines.append(f"Decisions taken: {len(decisions)}")
    for d in decisions:
        lines.append(f"  day {d.day:g}: {d.label}")
    return "\n".join(lines)


# ----- driving a game -------------------------------------------------------------------


def replay(game: Game, decisions: list[Decision], say: Callable[[str], None]) -> Any:
    """Apply scripted decisions at their times, then play out; return the Result."""
    for dec in sorted(decisions, key=lambda d: d.hour):
        game.advance_to(dec.hour)
        game.add(dec)
        say(f"{game.clock(dec.hour)}  {dec.label}: {dec.explain()}")
    return game.finish()


def interactive(
    game: Game, ask: Callable[[str], str], say: Callable[[str], None]
) -> Any:
    """Pause each morning, show the report, read commands; EOF or 'finish' plays out the rest."""
    say(f"Operation {game.scenario.name} (seed {game.seed}): "
        f"{' '.join(game.scenario.description.split()) or 'no description'}")
    say(f"You decide every {game.every:g} h, from {game.clock(game.first)}; "
        "type 'help' for the commands.")
    done = False
    for t in game.pauses():
        game.advance_to(t)
        say(game.report())
        while True:
            try:
                line = ask(f"[{game.clock()}] > ")
            except EOFError:
                say("(end of input: playing out the rest of the operation)")
                done = True
                break
            cmd = line.strip()
            low = cmd.lower()
            if low in ("", "c", "continue", "next", "n"):
                break
            if low in ("help", "h", "?"):
                say(HELP.format(policies=", ".join(POLICIES), modes=", ".join(MODES)))
                continue
            if low in ("status", "s"):
                say(game.report(fresh=False))
                continue
            if low in ("finish", "quit", "q", "exit", "end", "auto"):
                say("(playing out the rest of the operation without you)")
                done = True
                break
            try:
                dec = game.decide(cmd)
            except DecisionError as exc:
                say(f"cannot do that: {exc}. Try again, or 'help'.")
                continue
            say(f"ok: {dec.label}: {dec.explain()}")
        if done:
            break
    return game.finish()

