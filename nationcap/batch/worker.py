"""The worker side of a batch: solve one member, never raise for a model or data problem.

A sweep point goes through :func:`nationcap.pipeline.run_scenario` exactly as
``nationcap run --set ...`` would; a Monte Carlo draw goes through
:func:`nationcap.pipeline.run_dataset` on a copy of the tables with the draw applied. The engine
is the member's ``[solver] engine``; with ``reuse``, a sweep point that changes only allocations
re-solves this process's held model (:mod:`nationcap.engines.persistent`).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import xarray as xr

from ..config import MonteCarloSpec, Scenario, scenario_from_dict
from ..derive.draws import Draw, apply_draw, draw, entity_groups, entity_multipliers, group_labels
from ..engines.merit_order import MeritOrderEngine
from ..errors import NationcapError
from ..inputs import dataset_fingerprint
from ..inputs.tables import Dataset, load_dataset
from ..model import ModelData, prepare
from ..model.prepare import perturb
from ..pipeline import run_dataset, run_model_data, run_scenario
from ..results.conventions import apply_conventions
from .plan import Job, _error_text


@dataclasses.dataclass
class Outcome:
    key: str
    ok: bool
    error: str
    results: xr.Dataset | None
    log: str
    wall_time_s: float


def draw_variables(d: Draw, years: list[int]) -> xr.Dataset:
    """The values of a Monte Carlo draw as variables of its results."""
    return xr.Dataset(
        {
            "mc_bau_multiplier": xr.DataArray(
                d.bau_multiplier,
                dims=("bau_group", "year"),
                coords={"bau_group": d.bau_labels, "year": np.array(years, dtype=np.int64)},
                attrs={
                    "long_name": "BAU multiplier of the draw",
                    "units": "1",
                    "description": "BAU emissions multiplier of the draw by group and year",
                },
            ),
            "mc_mac_cost_multiplier": xr.DataArray(
                d.mac_multiplier,
                dims=("mac_group",),
                coords={"mac_group": d.mac_labels},
                attrs={
                    "long_name": "MAC cost multiplier of the draw",
                    "units": "1",
                    "description": "MAC step cost multiplier of the draw by group",
                },
            ),
        }
    )


#: this process's tables, by dataset folder and fingerprint (one at a time: bounded memory), so
#: that the members of a batch on the same data do not read and check it again
_TABLES: dict[tuple[str, str], Dataset] = {}


def tables(scn: Scenario) -> Dataset:
    """The validated tables of ``scn``'s dataset, read once per process while they do not change."""
    key = (str(scn.inputs_path), dataset_fingerprint(scn.inputs_path))
    if key not in _TABLES:
        _TABLES.clear()
        _TABLES[key] = load_dataset(scn.inputs_path, scn)
    return _TABLES[key]


def dataset_for(job: Job) -> tuple[Scenario, Dataset, Draw | None]:
    """(scenario, dataset, draw) of a job: the draw is applied to a copy of the tables."""
    scn = scenario_from_dict(job.raw, source=job.source)
    ds = tables(scn)
    d = None
    if job.montecarlo is not None:
        spec = MonteCarloSpec.model_validate(job.montecarlo)
        assert job.seed is not None and job.draw is not None  # a Monte Carlo job has both
        d = draw(spec, job.seed, job.draw, scn, ds)
        ds = apply_draw(spec, d, scn, ds)
    return scn, ds, d


#: this process's held model for ``reuse`` (one at a time: bounded memory)
_HELD: dict[str, object] = {}


def _solve_reusing(scn: Scenario, log_file: str) -> xr.Dataset:
    """A sweep point re-solving this process's held Pyomo model when only allocations differ."""
    from ..engines.persistent import PersistentHighsEngine, eligible

    if eligible(scn) is not None or scn.solver.engine != "pyomo":
        return run_scenario(scn, log_file=log_file, dataset=tables(scn), detail=DETAIL)
    key = str(scn.inputs_path)
    if _HELD.get("inputs") != key:
        _HELD.clear()
        _HELD.update(inputs=key, engine=PersistentHighsEngine())
    engine = _HELD["engine"]
    assert isinstance(engine, PersistentHighsEngine)
    engine.log_file = log_file
    return run_scenario(scn, engine=engine, dataset=tables(scn), detail=DETAIL)


#: the exact engine's Monte Carlo path: per process, the undrawn tables and model data of a
#: scenario, the positions of the model's entities in the tables, and one engine (it keeps each
#: market's cost order between draws)
_MC_BASE: dict[str, tuple[Scenario, Dataset, ModelData, np.ndarray, MeritOrderEngine]] = {}


def _solve_draw_on_arrays(job: Job, scn: Scenario) -> tuple[xr.Dataset, Draw]:
    """A Monte Carlo draw on the exact engine: the draw changes the arrays of the undrawn model
    data (:func:`nationcap.model.prepare.perturb`) and the engine re-solves; nothing is read or
    prepared again."""
    key = scn.resolved_json() + job.source
    spec = MonteCarloSpec.model_validate(job.montecarlo)
    if key not in _MC_BASE:
        _MC_BASE.clear()
        ds = tables(scn)
        base = prepare(scn, ds)
        # costs change by one factor per group of the draw: the engine merges sorted runs, from
        # the order of the undrawn model (solved once here, so every draw starts from the same
        # order whatever the worker solved before: draws stay independent of workers and order)
        groups = group_labels(spec.mac_cost.by, scn, ds) if spec.mac_cost else ["all"]
        covered = base.scope.entity_index if base.scope is not None else np.arange(base.n_entities)
        col_group = entity_groups(spec.mac_cost.by if spec.mac_cost else "all", ds, groups, scn)[covered][
            base.col_entity
        ]
        engine = MeritOrderEngine(cost_groups=col_group)
        engine.solve(base)
        _MC_BASE[key] = (scn, ds, base, covered, engine)
    scn, ds, base, covered, engine = _MC_BASE[key]
    assert job.seed is not None and job.draw is not None
    # the draw on every entity of the dataset (as the other engines get it), then the model's ones
    d = draw(spec, job.seed, job.draw, scn, ds)
    bau, mac = entity_multipliers(spec, d, ds, scn)
    run = run_model_data(perturb(base, bau[covered], mac[covered]), engine, detail=DETAIL, mac_curve=False)
    return run.results, d


#: batch members keep the market-level results: per-entity variables stay with single runs
DETAIL = "market"


def solve_job(job: Job) -> Outcome:
    """Solve one member in this process. Never raises for a model or data problem."""
    t0 = time.perf_counter()
    header = f"nationcap batch member {job.label} (key {job.key})\n"
    if job.draw is not None:
        header += f"Monte Carlo draw {job.draw}, seed {job.seed}\n"
    with tempfile.TemporaryDirectory(prefix="nationcap-") as td:
        log_path = Path(td) / "solver.log"
        res, err, tb = None, "", ""
        try:
            scn = scenario_from_dict(job.raw, source=job.source)
            if job.montecarlo is None and job.reuse:
                res = _solve_reusing(scn, str(log_path))
            elif job.montecarlo is None:  # a sweep point: what `nationcap run --set ...` solves
                res = run_scenario(scn, log_file=str(log_path), dataset=tables(scn), detail=DETAIL)
            else:
                if scn.solver.engine == "fast":
                    res, d = _solve_draw_on_arrays(job, scn)
                else:
                    scn, ds, draw_ = dataset_for(job)
                    assert draw_ is not None  # a Monte Carlo job has a draw
                    d = draw_
                    res = run_dataset(scn, ds, log_file=str(log_path), detail=DETAIL, mac_curve=False).results
                res = apply_conventions(res.merge(draw_variables(d, scn.years), combine_attrs="override"))
        except Exception as exc:  # recorded, not raised: one failure must not stop a batch
            err = _error_text(exc)
            if not isinstance(exc, NationcapError):
                tb = traceback.format_exc()
        log = header + "\n" + (log_path.read_text(errors="replace") if log_path.is_file() else "")
    if err:
        log += f"\nFAILED: {err}\n{tb}"
    return Outcome(job.key, res is not None, err, res, log, time.perf_counter() - t0)
