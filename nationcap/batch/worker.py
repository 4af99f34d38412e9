"""The worker side of a batch: solve one member, never raise for a model or data problem.

Every member goes through this process's :class:`~nationcap.session.Session` (one route): a
sweep point is a variant solved as ``nationcap run --set ...`` would solve it (with ``reuse``,
re-solved in place of the held Pyomo model when :meth:`Session.in_place
<nationcap.session.Session.in_place>` allows), a Monte Carlo draw is
:meth:`Session.solve_draw <nationcap.session.Session.solve_draw>`. The engine is the member's
``[solver] engine``.
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
from ..derive.draws import Draw, draw
from ..errors import NationcapError
from ..inputs import dataset_fingerprint
from ..results.conventions import apply_conventions
from ..session import Session
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


#: this process's session (one at a time: bounded memory), by a key of content, never of object
#: identity: the dataset folder and the fingerprint of its files, the engine, whether it holds its
#: model, and for a Monte Carlo draw the undrawn scenario it perturbs
_SESSION: dict[str, Session] = {}


def session_for(job: Job, scn: Scenario) -> Session:
    """This process's session for ``job``: made once and kept while the members share its data,
    so that the tables are read and checked once, the exact engine keeps its sorted columns and
    (with ``reuse``) the Pyomo engine its model."""
    tables = [str(scn.inputs_path), dataset_fingerprint(scn.inputs_path)]
    parts = [*tables, scn.solver.engine, str(job.reuse)]
    if job.montecarlo is not None:
        parts += [job.source, scn.resolved_json()]
    key = "\n".join(parts)
    if key not in _SESSION:
        held = next(iter(_SESSION.items()), None)
        # another scenario on the same tables keeps them: they are read and checked once
        ds = held[1].dataset if held is not None and held[0].split("\n")[:2] == tables else None
        _SESSION.clear()
        _SESSION[key] = Session(scn, ds, hold=job.reuse)
    return _SESSION[key]


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
            session = session_for(job, scn)
            session.set_log_file(str(log_path))
            if job.montecarlo is None:  # a sweep point: what `nationcap run --set ...` solves
                res = session.solve(scn, detail=DETAIL).results
            else:
                spec = MonteCarloSpec.model_validate(job.montecarlo)
                assert job.seed is not None and job.draw is not None  # a Monte Carlo job has both
                d = draw(spec, job.seed, job.draw, session.scenario, session.dataset)
                res = session.solve_draw(spec, d, detail=DETAIL).results
                res = apply_conventions(res.merge(draw_variables(d, scn.years), combine_attrs="override"))
        except Exception as exc:  # recorded, not raised: one failure must not stop a batch
            err = _error_text(exc)
            if not isinstance(exc, NationcapError):
                tb = traceback.format_exc()
        log = header + "\n" + (log_path.read_text(errors="replace") if log_path.is_file() else "")
    if err:
        log += f"\nFAILED: {err}\n{tb}"
    return Outcome(job.key, res is not None, err, res, log, time.perf_counter() - t0)
