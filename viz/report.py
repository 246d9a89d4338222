"""``report.html``: one self-contained page with the summary, KPIs, timeline and figures.

The page embeds every figure as a base64 PNG, carries its CSS and its one
small script inline, and references nothing outside itself, so it works
offline and can be e-mailed as one file.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path
from typing import Any

from sim.common.vocabulary import GROUNDINGS, NOBODY, Event, EventKind
from viz import words
from viz.embed import png_base64
from viz.parallel import Background
from viz.results import (
    COMPARE_KIND,
    DISCOVERY_KIND,
    REPLICATIONS_KIND,
    RUN_KIND,
    SENSITIVITY_KIND,
    SWEEP_KIND,
    Results,
    Skip,
)

#: Events worth a line in the timeline (the rest are routine: loads, flights, repairs).
#: Status changes come from ``status.csv``, so their events are not listed here.
TIMELINE_EVENTS: dict[EventKind, str] = {
    EventKind.TRIGGER: "trigger fired",
    EventKind.LEG_CLOSED: "leg closed",
    EventKind.LEG_REOPENED: "leg reopened",
    EventKind.NO_ROUTE: "cut off (no route)",
    EventKind.ROUTE_RESTORED: "route restored",
    EventKind.BREAKOUT: "breakout",
    EventKind.OVERRUN_ESCAPE: "detainees escaped (overrun)",
    EventKind.GROUNDED_STORM: "grounded (storm)",
    EventKind.GROUNDED_ORDER: "grounded (order)",
    EventKind.RELEASED: "grounding lifted",
    EventKind.WITHDRAWN: "aircraft withdrawn",
}


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
 color:#1a1a1a;background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.7rem;margin:.2rem 0}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;
 margin-top:2.2rem}h3{margin-bottom:.3rem}
.sub{color:#555}.lead{font-size:1.08rem;max-width:60rem}
.grid{display:flex;flex-wrap:wrap;gap:1.5rem}.grid>div{flex:1 1 320px}
table{border-collapse:collapse;font-size:.9rem;margin:.4rem 0 1rem;background:#fff}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#eef4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2rem 0;background:#fff;border:1px solid #e3e3e3;padding:.6rem}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:#444;font-size:.9rem;margin-top:.3rem}
.skip{color:#8a5a00;background:#fff6e0;border-left:4px solid #E69F00;padding:.3rem .6rem}
.slider{display:flex;align-items:center;gap:1rem;margin:.5rem 0}
.slider input{flex:1}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff}
.threatened{background:#E69F00}.overrun{background:#D55E00}.safe{background:#009E73}
details{margin:.3rem 0 1rem}summary{cursor:pointer;color:#0072B2}
footer{color:#777;font-size:.8rem;margin-top:3rem}
"""

SLIDER_JS = """
(function(){
  var data = JSON.parse(document.getElementById('map-frames').textContent);
  var img = document.getElementById('map-frame');
  var label = document.getElementById('map-day');
  var slider = document.getElementById('map-slider');
  function show(i){
    var f = data[i];
    img.src = 'data:image/png;base64,' + f.png;
    label.textContent = 'day ' + f.day + ': ' + f.date;
  }
  slider.addEventListener('input', function(){ show(parseInt(slider.value, 10)); });
})();
"""


def esc(v: Any) -> str:
    """HTML-escaped text of a value (None as a dash, floats compact)."""
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return html.escape(f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return html.escape(str(v))


def table(header: list[str], rows: list[list[Any]]) -> str:
    """An HTML table; numeric cells right-aligned."""
    out = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for v in row:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cls = ' class="n"' if num else ""
            out.append(f"<td{cls}>{v if isinstance(v, Raw) else esc(v)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class Raw(str):
    """Already-safe HTML inside a table cell."""

    __slots__ = ()


def _kv_table(d: dict[str, Any]) -> str:
    rows: list[list[Any]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}: {b:,.4g}" if isinstance(b, float) else f"{a}: {b}"
                          for a, b in v.items()) or "-"
        elif isinstance(v, list):
            v = ", ".join(f"{x.get('name')} (day {words.day_number(x.get('day'))})"
                          if isinstance(x, dict)
                          else str(x) for x in v) or "-"
        rows.append([k, v])
    return table(["KPI", "value"], rows)


def when(res: Results, hour: float) -> str:
    """Calendar date and clock time of a simulation hour."""
    t = dt.datetime(res.start.year, res.start.month, res.start.day) + dt.timedelta(hours=hour)
    return f"{t:%d %b %Y %H:%M}"


def timeline(res: Results) -> list[tuple[float, str, str]]:
    """(hour, what, detail) for triggers fired, status changes and other notable events."""
    items: list[tuple[float, str, str]] = []
    have_triggers = False
    if res.has("events.csv"):
        for row in res.events:
            e = Event.from_row(row)
            if e is None or e.kind not in TIMELINE_EVENTS:
                continue
            if e.kind == EventKind.TRIGGER:
                have_triggers = True
                detail = e.subject
            elif e.kind in GROUNDINGS:
                detail = f"{e.site} for {e.n} h"  # the site column holds the mode
            else:
                parts = [p for p in (e.subject, e.site) if p and p != NOBODY]
                detail = " at ".join(parts)
                if e.n:
                    detail += f" ({e.n})"
            items.append((e.time, TIMELINE_EVENTS[e.kind], detail))
    if not have_triggers:
        try:
            for f in res.kpis.get("triggers_fired") or []:
                items.append((float(f["day"]) * 24.0, "trigger fired", str(f["name"])))
        except Skip:
            pass
    if res.has("status.csv"):
        for r in res.status:
            try:
                items.append((float(r["hour"]), f"status: {r['status']}", r["site"]))
            except (KeyError, ValueError):
                continue
    items.sort(key=lambda x: x[0])
    return items


def _scenario_section(res: Results) -> str:
    sc = res.scenario
    if not sc:
        return "<p class='skip'>No scenario.resolved.yaml in the folder.</p>"
    parts = []
    sites = [s for s in sc.get("sites") or [] if isinstance(s, dict)]
    rows = []
    for s in sites:
        pop = sum((s.get("detainees") or {}).values())
        rows.append([s.get("id"), s.get("name") or "", s.get("kind"), float(s.get("lat", 0)),
                     float(s.get("lon", 0)), pop or None, s.get("pads"), s.get("beds"),
                     s.get("daily_intake_limit")])
    parts.append("<h3>Sites</h3>" + table(
        ["id", "name", "kind", "lat (deg)", "lon (deg)", "detainees", "pads", "beds",
         "intake limit (per day)"], rows))
    fleet = [[f.get("type"), f.get("count"), f.get("base"), f.get("available_from_day")]
             for f in sc.get("fleet") or [] if isinstance(f, dict)]
    types = [[k, str(v.get("mode") or "").replace("_", "-"), v.get("seats"),
              _overload(v), _places(v), v.get("cruise_kmh"), _range(v), v.get("crew_hours_per_day")]
             for k, v in (sc.get("aircraft") or {}).items() if isinstance(v, dict)]
    parts.append("<div class='grid'><div><h3>Fleet</h3>" + table(
        ["type", "count", "base", "available from day"], fleet) + "</div><div><h3>Types</h3>" +
        table(["type", "mode", "seats", "overload factor", "places a sortie may carry",
               "cruise (km/h)", "range (km)", "crew hours/day"], types)
        + "</div></div>")
    fronts = (sc.get("escalation") or {}).get("fronts") or []
    if fronts:
        frows = [[f.get("name"), f.get("start_day"),
                  " - ".join(_place(p) for p in f.get("path") or []),
                  words.dist(f.get("speed_km_per_day"), "km/day"),
                  f.get("threat_radius_km"), f.get("overrun_radius_km")] for f in fronts]
        parts.append("<h3>Fronts</h3>" + table(
            ["name", "start day", "path", "speed (drawn each day)", "threat radius (km)",
             "overrun radius (km)"], frows))
    trig = [[t.get("name"), words.condition(t.get("when")),
             "; ".join(words.action(a) for a in t.get("then") or []),
             "once" if t.get("once", True) else "every time"]
            for t in sc.get("triggers") or [] if isinstance(t, dict)]
    if trig:
        parts.append("<h3>Triggers</h3>" + table(["name", "when", "then", "fires"], trig))
    return "".join(parts)


#: The range a type has when its file gives none (the schema's default, km): shown as no
#: limit. A range written in the file is shown as written, however long (a 747's 10,000 km
#: is a real limit on a long leg).
UNLIMITED_RANGE_KM = 100_000.0


def _overload(ac: dict[str, Any]) -> float:
    """People a sortie may carry per seat (the scenario's ``overload_factor``, 1 if unset)."""
    f = ac.get("overload_factor")
    return float(f) if isinstance(f, (int, float)) and not isinstance(f, bool) else 1.0


def _places(ac: dict[str, Any]) -> Any:
    """People one sortie may carry: seats x overload factor, rounded down as the core does
    (130 on 50 seats at 2.6); "-" when the seats are not given."""
    seats = ac.get("seats")
    if not isinstance(seats, (int, float)) or isinstance(seats, bool):
        return "-"
    return math.floor(float(seats) * _overload(ac) + 1e-9)


def _range(ac: dict[str, Any]) -> Any:
    """An aircraft type's range for the table: km, or words when it does not limit."""
    rng = ac.get("range_km")
    if rng is None or (isinstance(rng, (int, float)) and rng >= UNLIMITED_RANGE_KM):
        return "no limit (road)" if ac.get("mode") == "ground" else "no limit"
    return rng


def _place(p: Any) -> str:
    """A front waypoint: a place name, or [lat, lon] as degrees."""
    if isinstance(p, list) and len(p) == 2:
        return f"{p[0]}N {p[1]}E"
    return str(p)


def _kpi_section(res: Results) -> str:
    if res.kind == RUN_KIND:
        return _run_kpis(res)
    if res.kind == REPLICATIONS_KIND:
        return _replication_kpis(res)
    if res.kind == SWEEP_KIND:
        return _sweep_kpis(res)
    if res.kind == COMPARE_KIND:
        return _compare_table(res)
    if res.kind in (SENSITIVITY_KIND, DISCOVERY_KIND):
        return _planning_section(res)
    return ""


def _planning_section(res: Results) -> str:
    """Sensitivity or discovery: the plain sentences, then the indices or the boxes."""
    s = res.summary
    lead = "".join(f"<p class='lead'>{esc(line)}</p>" for line in s.get("sentences") or [])
    if res.kind == DISCOVERY_KIND:
        rows = [[b.get("box"), f"{100 * float(b.get('coverage', 0)):.0f}%",
                 f"{100 * float(b.get('density', 0)):.0f}%", b.get("runs"),
                 " and ".join(b.get("words") or [])] for b in s.get("boxes") or []]
        return lead + (table(["box", "coverage", "density", "runs", "where"], rows)
                       if rows else "")
    parts = [lead]
    morris = s.get("method") == "morris"
    for kpi, r in (s.get("results") or {}).items():
        rows = []
        for x in r.get("indices") or []:
            verdict = x.get("verdict") or {True: "matters", False: "noise"}.get(x.get("real"), "-")
            if morris:
                rows.append([x["label"], x["mu_star"], x["mu_star_ci_low"], x["mu_star_ci_high"],
                             x["sigma"], verdict])
            else:
                rows.append([x["label"], x["ST"], x["ST_ci_low"], x["ST_ci_high"], x["S1"],
                             verdict])
        heads = (["input", "mu*", "95% low", "95% high", "sigma", "verdict"] if morris else
                 ["input", "ST", "95% low", "95% high", "S1", "verdict"])
        parts.append(f"<h3>{esc(kpi)}</h3>" + table(heads, rows))
    return "".join(parts)


#: The run's headline KPIs, in the order the report states them.
HEADLINE = ("delivered_fraction", "day_to_50", "day_to_90", "day_to_100", "delivered", "escaped",
            "remaining", "prisons_cleared_day", "registration_complete_day",
            "peak_registration_backlog", "peak_facility_occupancy", "at_risk_detainee_days",
            "mean_transfer_hours", "fleet_utilization", "flying_hours_per_available_hour")


def _staging_sentences(res: Results) -> list[str]:
    """A sentence a staging airfield that held anyone: its fullest, against its holding
    capacity, and when (staging.csv; none for a folder written without it)."""
    if not res.has("staging.csv"):
        return []
    from sim.output.staging import staging_peaks

    capacity = res.holding_capacity
    out = []
    for p in staging_peaks(res.staging):
        cap = capacity.get(p.site)
        places = f" of its {words.number(cap)} places" if isinstance(cap, (int, float)) else ""
        out.append(f"At its fullest the staging airfield {p.site} held {words.number(p.peak)} "
                   f"waiting{places}, first on "
                   f"{words.day_with_date(p.first_hour / 24.0, res.start)}.")
    return out


def _run_kpis(res: Results) -> str:
    """One run: the headline in sentences, then every KPI in words with its unit."""
    try:
        kpis = dict(res.kpis)
    except Skip as exc:
        return f"<p class='skip'>{esc(str(exc))}</p>"
    total = kpis.get("detainees_total")
    lead = []
    if isinstance(total, (int, float)) and total:
        lead.append(f"Of {words.number(total)} detainees in the prisons at the start, "
                    f"{words.number(kpis.get('delivered'))} were delivered to a reception "
                    f"({100 * float(kpis.get('delivered') or 0) / total:.1f}%), "
                    f"{words.number(kpis.get('escaped'))} escaped and "
                    f"{words.number(kpis.get('remaining'))} were still held or on the way "
                    "at the end.")
    done = kpis.get("day_to_100")
    lead.append("All of them delivered on " + words.with_unit("day_to_100", done, res.start)
                + "." if done is not None else
                "Not all of them were delivered within the horizon.")
    cleared = kpis.get("prisons_cleared_day")
    if cleared is not None and done is None:
        lead.append("The prisons were cleared, by delivery or loss, on "
                    + words.with_unit("prisons_cleared_day", cleared, res.start) + ".")
    reg = kpis.get("registration_complete_day")
    if reg is not None and not res.registers:
        lead.append("No registration is modelled: each detainee counts as registered on "
                    "arrival.")
    elif reg is not None:
        lead.append("Registration complete on "
                    + words.with_unit("registration_complete_day", reg, res.start) + ".")
    lead += _staging_sentences(res)
    out = "<p class='lead'>" + " ".join(esc(x) for x in lead) + "</p>"
    rows: list[list[Any]] = []
    for key in [*HEADLINE, *kpis]:
        if key in NOT_KPI_ROWS or key in words.NOT_RESULTS or any(r[0] == key for r in rows):
            continue
        if key not in kpis:
            continue
        v = kpis[key]
        if isinstance(v, dict):
            for sub, x in v.items():
                rows.append([f"{key}:{sub}", x])
        elif not isinstance(v, list):
            rows.append([key, v])
    out += table(["result", "value"], [[words.kpi_words(k)[0], words.with_unit(k, v, res.start)]
                                       for k, v in rows])
    fired = kpis.get("triggers_fired") or []
    if fired:
        out += "<p>Triggers fired: " + esc("; ".join(
            f"{f.get('name')} on {words.day_with_date(f.get('day'), res.start)}"
            for f in fired)) + ".</p>"
    sites = kpis.get("sites") or {}
    if sites:
        cols = ["detainees", "delivered", "escaped", "threatened_day", "overrun_day",
                "emptied_day"]
        srows = [[sid, *("never" if c.endswith("_day") and row.get(c) is None else
                         words.with_unit(c if c.endswith("_day") else "delivered", row.get(c),
                                         res.start) for c in cols)]
                 for sid, row in sites.items()]
        out += "<h3>Prisons</h3>" + table(
            ["prison", "detainees at the start", "delivered", "escaped", "threatened",
             "overrun", "emptied"], srows)
    return out


#: Run KPIs shown elsewhere (their own table or sentence), not as rows.
NOT_KPI_ROWS = frozenset({"sites", "final_states", "triggers_fired", "detainees_total"})


def _replication_kpis(res: Results) -> str:
    """Replications: the headline means with 95% CIs and the probabilities, in words."""
    summary = res.summary
    if not summary:
        return "<p class='skip'>No summary.json.</p>"
    kpis: dict[str, Any] = summary.get("kpis") or {}
    n = summary.get("n")
    lead = [f"Over {words.number(n)} replications (means with 95% confidence intervals):"]
    items = []
    for key in ("delivered_fraction", "day_to_50", "day_to_90", "day_to_100", "delivered",
                "escaped", "remaining", "prisons_cleared_day", "registration_complete_day",
                "at_risk_detainee_days", "peak_registration_backlog", "mean_transfer_hours"):
        d = kpis.get(key)
        if not isinstance(d, dict):
            continue
        text = f"{words.kpi_words(key)[0]}: " + words.interval(
            key, d.get("mean"), d.get("ci_low"), d.get("ci_high"))
        missing = d.get("n_missing")
        if isinstance(missing, int) and missing:
            text += f"; not reached in {missing} of {n} replications"
        items.append(text)
    probs: dict[str, Any] = summary.get("probabilities") or {}
    for key, d in probs.items():
        if not isinstance(d, dict):
            continue
        what = words.PROBABILITY_WORDS.get(key, f"probability: {key.replace('_', ' ')}")
        share = d.get("target")
        if isinstance(share, (int, float)) and key != "any_escape":
            what = what.replace("the target share", f"{100 * share:g}% of those in custody "
                                "at day 0")
        if key == "complete_by_deadline" and d.get("deadline_day") is not None:
            what = what.replace("by the deadline",
                                f"by day {words.given_day(d['deadline_day'])}")
        items.append(f"{what}: {words.probability(d)}")
    out = f"<p class='lead'>{esc(lead[0])}</p><ul>" + "".join(
        f"<li>{esc(i)}</li>" for i in items) + "</ul>"
    detail = {k: v for k, v in kpis.items()
              if k not in words.NOT_RESULTS and isinstance(v, dict)}
    rows = [_stat_row(k, v) for k, v in detail.items() if ":" not in k]
    more = [_stat_row(k, v) for k, v in detail.items() if ":" in k]
    header = ["result (unit)", "mean", "95% CI low", "95% CI high", "p5", "median", "p95",
              "not reached"]
    out += table(header, rows)
    if more:
        out += (f"<details><summary>{len(more)} more: per aircraft type, per site and final "
                f"states</summary>{table(header, more)}</details>")
    return out


def _stat_row(key: str, st: dict[str, Any]) -> list[Any]:
    """A row of the replication table: the KPI in words with its unit, then its statistics."""
    label, unit = words.kpi_words(key)
    scale = 100.0 if unit == "%" else 1.0
    vals = [st.get(c) for c in ("mean", "ci_low", "ci_high", "p5", "p50", "p95")]
    return [label + (f" ({unit})" if unit else ""),
            *(v * scale if isinstance(v, (int, float)) else _flat_val(v) for v in vals),
            _flat_val(st.get("n_missing"))]


def _sweep_kpis(res: Results) -> str:
    """A sweep: one row a point, its parameters and the headline results only."""
    try:
        t = res.sweep_table
        grid = res.grid_columns
    except Skip as exc:
        return f"<p class='skip'>{esc(str(exc))}</p>"
    if not any(c.endswith("_mean") for c in t.columns):
        return ("<p class='skip'>No summary.csv in the folder: the table of points needs "
                "`dtsim sweep --out` to finish.</p>")
    deadline = res.summary.get("deadline_day")
    heads: list[tuple[str, str]] = [("delivered_fraction", "share delivered"),
                                    ("day_to_100", "all delivered (day, 95% CI)")]
    target = res.summary.get("target")
    share = f"{100 * target:g}%" if isinstance(target, (int, float)) else "target share"
    heads += [(c, f"P({share} delivered within the horizon)") for c in t.columns
              if c.startswith("p_") and c.endswith("_within_horizon")][:1]
    by_day = [c for c in t.columns if c.startswith("p_") and "_by_day_" in c]
    if by_day:
        when = f"day {words.given_day(deadline)}" if deadline is not None else "the deadline"
        heads.append((by_day[0], f"P({share} delivered by {when})"))
    heads += [("escaped", "escaped (detainees, 95% CI)"), ("p_any_escape", "P(any escape)"),
              ("delivered", "delivered (detainees)")]
    heads = [(k, label) for k, label in heads if k in t or f"{k}_mean" in t]
    rows = []
    for r in t.rows[:60]:
        row: list[Any] = [_maybe_num(r.get(g, "")) for g in grid]
        row.append(_maybe_num(r.get("n", "")))
        for k, _label in heads:
            show = words.day_number if words.kpi_words(k)[1] == "day" else words.number
            if k.startswith("p_"):
                row.append(f"{100 * float(r[k]):.0f}%" if r.get(k) else "-")
            elif r.get(f"{k}_ci_low") and k not in ("delivered", "delivered_fraction"):
                row.append(f"{show(float(r[f'{k}_mean']))} ("
                           f"{show(float(r[f'{k}_ci_low']))} to "
                           f"{show(float(r[f'{k}_ci_high']))})")
            else:
                row.append(show(float(r[f"{k}_mean"])) if r.get(f"{k}_mean") else "-")
        rows.append(row)
    note = "" if len(t) <= 60 else f"<p class='sub'>First 60 of {len(t)} points.</p>"
    lead = (f"<p class='lead'>{esc(words.number(len(t)))} points, "
            f"{esc(words.number(res.summary.get('n')))} replications each; every figure in "
            "the table is the mean over a point's replications. All columns are in "
            "summary.csv.</p>")
    return lead + table([*grid, "replications", *(label for _k, label in heads)], rows) + note


def _compare_table(res: Results) -> str:
    try:
        data = res.compare
    except Skip as exc:
        return f"<p class='skip'>{esc(str(exc))}</p>"
    kpis = data.get("kpis") if isinstance(data, dict) else None
    if not isinstance(kpis, dict):
        return "<p class='skip'>compare.json has no 'kpis' object.</p>"
    rows = []
    for name, d in kpis.items():
        if not isinstance(d, dict):
            continue
        paired = (f"{esc(d.get('ci_low'))} .. {esc(d.get('ci_high'))}"
                  if d.get("ci_low") is not None else "-")
        unpaired = (f"{esc(d.get('unpaired_ci_low'))} .. {esc(d.get('unpaired_ci_high'))}"
                    if d.get("unpaired_ci_low") is not None else "-")
        rows.append([name, d.get("mean_a"), d.get("mean_b"), d.get("mean_diff"), Raw(paired),
                     Raw(unpaired), d.get("variance_ratio")])
    head = ""
    if isinstance(data, dict) and data.get("a") and data.get("b"):
        head = (f"<p>B = {esc(data.get('b'))}, A = {esc(data.get('a'))}, "
                f"{esc(data.get('n'))} paired replications (common random numbers).</p>")
    return head + split_table(["KPI", "mean A", "mean B", "B - A", "95% CI (paired)",
                               "95% CI (unpaired)", "variance ratio"], rows)


def _maybe_num(v: str) -> Any:
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v else f


def split_table(header: list[str], rows: list[list[Any]]) -> str:
    """Main KPIs in a table; per-site and other detailed rows (``a:b`` names) folded away."""
    main = [r for r in rows if ":" not in str(r[0])]
    detail = [r for r in rows if ":" in str(r[0])]
    out = table(header, main or detail)
    if main and detail:
        out += (f"<details><summary>{len(detail)} more: per aircraft type, per site, triggers "
                f"and final states</summary>{table(header, detail)}</details>")
    return out


def _flat_val(v: Any) -> Any:
    return "-" if v is None else v


def _img(data: bytes, alt: str, ident: str = "") -> str:
    b64 = png_base64(data)
    idattr = f' id="{ident}"' if ident else ""
    return f'<img{idattr} alt="{esc(alt)}" src="data:image/png;base64,{b64}">'


def _cached(res: Results) -> dict[str, Path]:
    """Figures already drawn (``dtsim run``/``plot``) and newer than every data file."""
    from viz import figures

    data_mtime = max((p.stat().st_mtime for p in res.folder.iterdir() if p.suffix in
                      (".csv", ".json", ".yaml", ".sqlite")), default=0.0)
    out = {}
    for spec in figures.specs_for(res):
        path = res.folder / f"{spec.name}.png"
        if path.is_file() and path.stat().st_mtime >= data_mtime:
            out[spec.name] = path
    return out


#: Figures the worker process draws while the main process draws the others
#: (balanced with the map slider frames the worker also draws).
WORKER_SHARE = ("reception", "gantt", "kpi_histograms")


def _draw_png(res: Results, name: str) -> bytes | str:
    """One catalogue figure as PNG bytes, or the reason it was skipped."""
    import matplotlib.pyplot as plt

    from viz import figures, style

    spec = next(s for s in figures.CATALOGUE if s.name == name)
    with style.use_style():
        try:
            fig = spec.draw(res)
        except Skip as exc:
            return str(exc)
        png = figures.to_bytes(fig, "png")
        plt.close(fig)
    return png


def _worker(folder: Path, names: list[str], frames: bool
            ) -> tuple[dict[str, bytes | str], list[tuple[int, bytes]] | str | None]:
    """Draw ``names`` and (if asked) the map slider frames; runs in a forked process."""
    from viz import geomap, style

    res = Results(folder)
    drawn = {n: _draw_png(res, n) for n in names}
    slider: list[tuple[int, bytes]] | str | None = None
    if frames:
        try:
            with style.use_style():
                slider = geomap.map_frames_png(res)
        except Skip as exc:
            slider = str(exc)
    return drawn, slider


def _figures_section(res: Results, pngs: dict[str, bytes | str]) -> str:
    from viz import figures

    parts = []
    for spec in figures.specs_for(res):
        png = pngs[spec.name]
        if isinstance(png, str):
            parts.append(f"<p class='skip'>{esc(spec.name)} not shown: {esc(png)}</p>")
            continue
        parts.append(f"<figure>{_img(png, spec.caption)}<figcaption>{esc(spec.caption)}"
                     "</figcaption></figure>")
    return "".join(parts)


def _map_slider(res: Results, frames: list[tuple[int, bytes]] | str) -> str:
    if isinstance(frames, str):
        return f"<p class='skip'>No map slider: {esc(frames)}</p>"
    if not frames:
        return ""
    data = [{"day": d, "date": f"{res.start + dt.timedelta(days=d):%d %b %Y}",
             "png": png_base64(png)} for d, png in frames]
    first = data[0]
    payload = json.dumps(data).replace("</", "<\\/")
    return (
        "<h2 id='map-by-day'>Map by day</h2>"
        "<p class='sub'>Drag the slider to see where the fronts were and how many detainees "
        "had been carried on each leg by the end of each day.</p>"
        f"<div class='slider'><input type='range' id='map-slider' min='0' max='{len(data) - 1}'"
        f" value='0' aria-label='day'><span id='map-day'>day {first['day']}: {first['date']}"
        "</span></div>"
        f"<figure>{_img(frames[0][1], 'map on the chosen day', 'map-frame')}</figure>"
        f"<script type='application/json' id='map-frames'>{payload}</script>"
        f"<script>{SLIDER_JS}</script>"
    )


def build_html(folder: Path) -> str:
    """The report page for a results folder as one HTML string."""
    res = Results(Path(folder))
    sc = res.scenario
    name = (res.meta.get("scenario") or res.summary.get("scenario") or sc.get("name")
            or res.folder.name)
    if res.kind == COMPARE_KIND:
        try:
            cmp = res.compare
        except Skip:
            cmp = {}
        if isinstance(cmp, dict) and cmp.get("a") and cmp.get("b"):
            name = f"{cmp['b']} (B) vs {cmp['a']} (A)"
    meta_rows = [[k, res.meta.get(k)] for k in ("scenario", "scenario_hash", "seed", "version",
                                                "start", "horizon_days", "kind")
                 if res.meta.get(k) is not None]
    body = [f"<main><h1>dtsim report: {esc(name)}</h1>"]
    if sc.get("description"):
        body.append(f"<p class='sub'>{esc(sc['description'])}</p>")
    body.append(table(["run", "value"], meta_rows) if meta_rows else "")
    body.append("<h2 id='kpis'>Key results</h2>" + _kpi_section(res))
    if res.kind == RUN_KIND:
        items = timeline(res)
        rows = [[when(res, h), round(h / 24.0, 2),
                 Raw(f"<span class='tag {html.escape(w.split(': ')[-1])}'>{esc(w)}</span>")
                 if w.startswith("status") else w, d] for h, w, d in items]
        body.append("<h2 id='timeline'>Timeline: triggers fired and status changes</h2>" +
                    (table(["date and time", "day", "what", "detail"], rows) if rows else
                     "<p>Nothing happened beyond routine transfers.</p>"))
    from viz import figures

    cached = _cached(res)
    todo = [spec.name for spec in figures.specs_for(res) if spec.name not in cached]
    if todo:
        import matplotlib.pyplot  # noqa: F401 - loaded once, before the worker forks
    share = [n for n in todo if n in WORKER_SHARE]
    worker = Background(_worker, res.folder, share, res.kind == RUN_KIND)
    pngs: dict[str, bytes | str] = {n: p.read_bytes() for n, p in cached.items()}
    pngs.update({n: _draw_png(res, n) for n in todo if n not in share})
    drawn, slider = worker.result()
    pngs.update(drawn)
    body.append("<h2 id='figures'>Figures</h2>" + _figures_section(res, pngs))
    if slider is not None:
        body.append(_map_slider(res, slider))
    if sc:
        body.append("<h2 id='scenario'>Scenario</h2>" + _scenario_section(res))
    body.append("<footer>Generated by dtsim from the results in this folder; all figures are "
                "embedded, the page needs no network.</footer></main>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>dtsim report: {esc(name)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>\n")


def write_report(folder: Path) -> Path:
    """Write ``folder/report.html`` atomically; returns its path."""
    from sim.common.atomic import atomic_write_text

    text = build_html(Path(folder))
    path = Path(folder) / "report.html"
    atomic_write_text(path, text)
    return path
