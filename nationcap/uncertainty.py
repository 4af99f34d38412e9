"""Monte Carlo uncertainty: the ``[montecarlo]`` table of a scenario file and its draws.

Two inputs are uncertain, each drawn once per draw and *group* (a market, a sector, or one
common value), and applied to a copy of the validated dataset tables before the model is built:

``bau_growth``
    An annual growth-rate deviation ``g``. BAU emissions of year ``y`` are multiplied by
    ``(1 + g) ** n`` with ``n = y - first model year + 1`` (the first model year already carries
    one year of deviation, since BAU is itself a projection). With ``process = "random_walk"``
    a new ``g`` is drawn every model year and the multiplier is the running product
    ``prod_{k <= y} (1 + g_k)``. MAC step quantities follow automatically (they are shares of
    BAU); allocations do not (they come from base-year emissions), so higher BAU tightens the
    cap.
``mac_cost``
    A multiplier ``k >= 0`` on every MAC step cost of the group (``cost_jpy_per_t * k``).

Scenario file::

    [montecarlo]
    draws = 100                 # default for --draws
    seed = 1                    # default for --seed

    [montecarlo.bau_growth]
    by = "market"               # "all" | "market" | "sector"
    distribution = "normal"     # normal(mean, sd) | uniform(low, high) | lognormal(mean, sd)
    mean = 0.0                  # per year
    sd = 0.01                   # per year
    process = "rate"            # "rate" (one g per draw) | "random_walk" (one g per year)

    [montecarlo.mac_cost]
    by = "sector"
    distribution = "lognormal"  # k = exp(N(mean, sd)): mean 0 gives a median multiplier of 1
    sd = 0.2

Distributions: ``normal`` -> ``mean + sd * z``; ``lognormal`` -> ``exp(mean + sd * z)`` (numpy's
convention: ``mean`` and ``sd`` of the logarithm); ``uniform`` -> ``low + (high - low) * u``.
Defaults: ``mean`` 0 except a normal ``mac_cost`` (mean 1). A normal ``mac_cost`` multiplier
below 0 is set to 0 (costs never change sign).

Determinism: draw ``i`` uses ``numpy.random.default_rng([seed, i])``; the BAU values are drawn
first, then the MAC values, each for the sorted group labels; so draw ``i`` is the same whatever
the number of draws, workers or the order in which they run.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from .config import Scenario
    from .data import Dataset


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Uncertain(_Strict):
    """One uncertain input: how it is grouped and distributed."""

    by: Literal["all", "market", "sector"] = Field(
        "all", description="one draw per market, per sector, or one in common"
    )
    distribution: Literal["normal", "lognormal", "uniform"] = "normal"
    mean: float | None = Field(None, description="normal: mean; lognormal: mean of the logarithm")
    sd: float | None = Field(None, ge=0.0, description="normal: standard deviation; lognormal: sd of the logarithm")
    low: float | None = Field(None, description="uniform: lower bound")
    high: float | None = Field(None, description="uniform: upper bound")
    process: Literal["rate", "random_walk"] = Field(
        "rate", description="bau_growth only: one rate per draw, or one per year (random walk)"
    )

    @model_validator(mode="after")
    def _parameters(self) -> Uncertain:
        if self.distribution in ("normal", "lognormal"):
            if self.sd is None:
                raise ValueError(f"distribution '{self.distribution}' needs 'sd'")
            if self.low is not None or self.high is not None:
                raise ValueError(f"'low'/'high' belong to distribution 'uniform', not '{self.distribution}'")
        else:
            if self.low is None or self.high is None:
                raise ValueError("distribution 'uniform' needs 'low' and 'high'")
            if self.high < self.low:
                raise ValueError(f"'high' ({self.high}) is below 'low' ({self.low})")
            if self.mean is not None or self.sd is not None:
                raise ValueError("'mean'/'sd' do not apply to distribution 'uniform'")
        return self

    def transform(self, z: np.ndarray, u: np.ndarray, default_mean: float) -> np.ndarray:
        """Values from standard normals ``z`` and uniforms ``u`` (both always drawn)."""
        mean = default_mean if self.mean is None else self.mean
        if self.distribution == "normal":
            return mean + self.sd * z
        if self.distribution == "lognormal":
            return np.exp((0.0 if self.mean is None else self.mean) + self.sd * z)
        return self.low + (self.high - self.low) * u


class MonteCarloSpec(_Strict):
    """The ``[montecarlo]`` table."""

    draws: int | None = Field(None, ge=1, description="default number of draws (--draws overrides)")
    seed: int | None = Field(None, ge=0, description="default seed (--seed overrides)")
    bau_growth: Uncertain | None = None
    mac_cost: Uncertain | None = None

    @model_validator(mode="after")
    def _something(self) -> MonteCarloSpec:
        if self.bau_growth is None and self.mac_cost is None:
            raise ValueError("declare at least one of [montecarlo.bau_growth] or [montecarlo.mac_cost]")
        if self.bau_growth is not None and self.bau_growth.distribution == "lognormal":
            raise ValueError("bau_growth is a growth rate: use distribution 'normal' or 'uniform'")
        if self.mac_cost is not None and self.mac_cost.process != "rate":
            raise ValueError("'process' applies to bau_growth only")
        if self.mac_cost is not None and self.mac_cost.distribution == "uniform" and self.mac_cost.low < 0:
            raise ValueError("mac_cost multipliers must be >= 0: 'low' must not be negative")
        return self

    def uncertain_json(self) -> str:
        """The distributions only (not draws/seed): part of each draw's cache key."""
        return json.dumps(self.model_dump(mode="json", exclude={"draws", "seed"}), sort_keys=True)


def parse_montecarlo(table: dict[str, Any], fname: str) -> MonteCarloSpec:
    try:
        return MonteCarloSpec.model_validate(table)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(["montecarlo", *(str(x) for x in err["loc"])])
            msg = "unknown key (a typo?)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(Problem(fname, f"key '{key}'", "", msg))
        raise InputError(problems, "scenario") from None


def group_labels(by: str, scn: Scenario, ds: Dataset) -> list[str]:
    if by == "all":
        return ["all"]
    if by == "market":
        return list(scn.markets)
    return sorted(set(ds.entities["sector"].astype(str)))


def _entity_groups(by: str, ds: Dataset, labels: list[str]) -> np.ndarray:
    """Group index of every entity (entities.csv order)."""
    if by == "all":
        return np.zeros(len(ds.entities), dtype=np.int64)
    col = ds.entities["market" if by == "market" else "sector"].astype(str)
    return pd.Index(labels).get_indexer(col)


@dataclasses.dataclass
class Draw:
    """The values of one draw: multipliers by group (and year for BAU)."""

    index: int
    bau_labels: list[str]
    bau_multiplier: np.ndarray  # (G_bau, Y), 1 where no BAU uncertainty
    mac_labels: list[str]
    mac_multiplier: np.ndarray  # (G_mac,)


def draw(spec: MonteCarloSpec, seed: int, index: int, scn: Scenario, ds: Dataset) -> Draw:
    """The values of draw ``index``; depends only on (spec, seed, index, group labels, years)."""
    rng = np.random.default_rng([int(seed), int(index)])
    years = np.array(scn.years)
    n = years - scn.first_year + 1
    bau_labels = group_labels(spec.bau_growth.by, scn, ds) if spec.bau_growth else ["all"]
    mac_labels = group_labels(spec.mac_cost.by, scn, ds) if spec.mac_cost else ["all"]
    bau = np.ones((len(bau_labels), len(years)))
    if spec.bau_growth is not None:
        u = spec.bau_growth
        shape = (len(bau_labels), len(years)) if u.process == "random_walk" else (len(bau_labels),)
        g = u.transform(rng.standard_normal(shape), rng.random(shape), default_mean=0.0)
        if np.any(g <= -1.0):
            raise ValueError("a BAU growth draw is -100% or less; lower bau_growth.sd")
        bau = np.cumprod(1.0 + g, axis=1) if u.process == "random_walk" else (1.0 + g)[:, None] ** n[None, :]
    mac = np.ones(len(mac_labels))
    if spec.mac_cost is not None:
        shape = (len(mac_labels),)
        mac = np.maximum(spec.mac_cost.transform(rng.standard_normal(shape), rng.random(shape), default_mean=1.0), 0.0)
    return Draw(index, bau_labels, bau, mac_labels, mac)


def apply_draw(spec: MonteCarloSpec, d: Draw, scn: Scenario, ds: Dataset) -> Dataset:
    """A copy of ``ds`` with BAU and MAC costs multiplied by the draw (the original is untouched)."""
    bau = ds.bau.copy()
    mac = ds.mac.copy()
    if spec.bau_growth is not None:
        eg = pd.Series(_entity_groups(spec.bau_growth.by, ds, d.bau_labels), index=ds.entities.index)
        g = eg.reindex(bau["entity_id"]).to_numpy()
        yi = pd.Index(scn.years).get_indexer(bau["year"])
        mult = np.ones(len(bau))
        inside = yi >= 0  # rows for years outside the model horizon are not used by the model
        mult[inside] = d.bau_multiplier[g[inside], yi[inside]]
        bau["bau_emissions_t"] = bau["bau_emissions_t"].to_numpy(dtype=float) * mult
    if spec.mac_cost is not None:
        eg = pd.Series(_entity_groups(spec.mac_cost.by, ds, d.mac_labels), index=ds.entities.index)
        g = eg.reindex(mac["entity_id"]).to_numpy()
        mac["cost_jpy_per_t"] = mac["cost_jpy_per_t"].to_numpy(dtype=float) * d.mac_multiplier[g]
    return dataclasses.replace(ds, bau=bau, mac=mac)
