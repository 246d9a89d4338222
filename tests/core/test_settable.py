"""The native records of the settable values follow ``RuntimeParams`` field for field."""

from __future__ import annotations

import pytest
from tiny_scenarios import one_leg, scenario

from sim.core.model import Model
from sim.scenario.params import AIRCRAFT_FIELDS, SITE_FIELDS


def _model() -> Model:
    return Model(scenario(one_leg(n=20)), 1)


def test_every_settable_field_has_its_record_field_with_the_scenario_value() -> None:
    m = _model()
    values = m.transfers.settable
    for sid, site in m.params.site.items():
        assert set(site) == SITE_FIELDS
        for field in SITE_FIELDS:
            assert getattr(values.site[sid], field) == site[field], (sid, field)
    for name, aircraft in m.params.aircraft.items():
        assert set(aircraft) == AIRCRAFT_FIELDS
        for field in AIRCRAFT_FIELDS:
            assert getattr(values.aircraft[name], field) == aircraft[field], (name, field)


@pytest.mark.parametrize("field", sorted(SITE_FIELDS))
def test_a_set_site_value_is_read_from_the_record(field: str) -> None:
    m = _model()
    sid = next(iter(m.params.site))
    before = getattr(m.transfers.site_values[sid], field)
    new = 7 if before != 7 else 8
    assert m.params.set(f"sites.{sid}.{field}", new)
    assert getattr(m.transfers.site_values[sid], field) == new == m.params.site[sid][field]


@pytest.mark.parametrize("field", sorted(AIRCRAFT_FIELDS))
def test_a_set_aircraft_value_is_read_by_the_type_s_vehicles(field: str) -> None:
    m = _model()
    name = next(iter(m.params.aircraft))
    before = getattr(m.transfers.settable.aircraft[name], field)
    new = 3 if before != 3 else 4
    assert m.params.set(f"aircraft.{name}.{field}", new)
    vehicles = [v for v in m.fleet.vehicles if v.type_name == name]
    assert vehicles
    assert all(getattr(v.values, field) == new == v.p[field] for v in vehicles)


def test_the_records_follow_before_any_other_listener_hears_of_a_change() -> None:
    m = _model()
    sid = next(iter(m.params.site))
    heard: list[object] = []
    m.params.listeners.append(lambda path: heard.append(m.transfers.site_values[sid].beds))
    m.params.set(f"sites.{sid}.beds", 11)
    assert heard == [11]


def test_a_rule_s_intake_limit_is_set_in_the_dict_and_the_record() -> None:
    m = _model()
    sid = next(iter(m.params.site))
    settable = m.transfers.settable
    assert m.params.set_intake_limit(sid, 40)
    assert m.params.site[sid]["daily_intake_limit"] == 40 == settable.site[sid].daily_intake_limit
    assert not m.params.set_intake_limit(sid, 40)
    assert m.params.set_intake_limit(sid, None)
    assert m.params.site[sid]["daily_intake_limit"] is None is settable.site[sid].daily_intake_limit


def test_the_site_kind_flags() -> None:
    m = _model()
    for sid, rec in m.transfers.site_values.items():
        kind = m.state.kind[sid]
        assert rec.kind == kind
        assert rec.is_reception == (kind == "reception")
        assert rec.is_airfield == (kind == "airfield")
