"""The run's event log and sortie log, kept as one list per field.

A run logs an event at every step of a sortie and a record for every leg flown: about
100,000 events and 40,000 legs at 600,000 detainees. Kept as one named tuple per line,
each line was an object for the cyclic garbage collector, which walked every one of
them at the end of the run (a tenth of such a run's time), and for the allocator,
which made and freed each. Kept as columns, a line is a few appends to lists of
numbers and shared strings, and the results read the columns they need directly.

The lines (``Event``, ``Sortie``) are built when someone reads them (``rows``,
iteration): the files and the figures, the classroom between its stops, the tests.
They are the same tuples, field for field, that the run logged before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from sim.common.vocabulary import Event, EventKind, Sortie, SortieKind

# The kinds of line the results tally (``EventLog.departs``, ``no_routes``, ``aborts``),
# by value: one look-up a line as it is logged, where most lines are none of them.
_DEPART: Final = 1
_NO_ROUTE: Final = 2
_ABORT: Final = 3
_TALLIED: Final[dict[str, int]] = {EventKind.DEPART: _DEPART, EventKind.NO_ROUTE: _NO_ROUTE,
                                   EventKind.ABORT: _ABORT}


class EventLog:
    """The event log: one list per ``Event`` field, a line per index (times in hours)."""

    def __init__(self) -> None:
        self.time: list[float] = []
        self.kind: list[EventKind] = []
        self.subject: list[str] = []
        self.site: list[str] = []
        self.n: list[int] = []
        # What the results tally, noted as lines are logged (a scan of the kinds after a
        # 600,000-detainee run, about 100,000 lines, took some 2% of it): the lines of the
        # loaded departures (a "depart" with detainees on board) and of the cut-offs
        # ("no_route"), and the number of "abort" lines.
        self.departs: list[int] = []
        self.no_routes: list[int] = []
        self.aborts = 0

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventLog:
        """A log holding ``events`` in order."""
        log = cls()
        for e in events:
            log.append(e.time, e.kind, e.subject, e.site, e.n)
        return log

    def append(self, time: float, kind: EventKind, subject: str, site: str, n: int) -> None:
        """Log a line (``Event``'s fields in order)."""
        tallied = _TALLIED.get(kind, 0)
        if tallied == _DEPART and n > 0:  # a loaded departure
            self.departs.append(len(self.time))
        elif tallied == _NO_ROUTE:
            self.no_routes.append(len(self.time))
        elif tallied == _ABORT:
            self.aborts += 1
        self.time.append(time)
        self.kind.append(kind)
        self.subject.append(subject)
        self.site.append(site)
        self.n.append(n)

    def copy(self) -> EventLog:
        """A copy that later lines do not change (a run may go on after its results)."""
        log = EventLog()
        log.time, log.kind, log.subject = self.time[:], self.kind[:], self.subject[:]
        log.site, log.n = self.site[:], self.n[:]
        log.departs, log.no_routes, log.aborts = self.departs[:], self.no_routes[:], self.aborts
        return log

    def rows(self) -> list[Event]:
        """The lines as ``Event`` tuples, in order."""
        return list(map(Event._make, zip(self.time, self.kind, self.subject, self.site,
                                         self.n, strict=True)))

    def __len__(self) -> int:
        return len(self.time)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.rows())


class SortieLog:
    """The sortie log: one list per ``Sortie`` field, a leg per index (hours, km)."""

    def __init__(self) -> None:
        self.aircraft: list[str] = []
        self.type: list[str] = []
        self.mode: list[str] = []
        self.kind: list[SortieKind] = []
        self.origin: list[str] = []
        self.dest: list[str] = []
        self.depart_hour: list[float] = []
        self.arrive_hour: list[float] = []
        self.detainees: list[int] = []
        self.km: list[float] = []
        self.flight_hours: list[float] = []

    @classmethod
    def of(cls, sorties: Iterable[Sortie]) -> SortieLog:
        """A log holding ``sorties`` in order."""
        log = cls()
        for s in sorties:
            log.append(*s)
        return log

    def append(
        self, aircraft: str, type_name: str, mode: str, kind: SortieKind, origin: str,
        dest: str, depart_hour: float, arrive_hour: float, detainees: int, km: float,
        flight_hours: float,
    ) -> None:
        """Log a leg (``Sortie``'s fields in order)."""
        self.aircraft.append(aircraft)
        self.type.append(type_name)
        self.mode.append(mode)
        self.kind.append(kind)
        self.origin.append(origin)
        self.dest.append(dest)
        self.depart_hour.append(depart_hour)
        self.arrive_hour.append(arrive_hour)
        self.detainees.append(detainees)
        self.km.append(km)
        self.flight_hours.append(flight_hours)

    def columns(self) -> tuple[list[str], list[str], list[str], list[SortieKind], list[str],
                               list[str], list[float], list[float], list[int], list[float],
                               list[float]]:
        """The columns in ``Sortie``'s field order."""
        return (self.aircraft, self.type, self.mode, self.kind, self.origin, self.dest,
                self.depart_hour, self.arrive_hour, self.detainees, self.km, self.flight_hours)

    def copy(self) -> SortieLog:
        """A copy that later legs do not change."""
        log = SortieLog()
        log.aircraft, log.type, log.mode = self.aircraft[:], self.type[:], self.mode[:]
        log.kind, log.origin, log.dest = self.kind[:], self.origin[:], self.dest[:]
        log.depart_hour, log.arrive_hour = self.depart_hour[:], self.arrive_hour[:]
        log.detainees, log.km, log.flight_hours = self.detainees[:], self.km[:], self.flight_hours[:]
        return log

    def rows(self) -> list[Sortie]:
        """The legs as ``Sortie`` tuples, in order."""
        return list(map(Sortie._make, zip(*self.columns(), strict=True)))

    def __len__(self) -> int:
        return len(self.depart_hour)

    def __iter__(self) -> Iterator[Sortie]:
        return iter(self.rows())


__all__ = ["EventLog", "SortieLog"]
