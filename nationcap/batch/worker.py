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
from typing import Any

import numpy as np
import xarray as xr

from ..config import MonteCarloSpec, Scenario, scenario_from_dict
from ..derive.draws import Draw, apply_draw, draw
from ..errors import NationcapError
from ..inputs.tables import Dataset, load_dataset
from ..pipeline import run_dataset, run_scenario
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


def dataset_for(job: Job) -> tuple[Scenario, Dataset, Draw | None]:
    """(scenario, dataset, draw) of a job: the draw is applied to a copy of the tables."""
    scn = scenario_from_dict(job.raw, source=job.source)
    ds = load_dataset(scn.inputs_path, scn)
    d = None
    if job.montecarlo is not None:
        spec = MonteCarloSpec.model_validate(job.montecarlo)
        assert job.seed is not None and job.draw is not None  # plan_montecarlo sets both
        d = draw(spec, job.seed, job.draw, scn, ds)
        ds = apply_draw(spec, d, scn, ds)
    return scn, ds, d


#: this process's held model for ``reuse`` (one at a time: bounded memory) and the tables it was
#: built on, so that an allocation-only variant is re-solved instead of rebuilt
_HELD: dict[str, Any] = {}


def _solve_reusing(scn: Scenario, log_file: str) -> xr.Dataset:
    """A sweep point re-solving this process's held Pyomo model when only allocations differ."""
    from ..engines.persistent import PersistentHighsEngine, eligible

    if eligible(scn) is not None or scn.solver.engine != "pyomo":
        return run_scenario(scn, log_file=log_file)
    key = str(scn.inputs_path)
    if _HELD.get("inputs") != key:
        _HELD.clear()
        _HELD.update(inputs=key, dataset=load_dataset(scn.inputs_path, scn), engine=PersistentHighsEngine())
    engine = _HELD["engine"]
    engine.log_file = log_file
    return run_scenario(scn, engine=engine, dataset=_HELD["dataset"])


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
            if job.montecarlo is None and job.reuse:
                res = _solve_reusing(scenario_from_dict(job.raw, source=job.source), str(log_path))
            elif job.montecarlo is None:  # a sweep point: exactly what `nationcap run --set ...` solves
                res = run_scenario(scenario_from_dict(job.raw, source=job.source), log_file=str(log_path))
            else:
                scn, ds, d = dataset_for(job)
                assert d is not None  # a Monte Carlo job has a draw
                res = run_dataset(scn, ds, log_file=str(log_path)).results
                res = apply_conventions(res.merge(draw_variables(d, scn.years), combine_attrs="override"))
        except Exception as exc:  # recorded, not raised: one failure must not stop a batch
            err = _error_text(exc)
            if not isinstance(exc, NationcapError):
                tb = traceback.format_exc()
        log = header + "\n" + (log_path.read_text(errors="replace") if log_path.is_file() else "")
    if err:
        log += f"\nFAILED: {err}\n{tb}"
    return Outcome(job.key, res is not None, err, res, log, time.perf_counter() - t0)
