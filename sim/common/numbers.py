"""Bounded numbers for input schemas: finite, never a boolean, within a stated range.

Every number a user writes goes through one of these, so an infinite, NaN,
astronomically large or boolean value is a validation error naming the field,
not an overflow, a hang or a wrong answer deep inside a run. ``bounded`` puts
the range into the field's description, so ``dtsim schema`` shows it.
"""

from __future__ import annotations

import math
import numbers
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

MAX_COUNT = 10_000_000
"""Largest count of anything (detainees, beds, a backlog)."""
MAX_KM = 40_000.0
"""Longest distance, km: about once round the earth."""
MAX_DIST_VALUE = 1_000_000.0
"""Largest number inside a distribution, in the unit of the field that holds it."""


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def _plain_number(value: Any) -> Any:
    """Numpy numbers as Python ones, and a whole float (6.0, from arithmetic or a rule's
    value) as an int; infinity and NaN are refused; anything else, booleans and strings
    included, goes on unchanged to the strict check, which rejects it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if not math.isfinite(value):  # said first: a range check would say "nan < 0"
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


Whole = Annotated[int, BeforeValidator(_plain_number)]
"""An integer field's type: whole numbers, written ``6`` or ``6.0``; never a boolean."""
Real = Annotated[float, BeforeValidator(_plain_number)]
"""A float field's type: any finite number; never a boolean or a string."""


def range_text(lo: float, hi: float, *, above: bool = False) -> str:
    """``1..10,000`` or ``above 0 up to 24`` (when ``lo`` itself is excluded)."""
    return f"above {_fmt(lo)} up to {_fmt(hi)}" if above else f"{_fmt(lo)}..{_fmt(hi)}"


def bounded(
    lo: float,
    hi: float,
    description: str,
    default: Any = ...,
    *,
    above: bool = False,
    integer: bool = False,
) -> Any:
    """A field holding a finite number in ``[lo, hi]`` (``(lo, hi]`` when ``above``).

    Type the field ``Whole`` or ``Real`` (above); ``integer`` fields accept whole
    numbers only. Booleans and strings are never numbers here (YAML reads ``true``
    and ``"5"`` as such). The range is appended to ``description``.
    """
    text = f"{description} Range: {range_text(lo, hi, above=above)}."
    limits: dict[str, Any] = {"gt": lo} if above else {"ge": lo}
    if integer:
        return Field(default, strict=True, le=int(hi), description=text, **limits)
    return Field(default, strict=True, allow_inf_nan=False, le=hi, description=text, **limits)


def real(lo: float, hi: float) -> Any:
    """The metadata of a finite float in ``[lo, hi]``, for ``Annotated[float, real(...)]``."""
    return Field(strict=True, allow_inf_nan=False, ge=lo, le=hi)


Latitude = Annotated[Real, real(-90, 90)]
"""Decimal degrees, -90..90."""
Longitude = Annotated[Real, real(-180, 180)]
"""Decimal degrees, -180..180."""


def _lat_lon_pair(value: Any) -> Any:
    """A place written as a site's position is, ``{lat: -1.58, lon: 30.07}``, is the pair
    ``[lat, lon]``: the mapping was refused as "not a valid tuple"."""
    if isinstance(value, dict) and set(value) == {"lat", "lon"}:
        return (value["lat"], value["lon"])
    return value


LatLon = Annotated[tuple[Latitude, Longitude], BeforeValidator(_lat_lon_pair)]
"""A ``[lat, lon]`` pair in decimal degrees (or ``{lat: .., lon: ..}``)."""
Count = Annotated[int, BeforeValidator(_plain_number), Field(strict=True, ge=0, le=MAX_COUNT)]
"""A whole number 0..10,000,000 (a population by category, a count)."""
