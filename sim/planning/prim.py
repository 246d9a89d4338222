"""PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999), for scenario discovery.

Given cases (input values ``x``, one row a run) and which of them are of
interest (``y``: the deadline was missed), PRIM finds a box, a range on a few
inputs, where the cases of interest concentrate. It starts from the box that
holds everything and peels: at each step it tries cutting off the lowest or the
highest ``alpha`` share of the cases still in the box along each input, and
keeps the cut that leaves the highest share of cases of interest inside
(density), until fewer than ``min_mass`` of all cases would remain. The
sequence of boxes is the peeling trajectory: coverage (the share of all cases
of interest inside the box) falls as density rises, and the analyst picks a box
on that trade-off (Bryant and Lempert 2010). Here the box picked is the densest
one that still holds at least ``min_coverage`` of the cases of interest.

Further boxes come from the cases outside the earlier boxes (covering), each
described by its coverage of all cases of interest and its density among the
cases it holds.

Written small, with numpy only, rather than depending on the ``prim`` package
(GPL, pulls in pandas and plotting libraries); the tests check it on data
with a known box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_ALPHA = 0.05
DEFAULT_MIN_MASS = 0.05
DEFAULT_MIN_COVERAGE = 0.5
MIN_EXTRA_COVERAGE = 0.1
"""Share of all cases of interest a second or later box must hold (else it describes a few
stragglers, not a region)."""
DENSITY_TOLERANCE = 0.02
"""Density (a share) a simpler box may give up: the tolerance of box choice and release."""


@dataclass
class Step:
    """One box on the peeling trajectory."""

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    mass: float
    n: int

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        return {"coverage": self.coverage, "density": self.density, "mass": self.mass,
                "n": self.n, "lower": dict(zip(names, map(float, self.lower), strict=True)),
                "upper": dict(zip(names, map(float, self.upper), strict=True))}


@dataclass
class Box:
    """A box chosen from a peeling trajectory, with that trajectory."""

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    mass: float
    n: int
    n_interest: int
    restricted: list[int]
    trajectory: list[Step] = field(default_factory=list)
    chosen: int = 0

    def contains(self, x: np.ndarray) -> np.ndarray:
        return np.all((x >= self.lower) & (x <= self.upper), axis=1)


def _inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.all((x >= lower) & (x <= upper), axis=1)


def peel(x: np.ndarray, y: np.ndarray, total_interest: int, n_all: int,
         alpha: float = DEFAULT_ALPHA, min_mass: float = DEFAULT_MIN_MASS) -> list[Step]:
    """The peeling trajectory over cases ``x`` (n x k) with interest ``y`` (0/1).

    ``total_interest`` and ``n_all`` are the cases of interest and all cases of
    the whole data set (coverage and mass are shares of them).
    """
    lower = x.min(axis=0).astype(float)
    upper = x.max(axis=0).astype(float)
    inside = np.ones(len(x), dtype=bool)

    def step() -> Step:
        yi = y[inside]
        return Step(lower.copy(), upper.copy(),
                    coverage=float(yi.sum() / total_interest) if total_interest else 0.0,
                    density=float(yi.mean()) if len(yi) else 0.0,
                    mass=float(inside.sum() / n_all), n=int(inside.sum()))

    trajectory = [step()]
    while True:
        best: tuple[float, int, int, float, np.ndarray] | None = None
        xs = x[inside]
        for j in range(x.shape[1]):
            col = xs[:, j]
            lo_cut = float(np.quantile(col, alpha))
            hi_cut = float(np.quantile(col, 1 - alpha))
            # a cut that removes nothing (ties at the edge) removes the edge value instead
            for side, cut in ((0, lo_cut), (1, hi_cut)):
                keep = col > cut if side == 0 else col < cut
                if keep.all():
                    edge = col.min() if side == 0 else col.max()
                    keep = col != edge
                if keep.sum() == 0 or keep.all():
                    continue
                if keep.sum() < min_mass * n_all:
                    continue
                dens = float(y[inside][keep].mean())
                if best is None or dens > best[0] + 1e-12 or (
                        abs(dens - best[0]) <= 1e-12 and keep.sum() > best[4].sum()):
                    best = (dens, j, side, cut, keep)
        if best is None:
            break
        _, j, side, _, keep = best
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        kept = x[inside, j]
        if side == 0:
            lower[j] = float(kept.min())
        else:
            upper[j] = float(kept.max())
        trajectory.append(step())
    return trajectory


def choose(trajectory: Sequence[Step], min_coverage: float = DEFAULT_MIN_COVERAGE,
           tolerance: float = DENSITY_TOLERANCE) -> int:
    """The first box within ``tolerance`` of the best density among those that keep at least
    ``min_coverage`` (else the first box): the last few peels of a trajectory buy a point
    or two of density with a lot of coverage, and chase noise."""
    ok = [i for i, s in enumerate(trajectory) if s.coverage >= min_coverage - 1e-12]
    if not ok:
        return 0
    best = max(trajectory[i].density for i in ok)
    return next(i for i in ok if trajectory[i].density >= best - tolerance)


def release(x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray,
            full_lo: np.ndarray, full_hi: np.ndarray,
            tolerance: float = DENSITY_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """Drop each limit whose removal costs less than ``tolerance`` of density (a limit that
    only trims a few cases says nothing); the cheapest first, one at a time."""
    lower, upper = lower.copy(), upper.copy()
    while True:
        inside = _inside(x, lower, upper)
        dens = float(y[inside].mean()) if inside.any() else 0.0
        best: tuple[float, int, int] | None = None
        for j in range(x.shape[1]):
            for side in (0, 1):
                lo, hi = lower.copy(), upper.copy()
                if side == 0 and lo[j] > full_lo[j]:
                    lo[j] = full_lo[j]
                elif side == 1 and hi[j] < full_hi[j]:
                    hi[j] = full_hi[j]
                else:
                    continue
                ins = _inside(x, lo, hi)
                loss = dens - float(y[ins].mean())
                if loss < tolerance and (best is None or loss < best[0]):
                    best = (loss, j, side)
        if best is None:
            return lower, upper
        _, j, side = best
        if side == 0:
            lower[j] = full_lo[j]
        else:
            upper[j] = full_hi[j]


def find_boxes(x: np.ndarray, y: np.ndarray, *, max_boxes: int = 2,
               alpha: float = DEFAULT_ALPHA, min_mass: float = DEFAULT_MIN_MASS,
               min_coverage: float = DEFAULT_MIN_COVERAGE) -> list[Box]:
    """Up to ``max_boxes`` boxes by covering: each from the cases outside the earlier ones.

    A box is kept only if it is denser than the cases it was found in (it says
    something the base rate does not) and, after the first, holds at least
    ``MIN_EXTRA_COVERAGE`` of all cases of interest.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError("x must be (cases x inputs) and y one value a case")
    total = int(y.sum())
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    boxes: list[Box] = []
    remaining = np.ones(len(x), dtype=bool)
    for _ in range(max_boxes):
        xr, yr = x[remaining], y[remaining]
        if total == 0 or yr.sum() == 0 or len(xr) < 2:
            break
        traj = peel(xr, yr, total, len(x), alpha, min_mass)
        i = choose(traj, min_coverage if not boxes else 0.0)
        s = traj[i]
        if i == 0 or s.density <= traj[0].density + 1e-12:
            break
        # an input this box never peeled spans its whole range, not just the remaining cases'
        lower = np.where(s.lower > traj[0].lower, s.lower, full_lo)
        upper = np.where(s.upper < traj[0].upper, s.upper, full_hi)
        lower, upper = release(xr, yr, lower, upper, full_lo, full_hi)
        inside = _inside(xr, lower, upper)
        s = Step(lower, upper, coverage=float(yr[inside].sum() / total),
                 density=float(yr[inside].mean()), mass=float(inside.sum() / len(x)),
                 n=int(inside.sum()))
        restricted = [j for j in range(x.shape[1])
                      if lower[j] > full_lo[j] or upper[j] < full_hi[j]]
        if not restricted or s.density <= traj[0].density + DENSITY_TOLERANCE:
            break
        if boxes and s.coverage < MIN_EXTRA_COVERAGE:
            break
        box = Box(lower=lower, upper=upper, coverage=s.coverage, density=s.density,
                  mass=s.mass, n=s.n, n_interest=int(round(s.density * s.n)),
                  restricted=restricted, trajectory=traj, chosen=i)
        boxes.append(box)
        remaining &= ~_inside(x, lower, upper)
    return boxes
