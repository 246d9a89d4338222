"""Capacity mechanisms against hand-computed values: intake limits, repatriation, holding.

Every flight in these scenarios lasts one hour (``tiny_scenarios.DEG_KM``), so all of a
day's cleared transfers land well inside that day.
"""

from __future__ import annotations

from tiny_scenarios import aircraft_type, check_conservation, leg, one_leg, prison, reception, scenario

import sim
from sim.common.vocabulary import EventKind


def _intake_case(horizon_days: int) -> sim.results.Result:
    """100 detainees, three 10-seat helicopters, intake 20 a day, 5 released a day."""
    data = one_leg(
        n=100, seats=10, count=3, pads=3, horizon_days=horizon_days,
        reception_kw={"pads": 3, "daily_intake_limit": 20, "repatriation_per_day": 5},
    )
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    return res


def test_intake_limit_and_repatriation_set_the_occupancy() -> None:
    """Occupancy at the end of day k is 15 (k + 1) while deliveries last, then falls by 5.

    Hand arithmetic: the fleet could carry all 100 on day 0 (three 10-seat helicopters,
    one-hour flights), so only the intake limit paces arrivals: 20 on each of days 0..4.
    Without registration a detainee counts as registered on arrival, and each midnight
    (hours 24, 48, ...) releases 5. The end of day k is hour 24 (k + 1), after that
    midnight's release: 20 (k + 1) - 5 (k + 1) = 15 (k + 1) for k <= 4 (15, 30, 45, 60, 75),
    and once the last 20 arrived on day 4, 100 - 5 (k + 1) for k >= 4 (70 on day 5, 65, ...).
    """
    res = _intake_case(horizon_days=15)
    delivered_day = res.detainees["delivered_hour"] // 24
    assert [int((delivered_day == d).sum()) for d in range(6)] == [20, 20, 20, 20, 20, 0]
    occ = [row["facility_occupancy_end"] for row in res.daily]
    expected = [15 * (k + 1) if k <= 4 else 100 - 5 * (k + 1) for k in range(14)]
    assert occ[:14] == expected
    # the peak is the end of day 4 plus the 5 released at its midnight
    assert res.kpis["peak_facility_occupancy"] == 80


def test_daily_occupancy_is_the_days_peak_not_the_count_after_midnight() -> None:
    """The day's most occupied beds, not what is left after its midnight repatriation.

    Hand arithmetic (same case): day k starts with 15 k held (after the releases of the
    midnights before it) and receives 20, all before its own midnight: its peak is
    15 k + 20 for k <= 4 (20, 35, 50, 65, 80). From day 5 nobody arrives, so a day's peak is
    its first instant, 100 - 5 k (75 on day 5, 70, ...), 5 above its end-of-day count.
    """
    res = _intake_case(horizon_days=15)
    peak = [row["facility_occupancy"] for row in res.daily]
    assert peak == [15 * k + 20 if k <= 4 else 100 - 5 * k for k in range(15)]
    assert max(peak) == res.kpis["peak_facility_occupancy"] == 80


def test_last_day_releases_like_every_other_day() -> None:
    """Day 14 ends at 100 - 5 * 15 = 25, like the 5-a-day fall before it (the release at the
    horizon's midnight counts like every other midnight's); its peak is its start, 30."""
    res = _intake_case(horizon_days=15)
    assert res.daily[-1]["facility_occupancy_end"] == 25
    assert res.daily[-1]["facility_occupancy"] == 30


def _holding_case(capacity: int | None) -> sim.results.Result:
    """Prison ``p`` -> airfield ``a`` by helicopter, ``a`` -> reception ``r`` by a plane from day 1."""
    data = {
        "name": "holding",
        "start": "2026-01-01",
        "horizon_days": 4,
        "sites": [
            prison("p", 2.0, 30),
            {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0,
             **({"holding_capacity": capacity} if capacity is not None else {})},
            reception("r", 0.0),
        ],
        "legs": [leg("p", "a", ["rotary"]), leg("a", "r", ["fixed_wing"])],
        "aircraft": {
            "h": aircraft_type(seats=10),
            "f": aircraft_type(mode="fixed_wing", seats=10),
        },
        "fleet": [
            {"type": "h", "count": 1, "base": "p"},
            {"type": "f", "count": 1, "base": "a", "available_from_day": 1},
        ],
    }
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    return res


def _dispatch_hours(res: sim.results.Result, vehicle: str) -> list[float]:
    return [e.time for e in res.events if e.kind == EventKind.DISPATCH and e.subject == vehicle]


def test_full_airfield_holds_the_vehicle_until_room_frees() -> None:
    """With room for 10 at ``a``, the helicopter waits for the plane to take the first 10.

    The helicopter's first load (10) fills ``a``; the plane only starts at hour 24, so the
    helicopter's second dispatch cannot come before the plane's first dispatch from ``a``
    (hour >= 24). Without a holding capacity it fetches all three loads on day 0.
    """
    free = _dispatch_hours(_holding_case(None), "h-01")
    assert len(free) == 3 and max(free) < 24.0
    res = _holding_case(10)
    heli = _dispatch_hours(res, "h-01")
    plane = _dispatch_hours(res, "f-01")
    assert heli[0] < 24.0
    assert len(heli) >= 2, "never dispatched once room freed"
    assert heli[1] >= plane[0] >= 24.0
    # never more than 10 waiting at the airfield: replay its unloads (+) and loads (-)
    held, peak = 0, 0
    for e in res.events:
        if e.site == "a" and e.kind in (EventKind.UNLOAD, EventKind.LOAD):
            held += e.n if e.kind == EventKind.UNLOAD else -e.n
            peak = max(peak, held)
    assert peak == 10 and held == 0
    assert res.kpis["delivered"] == 30


def test_last_day_counts_the_fleet_like_every_other_day() -> None:
    """The fleet's state counts at the horizon's midnight are recorded too (they were all 0):
    every vehicle of the baseline is counted in some state on the last day."""
    res = sim.run(sim.load_scenario("baseline"), 1)
    fleet = sum(res.kpis["sorties"].values()) and sum(
        v for k, v in res.daily[-2].items() if k.startswith("aircraft_"))
    last = sum(v for k, v in res.daily[-1].items() if k.startswith("aircraft_"))
    assert fleet > 0 and last == fleet
