"""Batch specifications in a scenario file: the ``[sweep]`` and ``[montecarlo]`` tables.

``[sweep]`` lists dotted keys with value lists (``mode = "grid"`` for their cartesian product,
``"zip"`` to pair them). ``[montecarlo]`` declares the uncertain inputs; how a draw is made from
it is :mod:`nationcap.derive.draws`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, Problem
from .messages import describe
from .overrides import _flatten


def parse_sweep_table(table: dict[str, Any], fname: str) -> tuple[dict[str, list[Any]], str]:
    """``[sweep]`` -> (params, mode); ``mode`` is "grid" (default) or "zip"."""
    problems = []
    unknown = set(table) - {"mode", "params"}
    for k in sorted(unknown):
        problems.append(
            Problem(fname, f"key 'sweep.{k}'", "", "unknown key (a typo?); [sweep] takes 'mode' and 'params'")
        )
    mode = table.get("mode", "grid")
    if mode not in ("grid", "zip"):
        problems.append(Problem(fname, "key 'sweep.mode'", "", f"must be 'grid' or 'zip', got {mode!r}"))
    params = table.get("params")
    if not isinstance(params, dict) or not params:
        problems.append(
            Problem(
                fname,
                "key 'sweep.params'",
                "",
                'give a table of dotted key = [values], e.g. { "discount_rate" = [0.02, 0.03] }',
            )
        )
        params = {}
    params = _flatten(params)
    for k, v in params.items():
        if not isinstance(v, list) or not v:
            problems.append(Problem(fname, f"key 'sweep.params.{k}'", "", "must be a non-empty list of values"))
    if problems:
        raise InputError(problems, "scenario")
    return params, mode


def expand(params: dict[str, list[Any]], mode: str) -> list[dict[str, Any]]:
    """Sweep points: the cartesian product of the value lists (grid) or their pairing (zip)."""
    keys = list(params)
    combos: Iterable[tuple[Any, ...]]
    if mode == "zip":
        lengths = {k: len(v) for k, v in params.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"zip needs value lists of equal length, got {lengths}")
        combos = zip(*params.values())
    elif mode == "grid":
        combos = itertools.product(*params.values())
    else:
        raise ValueError(f"mode must be 'grid' or 'zip', got {mode!r}")
    return [dict(zip(keys, c)) for c in combos]


class _Strict(BaseModel):
    """As the scenario schema's: unknown keys are errors and a number in quotes is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
            assert self.sd is not None  # the validator requires sd for normal and lognormal
            return mean + self.sd * z
        if self.distribution == "lognormal":
            assert self.sd is not None
            return np.exp((0.0 if self.mean is None else self.mean) + self.sd * z)
        assert self.low is not None and self.high is not None  # ... and low, high for uniform
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
        mac = self.mac_cost
        if mac is not None and mac.distribution == "uniform" and mac.low is not None and mac.low < 0:
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
            problems.append(Problem(fname, f"key '{key}'", "", describe(err, MonteCarloSpec)))
        raise InputError(problems, "scenario") from None
