"""Turn-by-turn play: the operation pauses each simulated morning and the player decides.

The model is the ordinary ``sim.core.model.Model``; play only runs it in steps
(``env.run(until=...)``) and adds the player's decisions as *rules* of the
model's own trigger engine. A decision taken at the pause at hour ``T`` is a
``Trigger`` named ``player: <command> [day D]`` with the condition
``{day: D}`` (D = T / 24), appended to ``model.triggers.rules``. Pauses fall
on trigger-check ticks (multiples of ``trigger_check_hours``), and the
engine evaluates the new rule at that very tick, after the scenario's own
rules, exactly as if it had been written at the end of the scenario's
``triggers`` list. So a replayed decision file gives the same KPIs as
``dtsim run`` of the scenario with the equivalent triggers (see
``sim.decisions.as_triggers``) on the same seed.

The commands, their checks and decision files are ``sim.classroom.decisions``; this
module runs the game: ``Game`` (the model in steps, the morning report),
``replay`` and ``interactive`` (the two ways of feeding it decisions) and
the debrief against the default plan on the same seed. At the prompt,
``continue`` (or an empty line) goes on to the next morning; ``HELP`` lists
the prompt's commands.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from sim.classroom.decisions import Context, Decision, DecisionError, compile_command
from sim.common.vocabulary import (
    GROUNDINGS,
    STATUS_NAMES,
    VEHICLE_STATE_NAMES,
    DetaineeState,
    EventKind,
)
from sim.core.detainees import DELIVERED, IN_FLIGHT
from sim.core.fronts import min_distance_to_fronts
from sim.scenario.schema import MODES, POLICIES, Scenario

#: Detainee states someone still has to move (held at a site, waiting at a pickup, in
#: the air or on the road).
STILL_TO_MOVE = np.array([DetaineeState.HELD, DetaineeState.WAITING, DetaineeState.IN_FLIGHT])

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
        from sim.core.model import Model

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

    def nobody_left_to_move(self) -> bool:
        """Whether every detainee has been delivered or lost (escaped, released, passed
        to another authority): no command can change the operation any more (the
        registration of those delivered runs on without decisions)."""
        state = self.model.transfers.d.state
        return not bool(np.isin(state, STILL_TO_MOVE).any())

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
        from sim.core.results import build_result

        self.advance_to(self.horizon)
        # Each pause's stop event is counted twice by SimPy (processed, then re-processed on
        # resume); a straight run has one stop event. Count sim_events as a straight run does.
        self.model.env.events_processed -= 2 * (self._stops - 1)
        self._stops = 1
        wall_seconds = time.perf_counter() - self.t0
        return build_result(self.model.finished(), wall_seconds)

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
        kind, type_of = m.state.kind, m.fleet.roster
        logged = m.events  # built from the log's columns at each read: read once
        events = logged[self.cursor:]
        self.cursor = len(logged)
        out: list[str] = []
        delivered = sum(e.n for e in events
                        if e.kind == EventKind.UNLOAD and kind[e.site] == "reception")
        sorties = sum(1 for e in events if e.kind == EventKind.DEPART and e.n > 0)
        failures: Counter[str] = Counter()
        arrived: Counter[tuple[str, str]] = Counter()
        for t, ev, who, site, n in events:
            when = self.clock(t)
            if ev == EventKind.TRIGGER:
                tag = "your order" if who.startswith("player: ") else "news"
                out.append(f"{when}  {tag}: {who.removeprefix('player: ')}")
            elif ev == EventKind.THREATENED:
                out.append(f"{when}  {site} is THREATENED by the front ({n:,} still there)")
            elif ev == EventKind.OVERRUN:
                out.append(f"{when}  {site} is OVERRUN")
            elif ev in (EventKind.OVERRUN_ESCAPE, EventKind.BREAKOUT):
                what = ("escaped as it was overrun" if ev == EventKind.OVERRUN_ESCAPE
                        else "escaped in a breakout")
                out.append(f"{when}  {n:,} detainees at {site} {what}")
            elif ev in GROUNDINGS:
                why = "storm" if ev == EventKind.GROUNDED_STORM else "order"
                out.append(f"{when}  {site} grounded for {n} h ({why})")
            elif ev == EventKind.LEG_CLOSED:
                out.append(f"{when}  route {site} closed by the fighting")
            elif ev == EventKind.LEG_REOPENED:
                out.append(f"{when}  route {site} reopened")
            elif ev == EventKind.FAILURE:
                failures[type_of[who]] += 1
            elif ev == EventKind.AVAILABLE and t > 0:
                arrived[(type_of[who], site)] += 1
            elif ev == EventKind.WITHDRAWN:
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
        st, tr = m.state, m.transfers
        now = self.now
        prisons = []
        for sid in st.site_ids:
            if st.kind[sid] not in ("prison", "airfield"):
                continue
            if st.kind[sid] == "airfield" and tr.present[sid] == 0:
                continue
            km = min_distance_to_fronts(m.fronts, m.xy[sid], now)
            prisons.append({
                "site": sid, "kind": st.kind[sid], "held": int(tr.present[sid]),
                "status": STATUS_NAMES[st.status[sid]],
                "open": bool(st.site_open[sid]), "held_by_you": sid in self.ctx.held,
                "front_km": None if math.isinf(km) else round(km, 1),
            })
        fleet: dict[str, Counter[str]] = {}
        for a in m.fleet.vehicles:
            fleet.setdefault(a.type_name, Counter())[VEHICLE_STATE_NAMES[a.state]] += 1
        d = tr.d
        backlog = int(np.count_nonzero((d.state == DELIVERED) & ~(d.t_registered <= now)))
        receptions = []
        for sid in st.site_ids:
            if st.kind[sid] == "reception":
                p = m.params.site[sid]
                receptions.append({
                    "site": sid, "open": bool(st.site_open[sid]), "occupancy": tr.occupancy[sid],
                    "beds": p["beds"], "intake_per_day": p["daily_intake_limit"],
                })
        escaped = int(np.count_nonzero(~np.isnan(d.t_escaped)))
        # aboard aircraft and vehicles: without them the report's counts did not add up
        # (a prison emptied, 7,000 of 25,000 on the road, 18,000 delivered)
        in_vehicles = int(np.count_nonzero(d.state == IN_FLIGHT))
        return {
            "hour": now, "day": now / 24.0, "prisons": prisons,
            "fleet": {t: dict(c) for t, c in sorted(fleet.items())},
            "receptions": receptions, "registration_backlog": backlog,
            "delivered": tr.delivered_count, "total": tr.total, "escaped": escaped,
            "in_vehicles": in_vehicles,
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
            beds = " (no bed limit)" if r["beds"] is None else f" of {r['beds']:,} beds"
            intake = "no limit" if r["intake_per_day"] is None else f"{r['intake_per_day']:,}/day"
            state = "open" if r["open"] else "NOT OPEN"
            lines.append(f"Facility {r['site']} ({state}): occupancy {r['occupancy']:,}{beds}; "
                         f"intake {intake}")
        lines.append(f"Registration backlog: {s['registration_backlog']:,}")
        pct = 100.0 * s["delivered"] / s["total"] if s["total"] else 0.0
        aboard = f"aboard vehicles {s['in_vehicles']:,}; " if s["in_vehicles"] else ""
        lines.append(f"Delivered {s['delivered']:,} of {s['total']:,} ({pct:.0f}%); "
                     f"{aboard}escaped {s['escaped']:,}")
        held = ", ".join(s["held_by_you"]) or "none"
        left = ", ".join(f"{t} {n}" for t, n in s["requests_left"].items())
        lines.append(f"Policy: {s['policy']}.  Held by you: {held}.  Requests left: {left}.")
        return "\n".join(lines)


# ----- the debrief ---------------------------------------------------------------------

DEBRIEF_KPIS: tuple[tuple[str, str, int, float, float], ...] = (
    # (KPI, label, +1 if more is better / -1 if less is better / 0 neutral,
    #  absolute tolerance, relative tolerance): a difference within
    #  max(abs, rel x |default|) reads "about the same".
    ("delivered", "delivered", 1, 0.0, 0.0),
    ("escaped", "escaped", -1, 0.0, 0.0),
    ("remaining", "still held at the end", -1, 0.0, 0.0),
    ("day_to_90", "day 90% delivered", -1, 0.1, 0.0),
    ("day_to_100", "day all delivered", -1, 0.1, 0.0),
    # prisons also empty when people are lost: judged only between equal losses
    ("prisons_cleared_day", "prisons cleared day", -1, 0.1, 0.0),
    ("registration_complete_day", "registration complete day", -1, 0.1, 0.0),
    ("at_risk_detainee_days", "at-risk detainee-days", -1, 1.0, 0.02),
    ("mean_transfer_hours", "mean transfer hours", -1, 0.1, 0.02),
    ("peak_registration_backlog", "peak registration backlog", -1, 1.0, 0.02),
    # Sizes of the effort: neither more nor fewer is better in itself (fewer sorties may
    # mean fewer people moved), so they read "more" or "fewer"; the effort per person
    # delivered is judged.
    ("sorties_total", "loaded sorties", 0, 0.0, 0.0),
    ("flight_hours_total", "flight hours", 0, 1.0, 0.02),
    ("flight_hours_per_delivered", "flight hours per person", -1, 0.0, 0.02),
)
"""The debrief's KPIs. Days: 0.1 day (2.4 hours) is well inside the day-to-day noise of
one run, so smaller differences are "about the same"; detainee counts are exact (every
detainee counts); sizes such as flight hours allow 2 %. A day that is never reached (not all
delivered) is worse than any day. The day the prisons were cleared is judged only when
both lost as many people: a lost prison clears early, and that is not better."""

SAME = "about the same"
NOT_JUDGED = "not judged"
"""The verdict on the day the prisons were cleared between runs that lost different
numbers of people: a lost prison clears early, and that is neither better nor worse."""

PRISON_FIELDS: tuple[tuple[str, str], ...] = (
    ("delivered", "delivered"), ("escaped", "escaped"), ("emptied_day", "emptied day"),
)
"""Per-prison columns of the debrief (from the per-site KPIs)."""


def _debrief_value(kpis: dict[str, Any], key: str) -> float | None:
    if key == "sorties_total":
        return float(sum(kpis["sorties"].values()))
    if key == "flight_hours_total":
        return round(float(sum(kpis["flight_hours"].values())), 1)
    if key == "flight_hours_per_delivered":
        delivered = float(kpis.get("delivered") or 0.0)
        hours = float(sum(kpis["flight_hours"].values()))
        return round(hours / delivered, 3) if delivered > 0 else None
    v = kpis.get(key)
    return None if v is None else float(v)


def debrief_rows(mine: dict[str, Any], default: dict[str, Any]) -> list[dict[str, Any]]:
    """KPI rows: yours, the default plan's, the difference and whether yours is better.

    A difference within the KPI's tolerance (``DEBRIEF_KPIS``) is ``about the same``:
    one run cannot tell so small a difference from noise. A larger one is ``better`` or
    ``worse``, or for a size of the effort (sorties, flight hours), which is neither,
    ``more`` or ``fewer``; the day the prisons were cleared between different losses is
    ``not judged``.
    """
    from sim.core.results import people_lost

    rows = []
    same_losses = people_lost(mine) == people_lost(default)
    for key, label, sign, tol_abs, tol_rel in DEBRIEF_KPIS:
        a, b = _debrief_value(mine, key), _debrief_value(default, key)
        diff = None if a is None or b is None else round(a - b, 2) + 0.0  # no "-0"
        beyond = bool(diff) and abs(diff or 0.0) > max(tol_abs, tol_rel * abs(b or 0.0)) + 1e-9
        verdict = SAME
        if key == "prisons_cleared_day" and not same_losses:
            verdict = NOT_JUDGED if diff or a != b else SAME  # a lost prison clears early
        elif a is None and b is not None:
            verdict = "worse" if sign < 0 else "n/a"
        elif b is None and a is not None:
            verdict = "better" if sign < 0 else "n/a"
        elif beyond and sign:
            verdict = "better" if (diff or 0.0) * sign > 0 else "worse"
        elif beyond:
            verdict = "more" if (diff or 0.0) > 0 else "fewer"
        rows.append({"kpi": key, "label": label, "you": a, "default": b, "difference": diff,
                     "verdict": verdict})
    return rows


def prison_rows(mine: dict[str, Any], default: dict[str, Any]) -> list[dict[str, Any]]:
    """Per prison: delivered, escaped and emptied day, yours and the default plan's."""
    rows = []
    for sid, site in mine.get("sites", {}).items():
        other = default.get("sites", {}).get(sid, {})
        row: dict[str, Any] = {"site": sid}
        for key, _label in PRISON_FIELDS:
            row[key] = site.get(key)
            row[f"default_{key}"] = other.get(key)
        rows.append(row)
    return rows


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def format_debrief(rows: list[dict[str, Any]], decisions: list[Decision],
                   prisons: list[dict[str, Any]] | None = None, seed: int | None = None) -> str:
    """The debrief as text: a table, the per-prison breakdown and a few sentences."""
    f = _fmt
    lines = ["=== Debrief: your operation against the default plan (same seed, same random "
             "numbers) ===", f"{'':<28}{'you':>12}{'default':>12}{'difference':>12}"]
    for r in rows:
        d = r["difference"]
        diff = "" if d is None else "0" if d == 0 else f"{d:+,.2f}".rstrip("0").rstrip(".")
        mark = "" if r["verdict"] in (SAME, "n/a") else "  " + r["verdict"]
        if r["verdict"] == SAME and d:
            mark = "  " + SAME
        lines.append(f"{r['label']:<28}{f(r['you']):>12}{f(r['default']):>12}{diff:>12}{mark}")
    if prisons:
        lines.append("")
        lines.append("Per prison (you / default):")
        lines.append(f"{'':<16}{'delivered':>20}{'escaped':>16}{'emptied day':>20}")
        for p in prisons:
            cells = [f"{f(p[k])} / {f(p['default_' + k])}" for k, _ in PRISON_FIELDS]
            lines.append(f"{p['site']:<16}{cells[0]:>20}{cells[1]:>16}{cells[2]:>20}")
        lines.append("")
    by = {r["kpi"]: r for r in rows}
    esc = by["escaped"]
    if esc["difference"]:
        n = abs(esc["difference"])
        lines.append(f"You {'kept' if esc['difference'] < 0 else 'lost'} {n:,.0f} "
                     f"{'more' if esc['difference'] < 0 else 'more'} detainees "
                     f"{'from escaping' if esc['difference'] < 0 else 'to escapes'} than the default plan.")
    comp = by["day_to_100"]
    if comp["difference"] and comp["verdict"] != SAME:
        lines.append(f"You delivered everyone {abs(comp['difference']):.2f} days "
                     f"{'earlier' if comp['difference'] < 0 else 'later'} than the default plan.")
    elif comp["difference"]:
        lines.append(f"Your day all were delivered is within {abs(comp['difference']):.2f} days "
                     "of the default plan's: about the same.")
    elif comp["you"] is None and comp["default"] is not None:
        lines.append("You did not deliver everyone; the default plan did.")
    if decisions and all(r["difference"] in (0, None) and r["verdict"] in (SAME, "n/a")
                         for r in rows):
        lines.append("Your decisions did not change the outcome with these random numbers: "
                     "the default plan already did the same.")
    seed_text = f" (seed {seed})" if seed is not None else ""
    lines.append(f"This is one run{seed_text}: one possible history. One run cannot tell a "
                 "small difference from noise;")
    lines.append("to be sure, write your decisions as triggers and use 'dtsim compare' over "
                 "many seeds.")
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
        if game.nobody_left_to_move():
            say("(everyone has been moved or lost: nothing is left to decide, and the "
                "operation plays out to its end)")
            break
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
