"""The one pipeline: scenario -> dataset -> ModelData -> engine -> SolveResult -> results Dataset.

    >>> from nationcap.pipeline import run_scenario
    >>> res = run_scenario("models/tiny.toml")          # doctest: +SKIP
    >>> res["price"].sel(market="regional").values      # doctest: +SKIP

``nationcap run``, batch members (sweep points, Monte Carlo draws, re-solves of a held model)
and ``nationcap bench`` all go through these functions; nothing else
repeats the chain. Phase timings (seconds) are recorded in the ``timings_s`` attribute:
``load`` (scenario and tables), ``build`` (ModelData and the engine's own build), ``solve`` and
``extract`` (the results Dataset).

Progress. ``run_scenario`` and ``run_dataset`` take an optional ``progress(event, elapsed_s)``
callback, called as each phase starts (``event`` is the phase name: ``"load"``, ``"build"``,
``"solve"``, ``"extract"``) and ends (``"<phase> done"``), with the seconds since the run
started. An engine with an ``on_phase`` attribute (the Pyomo engines) is handed a function to
call when it moves from building its model to solving it, so ``build`` covers the Pyomo model
and ``solve`` the solver; for other engines ``solve`` is the whole engine call.
``nationcap run`` prints these phases on a terminal (:mod:`nationcap.cli.single`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from .config import Scenario, load_scenario
from .engines import Engine, SolveResult, get_engine
from .inputs.tables import Dataset, load_dataset
from .model import ModelData, prepare
from .results.build import build_results


@dataclass
class Run:
    """Everything one pass of the pipeline made (``results`` is what a user keeps)."""

    model_data: ModelData
    solution: SolveResult
    results: xr.Dataset
    timings: dict[str, float] = field(default_factory=dict)


def load(scenario: Scenario | str | Path, overrides: Iterable[str] = ()) -> tuple[Scenario, Dataset]:
    """The validated scenario and its validated dataset tables."""
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, tuple(overrides))
    return scn, load_dataset(scn.inputs_path, scn)


def resolve_engine(scn: Scenario, engine: Engine | str | None = None, log_file: str | None = None) -> Engine:
    """The engine to use: an Engine as given, a name, or else the scenario's ``[solver] engine``."""
    if engine is None or isinstance(engine, str):
        return get_engine(engine or scn.solver.engine, log_file=log_file)
    return engine


#: ``progress(event, elapsed_s)``: see the module doc
Progress = Callable[[str, float], None]


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


def run_dataset(
    scn: Scenario,
    ds: Dataset,
    engine: Engine | str | None = None,
    log_file: str | None = None,
    timings: dict[str, float] | None = None,
    t_start: float | None = None,
    progress: Progress | None = None,
    detail: str = "full",
    mac_curve: bool = True,
) -> Run:
    """prepare -> engine -> results on an already loaded (possibly modified) dataset.

    ``progress(event, elapsed_s)`` is told of each phase as it starts and ends (module doc).
    """
    t_start = time.perf_counter() if t_start is None else t_start
    phases = _Phases(progress, t_start)
    timings = dict(timings or {})
    eng = resolve_engine(scn, engine, log_file)
    phases.start("build")
    t = time.perf_counter()
    md = prepare(scn, ds)
    timings["prepare"] = time.perf_counter() - t
    return run_model_data(md, eng, timings, t_start, progress, detail=detail, mac_curve=mac_curve, phases=phases)


def run_model_data(
    md: ModelData,
    engine: Engine,
    timings: dict[str, float] | None = None,
    t_start: float | None = None,
    progress: Progress | None = None,
    detail: str = "full",
    mac_curve: bool = True,
    phases: _Phases | None = None,
) -> Run:
    """engine -> results on prepared (possibly perturbed) model data: the end of the chain.

    ``detail`` and ``mac_curve`` choose how much the results hold
    (:func:`nationcap.results.build.build_results`: batch members keep no per-entity variables).
    """
    t_start = time.perf_counter() if t_start is None else t_start
    phases = phases or _Phases(progress, t_start)
    timings = dict(timings or {})
    prepare_s = timings.pop("prepare", 0.0)
    eng = engine
    staged = progress is not None and hasattr(eng, "on_phase")
    hooked: Any = eng  # an engine with the optional on_phase attribute (module doc)
    if staged:  # the engine says when its own build ends and the solve starts
        hooked.on_phase = phases.start
    else:
        phases.start("solve")
    try:
        sr = eng.solve(md)
    finally:
        if staged:
            hooked.on_phase = None
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


def run_scenario(
    scenario: Scenario | str | Path,
    overrides: Iterable[str] = (),
    log_file: str | None = None,
    engine: Engine | str | None = None,
    dataset: Dataset | None = None,
    progress: Progress | None = None,
    detail: str = "full",
) -> xr.Dataset:
    """Load, prepare, solve and return the results Dataset (nothing is written).

    ``engine`` is an engine name (``"pyomo"``: the LP with HiGHS, the reference; ``"fast"``: the
    exact merit-order engine), an :class:`~nationcap.engines.base.Engine`, or None for the
    scenario's ``[solver] engine``. ``dataset`` reuses tables already loaded for this scenario's
    inputs. ``progress(event, elapsed_s)`` is told of each phase as it starts and ends (module doc).
    """
    t_start = time.perf_counter()
    phases = _Phases(progress, t_start)
    phases.start("load")
    if dataset is None:
        scn, ds = load(scenario, overrides)
    else:
        scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, tuple(overrides))
        ds = dataset
    timings = {"load": time.perf_counter() - t_start}
    phases.end()
    return run_dataset(
        scn, ds, engine=engine, log_file=log_file, timings=timings, t_start=t_start, progress=progress, detail=detail
    ).results
