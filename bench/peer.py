"""dtsim against a per-detainee SimPy model of the same transfer, timed in one run.

The peer is the model a user would write first: one SimPy process per detainee,
one timeout per person loaded and per person unloaded, vehicles claiming their
batch atomically from the prison's queue. Mechanics are the same as dtsim's on
this case: one prison, one reception, one leg flown in both directions, a fleet
of identical vehicles based at the prison, loading pads at the prison, fixed
minutes per detainee to load and to unload, a fixed turnaround at the reception,
no failures, crew limits, weather or fronts. The script first checks that both
models give the same completion time (to the minute), then times them.

Cases (detainees / vehicles / pads): 6,000/10/4, 60,000/80/32, 600,000/400/160.
Prints one JSON object; ``peer_over_dtsim`` is the per-detainee model's time over
dtsim's (targets: >= 3, >= 20, >= 30).

Each case also times SimPy alone on the events dtsim's run makes: as many processes as
vehicles, each loaded sortie a run of timeouts (dtsim's events over its loaded sorties,
rounded), and no model (``simpy_floor_seconds``). ``dtsim_own_share`` is the share of
dtsim's time that is its own work rather than SimPy's: what a faster model can remove.

Each model is timed ``REPEATS`` times per case, the two in turn (dtsim, the peer, dtsim,
...), and each side's best time is taken: on a shared machine a slow spell of a second or
two moved a single timing of dtsim by half, and the same statistic on both sides keeps
the ratio fair. ``dtsim_seconds_range`` gives dtsim's fastest and slowest of the repeats.

Run from the repository root: ``python bench/peer.py [--quick]``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Generator
from typing import Any

import simpy

import sim
import sim.core
from sim.scenario.loader import build

EARTH_RADIUS_KM = 6371.0088
DEG_KM = EARTH_RADIUS_KM * math.radians(1.0)  # one degree of latitude, km

SEATS = 30
CRUISE_KMH = 240.0
LOAD_MIN = 1.5  # minutes per detainee boarded
UNLOAD_MIN = 0.5  # minutes per detainee handed over
TURNAROUND_MIN = 30.0
LEG_DEG = 1.0  # the prison is one degree of latitude north of the reception
CASES = ((6_000, 10, 4), (60_000, 80, 32), (600_000, 400, 160))
REPEATS = 3  # timings of each model per case, in turn (see the module's docstring)


def scenario(n: int, vehicles: int, pads: int) -> Any:
    """The dtsim scenario of the case (deterministic: constants everywhere)."""
    return build({
        "name": f"peer-{n}",
        "start": "2026-01-01",
        "horizon_days": 400,
        "sites": [
            {"id": "p", "kind": "prison", "lat": LEG_DEG, "lon": 40.0, "pads": pads,
             "detainees": {"standard": n}, "load_min_per_detainee": LOAD_MIN},
            {"id": "r", "kind": "reception", "lat": 0.0, "lon": 40.0, "pads": vehicles,
             "unload_min_per_detainee": UNLOAD_MIN},
        ],
        "legs": [{"from": "p", "to": "r", "modes": ["rotary"]}],
        "aircraft": {"h": {"mode": "rotary", "seats": SEATS, "cruise_kmh": CRUISE_KMH,
                           "range_km": 1000, "turnaround_min": TURNAROUND_MIN,
                           "crew_hours_per_day": 24}},
        "fleet": [{"type": "h", "count": vehicles, "base": "p"}],
    })


def peer(n: int, vehicles: int, pads: int) -> float:
    """The per-detainee model; returns the completion time (hours)."""
    env = simpy.Environment()
    flight_h = LEG_DEG * DEG_KM / CRUISE_KMH
    queue: list[simpy.Event] = []  # detainees ready at the prison, in order
    pad = simpy.Resource(env, capacity=pads)
    last = [0.0]

    def detainee() -> Generator[simpy.Event, Any, None]:
        moved = env.event()
        queue.append(moved)
        delivered_at = yield moved
        last[0] = max(last[0], delivered_at)

    def vehicle() -> Generator[simpy.Event, Any, None]:
        at_prison = True
        while queue:
            if not at_prison:
                yield env.timeout(flight_h)  # positioning back to the prison
            batch = queue[:SEATS]  # claimed atomically
            del queue[:SEATS]
            with pad.request() as req:
                yield req
                for _ in batch:
                    yield env.timeout(LOAD_MIN / 60.0)
            yield env.timeout(flight_h)
            for _ in batch:
                yield env.timeout(UNLOAD_MIN / 60.0)
            for moved in batch:
                moved.succeed(env.now)
            yield env.timeout(TURNAROUND_MIN / 60.0)
            at_prison = False

    for _ in range(n):
        env.process(detainee())
    for _ in range(vehicles):
        env.process(vehicle())
    env.run()
    return last[0]


def simpy_floor(sorties: int, vehicles: int, events_per_sortie: int) -> float:
    """Seconds SimPy alone takes for ``sorties`` sorties of ``events_per_sortie`` timeouts
    each, flown by ``vehicles`` processes: the events of a run, with no model around them."""
    env = simpy.Environment()
    left = [sorties]

    def vehicle() -> Generator[simpy.Event, Any, None]:
        while left[0] > 0:
            left[0] -= 1
            for _ in range(events_per_sortie):
                yield env.timeout(0.1)

    for _ in range(vehicles):
        env.process(vehicle())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for n, vehicles, pads in CASES[:2] if quick else CASES:
        s = scenario(n, vehicles, pads)
        sim.run(s, 1)  # warm-up
        dtsim_times: list[float] = []
        peer_times: list[float] = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            result = sim.run(s, 1)
            dtsim_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            peer_done_h = peer(n, vehicles, pads)
            peer_times.append(time.perf_counter() - t0)
        dtsim_s, peer_s = min(dtsim_times), min(peer_times)
        dtsim_done_h = result.kpis["prisons_cleared_day"] * 24.0
        if result.kpis["delivered"] != n or abs(dtsim_done_h - peer_done_h) > 1.0 / 60.0 + 0.024 * 1.0:
            # prisons_cleared_day is rounded to 1/1000 day (1.44 minutes)
            raise SystemExit(f"models disagree at {n}: dtsim {dtsim_done_h:.4f} h, "
                             f"peer {peer_done_h:.4f} h, delivered {result.kpis['delivered']}")
        sorties = sum(result.kpis["sorties"].values())
        floor_s = min(simpy_floor(sorties, vehicles, round(result.kpis["sim_events"] / sorties))
                      for _ in range(REPEATS))
        rows.append({"detainees": n, "vehicles": vehicles, "pads": pads,
                     "completion_hours_dtsim": round(dtsim_done_h, 3),
                     "completion_hours_peer": round(peer_done_h, 3),
                     "dtsim_seconds": round(dtsim_s, 4), "peer_seconds": round(peer_s, 4),
                     "dtsim_seconds_range": [round(dtsim_s, 4), round(max(dtsim_times), 4)],
                     "peer_over_dtsim": round(peer_s / dtsim_s, 2),
                     "dtsim_sim_events": result.kpis["sim_events"],
                     "simpy_floor_seconds": round(floor_s, 4),
                     "dtsim_own_share": round(max(0.0, dtsim_s - floor_s) / dtsim_s, 2)})
    print(json.dumps({"cases": rows, "core_compiled": sim.core.COMPILED,
                      "targets": {"6000": 3, "60000": 20, "600000": 30}}))


if __name__ == "__main__":
    main()
