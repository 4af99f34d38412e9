"""A session: one loaded scenario, its engine, and the many variants solved from it.

    >>> from nationcap.session import Session
    >>> s = Session.open("models/tiny.toml")                              # doctest: +SKIP
    >>> base = s.solve().results                                          # doctest: +SKIP
    >>> tight = s.solve(["markets.regional.compliance_factor.P2.general=0.3"])  # doctest: +SKIP

A :class:`Session` holds the validated scenario, its dataset tables, the prepared model data of
the scenario as loaded, and one engine that may keep state between solves (a held Pyomo model,
the merit order's sorted columns). Every caller that solves goes through it: ``nationcap run``
(:func:`nationcap.pipeline.run_scenario`), sweep points and Monte Carlo draws
(:mod:`nationcap.batch.worker`) and ``nationcap bench``. What it offers:

:meth:`Session.solve`
    the scenario as loaded, or a variant given as ``--set``-style overrides or as a scenario
:meth:`Session.solve_draw`
    a Monte Carlo draw: changed BAU and MAC cost arrays (on engines that re-solve arrays in
    place, without preparing the tables again), or the drawn tables
:meth:`Session.in_place`
    whether a variant can be re-solved in place of the model the engine holds, or why it needs a
    rebuild (:mod:`nationcap.model.variants`)

The chain for each variant, with the checks run once, here and nowhere else::

    scenario ─prepare─▶ ModelData ─require_support, check_feasible─▶ engine.solve ─▶ SolveResult
             ─build_results─▶ results Dataset

Progress. ``solve`` and ``solve_draw`` take an optional ``progress(event, elapsed_s)``
callback, called as each phase starts (``event`` is the phase name: ``"load"``, ``"build"``,
``"solve"``, ``"extract"``) and ends (``"<phase> done"``), with the seconds since the run started.
The engine is handed a function to call when it moves from building its model to solving it, so
``build`` covers the Pyomo model and ``solve`` the solver. Phase timings (seconds) are recorded in
the results' ``timings_s`` attribute: ``load`` (on the first solve of a session opened from a
file), ``build``, ``solve`` and ``extract``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .config import MonteCarloSpec, Scenario, load_scenario, scenario_from_dict
from .config.loading import read_scenario_file
from .derive.draws import Draw, apply_draw, entity_groups, entity_multipliers, group_labels
from .derive.scope import Scope
from .derive.scope import resolve as resolve_scope
from .engines import Engine, SolveResult, get_engine, require_support
from .engines.feasibility import check_feasible
from .engines.foresight import rolling, solve_rolling
from .errors import NationcapError
from .inputs.tables import Dataset, load_dataset
from .model import ModelData, prepare
from .model.prepare import perturb, reallocate
from .model.variants import in_place_reason, structure_key
from .results.build import build_results

#: ``progress(event, elapsed_s)``: see the module doc
Progress = Callable[[str, float], None]


@dataclass
class Run:
    """Everything one solve of a session made (``results`` is what a user keeps)."""

    model_data: ModelData
    solution: SolveResult
    results: xr.Dataset
    timings: dict[str, float] = field(default_factory=dict)


class _Phases:
    """Reports phase starts and ends to a progress callback (a no-op without one)."""

    def __init__(self, progress: Progress | None, t_start: float):
        self.progress = progress
        self.t_start = t_start
        self.current: str | None = None

    def start(self, phase: str) -> None:
        """End the current phase (if any) and start ``phase``."""
        self.end()
        self.current = phase
        if self.progress is not None:
            self.progress(phase, time.perf_counter() - self.t_start)

    def end(self) -> None:
        if self.current is not None and self.progress is not None:
            self.progress(f"{self.current} done", time.perf_counter() - self.t_start)
        self.current = None


class Session:
    """One loaded scenario, its tables and engine; solves the scenario and its variants.

    ``engine`` is an engine name (``"pyomo"``: the LP with HiGHS, the reference; ``"fast"``: the
    exact merit-order engine), an :class:`~nationcap.engines.base.Engine`, or None for the
    scenario's ``[solver] engine``. With ``hold``, an engine that can (the Pyomo engine) keeps its
    model between solves and re-solves in place the variants :meth:`in_place` allows. ``dataset``
    reuses tables already loaded for this scenario's inputs.
    """

    def __init__(
        self,
        scenario: Scenario,
        dataset: Dataset | None = None,
        engine: Engine | str | None = None,
        *,
        hold: bool = False,
        log_file: str | None = None,
        raw: dict[str, Any] | None = None,
    ):
        self.scenario = scenario
        self.dataset = dataset if dataset is not None else load_dataset(scenario.inputs_path, scenario)
        self.hold = hold
        self.log_file = log_file
        if engine is None or isinstance(engine, str):
            engine = get_engine(engine or scenario.solver.engine, log_file=log_file, hold=hold)
        self.engine: Engine = engine
        #: the scenario as a dict (as read from TOML), to which variants' overrides are applied
        self.raw = raw if raw is not None else scenario.model_dump(mode="json")
        self._md: ModelData | None = None
        self._scope: Scope | None = None
        self._load_s: float | None = None  # reported by the first solve of a session opened from a file
        self._t_open: float | None = None
        self._structure_key: str | None = None
        self._draws: tuple[str, np.ndarray] | None = None  # (draw setup key, covered entity positions)
        self._no_base = False  # the scenario as loaded failed to prepare (variants are prepared on their own)

    # -- making one ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        scenario: Scenario | str | Path,
        overrides: Iterable[str] = (),
        engine: Engine | str | None = None,
        *,
        dataset: Dataset | None = None,
        hold: bool = False,
        log_file: str | None = None,
        progress: Progress | None = None,
    ) -> Session:
        """Read, override and validate a scenario file (or take a scenario as given) and load its
        dataset, unless ``dataset`` gives the tables already loaded: the ``load`` phase, which the
        session's first solve reports."""
        t0 = time.perf_counter()
        phases = _Phases(progress, t0)
        phases.start("load")
        raw = None
        if isinstance(scenario, Scenario):
            scn = scenario
        else:
            scn = load_scenario(scenario, tuple(overrides))
            if not tuple(overrides):
                raw = read_scenario_file(scenario)[0]
        session = cls(scn, dataset, engine, hold=hold, log_file=log_file, raw=raw)
        phases.end()
        session._t_open, session._load_s = t0, time.perf_counter() - t0
        return session

    def set_log_file(self, log_file: str | None) -> None:
        """Where the engine writes its solver log from now on (a batch member's own log)."""
        self.log_file = log_file
        if hasattr(self.engine, "log_file"):
            self.engine.log_file = log_file

    # -- variants --------------------------------------------------------------------------
    def variant(self, overrides: Iterable[str] | Scenario) -> Scenario:
        """The validated scenario of a variant: ``--set``-style overrides of the scenario as loaded
        (``["markets.regional.compliance_factor.P2.general=0.2"]``), or a scenario as given."""
        if isinstance(overrides, Scenario):
            return overrides
        return scenario_from_dict(copy.deepcopy(self.raw), source=self.scenario.source, overrides=tuple(overrides))

    def in_place(self, variant: Iterable[str] | Scenario) -> str | None:
        """None if the held model can be re-solved in place for ``variant``, else why it must be
        rebuilt (another structure than the scenario as loaded, a rule whose parameters depend on
        the allocation, or an engine that holds no model)."""
        scn = self.variant(variant)
        if not getattr(self.engine, "hold", False):
            return f"the {self.engine.name!r} engine holds no model (hold=False)"
        why = in_place_reason(scn)
        if why is None and structure_key(scn) != self._structure():
            why = "the variant changes more than the allocation keys (compliance factors, top-level multipliers)"
        return why

    @property
    def model_data(self) -> ModelData:
        """The prepared model data of the scenario as loaded (made on first use)."""
        if self._md is None:
            self._md = self.prepare(self.scenario)
        return self._md

    def prepare(self, scn: Scenario, dataset: Dataset | None = None) -> ModelData:
        """Model data of ``scn`` on the session's tables (or ``dataset``, drawn tables). Variants
        with the same selections share the resolved scope, so a held model can be re-used. A
        variant of the scenario as loaded that changes only the allocation keys is made from the
        prepared model data (:func:`nationcap.model.prepare.reallocate`: the allocations and the
        allocation-dependent rules again, nothing read or sorted again), which equals preparing
        it from the tables bit for bit; the scenario as loaded is prepared for it first if it was not
        yet (the explorer's and a sweep's first variant), once."""
        base = self._md
        same = dataset is None and self._structure() == structure_key(scn)
        if base is None and same and not self._no_base and scn is not self.scenario:
            try:
                base = self.model_data
            except NationcapError:  # the scenario as loaded does not prepare: each variant on its own
                self._no_base = True
        if same and base is not None:
            md = reallocate(base, resolve_scope(scn, self.dataset, base.scope))
        else:
            md = prepare(scn, self.dataset if dataset is None else dataset, previous=self._scope)
        if dataset is None:
            self._scope = md.scope
        return md

    def _structure(self) -> str:
        """The structure key of the scenario as loaded (:func:`nationcap.model.variants.structure_key`)."""
        if self._structure_key is None:
            self._structure_key = structure_key(self.scenario)
        return self._structure_key

    # -- solving ---------------------------------------------------------------------------
    def solve(
        self,
        variant: Iterable[str] | Scenario | None = None,
        *,
        progress: Progress | None = None,
        detail: str = "full",
        mac_curve: bool = True,
    ) -> Run:
        """Solve the scenario as loaded (``variant`` None) or a variant; ``detail`` and
        ``mac_curve`` choose how much the results hold
        (:func:`nationcap.results.build.build_results`: batch members keep no per-entity variables)."""
        t_start, timings = self._start()
        phases = _Phases(progress, t_start)
        phases.start("build")
        t = time.perf_counter()
        if variant is None:
            md = self.model_data
        else:
            scn = self.variant(variant)
            md = self.model_data if scn is self.scenario else self.prepare(scn)
        timings["prepare"] = time.perf_counter() - t
        return self._solve(md, phases, timings, t_start, detail, mac_curve)

    def solve_model_data(
        self, md: ModelData, *, progress: Progress | None = None, detail: str = "full", mac_curve: bool = True
    ) -> Run:
        """Solve model data prepared (and possibly changed) by the caller."""
        t_start, timings = self._start()
        phases = _Phases(progress, t_start)
        phases.start("build")
        return self._solve(md, phases, timings, t_start, detail, mac_curve)

    def solve_draw(self, spec: MonteCarloSpec, d: Draw, *, detail: str = "market", mac_curve: bool = False) -> Run:
        """A Monte Carlo draw ``d`` of ``spec`` on the scenario as loaded.

        On an engine that re-solves changed arrays in place (the merit-order engine keeps each
        market's columns sorted by the groups whose costs a draw scales), the draw multiplies the
        arrays of the prepared model data (:func:`nationcap.model.prepare.perturb`) and nothing
        is read or prepared again; otherwise the drawn tables are prepared
        (:func:`nationcap.derive.draws.apply_draw`). The draw's values are applied to every entity
        of the dataset, covered or not.
        """
        scn, ds = self.scenario, self.dataset
        if "cost_groups" not in _engine_options(self.engine):
            return self.solve_model_data(
                self.prepare(scn, apply_draw(spec, d, scn, ds)), detail=detail, mac_curve=mac_curve
            )
        covered = self._draw_setup(spec)
        bau, mac = entity_multipliers(spec, d, ds, scn)
        return self.solve_model_data(
            perturb(self.model_data, bau[covered], mac[covered]), detail=detail, mac_curve=mac_curve
        )

    def _draw_setup(self, spec: MonteCarloSpec) -> np.ndarray:
        """Make the engine keep the columns sorted by the groups whose costs ``spec``'s draws scale
        (solving the scenario as loaded once, so that every draw starts from the same order
        whatever was solved before: draws stay independent of workers and order); returns the
        positions of the model's entities among the dataset's."""
        by = spec.mac_cost.by if spec.mac_cost else "all"
        if self._draws is None or self._draws[0] != by:
            scn, ds, base = self.scenario, self.dataset, self.model_data
            groups = group_labels(spec.mac_cost.by, scn, ds) if spec.mac_cost else ["all"]
            covered = base.scope.entity_index if base.scope is not None else np.arange(base.n_entities)
            col_group = entity_groups(by, ds, groups, scn)[covered][base.col_entity]
            self.engine = get_engine(self.engine.name, log_file=self.log_file, hold=self.hold, cost_groups=col_group)
            self.engine.solve(base)
            self._draws = (by, covered)
        return self._draws[1]

    def solution(self, md: ModelData, on_phase: Callable[[str], None] | None = None) -> SolveResult:
        """The engine's solution of ``md`` without results: support and feasibility checked, and
        a rolling horizon solved window by window (:mod:`nationcap.engines.foresight`)."""
        require_support(self.engine, md)
        k = rolling(md)
        if k is None:
            check_feasible(md)
            return self.engine.solve(md, on_phase=on_phase)
        return solve_rolling(self.engine, md, k, on_phase=on_phase, check=check_feasible)

    def _start(self) -> tuple[float, dict[str, float]]:
        """(start time, timings so far): a session opened from a file reports its load once."""
        if self._load_s is not None and self._t_open is not None:
            t_start, timings = self._t_open, {"load": self._load_s}
            self._load_s = self._t_open = None
            return t_start, timings
        return time.perf_counter(), {}

    def _solve(
        self,
        md: ModelData,
        phases: _Phases,
        timings: dict[str, float],
        t_start: float,
        detail: str,
        mac_curve: bool,
    ) -> Run:
        """The checks (once per variant), the engine and the results."""
        prepare_s = timings.pop("prepare", 0.0)
        sr = self.solution(md, on_phase=phases.start)
        timings["build"] = prepare_s + sr.timings.get("build", 0.0)
        timings["solve"] = sr.timings.get("solve", sr.solve_time_s)
        phases.start("extract")
        t = time.perf_counter()
        res = build_results(md, sr, timings, detail=detail, mac_curve=mac_curve)
        timings["extract"] = time.perf_counter() - t
        res.attrs["timings_s"] = json.dumps({k: round(v, 4) for k, v in timings.items()}, sort_keys=True)
        res.attrs["wall_time_s"] = time.perf_counter() - t_start
        if "reused_model" in sr.info:
            res.attrs["reused_model"] = int(sr.info["reused_model"])
        phases.end()
        return Run(md, sr, res, timings)


def _engine_options(engine: Engine) -> tuple[str, ...]:
    """The options the registry lists for ``engine`` (none for an engine made elsewhere)."""
    from .engines import ENGINES

    entry = ENGINES.get(engine.name)
    return entry.options if entry is not None else ()
