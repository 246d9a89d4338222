"""Pydantic schema of scenario files.

Units: times on the simulation clock are hours; handling times are minutes
(``*_min``); distances are km; speeds km/h (front speeds km per day); days
count from the scenario's ``start`` date (day 0, midnight). Every model is
frozen and forbids unknown keys so typos are errors, not silent defaults.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.common.dist import Dist, DistModel
from sim.common.numbers import MAX_COUNT, MAX_KM, Count, LatLon, Real, Whole, bounded, real

Mode = Literal["rotary", "fixed_wing", "ground"]
SiteKind = Literal["prison", "airfield", "refuel", "reception", "camp"]
Status = Literal["safe", "threatened", "overrun"]
Staging = Literal["pull", "push"]
Policy = Literal[
    "largest_queue", "round_robin", "nearest_first", "highest_threat", "highest_risk_first"
]
POLICIES: tuple[str, ...] = (
    "largest_queue",
    "round_robin",
    "nearest_first",
    "highest_threat",
    "highest_risk_first",
)
MODES: tuple[str, ...] = ("rotary", "fixed_wing", "ground")
MAX_DETAINEES = MAX_COUNT
MAX_HORIZON_DAYS = 3650
MAX_HOURS = MAX_HORIZON_DAYS * 24.0
"""Longest delay or duration anywhere, hours: the longest horizon."""
MAX_MINUTES = 7 * 24 * 60.0
"""Longest fixed handling time (a refuel), minutes: a week."""
MIN_TRIGGER_CHECK_HOURS = 0.01
"""Shortest interval between checks of triggers and closures, hours (36 s)."""
# Sizes: each bounds the work of loading and checking a file (routing runs over every
# site and leg), so a huge hostile file fails fast with a message instead of hogging memory.
MAX_SITES = 200
MAX_LEGS = 1_000
MAX_PLACES = 1_000
MAX_AIRCRAFT_TYPES = 100
MAX_FLEET_ENTRIES = 1_000
MAX_FRONTS = 20
MAX_WAYPOINTS = 100
MAX_TRIGGERS = 1_000
MAX_ITEMS = 100
"""Actions in a trigger, conditions under one ``all``/``any``, risk categories, modes."""
MAX_OBSERVED = 10_000

Ident = str
GuardRatio = Annotated[Real, real(0, 20)]
"""Guards per detainee of a risk category (0..20): 0.25 is one guard per four."""
Waypoint = Ident | LatLon
"""A place name, a site id, or a ``[lat, lon]`` pair in decimal degrees."""


def _ground_only() -> list[Mode]:
    return ["ground"]


def _rotary_only() -> list[Mode]:
    return ["rotary"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class Registration(Frozen):
    """Biometric registration at a reception: a multi-server FCFS queue with shifts."""

    stations: Whole = bounded(1, 10_000, "Parallel registration stations.", integer=True)
    minutes: Dist = Field(description="Service time per detainee, minutes.")
    hours_per_day: Real = bounded(
        0.1, 24, "Working hours per day (a service starts only then).", 24.0
    )
    start_hour: Real = bounded(0, 23.99, "Clock hour the shift starts.", 0.0)


class ReleaseStep(Frozen):
    """One piece of a piecewise-constant release profile: a rate from a day on."""

    from_day: Real = bounded(0, MAX_HORIZON_DAYS, "Day this rate starts (day 0 = start).")
    per_hour: Real = bounded(0, MAX_COUNT, "People handed over per hour from then on.")


class Release(Frozen):
    """How the people of an origin become ready for pickup over time (default: all at hour 0).

    Exactly one of three forms: out-processing ``stations`` (each hands over one person
    after ``minutes``, within a daily shift, like registration), a constant ``per_hour``
    rate from hour 0, or a piecewise-constant ``profile`` of rates (evacuation-type
    arrivals). Rates are deterministic (person k is ready when the cumulative rate
    reaches k) unless ``poisson`` is set. The schedule is drawn at the start of a run.
    """

    stations: Whole | None = bounded(
        1, 10_000, "Parallel out-processing stations (manifest, restraints, checks).", None,
        integer=True,
    )
    minutes: Dist | None = Field(
        default=None, description="With 'stations': out-processing minutes per person."
    )
    hours_per_day: Real = bounded(
        0.1, 24, "With 'stations': working hours per day (a hand-over starts only then).", 24.0
    )
    start_hour: Real = bounded(0, 23.99, "With 'stations': clock hour the shift starts.", 0.0)
    per_hour: Real | None = bounded(
        0, MAX_COUNT, "A constant hand-over rate from hour 0, people per hour.", None, above=True
    )
    profile: list[ReleaseStep] | None = Field(
        default=None, min_length=1, max_length=MAX_ITEMS,
        description="Piecewise-constant rates, people per hour, by increasing 'from_day'.",
    )
    poisson: bool = Field(
        default=False, description="With a rate or profile: random (Poisson) hand-over times."
    )
    batch: Whole = bounded(
        1, 100_000, "People handed over together (one manifest): the first 'batch' are ready "
        "when the last of them is out-processed, then the next 'batch', ...", 1, integer=True,
    )

    @model_validator(mode="after")
    def _one_form(self) -> Release:
        forms = [k for k, v in (("stations", self.stations), ("per_hour", self.per_hour),
                                ("profile", self.profile)) if v is not None]
        if len(forms) != 1:
            raise ValueError(
                f"a release needs exactly one of 'stations', 'per_hour', 'profile', got "
                f"{forms or 'none'}")
        if (self.stations is None) != (self.minutes is None):
            raise ValueError("'stations' and 'minutes' go together")
        if self.profile is not None:
            days = [p.from_day for p in self.profile]
            if days != sorted(days) or len(set(days)) != len(days):
                raise ValueError("profile steps need strictly increasing 'from_day'")
            if not any(p.per_hour > 0 for p in self.profile):
                raise ValueError("a profile needs a step with 'per_hour' above 0")
        return self


class Site(Frozen):
    """A node of the route network: prison, airfield, refuel point, reception or camp."""

    id: Ident = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Unique id used everywhere else.")
    kind: SiteKind
    name: str | None = Field(default=None, description="Display name.")
    lat: Real = bounded(-90, 90, "Latitude, decimal degrees.")
    lon: Real = bounded(-180, 180, "Longitude, decimal degrees.")
    pads: Whole = bounded(
        1, 10_000, "Vehicles loading or unloading at once (pads, loading slots).", 2, integer=True
    )
    road_bays: Whole | None = bounded(
        1, 10_000, "Road vehicles loading or unloading at once in bays of their own (a "
        "terminal's bus bays), apart from the aircraft's pads; none: they take the pads.",
        None, integer=True,
    )
    detainees: dict[str, Count] = Field(
        default_factory=dict,
        description=f"Population by risk category (prison, camp); each 0..{MAX_COUNT:,}.",
    )
    load_min_per_detainee: Dist = Field(
        default=1.0, description="Handling minutes per detainee when loading here."
    )
    unload_min_per_detainee: Dist = Field(
        default=0.5, description="Handling minutes per detainee when unloading here."
    )
    holding_capacity: Whole | None = bounded(
        0, MAX_COUNT, "Detainees an airfield may hold at once (none: no limit).", None,
        integer=True,
    )
    refuel_min: Real = bounded(0, MAX_MINUTES, "Minutes to refuel at this site.", 20.0)
    beds: Whole | None = bounded(0, MAX_COUNT, "Reception beds (none: no limit).", None, integer=True)
    daily_intake_limit: Whole | None = bounded(
        0, MAX_COUNT, "Detainees a reception clears for arrival per day.", None, integer=True
    )
    registration: Registration | None = Field(default=None, description="Reception only.")
    repatriation_per_day: Real = bounded(
        0, MAX_COUNT, "Registered detainees released from a reception per day.", 0.0
    )
    open: bool = Field(default=True, description="Closed sites take no pickups or deliveries.")
    pickup_stop_min: Dist | None = Field(
        default=None,
        description="Fixed ground time per pickup landing here, minutes; overrides the vehicle "
                    "type's pickup_stop_min (none: the type's).",
    )
    dropoff_stop_min: Dist | None = Field(
        default=None,
        description="Fixed ground time per drop-off landing here, minutes; overrides the vehicle "
                    "type's dropoff_stop_min (none: the type's).",
    )
    ramp_spaces: Whole | None = bounded(
        1, 10_000,
        "Fixed-wing aircraft on the ground here at once for a pickup or drop-off stop (ramp "
        "parking), from landing to take-off; an aircraft waits at its origin until one is free "
        "(none: no limit). Pads limit those loading or unloading among them.", None, integer=True,
    )
    release: Release | None = Field(
        default=None,
        description="Prison or camp: how people become ready for pickup (none: all at hour 0).",
    )
    overrun_custody_fraction: Real | None = bounded(
        0, 1, "Share (0..1) of those held here when overrun who pass into another authority's "
        "custody, the rest escape (none: the overrunning front's 'custody_fraction').", None,
    )

    @property
    def population(self) -> int:
        return sum(self.detainees.values())

    @model_validator(mode="after")
    def _kind_fields(self) -> Site:
        if self.detainees and self.kind not in ("prison", "camp"):
            raise ValueError(f"a {self.kind} holds no detainees at the start; remove 'detainees'")
        if self.population > MAX_DETAINEES:
            raise ValueError(f"population {self.population} is over the limit {MAX_DETAINEES:,}")
        if self.registration is not None and self.kind != "reception":
            raise ValueError("only a reception has 'registration'")
        if self.kind != "reception":
            for name in RECEPTION_ONLY:
                if getattr(self, name) not in (None, 0, 0.0):
                    raise ValueError(f"only a reception has {name!r}: a {self.kind} would "
                                     f"ignore it; remove it or set it on the reception")
        if self.release is not None and self.kind not in ("prison", "camp"):
            raise ValueError("only a prison or camp has 'release'")
        return self


RECEPTION_ONLY = ("beds", "daily_intake_limit", "repatriation_per_day")
"""Site fields that only a reception reads (any other kind is refused one, as ignored)."""


class Leg(Frozen):
    """A corridor between two sites that the listed modes may use."""

    id: Ident | None = Field(default=None, description="Defaults to 'from-to'.")
    from_: Ident = Field(alias="from", description="Site id at one end.")
    to: Ident = Field(description="Site id at the other end.")
    modes: list[Mode] = Field(
        min_length=1, max_length=len(MODES), description="Modes allowed on this leg."
    )
    distance_km: Real | None = bounded(
        0, MAX_KM, "Length in km; default great-circle x route_factor.", None, above=True
    )
    route_factor: Real | None = bounded(
        1, 5, "Path length over great-circle (default 1, ground 1.3).", None
    )
    bidirectional: bool = Field(default=True, description="Usable both ways.")
    open: bool = Field(default=True, description="Closed legs are not routed over until a "
                       "rule opens them (open_leg).")

    @property
    def leg_id(self) -> str:
        return self.id or f"{self.from_}-{self.to}"


class Wave(Frozen):
    """Vehicles of a type that leave together: a convoy of buses, a wave of helicopters."""

    size: Whole = bounded(2, 1_000, "Vehicles that start their missions together.", integer=True)
    max_wait_hours: Real = bounded(
        0, MAX_HOURS, "Longest a ready vehicle waits for the rest of its wave, hours.", 2.0
    )


class AircraftType(Frozen):
    """A type of aircraft or road vehicle."""

    mode: Mode
    seats: Whole = bounded(1, 10_000, "Detainee seats (guards excluded).", integer=True)
    cruise_kmh: Real = bounded(1, 3000, "Block speed, km/h.")
    range_km: Real = bounded(1, 100_000, "Longest leg without refuel, km.", 100_000.0)
    turnaround_min: Dist = Field(default=30.0, description="Ground time after unloading, minutes.")
    refuel_min: Real = bounded(0, MAX_MINUTES, "Minutes per refuel stop en route.", 20.0)
    flight_time_cv: Real = bounded(0, 2, "Random variation of leg times (lognormal cv).", 0.0)
    mtbf_flight_hours: Real | None = bounded(
        0.1, 1_000_000, "Mean flight hours between failures (none: no failures).", None
    )
    repair_hours: Dist = Field(default=8.0, description="Repair time after a failure, hours.")
    crew_hours_per_day: Real = bounded(
        0.1, 24, "Flight (driving) hours a crew may log in a calendar day, and in a duty (a "
                 "duty ends with a rest: see rest_hours).", 24.0
    )
    rest_hours: Real = bounded(
        0, 48, "Rest that ends a crew's duty, hours from its last landing; the duty also ends "
               "only on a later calendar day (0: at the first midnight).", 0.0
    )
    pickup_stop_min: Dist = Field(
        default=0.0,
        description="Fixed ground time per landing at a pickup, minutes (approach, security, "
                    "manifest and head count), on top of the per-detainee loading minutes.",
    )
    dropoff_stop_min: Dist = Field(
        default=0.0,
        description="Fixed ground time per landing at a drop-off, minutes (approach, hand-over "
                    "and head count), on top of the per-detainee unloading minutes.",
    )
    load_factor: Dist = Field(
        default=1.0,
        description="Share of the sortie's places filled, drawn per sortie (0..1; a draw above "
                    "1 counts as 1; at least one person). Places: seats x overload_factor.",
    )
    overload_factor: Real = bounded(
        1, 3, "People a sortie may carry per nominal seat (1: no more than the seats).", 1.0
    )
    min_load_fraction: Real = bounded(
        0, 1,
        "A sortie waits at its pickup until this share of its full load (seats x "
        "overload_factor) is on board (never more than its drawn load), up to "
        "max_load_wait_hours (0: no wait).", 0.0,
    )
    max_load_wait_hours: Real = bounded(
        0, MAX_HOURS, "Longest wait at a pickup for the minimum load, hours.", 2.0
    )

    @field_validator("load_factor")
    @classmethod
    def _load_share(cls, lf: Dist) -> Dist:
        value = lf if isinstance(lf, (int, float)) else getattr(lf, "value", None)
        if value is not None and not 0 < value <= 1:
            raise ValueError(
                f"load_factor {value:g} is a share of the places: above 0 up to 1 "
                "(overload_factor carries more than the seats)"
            )
        return lf
    # Sortie generation (``sim/core/availability.py``); none keeps every vehicle always free.
    operating_start_hour: Real | None = bounded(
        0, 23.99, "Clock hour its operating window opens: no mission starts outside the "
        "window, one under way is finished (none: the mode's window, else always open).", None
    )
    operating_hours: Real | None = bounded(
        0, 24, "Length of its operating window from the opening, hours; it may run past "
        "midnight (24: always open; none: the mode's window, else 24).", None, above=True
    )
    max_sorties_per_day: Whole | None = bounded(
        1, 1_000, "Missions (a pickup and its transfer) a vehicle may start per calendar "
        "day (none: no limit).", None, integer=True
    )
    mission_capable_rate: Real | None = bounded(
        0, 1, "Probability that a vehicle can be tasked on a day, drawn per vehicle and "
        "day on top of failures (none: 1, every vehicle every day).", None
    )
    wave: Wave | None = Field(
        default=None,
        description="Dispatch in waves (convoys) of vehicles of this type at the same place "
        "(none: each vehicle leaves on its own).",
    )

    @property
    def full_load(self) -> int:
        """People a sortie of this type carries at most: seats x overload factor, rounded
        down (as the file gives them; a run reads its rules' changes, ``Vehicle.full_load``)."""
        return math.floor(self.seats * self.overload_factor + 1e-9)


class FleetEntry(Frozen):
    """Vehicles of one type available at a base from a given day."""

    type: Ident = Field(description="Key into 'aircraft'.")
    count: Whole = bounded(1, 100_000, "Vehicles of this type at this base.", integer=True)
    base: Ident = Field(description="Site id where they start.")
    available_from_day: Real = bounded(
        0, MAX_HORIZON_DAYS, "Day they become available.", 0.0
    )


class OperatingWindow(Frozen):
    """Hours of the day in which vehicles of a mode may start missions (clock hours)."""

    start_hour: Real = bounded(0, 23.99, "Clock hour the window opens.", 0.0)
    hours: Real = bounded(
        0, 24, "Length from the opening, hours; may run past midnight (24: always open).",
        24.0, above=True,
    )


class Front(Frozen):
    """A line of fighting moving along waypoints at a random daily speed."""

    name: str = Field(default="front", min_length=1, description="Names it in messages and --set.")
    start_day: Real = bounded(
        -MAX_HORIZON_DAYS, MAX_HORIZON_DAYS, "Day it leaves the first waypoint (may be < 0).", 0.0
    )
    path: list[Waypoint] = Field(
        max_length=MAX_WAYPOINTS,
        description=f"Waypoints: place names, site ids or [lat, lon]; at most {MAX_WAYPOINTS:,}.",
    )
    speed_km_per_day: Dist = Field(description="Advance per day, km; drawn once per day.")
    threat_radius_km: Real = bounded(0, MAX_KM, "Sites this close are threatened, km.")
    overrun_radius_km: Real = bounded(0, MAX_KM, "Sites this close are overrun, km.")
    close_legs_within_km: Real | None = bounded(
        0, MAX_KM, "Legs passing this close to the front close, km.", None
    )
    close_modes: list[Mode] = Field(
        default_factory=_ground_only, max_length=len(MODES),
        description="Modes whose legs close near the front.",
    )
    custody_fraction: Real = bounded(
        0, 1, "Share (0..1) of those held at a site this front overruns who pass into "
        "another authority's custody; the rest escape. A site's own value wins.", 0.0,
    )

    @model_validator(mode="after")
    def _check(self) -> Front:
        if len(self.path) < 2:
            raise ValueError("a front needs at least two waypoints in 'path'")
        if self.overrun_radius_km > self.threat_radius_km:
            raise ValueError("overrun_radius_km must not exceed threat_radius_km")
        return self


class Breakout(Frozen):
    """Mass escapes at threatened prisons."""

    hazard_per_day: Real = bounded(0, 100, "Breakout rate per threatened day.")
    fraction: Dist = Field(description="Fraction (0..1) of those still held who escape.")


class Weather(Frozen):
    """Random groundings (storms): Poisson arrivals, random durations."""

    storms_per_week: Real = bounded(0, 100, "Mean storms per week (Poisson arrivals).")
    duration_hours: Dist = Field(description="How long a storm grounds, hours.")
    modes: list[Mode] = Field(
        default_factory=_rotary_only, max_length=len(MODES), description="Modes a storm grounds."
    )


class Escalation(Frozen):
    fronts: list[Front] = Field(
        default_factory=list, max_length=MAX_FRONTS, description=f"At most {MAX_FRONTS} fronts."
    )
    breakout: Breakout | None = None
    weather: Weather | None = None
    threatened_load_factor: Real = bounded(
        1, 20, "Loading time multiplier at threatened sites.", 1.5
    )


class Condition(Frozen):
    """Exactly one of the keys below (``all``/``any``/``not`` combine conditions)."""

    day: Annotated[Real, real(-MAX_HORIZON_DAYS, MAX_HORIZON_DAYS)] | DistModel | None = Field(
        default=None,
        description=(
            "Day reached (day 0 = start): a number, or a distribution drawn once per run for an "
            "uncertain date (e.g. {dist: triangular, low: 4, mode: 6, high: 9}). "
            f"Range: {-MAX_HORIZON_DAYS:g}..{MAX_HORIZON_DAYS:g}."
        ),
    )
    site: Ident | None = Field(default=None, description="With 'status': a site's status.")
    status: Status | None = Field(default=None, description="Status reached (or worse).")
    front_within_km: Real | None = bounded(
        0, MAX_KM, "With 'of': a front within this distance of a place, km.", None
    )
    of: Waypoint | None = None
    fraction_delivered: Real | None = bounded(0, 1, "Fraction of all detainees delivered.", None)
    occupancy: Whole | None = bounded(
        0, MAX_COUNT, "Reception occupancy reached.", None, integer=True
    )
    registration_backlog: Whole | None = bounded(
        0, MAX_COUNT, "Detainees waiting for registration.", None, integer=True
    )
    all_: list[Condition] | None = Field(default=None, alias="all", max_length=MAX_ITEMS)
    any_: list[Condition] | None = Field(default=None, alias="any", max_length=MAX_ITEMS)
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [
            k
            for k, present in (
                ("day", self.day is not None),
                ("site/status", self.site is not None or self.status is not None),
                ("front_within_km/of", self.front_within_km is not None or self.of is not None),
                ("fraction_delivered", self.fraction_delivered is not None),
                ("occupancy", self.occupancy is not None),
                ("registration_backlog", self.registration_backlog is not None),
                ("all", self.all_ is not None),
                ("any", self.any_ is not None),
                ("not", self.not_ is not None),
            )
            if present
        ]
        if len(kinds) != 1:
            raise ValueError(f"a condition needs exactly one kind, got {kinds or 'none'}")
        if kinds[0] == "site/status" and (self.site is None or self.status is None):
            raise ValueError("a site condition needs both 'site' and 'status'")
        if kinds[0] == "front_within_km/of" and (self.front_within_km is None or self.of is None):
            raise ValueError("a front condition needs both 'front_within_km' and 'of'")
        return self


class IntakeLimit(Frozen):
    site: Ident
    per_day: Annotated[Whole, Field(strict=True, ge=0, le=MAX_COUNT)] | DistModel | None = Field(
        default=None,
        description=(
            "Detainees per day (null: no limit): a whole number, or a distribution drawn when "
            "the rule fires (an uncertain quota), rounded to a whole number. "
            f"Range: 0..{MAX_COUNT:,}."
        ),
    )


class AddAircraft(Frozen):
    type: Ident
    count: Whole = bounded(1, 100_000, "Vehicles to add.", integer=True)
    base: Ident
    delay_hours: Real = bounded(0, MAX_HOURS, "Hours until they are available.", 0.0)


class WithdrawAircraft(Frozen):
    type: Ident
    count: Whole = bounded(1, 100_000, "Vehicles to withdraw.", integer=True)
    delay_hours: Real = bounded(0, MAX_HOURS, "Hours until they are withdrawn.", 0.0)


class Ground(Frozen):
    modes: list[Mode] = Field(min_length=1, max_length=len(MODES))
    hours: Real = bounded(0, MAX_HOURS, "How long the grounding lasts, hours.", above=True)


class SetParam(Frozen):
    path: str = Field(description="Dotted path, e.g. sites.bgw.beds or aircraft.ch47.seats.")
    value: Real = bounded(
        -1_000_000_000, 1_000_000_000, "New value; the field's own range applies too."
    )


class Action(Frozen):
    """Exactly one of the keys below."""

    open_site: Ident | None = None
    close_site: Ident | None = None
    open_leg: Ident | None = None
    close_leg: Ident | None = None
    set_intake_limit: IntakeLimit | None = None
    add_aircraft: AddAircraft | None = None
    withdraw_aircraft: WithdrawAircraft | None = None
    ground: Ground | None = None
    release_modes: list[Mode] | None = Field(
        default=None, max_length=len(MODES), description="Lift the groundings of these modes now."
    )
    set_dispatch: Policy | None = None
    set_param: SetParam | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Action:
        kinds = [k for k, v in self.__dict__.items() if v is not None]
        if len(kinds) != 1:
            raise ValueError(f"an action needs exactly one kind, got {kinds or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)


class Trigger(Frozen):
    """A rule: when the condition becomes true, do the actions (in order)."""

    name: str = Field(min_length=1, description="Names it in messages, results and --set.")
    when: Condition
    then: list[Action] = Field(min_length=1, max_length=MAX_ITEMS)
    once: bool = Field(default=True, description="False: fire again each time it becomes true.")


class ObservedPoint(Frozen):
    """A reported data point for charts and calibration."""

    day: Real = bounded(-MAX_HORIZON_DAYS, MAX_HORIZON_DAYS,
                        "Day of the report (day 0 = start). A whole day: its count is as of "
                        "that day's end; a fraction: the time of the report (1.5: noon of day 1).")
    delivered_cum: Real = bounded(0, MAX_COUNT, "Detainees delivered by then.")
    note: str | None = None


BacktestKpi = Literal[
    "delivered_by_day", "delivered", "day_to_50", "day_to_90", "day_to_100", "sorties",
    "per_sortie", "peak_day_delivered",
]
"""What a back-test band may measure: people delivered by the end of a day (needs ``day``),
at the horizon, the day a share was delivered (days from the start), missions flown,
people delivered per mission (the mean load), or the most delivered in one day."""


class BacktestSource(Frozen):
    """A public document a back-test case takes its inputs or its outcome from."""

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    date: str = Field(min_length=4, description="Publication date, ISO (YYYY, YYYY-MM or YYYY-MM-DD).")
    url: str | None = None


class BacktestOutcome(Frozen):
    """The reported outcome of a real operation as a band the model should fall in."""

    kpi: BacktestKpi = Field(description="The measure compared (see BacktestKpi).")
    day: Whole | None = bounded(
        0, MAX_HORIZON_DAYS, "delivered_by_day: the day at whose end it is read.", None,
        integer=True,
    )
    low: Real = bounded(0, MAX_COUNT, "Lowest value consistent with the reports.")
    high: Real = bounded(0, MAX_COUNT, "Highest value consistent with the reports.")
    modes: list[Mode] | None = Field(
        None, min_length=1, max_length=3,
        description="sorties and per_sortie: count the missions of these modes only (a "
                    "reported number of flights beside road legs: [fixed_wing]); none: all.")
    note: str = ""

    @model_validator(mode="after")
    def _band(self) -> BacktestOutcome:
        if self.high < self.low:
            raise ValueError(f"high {self.high:g} is below low {self.low:g}")
        if (self.kpi == "delivered_by_day") != (self.day is not None):
            raise ValueError("'day' goes with kpi delivered_by_day, and only with it")
        if self.modes is not None and self.kpi not in ("sorties", "per_sortie"):
            raise ValueError("'modes' goes with kpi sorties or per_sortie, and only with them")
        return self


class Backtest(Frozen):
    """The header of a back-test case: what operation, whose figures, the reported band.

    The reported daily curve, where public, is the scenario's ``observed`` list.
    """

    operation: str = Field(min_length=1, description="The real operation replayed.")
    sources: list[BacktestSource] = Field(min_length=1, max_length=MAX_ITEMS)
    outcomes: list[BacktestOutcome] = Field(
        min_length=1, max_length=MAX_ITEMS, description="Reported outcomes, each a band."
    )
    assumptions: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="What the sources do not give and the file assumes.",
    )
    not_modelled: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="Reported features of the operation the model cannot express.",
    )


class Scenario(Frozen):
    """A whole scenario: the network, the fleet, the escalation and the rules."""

    name: str = Field(min_length=1)
    description: str = ""
    start: dt.date = Field(description="Calendar date of day 0.")
    horizon_days: Whole = bounded(1, MAX_HORIZON_DAYS, "Simulated days.", integer=True)
    places: dict[Ident, LatLon] = Field(
        default_factory=dict, max_length=MAX_PLACES,
        description=f"Named [lat, lon] points for fronts and conditions; at most {MAX_PLACES:,}.",
    )
    risk_categories: list[str] = Field(
        default_factory=lambda: ["high", "medium", "standard", "low"], min_length=1,
        max_length=MAX_ITEMS,
        description=f"Risk categories, most dangerous first; at most {MAX_ITEMS}.",
    )
    sites: list[Site] = Field(
        min_length=1, max_length=MAX_SITES, description=f"Sites; at most {MAX_SITES:,}."
    )
    legs: list[Leg] = Field(
        default_factory=list, max_length=MAX_LEGS, description=f"Legs; at most {MAX_LEGS:,}."
    )
    aircraft: dict[Ident, AircraftType] = Field(
        default_factory=dict, max_length=MAX_AIRCRAFT_TYPES,
        description=f"Aircraft and vehicle types by name; at most {MAX_AIRCRAFT_TYPES}.",
    )
    fleet: list[FleetEntry] = Field(
        default_factory=list, max_length=MAX_FLEET_ENTRIES,
        description=f"Fleet entries; at most {MAX_FLEET_ENTRIES:,}.",
    )
    dispatch: Policy = "largest_queue"
    transfer_penalty_hours: Real = bounded(
        0, 720, "Routing cost of each change of vehicle, hours.", 1.0
    )
    escalation: Escalation = Field(default_factory=Escalation)
    triggers: list[Trigger] = Field(
        default_factory=list, max_length=MAX_TRIGGERS,
        description=f"Rules; at most {MAX_TRIGGERS:,}.",
    )
    trigger_check_hours: Real = bounded(
        MIN_TRIGGER_CHECK_HOURS, 24, "How often conditions and closures are checked, hours.", 1.0
    )
    observed: list[ObservedPoint] = Field(
        default_factory=list, max_length=MAX_OBSERVED,
        description=f"Reported points; at most {MAX_OBSERVED:,}.",
    )
    operating_windows: dict[Mode, OperatingWindow] | None = Field(
        default=None,
        description="Operating window by mode (a type's own hours take precedence); e.g. "
        "rotary {start_hour: 6, hours: 12} flies by day only (none: always open).",
    )
    escort_guards_per_detainee: dict[str, GuardRatio] | None = Field(
        default=None,
        description="Guards per detainee by risk category; guards take detainee seats "
        "(a batch of detainees needs the total rounded up) (none or a missing category: 0).",
    )
    staging: Staging = Field(
        default="pull",
        description="pull: move a batch into a staging airfield only when its onward intake "
        "is cleared within 'staging_clearance_hours'; push: whenever the airfield has room.",
    )
    staging_clearance_hours: Real = bounded(
        0, MAX_HOURS, "Pull: how far ahead (hours) onward intake clearances count.", 24.0
    )
    backtest: Backtest | None = Field(
        default=None,
        description="Back-test cases only: sources and the reported outcome band.",
    )

    @property
    def total_detainees(self) -> int:
        return sum(s.population for s in self.sites if s.kind == "prison")

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)


def dump_scenario(s: Scenario) -> dict[str, Any]:
    """Plain JSON-able dict of a scenario with aliases (``from``) as in files."""
    return s.model_dump(mode="json", by_alias=True, exclude_none=True)
