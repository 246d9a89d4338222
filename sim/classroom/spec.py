"""The classroom exercise pack on disk: question-spec models, discovery, loading.

An exercise ``NN`` lives in ``scenarios/exercises/`` as three kinds of file:

* ``NN-slug.yaml`` (and optional variants ``NN-slug-*.yaml``): scenario files;
* ``NN-slug.md``: the worksheet students read;
* ``NN-slug.questions.yaml``: the machine-readable question spec. Files named
  ``*.questions.yaml`` are the only YAML files under ``scenarios/`` that are
  not scenarios.

A question says how its answer is computed from simulation results: a
*metric* (``sim.classroom.metrics``), the *seeds* it is run with, an
*aggregate* over those seeds, optional ``--set``-style overrides and an
optional *search* over a parameter's values. The models here validate a spec
(with file:line in errors); ``sim.classroom.exercises`` computes keys and grades.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.classroom.metrics import check_metric
from sim.scenario import shipped
from sim.scenario.loader import ScenarioError, read_yaml

SPEC_SUFFIX = ".questions.yaml"
SPEC_RE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.questions\.yaml$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tolerance(_Frozen):
    """An answer is right if within ``abs`` or within ``rel`` (a fraction) of the key."""

    abs: float = Field(default=0.0, ge=0, description="Absolute tolerance, in the question's unit.")
    rel: float = Field(default=0.0, ge=0, le=1, description="Relative tolerance (0.05 = 5 %).")

    def allows(self, key: float, answer: float) -> bool:
        """Whether ``answer`` is within tolerance of ``key``."""
        return abs(answer - key) <= max(self.abs, self.rel * abs(key)) + 1e-9

    def describe(self, unit: str) -> str:
        """The tolerance in words, as worksheets print it (e.g. ``± 0.1 days``)."""
        parts = []
        if self.abs:
            parts.append(f"± {self.abs:g} {unit}".rstrip())
        if self.rel:
            parts.append(f"± {self.rel * 100:g} %")
        return " or ".join(parts) if parts else "exact"


class Search(_Frozen):
    """Run the question once per value of a parameter and report a value, not a metric.

    ``pick: first``: the first value (in the order given) whose aggregated
    metric is at least ``at_least`` (an indicator metric averaged over seeds:
    1.0 means on every seed). ``argmin``/``argmax``: the value with the
    smallest/largest aggregate (ties: the first).
    """

    set: str = Field(description="Dotted path, as for --set (e.g. fleet.ch47.count).")
    values: list[float | str] = Field(min_length=1, max_length=30)
    pick: Literal["first", "argmin", "argmax"] = "first"
    at_least: float = Field(default=1.0, ge=0, le=1)


Aggregate = Literal["mean", "median", "min", "max", "std", "ci95_halfwidth", "replications_for",
                    "wilson95_low", "wilson95_high"]


class Question(_Frozen):
    """One graded question and how its answer is computed."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    text: str
    unit: str = ""
    answer: Literal["number", "choice"] = "number"
    metric: dict[str, Any] = Field(description="Expression over one run's results (see metric()).")
    seeds: list[int] | None = Field(default=None, description="Default: the exercise's seeds.")
    aggregate: Aggregate = "mean"
    halfwidth: float | None = Field(
        default=None, gt=0, description="Target CI half-width for aggregate replications_for."
    )
    scenario: str | None = Field(default=None, description="Scenario file; default the exercise's.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides, as for --set.")
    search: Search | None = None
    tolerance: Tolerance = Field(default_factory=Tolerance)
    hint: str = ""

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.aggregate == "replications_for" and self.halfwidth is None:
            raise ValueError("aggregate replications_for needs 'halfwidth'")
        check_metric(self.metric)
        names = "argmin_site" in self.metric or (
            self.search is not None and any(isinstance(v, str) for v in self.search.values)
        )
        if names and self.answer != "choice":
            raise ValueError("this question's answer is a name: set 'answer: choice'")
        return self


class Spec(_Frozen):
    """An exercise's question spec (``NN-slug.questions.yaml``)."""

    title: str
    level: str = ""
    summary: str = ""
    scenario: str
    worksheet: str
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=200)
    replications: int | None = Field(
        default=None, ge=2, le=200,
        description="Run the replications 'dtsim replicate -n N --seed master_seed' runs "
                    "(instead of 'seeds'), so that a student's replicate output reproduces the key.",
    )
    master_seed: int = Field(default=1, ge=0, description="Master seed of 'replications'.")
    questions: list[Question] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> Spec:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate question ids in {ids}")
        if self.replications is not None and "seeds" in self.model_fields_set:
            raise ValueError("give either 'seeds' or 'replications' (with 'master_seed'), not both")
        if self.replications is None and "master_seed" in self.model_fields_set:
            raise ValueError("'master_seed' needs 'replications'")
        return self

    @property
    def run_seeds(self) -> list[int]:
        """The run seeds of the exercise's questions.

        With ``replications: N`` these are the seeds of replications 0..N-1 of
        ``master_seed``, derived by ``sim.common.rng.replication_seed``, the rule
        ``dtsim replicate`` uses, so ``dtsim replicate -n N --seed master_seed``
        runs exactly the key's runs.
        """
        if self.replications is None:
            return list(self.seeds)
        from sim.common.rng import replication_seed

        return [replication_seed(self.master_seed, i) for i in range(self.replications)]


@dataclass(frozen=True)
class Exercise:
    """An exercise found on disk."""

    number: int
    slug: str
    folder: Path
    spec: Spec

    @property
    def scenario_path(self) -> Path:
        return self.folder / self.spec.scenario

    @property
    def worksheet_path(self) -> Path:
        return self.folder / self.spec.worksheet

    @property
    def spec_path(self) -> Path:
        return self.folder / f"{self.number:02d}-{self.slug}{SPEC_SUFFIX}"

    def question(self, qid: str) -> Question:
        """The question with id ``qid``."""
        return next(q for q in self.spec.questions if q.id == qid)


# ----- discovery -------------------------------------------------------------------------


def default_folder() -> Path:
    """``scenarios/exercises`` under the working directory, else the pack shipped with dtsim."""
    here = Path("scenarios/exercises")
    if here.is_dir():
        return here
    return shipped.shipped_folder() / "exercises"


def is_question_spec(path: Path) -> bool:
    """True for question-spec files, the only YAML under ``scenarios/`` that is not a scenario."""
    return path.name.endswith(SPEC_SUFFIX)


def discover(folder: Path | None = None) -> list[Exercise]:
    """All exercises in ``folder``, by number; a broken spec is a ScenarioError."""
    folder = folder or default_folder()
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: exercise folder not found"])
    out: list[Exercise] = []
    for path in sorted(folder.glob("*" + SPEC_SUFFIX)):
        m = SPEC_RE.match(path.name)
        if not m:
            raise ScenarioError([f"{path}: expected a name like 01-read-a-run{SPEC_SUFFIX}"])
        out.append(Exercise(int(m.group(1)), m.group(2), folder, load_spec(path)))
    return out


def load_spec(path: Path) -> Spec:
    """Read and validate a question spec, with file:line in errors."""
    from sim.scenario.loader import locate

    data = read_yaml(path)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            (fname, line), matched = locate(data, tuple(err["loc"]))
            lines.append(f"{fname}:{line}: {'.'.join(matched) or '(top level)'}: {err['msg']}")
        raise ScenarioError(lines) from None
    folder = path.parent
    for name in [spec.scenario, spec.worksheet] + [q.scenario for q in spec.questions if q.scenario]:
        if not (folder / name).exists():
            raise ScenarioError([f"{path}: {name}: file not found"])
    return spec


def find(ref: str, folder: Path | None = None) -> Exercise:
    """An exercise by number (``3`` or ``03``) or slug; unknown: ScenarioError listing them."""
    exercises = discover(folder)
    ref = ref.strip()
    for ex in exercises:
        if (ref.isdigit() and int(ref) == ex.number) or ref in (ex.slug, f"{ex.number:02d}-{ex.slug}"):
            return ex
    known = ", ".join(f"{ex.number} ({ex.slug})" for ex in exercises) or "none"
    raise ScenarioError(
        [f"unknown exercise {ref!r}; exercises are: {known} (see 'dtsim exercises list')"]
    )
