"""Short text and notebook (HTML) views of experiment results.

A result holds every replication; printing one at a prompt should show a few lines
with the headline numbers, not the whole table (``to_frame()`` and ``to_dict()``
have everything). Used by the ``__repr__`` and ``_repr_html_`` of
``ReplicationResult``, ``ComparisonResult`` and ``SweepResult``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any, TypeAlias

# The result classes call these functions from their own ``__repr__``; they are typed
# ``Any`` here (duck-typed on the attributes read) so that this module imports neither
# of theirs: the result modules depend on the display, never the reverse.
ReplicationResult: TypeAlias = Any
ComparisonResult: TypeAlias = Any
SweepResult: TypeAlias = Any

HEADLINE_KPIS = ("delivered_fraction", "day_to_100", "delivered", "escaped", "prisons_cleared_day",
                 "at_risk_detainee_days")
"""The KPIs a short view shows, when present."""
MAX_POINTS_SHOWN = 8
"""Sweep points listed in a short view; the rest are counted."""


def number(v: Any, digits: int = 4) -> str:
    """About ``digits`` significant digits, thousands separated, ``-`` for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    a = abs(float(v))
    if a == 0:
        return "0"
    if a >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.{digits - 1 - int(math.log10(a))}f}"
    return f"{v:.{digits}f}"


def _interval(low: Any, high: Any, digits: int = 4) -> str:
    if low is None or high is None:
        return "-"
    return f"[{number(low, digits)} .. {number(high, digits)}]"


def _probability_lines(probabilities: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    rows = []
    for name, pr in probabilities.items():
        label = name.replace("_", " ")
        if pr.get("deadline_day") is not None:
            label += f" (day {pr['deadline_day']:g})"
        interval = _interval(pr.get("ci_low"), pr.get("ci_high"), 3)
        rows.append((f"P({label})", f"{number(pr.get('p'), 3)} {interval}"))
    return rows


def _text(title: str, rows: Sequence[tuple[str, str]], footer: str) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    lines = [title, *(f"  {k:<{width}}  {v}" for k, v in rows), f"  {footer}"]
    return "\n".join(lines)


def _html(title: str, header: Sequence[str], rows: Sequence[tuple[str, str]], footer: str) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(f"<tr><td style='text-align:left'>{esc(k)}</td><td>{esc(v)}</td></tr>"
                   for k, v in rows)
    return (f"<div><strong>{esc(title)}</strong><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><small>{esc(footer)}</small></div>")


# ----- replications --------------------------------------------------------------------


def _replication_rows(r: ReplicationResult) -> list[tuple[str, str]]:
    rows = []
    for k in HEADLINE_KPIS:
        st = r.kpis.get(k)
        if st is None or st.get("mean") is None:
            continue
        hw = st.get("half_width")
        rows.append((k, number(st["mean"]) + ("" if hw is None else f" ± {number(hw)}")))
    return rows + _probability_lines(r.probabilities)


def _replication_title(r: ReplicationResult) -> str:
    return f"ReplicationResult({r.scenario}: {r.n} replications, master seed {r.seed})"


REPLICATION_FOOTER = "means ± 95% half-widths; .kpis, .to_frame(), .to_dict() have everything"


def replication_repr(r: ReplicationResult) -> str:
    """A few lines: headline KPI means with 95% half-widths, and the probabilities."""
    return _text(_replication_title(r), _replication_rows(r), REPLICATION_FOOTER)


def replication_html(r: ReplicationResult) -> str:
    """The short view as an HTML table (notebooks)."""
    return _html(_replication_title(r), ("KPI", "mean ± 95%"), _replication_rows(r),
                 REPLICATION_FOOTER)


# ----- comparisons ---------------------------------------------------------------------


def _comparison_rows(c: ComparisonResult) -> list[tuple[str, str]]:
    rows = []
    for k in HEADLINE_KPIS:
        d = c.differences.get(k)
        if d is None or d.get("mean_diff") is None:
            continue
        rows.append((k, f"{number(d['mean_diff'])} {_interval(d.get('ci_low'), d.get('ci_high'))}"
                        f"  (A {number(d.get('mean_a'))}, B {number(d.get('mean_b'))})"))
    return rows


def _comparison_title(c: ComparisonResult) -> str:
    return (f"ComparisonResult(B - A: {c.b.scenario} - {c.a.scenario}, {c.n} paired replications, "
            f"master seed {c.seed})")


COMPARISON_FOOTER = "B - A with paired 95% CIs; .differences, .to_frame(), .to_dict() have everything"


def comparison_repr(c: ComparisonResult) -> str:
    """A few lines: the headline differences B - A with their paired 95% intervals."""
    return _text(_comparison_title(c), _comparison_rows(c), COMPARISON_FOOTER)


def comparison_html(c: ComparisonResult) -> str:
    """The short view as an HTML table (notebooks)."""
    return _html(_comparison_title(c), ("KPI", "B - A [95% CI]"), _comparison_rows(c),
                 COMPARISON_FOOTER)


# ----- sweeps --------------------------------------------------------------------------


def _sweep_rows(s: SweepResult) -> list[tuple[str, str]]:
    rows = []
    for pt in s.summary[:MAX_POINTS_SHOWN]:
        params = ", ".join(f"{k}={v}" for k, v in pt["params"].items()) or "(base)"
        cd = pt["kpis"].get("day_to_100", {})
        pr = (pt["probabilities"].get("complete_by_deadline")
              or pt["probabilities"].get("complete_within_horizon") or {})
        rows.append((f"#{pt['point_index']} {params}",
                     f"all delivered day {number(cd.get('mean'))} "
                     f"{_interval(cd.get('ci_low'), cd.get('ci_high'))}, "
                     f"P(complete) {number(pr.get('p'), 3)}"))
    if len(s.summary) > MAX_POINTS_SHOWN:
        rows.append(("...", f"{len(s.summary) - MAX_POINTS_SHOWN} more points"))
    return rows


def _sweep_title(s: SweepResult) -> str:
    return (f"SweepResult({s.scenario}: {len(s.points)} points x {s.n} replications, "
            f"master seed {s.seed}; ran {s.ran}, reused {s.skipped})")


def _sweep_footer(s: SweepResult) -> str:
    return f"store {s.store_path}; .summary_records(), .to_frame(), .to_dict() have everything"


def sweep_repr(s: SweepResult) -> str:
    """A few lines: the plan, and each point's day all were delivered and probability of
    delivering the target share."""
    return _text(_sweep_title(s), _sweep_rows(s), _sweep_footer(s))


def sweep_html(s: SweepResult) -> str:
    """The short view as an HTML table (notebooks)."""
    return _html(_sweep_title(s), ("point", "all delivered day [95% CI], P(complete)"),
                 _sweep_rows(s), _sweep_footer(s))
