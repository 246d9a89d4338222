"""Probability distributions usable wherever a scenario field takes a duration or rate.

A field typed ``Dist`` accepts a plain number (a constant) or a mapping with a
``dist`` key. Units are those of the field that holds the distribution. Every
number is finite and within 0..1,000,000, so a draw can neither overflow nor be
infinite.
Normal draws are truncated at zero (negative durations make no sense).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.common.numbers import MAX_DIST_VALUE, Real, bounded, real


class _DistBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Constant(_DistBase):
    """Always the same value."""

    dist: Literal["constant"]
    value: Real = bounded(0, MAX_DIST_VALUE, "The value, in the field's unit.")


class Exponential(_DistBase):
    """Exponential with the given mean (memoryless: repair times, storm gaps)."""

    dist: Literal["exponential"]
    mean: Real = bounded(0, MAX_DIST_VALUE, "Mean, in the field's unit.", above=True)


class Lognormal(_DistBase):
    """Lognormal parameterised by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: Real = bounded(0, MAX_DIST_VALUE, "Mean, in the field's unit.", above=True)
    cv: Real = bounded(0, 10, "Coefficient of variation (sd / mean).")


class Triangular(_DistBase):
    """Triangular between low and high with the given mode."""

    dist: Literal["triangular"]
    low: Real = bounded(0, MAX_DIST_VALUE, "Smallest value, in the field's unit.")
    mode: Real = bounded(0, MAX_DIST_VALUE, "Most likely value, in the field's unit.")
    high: Real = bounded(0, MAX_DIST_VALUE, "Largest value, in the field's unit.")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("triangular needs low <= mode <= high")
        return self


class Uniform(_DistBase):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: Real = bounded(0, MAX_DIST_VALUE, "Smallest value, in the field's unit.")
    high: Real = bounded(0, MAX_DIST_VALUE, "Largest value, in the field's unit.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError("uniform needs low <= high")
        return self


class Normal(_DistBase):
    """Normal with mean and standard deviation, truncated at zero."""

    dist: Literal["normal"]
    mean: Real = bounded(0, MAX_DIST_VALUE, "Mean, in the field's unit.")
    sd: Real = bounded(0, MAX_DIST_VALUE, "Standard deviation, in the field's unit.")


DistModel = Annotated[
    Union[Constant, Exponential, Lognormal, Triangular, Uniform, Normal],  # noqa: UP007
    Field(discriminator="dist"),
]
Dist = Annotated[Real, real(0, MAX_DIST_VALUE)] | DistModel
"""A constant (a plain number 0..1,000,000 in the field's unit) or a distribution mapping
whose numbers are finite and in the same range."""


def sample(d: Dist, rng: np.random.Generator) -> float:
    """One draw of ``d`` from ``rng``. Constants consume no random numbers."""
    if isinstance(d, (int, float)):
        return float(d)
    if isinstance(d, Constant):
        return d.value
    if isinstance(d, Exponential):
        return float(rng.exponential(d.mean))
    if isinstance(d, Lognormal):
        if d.cv == 0:
            return d.mean
        s2 = math.log1p(d.cv * d.cv)
        return float(rng.lognormal(math.log(d.mean) - s2 / 2, math.sqrt(s2)))
    if isinstance(d, Triangular):
        if d.low == d.high:
            return d.low
        return float(rng.triangular(d.low, d.mode, d.high))
    if isinstance(d, Uniform):
        return float(rng.uniform(d.low, d.high))
    return max(0.0, float(rng.normal(d.mean, d.sd)))


def sample_many(d: Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent draws of ``d`` as a float array."""
    if isinstance(d, (int, float)):
        return np.full(n, float(d))
    if isinstance(d, Constant):
        return np.full(n, d.value)
    if isinstance(d, Exponential):
        return rng.exponential(d.mean, n)
    if isinstance(d, Lognormal):
        if d.cv == 0:
            return np.full(n, d.mean)
        s2 = math.log1p(d.cv * d.cv)
        return rng.lognormal(math.log(d.mean) - s2 / 2, math.sqrt(s2), n)
    if isinstance(d, Triangular):
        if d.low == d.high:
            return np.full(n, d.low)
        return rng.triangular(d.low, d.mode, d.high, n)
    if isinstance(d, Uniform):
        return rng.uniform(d.low, d.high, n)
    return np.maximum(0.0, rng.normal(d.mean, d.sd, n))
