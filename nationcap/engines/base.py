"""What every engine provides and returns.

An engine solves the least-cost problem of a :class:`~nationcap.model.data.ModelData`:

``name``
    its name in ``[solver] engine`` and ``--engine``
``supports(md) -> list[str]``
    the settings of ``md`` it does not implement, in words (empty: it solves ``md`` exactly);
    this is the one place where an engine's scope is decided
``solve(md) -> SolveResult``
    values and duals by concept name (:mod:`nationcap.model.registry` and each rule's own), in
    t and JPY/t present value, whatever the engine's internals are

Engines raise :class:`~nationcap.errors.ModelError` for an infeasible or unbounded scenario and
:class:`UnsupportedError` when asked to solve what ``supports`` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError
from ..model.data import ModelData


class Status(StrEnum):
    """nationcap's own termination status (the solver's label is kept as ``detail``)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass
class SolveResult:
    """An engine's solution in engine-neutral terms.

    ``values[concept]`` is the flat array of a variable in its index order, in t;
    ``duals[concept]`` the flat array of a row's duals in JPY/t, present value at the first model
    year (sign as documented in :mod:`nationcap.results.prices`). ``timings`` holds the engine's
    own phases (``build``, ``solve``) in seconds.
    """

    status: Status
    objective_jpy: float
    solve_time_s: float
    values: dict[str, np.ndarray]
    duals: dict[str, np.ndarray]
    engine: str
    detail: str = ""  # the solver's own termination label
    info: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    name: str

    def supports(self, md: ModelData) -> list[str]: ...

    def solve(self, md: ModelData) -> SolveResult: ...


class UnsupportedError(ModelError):
    """The scenario uses a setting the chosen engine does not implement."""

    def __init__(self, engine: str, features: list[str]):
        self.engine = engine
        self.features = list(features)
        super().__init__(
            f"the {engine!r} engine does not implement every setting of this scenario; it also sets:\n  - "
            + "\n  - ".join(features)
            + '\nrun it with the Pyomo engine (--engine pyomo or [solver] engine = "pyomo", the default)'
        )


def require_support(engine: Engine, md: ModelData) -> None:
    """Raise :class:`UnsupportedError` naming every setting ``engine`` would otherwise ignore."""
    missing = engine.supports(md)
    if missing:
        raise UnsupportedError(engine.name, missing)
