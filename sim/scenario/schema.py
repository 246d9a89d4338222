"""Pydantic schema of scenario files.

Units: times on the simulation clock are hours; handling times are minutes
(``*_min``); distances are km; speeds km/h (front speeds km per day); days
count from the scenario's ``start`` date (day 0, midnight). Every model is
frozen and forbids unknown keys so typos are errors, not silent defaults.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.common.dist import Dist

Mode = Literal["rotary", "fixed_wing", "ground"]
SiteKind = Literal["prison", "airfield", "refuel", "reception", "camp"]
Status = Literal["safe", "threatened", "overrun"]
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
MAX_DETAINEES = 10_000_000
MAX_HORIZON_DAYS = 3650

Ident = str
Waypoint = Ident | tuple[float, float]
"""A place name, a site id, or a ``[lat, lon]`` pair in decimal degrees."""


def _ground_only() -> list[Mode]:
    return ["ground"]


def _rotary_only() -> list[Mode]:
    return ["rotary"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Registration(Frozen):
    """Biometric registration at a reception: a multi-server FCFS queue with shifts."""

    stations: int = Field(ge=1, le=10_000, description="Parallel registration stations.")
    minutes: Dist = Field(description="Service time per detainee, minutes.")
    hours_per_day: float = Field(
        default=24.0, gt=0, le=24, description="Working hours per day (a service starts only then)."
    )
    start_hour: float = Field(default=0.0, ge=0, lt=24, description="Clock hour the shift starts.")


class Site(Frozen):
    """A node of the route network: prison, airfield, refuel point, reception or camp."""

    id: Ident = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Unique id used everywhere else.")
    kind: SiteKind
    name: str | None = Field(default=None, description="Display name.")
    lat: float = Field(ge=-90, le=90, description="Latitude, decimal degrees.")
    lon: float = Field(ge=-180, le=180, description="Longitude, decimal degrees.")
    pads: int = Field(default=2, ge=1, le=10_000, description="Vehicles on the ground at once.")
    detainees: dict[str, int] = Field(
        default_factory=dict, description="Population by risk category (prison, camp)."
    )
    load_min_per_detainee: Dist = Field(
        default=1.0, description="Handling minutes per detainee when loading here."
    )
    unload_min_per_detainee: Dist = Field(
        default=0.5, description="Handling minutes per detainee when unloading here."
    )
    holding_capacity: int | None = Field(
        default=None, ge=0, description="Detainees an airfield may hold at once (none: no limit)."
    )
    refuel_min: float = Field(default=20.0, ge=0, description="Minutes to refuel at this site.")
    beds: int | None = Field(default=None, ge=0, description="Reception beds (none: no limit).")
    daily_intake_limit: int | None = Field(
        default=None, ge=0, description="Detainees a reception clears for arrival per day."
    )
    registration: Registration | None = Field(default=None, description="Reception only.")
    repatriation_per_day: float = Field(
        default=0.0, ge=0, description="Registered detainees released from a reception per day."
    )
    open: bool = Field(default=True, description="Closed sites take no pickups or deliveries.")

    @property
    def population(self) -> int:
        return sum(self.detainees.values())

    @model_validator(mode="after")
    def _kind_fields(self) -> Site:
        if self.detainees and self.kind not in ("prison", "camp"):
            raise ValueError(f"a {self.kind} holds no detainees at the start; remove 'detainees'")
        for cat, n in self.detainees.items():
            if n < 0:
                raise ValueError(f"detainees.{cat} must be >= 0")
        if self.population > MAX_DETAINEES:
            raise ValueError(f"population {self.population} is over the limit {MAX_DETAINEES:,}")
        if self.registration is not None and self.kind != "reception":
            raise ValueError("only a reception has 'registration'")
        return self


class Leg(Frozen):
    """A corridor between two sites that the listed modes may use."""

    id: Ident | None = Field(default=None, description="Defaults to 'from-to'.")
    from_: Ident = Field(alias="from", description="Site id at one end.")
    to: Ident = Field(description="Site id at the other end.")
    modes: list[Mode] = Field(min_length=1, description="Modes allowed on this leg.")
    distance_km: float | None = Field(
        default=None, gt=0, description="Length in km; default great-circle x route_factor."
    )
    route_factor: float | None = Field(
        default=None, ge=1, le=5, description="Path length over great-circle (default 1, ground 1.3)."
    )
    bidirectional: bool = Field(default=True, description="Usable both ways.")
    open: bool = Field(default=True, description="Closed legs are not routed over.")

    @property
    def leg_id(self) -> str:
        return self.id or f"{self.from_}-{self.to}"


class AircraftType(Frozen):
    """A type of aircraft or road vehicle."""

    mode: Mode
    seats: int = Field(ge=1, le=10_000, description="Detainee seats (guards excluded).")
    cruise_kmh: float = Field(gt=0, le=3000, description="Block speed, km/h.")
    range_km: float = Field(default=100_000.0, gt=0, description="Longest leg without refuel, km.")
    turnaround_min: Dist = Field(default=30.0, description="Ground time after unloading, minutes.")
    refuel_min: float = Field(default=20.0, ge=0, description="Minutes per refuel stop en route.")
    flight_time_cv: float = Field(
        default=0.0, ge=0, le=2, description="Random variation of leg times (lognormal cv)."
    )
    mtbf_flight_hours: float | None = Field(
        default=None, gt=0, description="Mean flight hours between failures (none: no failures)."
    )
    repair_hours: Dist = Field(default=8.0, description="Repair time after a failure, hours.")
    crew_hours_per_day: float = Field(
        default=24.0, gt=0, le=24, description="Flight (driving) hours a crew may log per day."
    )
    rest_hours: float = Field(
        default=0.0, ge=0, le=48, description="Minimum rest after the daily limit is reached, hours."
    )


class FleetEntry(Frozen):
    """Vehicles of one type available at a base from a given day."""

    type: Ident = Field(description="Key into 'aircraft'.")
    count: int = Field(ge=1, le=100_000)
    base: Ident = Field(description="Site id where they start.")
    available_from_day: float = Field(default=0.0, ge=0, description="Day they become available.")


class Front(Frozen):
    """A line of fighting moving along waypoints at a random daily speed."""

    name: str = Field(default="front")
    start_day: float = Field(default=0.0, description="Day it leaves the first waypoint (may be < 0).")
    path: list[Waypoint] = Field(description="Waypoints: place names, site ids or [lat, lon].")
    speed_km_per_day: Dist = Field(description="Advance per day, km; drawn once per day.")
    threat_radius_km: float = Field(ge=0, description="Sites this close are threatened.")
    overrun_radius_km: float = Field(ge=0, description="Sites this close are overrun.")
    close_legs_within_km: float | None = Field(
        default=None, ge=0, description="Legs passing this close to the front close."
    )
    close_modes: list[Mode] = Field(
        default_factory=_ground_only, description="Modes whose legs close near the front."
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

    hazard_per_day: float = Field(ge=0, le=100, description="Breakout rate per threatened day.")
    fraction: Dist = Field(description="Fraction (0..1) of those still held who escape.")


class Weather(Frozen):
    """Random groundings (storms): Poisson arrivals, random durations."""

    storms_per_week: float = Field(ge=0, le=100)
    duration_hours: Dist
    modes: list[Mode] = Field(default_factory=_rotary_only, description="Modes a storm grounds.")


class Escalation(Frozen):
    fronts: list[Front] = Field(default_factory=list)
    breakout: Breakout | None = None
    weather: Weather | None = None
    threatened_load_factor: float = Field(
        default=1.5, ge=1, le=20, description="Loading time multiplier at threatened sites."
    )


class Condition(Frozen):
    """Exactly one of the keys below (``all``/``any``/``not`` combine conditions)."""

    day: float | None = Field(default=None, description="Day reached (day 0 = start).")
    site: Ident | None = Field(default=None, description="With 'status': a site's status.")
    status: Status | None = Field(default=None, description="Status reached (or worse).")
    front_within_km: float | None = Field(
        default=None, ge=0, description="With 'of': a front within this distance of a place."
    )
    of: Waypoint | None = None
    fraction_delivered: float | None = Field(default=None, ge=0, le=1)
    occupancy: int | None = Field(default=None, ge=0, description="Reception occupancy reached.")
    registration_backlog: int | None = Field(default=None, ge=0)
    all_: list[Condition] | None = Field(default=None, alias="all")
    any_: list[Condition] | None = Field(default=None, alias="any")
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
    per_day: int | None = Field(default=None, ge=0, description="Detainees per day (null: no limit).")


class AddAircraft(Frozen):
    type: Ident
    count: int = Field(ge=1, le=100_000)
    base: Ident
    delay_hours: float = Field(default=0.0, ge=0)


class WithdrawAircraft(Frozen):
    type: Ident
    count: int = Field(ge=1, le=100_000)
    delay_hours: float = Field(default=0.0, ge=0)


class Ground(Frozen):
    modes: list[Mode] = Field(min_length=1)
    hours: float = Field(gt=0)


class SetParam(Frozen):
    path: str = Field(description="Dotted path, e.g. sites.bgw.beds or aircraft.ch47.seats.")
    value: float


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
        default=None, description="Lift the groundings of these modes now."
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

    name: str
    when: Condition
    then: list[Action] = Field(min_length=1)
    once: bool = Field(default=True, description="False: fire again each time it becomes true.")


class ObservedPoint(Frozen):
    """A reported data point for charts and calibration."""

    day: float
    delivered_cum: float = Field(ge=0)
    note: str | None = None


class Scenario(Frozen):
    """A whole scenario: the network, the fleet, the escalation and the rules."""

    name: str = Field(min_length=1)
    description: str = ""
    start: dt.date = Field(description="Calendar date of day 0.")
    horizon_days: int = Field(ge=1, le=MAX_HORIZON_DAYS, description="Simulated days.")
    places: dict[Ident, tuple[float, float]] = Field(
        default_factory=dict, description="Named [lat, lon] points for fronts and conditions."
    )
    risk_categories: list[str] = Field(
        default_factory=lambda: ["high", "medium", "standard", "low"],
        description="Risk categories, most dangerous first.",
    )
    sites: list[Site] = Field(min_length=1)
    legs: list[Leg] = Field(default_factory=list)
    aircraft: dict[Ident, AircraftType] = Field(default_factory=dict)
    fleet: list[FleetEntry] = Field(default_factory=list)
    dispatch: Policy = "largest_queue"
    transfer_penalty_hours: float = Field(
        default=1.0, ge=0, description="Routing cost of each change of vehicle, hours."
    )
    escalation: Escalation = Field(default_factory=Escalation)
    triggers: list[Trigger] = Field(default_factory=list)
    trigger_check_hours: float = Field(
        default=1.0, gt=0, le=24, description="How often conditions and closures are checked."
    )
    observed: list[ObservedPoint] = Field(default_factory=list)

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
