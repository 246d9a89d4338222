"""Player decisions: the commands, their checks, and decision files.

A decision is a command (or a raw trigger action in scenario syntax) taken at
a given day. ``compile_command`` and ``compile_action`` check it against a
``Context`` (the scenario and the player's earlier choices in the same game)
and turn it into a ``Decision``: one or more trigger actions under a unique
``player: <command> [day D]`` name, which ``sim.classroom.play`` adds to the model's
trigger engine. ``load_decisions`` reads a decision file (a YAML list of
``{day, command | action, note}``) with file:line in every error;
``write_decisions`` saves a game's decisions in the same format.

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

Kept apart from ``sim.classroom.play`` (running a game, the morning report, the
debrief) because parsing and checking decisions needs no model run.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.common.atomic import atomic_write_text
from sim.scenario.loader import ScenarioError, read_yaml
from sim.scenario.schema import (
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
        from sim.scenario.checks import fleet_types

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
    from sim.scenario.checks import check_action

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
    atomic_write_text(path, text)


def record_path_problem(path: Path) -> str | None:
    """Why decisions could not be saved to ``path`` (None: they can).

    Checked before a game starts, so that a game is never played only to
    fail at the end, and nothing is written when the path is unusable.
    """
    import os

    if not str(path).strip():
        return "empty path; name a file, e.g. --record my-game.yaml"
    if path.is_dir():
        return "is a folder; name a file inside it, e.g. --record " + str(path / "game.yaml")
    if os.path.lexists(path) and not path.is_file():
        return "exists and is not a regular file"
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent  # missing folders are created when the game is saved
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"folder {parent} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "file is not writable"
    return None
