"""Probability distributions usable wherever a scenario field takes a duration or rate.

A field typed ``Dist`` accepts a plain number (a constant) or a mapping with a
``dist`` key. Units are those of the field that holds the distribution. Every
number is finite and within 0..1,000,000, so a draw can neither overflow nor be
infinite.
Normal draws are truncated at zero (negative durations make no sense).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Any, Literal, Union

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

    @cached_property
    def log_params(self) -> tuple[float, float]:
        """The mean and standard deviation of the underlying normal (of the log of a draw),
        worked out on the first draw and kept with the distribution: a run draws from the
        same few distributions thousands of times, and the logarithms and root were a
        third of a single draw's time. Not a field: equality, hashing and dumps ignore it.
        """
        s2 = math.log1p(self.cv * self.cv)
        return math.log(self.mean) - s2 / 2, math.sqrt(s2)


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


# ----- drawing -------------------------------------------------------------------------
# One function per distribution, found by the exact class of the value: pydantic's model
# classes answer ``isinstance`` through a Python-level ``__instancecheck__`` (about half a
# microsecond each), and a chain of them cost more than the draw itself for the later
# distributions. Subclasses and other kinds of numbers go through the ``isinstance``
# chain, in the same order as before, so every value draws exactly what it drew.


def _one_constant(d: Constant, rng: np.random.Generator) -> float:
    return d.value


def _one_exponential(d: Exponential, rng: np.random.Generator) -> float:
    return float(rng.exponential(d.mean))


def _one_lognormal(d: Lognormal, rng: np.random.Generator) -> float:
    if d.cv == 0:
        return d.mean
    mu, sigma = d.log_params
    return float(rng.lognormal(mu, sigma))


def _one_triangular(d: Triangular, rng: np.random.Generator) -> float:
    if d.low == d.high:
        return d.low
    return float(rng.triangular(d.low, d.mode, d.high))


def _one_uniform(d: Uniform, rng: np.random.Generator) -> float:
    return float(rng.uniform(d.low, d.high))


def _one_normal(d: Normal, rng: np.random.Generator) -> float:
    return max(0.0, float(rng.normal(d.mean, d.sd)))


def _many_constant(d: Constant, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.full(n, d.value)


def _many_exponential(d: Exponential, rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.exponential(d.mean, n)


def _many_lognormal(d: Lognormal, rng: np.random.Generator, n: int) -> np.ndarray:
    if d.cv == 0:
        return np.full(n, d.mean)
    mu, sigma = d.log_params
    return rng.lognormal(mu, sigma, n)


def _many_triangular(d: Triangular, rng: np.random.Generator, n: int) -> np.ndarray:
    if d.low == d.high:
        return np.full(n, d.low)
    return rng.triangular(d.low, d.mode, d.high, n)


def _many_uniform(d: Uniform, rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(d.low, d.high, n)


def _many_normal(d: Normal, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.maximum(0.0, rng.normal(d.mean, d.sd, n))


#: By distribution class, in the order the ``isinstance`` chain tries them (normal last).
_ONE: dict[type, Callable[[Any, np.random.Generator], float]] = {
    Constant: _one_constant, Exponential: _one_exponential, Lognormal: _one_lognormal,
    Triangular: _one_triangular, Uniform: _one_uniform, Normal: _one_normal,
}
_MANY: dict[type, Callable[[Any, np.random.Generator, int], np.ndarray]] = {
    Constant: _many_constant, Exponential: _many_exponential, Lognormal: _many_lognormal,
    Triangular: _many_triangular, Uniform: _many_uniform, Normal: _many_normal,
}


def _first_kind(d: object) -> type:
    """The first of the distribution classes ``d`` is an instance of (``Normal`` if none):
    the chain of ``isinstance`` tests, for subclasses."""
    for kind in _ONE:
        if isinstance(d, kind):
            return kind
    return Normal


def sample(d: Dist, rng: np.random.Generator) -> float:
    """One draw of ``d`` from ``rng``. Constants consume no random numbers."""
    kind = type(d)
    if kind is float or kind is int:
        return float(d)  # type: ignore[arg-type]
    one = _ONE.get(kind)
    if one is not None:
        return one(d, rng)
    if isinstance(d, (int, float)):
        return float(d)
    return _ONE[_first_kind(d)](d, rng)


def sample_many(d: Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent draws of ``d`` as a float array."""
    kind = type(d)
    if kind is float or kind is int:
        return np.full(n, float(d))  # type: ignore[arg-type]
    many = _MANY.get(kind)
    if many is not None:
        return many(d, rng, n)
    if isinstance(d, (int, float)):
        return np.full(n, float(d))
    return _MANY[_first_kind(d)](d, rng, n)
