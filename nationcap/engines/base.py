"""What every engine provides and returns.

An engine solves the least-cost problem of a :class:`~nationcap.model.data.ModelData`:

``name``
    its name in ``[solver] engine`` and ``--engine``
``supports(md) -> list[str]``
    the settings of ``md`` it does not implement, in words (empty: it solves ``md`` exactly);
    this is the one place where an engine's scope is decided
``solve(md, on_phase=None) -> SolveResult``
    values and duals by concept name (:mod:`nationcap.model.registry` and each rule's own), in
    t and JPY/t present value, whatever the engine's internals are; ``on_phase("solve")`` (when
    given) is called where the engine moves from building its model to solving it, so that a
    caller's progress report can tell the two apart

An engine may keep state between solves (a held Pyomo model, the merit order's sorted columns):
one engine object serves the many variants of one :class:`~nationcap.session.Session`. Support
(``supports``) and the pre-solve feasibility diagnosis are checked once per variant by the
session, not again inside ``solve``: call an engine through a session, or call
:func:`require_support` and :func:`nationcap.engines.feasibility.check_feasible` first.

Engines raise :class:`~nationcap.errors.ModelError` for an infeasible or unbounded scenario and
:class:`UnsupportedError` (an :class:`~nationcap.errors.InputError`: the choice of engine is the
user's to change) when asked to solve what ``supports`` refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InputError, Problem
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

    ``dual_low[concept]`` and ``dual_high[concept]`` (same shape and units as ``duals``) are the
    least and the greatest value each row's dual takes over the *whole* set of optimal duals:
    where a requirement lies exactly on the boundary between two abatement steps every price in
    between clears the market, and ``duals`` holds only the one the engine happened to find.
    Engines fill them for ``market_balance`` (the allowance prices); ``dual_high`` may be
    ``inf`` where one more tonne of requirement could not be met at all. Each end is a row's
    own: the lower ends of several rows need not be one joint dual solution. A concept missing
    from them has no interval (read ``duals`` as a point).
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
    dual_low: dict[str, np.ndarray] = field(default_factory=dict)
    dual_high: dict[str, np.ndarray] = field(default_factory=dict)


#: ``on_phase(phase)``: told by an engine when it starts a phase of its own (``"solve"``)
Phase = Callable[[str], None]


@runtime_checkable
class Engine(Protocol):
    name: str

    def supports(self, md: ModelData) -> list[str]: ...

    def solve(self, md: ModelData, on_phase: Phase | None = None) -> SolveResult: ...


class UnsupportedError(InputError):
    """The scenario uses a setting the chosen engine does not implement: a usage error (exit 2),
    reported as one problem per setting (scenario file, key, the value and the fix).

    ``features`` are the engine's ``supports`` answers; one of the form ``"KEY = VALUE ..."``
    (a dotted scenario key without spaces) is reported under that key.
    """

    def __init__(self, engine: str, features: list[str], source: str | None = None):
        self.engine = engine
        self.features = list(features)
        fix = (
            f"the {engine!r} engine does not implement it; remove it, or run with the Pyomo engine "
            '(--engine pyomo, or [solver] engine = "pyomo", the default)'
        )
        problems = []
        for text in self.features:
            key, sep, rest = text.partition(" = ")
            if sep and key and " " not in key:
                problems.append(Problem(source or "scenario", f"key '{key}'", "", f"set to {rest}: {fix}"))
            else:
                problems.append(Problem(source or "scenario", "", "", f"{text}: {fix}"))
        super().__init__(problems, f"scenario for the {engine!r} engine")


def require_support(engine: Engine, md: ModelData) -> None:
    """Raise :class:`UnsupportedError` naming every setting ``engine`` would otherwise ignore."""
    missing = engine.supports(md)
    if missing:
        raise UnsupportedError(engine.name, missing, md.scenario.source)
