"""Results in words: KPI names with units, numbers with intervals, triggers as sentences.

The report leads with sentences a reader can quote ("all delivered on
day 21.2 (11 Feb 2026, 04:48)") rather than snake_case keys and raw JSON; this
module holds the vocabulary so the report's layout code stays about layout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: KPI key -> (words, unit). The unit is what the number counts; "" for plain counts of days.
KPI_WORDS: dict[str, tuple[str, str]] = {
    "detainees_total": ("detainees at the start", "detainees"),
    "in_custody_at_start": ("in custody at day 0", "detainees"),
    "delivered_fraction": ("share of those in custody at day 0 delivered", "%"),
    "day_to_50": ("half of those in custody at day 0 delivered", "day"),
    "day_to_90": ("90% of those in custody at day 0 delivered", "day"),
    "day_to_100": ("all of those in custody at day 0 delivered", "day"),
    "delivered": ("delivered to a reception", "detainees"),
    "registered": ("registered", "detainees"),
    "escaped": ("escaped", "detainees"),
    "remaining": ("still held or on the way at the end", "detainees"),
    "released": ("released", "detainees"),
    "prisons_cleared_day": ("prisons cleared, by delivery or loss", "day"),
    "registration_complete_day": ("registration complete", "day"),
    "fleet_utilization": ("fleet utilisation (time busy until the end of the operation)", "%"),
    "flying_hours_per_available_hour": ("flying time per available vehicle hour", "%"),
    "peak_facility_occupancy": ("peak reception occupancy", "detainees"),
    "peak_registration_backlog": ("peak registration backlog", "detainees"),
    "at_risk_detainee_days": ("detainee-days held at a threatened prison", "detainee-days"),
    "mean_transfer_hours": ("mean time from pickup to delivery", "h"),
    "aborted_sorties": ("aborted sorties", "sorties"),
}
#: Keys that describe the computation, not the operation: never listed as results.
NOT_RESULTS = frozenset({"scenario", "seed", "sim_events", "wall_seconds", "scenario_hash",
                         "version", "format_version", "kind", "replication"})

#: Probabilities in summary.json -> words.
PROBABILITY_WORDS: dict[str, str] = {
    "complete_within_horizon": "probability of delivering the target share within the horizon",
    "complete_by_deadline": "probability of delivering the target share by the deadline",
    "any_escape": "probability of at least one escape",
}


def number(v: Any, digits: int = 3) -> str:
    """A number for reading: thousands separated, about ``digits`` significant digits."""
    if v is None or isinstance(v, bool):
        return "-"
    if not isinstance(v, (int, float)):
        return str(v)
    f = float(v)
    if f != f:  # NaN
        return "-"
    if f.is_integer() and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 10 ** digits:
        return f"{f:,.0f}"
    return f"{f:,.{digits}g}" if abs(f) >= 1 else f"{f:.{digits}g}"


def kpi_words(key: str) -> tuple[str, str]:
    """(words, unit) of a KPI key, including ``sorties:<type>`` and ``flight_hours:<type>``."""
    if key in KPI_WORDS:
        return KPI_WORDS[key]
    head, _, rest = key.partition(":")
    if head == "sorties" and rest:
        return (f"sorties flown by {rest}", "sorties")
    if head == "flight_hours" and rest:
        return (f"hours flown by {rest}", "h")
    if head == "sites" and rest:
        site, _, what = rest.partition(":")
        words, unit = KPI_WORDS.get(what, (what.replace("_", " "), ""))
        if what.endswith("_day"):
            unit = "day"
        return (f"{site}: {words}", unit or "detainees")
    if head == "final_states" and rest:
        return (f"at the end: {rest.replace('_', ' ')}", "detainees")
    if key.endswith("_day"):
        return (key.removesuffix("_day").replace("_", " "), "day")
    return (key.replace("_", " "), "")


def day_number(v: Any) -> str:
    """A day count for reading: one decimal (two below day 10, where a tenth of a day is
    a large share of an operation that short) and no thousands separator (``day 2043.5``).

    Days are counted from the scenario's start (day 0 at its midnight), so day 250.96
    is shown as 251.0 and its date, from the same value, carries the clock time; day
    1.04 is 1.04, and 0.633 to 2.447 reads 0.63 to 2.45.
    """
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "-" if v is None else str(v)
    if v != v:
        return "-"
    return f"{float(v):.2f}" if abs(float(v)) < 9.995 else f"{float(v):.1f}"


def given_day(v: Any) -> str:
    """A day the scenario or the command gave (a deadline, a trigger's day), as written and
    without a thousands separator: ``15``, ``2043``, ``7.5``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "-" if v is None else str(v)
    return "-" if v != v else f"{float(v):g}" if abs(v) < 1e6 else f"{float(v):.0f}"


def day_date(v: float, start: dt.date) -> str:
    """Calendar date and clock time of day ``v`` (days from ``start``'s midnight, a float):
    ``8 Sep 2023, 23:02``, rounded to the minute."""
    t = dt.datetime(start.year, start.month, start.day) + dt.timedelta(
        minutes=round(float(v) * 24.0 * 60.0))
    return f"{t.day} {t:%b %Y, %H:%M}"


def day_with_date(v: Any, start: dt.date | None = None) -> str:
    """``day 251.0 (8 Sep 2023, 23:02)``: the day with one decimal and, if the start is
    known, the date and clock time of the same value."""
    text = f"day {day_number(v)}"
    if start is not None and isinstance(v, (int, float)) and not isinstance(v, bool) \
            and v == v:
        text += f" ({day_date(float(v), start)})"
    return text


def with_unit(key: str, v: Any, start: dt.date | None = None) -> str:
    """A KPI value with its unit: ``day 21.2 (11 Feb 2026, 04:48)``, ``6,050 detainees``,
    ``6.5%``."""
    _words, unit = kpi_words(key)
    if v is None or v == "":
        return "not reached" if unit == "day" else "-"
    if unit == "day":
        return day_with_date(v, start)
    if unit == "%" and isinstance(v, (int, float)):
        return f"{100.0 * float(v):.1f}%"
    return f"{number(v)} {unit}".strip()


def interval(key: str, mean: Any, lo: Any, hi: Any) -> str:
    """A mean with its 95% confidence interval in the KPI's unit."""
    _words, unit = kpi_words(key)
    if mean is None:
        return "not reached"
    if unit == "%":
        return (f"{100 * mean:.1f}% (95% CI {100 * lo:.1f}% to {100 * hi:.1f}%)"
                if lo is not None and hi is not None else f"{100 * mean:.1f}%")
    if unit == "day":
        if lo is None or hi is None or lo == hi == mean:
            return f"day {day_number(mean)}"
        return f"day {day_number(mean)} (95% CI {day_number(lo)} to {day_number(hi)})"
    post = f" {unit}" if unit else ""
    if lo is None or hi is None or lo == hi == mean:
        return f"{number(mean)}{post}"
    return f"{number(mean)}{post} (95% CI {number(lo)} to {number(hi)})"


def probability(d: dict[str, Any]) -> str:
    """``60% (95% CI 39% to 78%; 12 of 20 replications)`` from a summary.json probability."""
    p, lo, hi = d.get("p"), d.get("ci_low"), d.get("ci_high")
    if not isinstance(p, (int, float)):
        return "-"
    text = f"{100 * p:.0f}%"
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        text += f" (95% CI {100 * lo:.0f}% to {100 * hi:.0f}%"
        if isinstance(d.get("successes"), int) and isinstance(d.get("n"), int):
            text += f"; {d['successes']} of {d['n']} replications"
        text += ")"
    return text


def dist(v: Any, unit: str) -> str:
    """A scenario distribution in words: ``15 to 35 km/day (most often 25)``."""
    if isinstance(v, (int, float)):
        return f"{number(v)} {unit}"
    if not isinstance(v, dict):
        return "-"
    kind = v.get("dist")
    g = {k: number(x) for k, x in v.items() if k != "dist"}
    if kind == "constant":
        return f"{g.get('value')} {unit}"
    if kind == "triangular":
        return f"{g.get('low')} to {g.get('high')} {unit} (most often {g.get('mode')})"
    if kind == "uniform":
        return f"{g.get('low')} to {g.get('high')} {unit}, uniform"
    if kind == "normal":
        return f"{g.get('mean')} {unit} on average (sd {g.get('sd')})"
    if kind == "lognormal":
        return f"{g.get('mean')} {unit} on average (cv {g.get('cv')})"
    if kind == "exponential":
        return f"{g.get('mean')} {unit} on average (exponential)"
    return ", ".join(f"{k} {x}" for k, x in g.items())


def condition(c: Any) -> str:
    """A trigger's ``when`` as a phrase: ``on day 13``, ``when hasakah is threatened``."""
    if not isinstance(c, dict):
        return str(c)
    if c.get("day") is not None:
        return f"on day {given_day(c['day'])}"
    if c.get("site") is not None and c.get("status") is not None:
        return f"when {c['site']} is {c['status']} (or worse)"
    if c.get("front_within_km") is not None:
        return f"when a front is within {number(c['front_within_km'])} km of {c.get('of')}"
    if c.get("fraction_delivered") is not None:
        return f"when {100 * float(c['fraction_delivered']):.0f}% of detainees are delivered"
    if c.get("occupancy") is not None:
        return f"when reception occupancy reaches {number(c['occupancy'])} detainees"
    if c.get("registration_backlog") is not None:
        return (f"when the registration backlog reaches {number(c['registration_backlog'])} "
                "detainees")
    for key, joiner in (("all", " and "), ("any", " or ")):
        if isinstance(c.get(key), list):
            return "(" + joiner.join(condition(x) for x in c[key]) + ")"
    if c.get("not") is not None:
        return f"unless {condition(c['not'])}"
    return ", ".join(f"{k} {v}" for k, v in c.items())


def action(a: Any) -> str:
    """A trigger action as a phrase: ``add 6 ch47 at rmelan after 24 h``."""
    if not isinstance(a, dict) or len(a) != 1:
        return str(a)
    (kind, v), = a.items()
    if kind in ("open_site", "close_site", "open_leg", "close_leg"):
        verb, what = kind.split("_")
        return f"{verb} {what} {v}"
    if kind == "set_intake_limit" and isinstance(v, dict):
        per = v.get("per_day")
        limit = "no limit" if per is None else f"{number(per)} detainees/day"
        return f"set the intake limit of {v.get('site')} to {limit}"
    if kind in ("add_aircraft", "withdraw_aircraft") and isinstance(v, dict):
        verb = "add" if kind == "add_aircraft" else "withdraw"
        where = f" at {v['base']}" if v.get("base") else ""
        delay = f" after {number(v['delay_hours'])} h" if v.get("delay_hours") else ""
        return f"{verb} {number(v.get('count'))} {v.get('type')}{where}{delay}"
    if kind == "ground" and isinstance(v, dict):
        return f"ground {', '.join(map(str, v.get('modes') or []))} for {number(v.get('hours'))} h"
    if kind == "release_modes":
        return f"lift the grounding of {', '.join(map(str, v or []))}"
    if kind == "set_dispatch":
        return f"dispatch by {str(v).replace('_', ' ')}"
    if kind == "set_param" and isinstance(v, dict):
        return f"set {v.get('path')} to {number(v.get('value'))}"
    return f"{kind.replace('_', ' ')}: {v}"
