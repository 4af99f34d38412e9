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
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import xarray as xr

from ..config import MonteCarloSpec, Scenario, scenario_from_dict
from ..derive.draws import Draw, draw, draw_inputs
from ..errors import NationcapError
from ..inputs import dataset_fingerprint
from ..results.conventions import apply_conventions
from ..session import Session
from .arrays import MEMBER_ATTRS, ChunkOutcome, PairOutcome, template_of
from .plan import Chunk, Job, PairChunk, _error_text


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


def session_for(job: Job, scn: Scenario, keep: int = 1) -> Session:
    """This process's session for ``job``: made once and kept while the members share its data,
    so that the tables are read and checked once, the exact engine keeps its sorted columns and
    (with ``reuse``) the Pyomo engine its model. ``keep`` sessions at most are kept, the most
    recently used ones (two for the two designs of a paired Monte Carlo, which share the tables)."""
    tables = [str(scn.inputs_path), dataset_fingerprint(scn.inputs_path)]
    parts = [*tables, scn.solver.engine, str(job.reuse)]
    if job.montecarlo is not None:
        parts += [job.source, scn.resolved_json()]
    key = "\n".join(parts)
    if key in _SESSION:
        _SESSION[key] = _SESSION.pop(key)  # the most recently used last
        return _SESSION[key]
    # another scenario on the same tables keeps them: they are read and checked once
    ds = next((s.dataset for k, s in _SESSION.items() if k.split("\n")[:2] == tables), None)
    for old in list(_SESSION)[: max(0, len(_SESSION) - max(0, keep - 1))]:
        del _SESSION[old]
    _SESSION[key] = Session(scn, ds, hold=job.reuse)
    return _SESSION[key]


class _Calls:
    """What the members of one worker call (a chunk of draws, or both designs' chunks of a
    paired Monte Carlo) share: the scenario and session, set up once while consecutive jobs
    have the same scenario (a Monte Carlo's jobs share one), and, with ``share``, each draw's
    values and their results variables, made once for the designs whose draws are the same
    (:func:`nationcap.derive.draws.draw_inputs`: the same table, years and groups)."""

    def __init__(self, keep: int = 1, share: bool = False) -> None:
        self.keep = keep
        self.share = share
        self._last: tuple[Job, Scenario, Session, MonteCarloSpec | None, tuple | None] | None = None
        self._draws: dict[tuple, tuple[Draw, xr.Dataset]] = {}

    def setup(self, job: Job) -> tuple[Scenario, Session, MonteCarloSpec | None, tuple | None]:
        """(scenario, session, Monte Carlo table, what its draws depend on) of ``job``."""
        last = self._last
        if (
            last is not None
            and last[0].raw is job.raw  # (the same dict: the jobs of one batch)
            and (last[0].source, last[0].reuse, last[0].montecarlo) == (job.source, job.reuse, job.montecarlo)
        ):
            return last[1:]
        scn = scenario_from_dict(job.raw, source=job.source)
        session = session_for(job, scn, self.keep)
        spec = inputs = None
        if job.montecarlo is not None:
            spec = MonteCarloSpec.model_validate(job.montecarlo)
            inputs = draw_inputs(spec, session.scenario, session.dataset)
        self._last = (job, scn, session, spec, inputs)
        return scn, session, spec, inputs

    def draw(self, job: Job, session: Session, spec: MonteCarloSpec, inputs: tuple | None) -> tuple[Draw, xr.Dataset]:
        """Draw ``job.draw`` and its results variables (kept for the other design with ``share``)."""
        assert job.seed is not None and job.draw is not None  # a Monte Carlo job has both
        key = (inputs, job.seed, job.draw)
        got = self._draws.get(key)
        if got is None:
            d = draw(spec, job.seed, job.draw, session.scenario, session.dataset)
            got = (d, draw_variables(d, session.scenario.years))
            if self.share:
                self._draws[key] = got
        return got


#: batch members keep the market-level results: per-entity variables stay with single runs
DETAIL = "market"


#: one member (or chunk) at a time in this process: its threads share the session, the engine's
#: scratch arrays and the model's caches of the last arrays seen (a Dask worker with several
#: threads runs its tasks one after the other; use worker processes for parallel members)
_ONE_AT_A_TIME = threading.Lock()


def solve_job(job: Job) -> Outcome:
    """Solve one member in this process. Never raises for a model or data problem."""
    with _ONE_AT_A_TIME:
        t0 = time.perf_counter()
        res, err, log = _solve(job, _Calls())
        return Outcome(job.key, res is not None, err, res, log, time.perf_counter() - t0)


def _solve(job: Job, calls: _Calls) -> tuple[xr.Dataset | None, str, str]:
    """(results or None, error, log text) of one member, set up through ``calls``."""
    header = f"nationcap batch member {job.label} (key {job.key})\n"
    if job.draw is not None:
        header += f"Monte Carlo draw {job.draw}, seed {job.seed}\n"
    with tempfile.TemporaryDirectory(prefix="nationcap-") as td:
        log_path = Path(td) / "solver.log"
        res, err, tb = None, "", ""
        try:
            scn, session, spec, inputs = calls.setup(job)
            session.set_log_file(str(log_path))
            if spec is None:  # a sweep point: what `nationcap run --set ...` solves
                res = session.solve(scn, detail=DETAIL).results
            else:
                d, variables = calls.draw(job, session, spec, inputs)
                res = session.solve_draw(spec, d, detail=DETAIL).results
                res = apply_conventions(res.merge(variables, combine_attrs="override"))
        except Exception as exc:  # recorded, not raised: one failure must not stop a batch
            err = _error_text(exc)
            if not isinstance(exc, NationcapError):
                tb = traceback.format_exc()
        log = header + "\n" + (log_path.read_text(errors="replace") if log_path.is_file() else "")
    if err:
        log += f"\nFAILED: {err}\n{tb}"
    return res, err, log


#: the executions (:attr:`Chunk.run <nationcap.batch.plan.Chunk.run>`) to which this process
#: has sent the template of the results
_TEMPLATE_SENT: set[str] = set()


def solve_chunk(chunk: Chunk) -> ChunkOutcome:
    """:func:`_solve_chunk`, one chunk at a time in this process (see :data:`_ONE_AT_A_TIME`)."""
    with _ONE_AT_A_TIME:
        return _solve_chunk(chunk, _Calls())


def solve_pair(pair: PairChunk) -> PairOutcome:
    """The same draws under both designs of a paired Monte Carlo, in this process: design A's
    chunk, then design B's (:func:`_solve_chunk`), with the two sessions kept and each draw's
    values made once when the designs' draws are the same. Each design's outcome is what
    :func:`solve_chunk` gives for its chunk alone."""
    with _ONE_AT_A_TIME:
        calls = _Calls(keep=2, share=True)
        return PairOutcome(_solve_chunk(pair.a, calls), _solve_chunk(pair.b, calls))


def _solve_chunk(chunk: Chunk, calls: _Calls) -> ChunkOutcome:
    """Solve a chunk of Monte Carlo draws in this process and return their results as plain
    arrays (:mod:`nationcap.batch.arrays`): per variable, the solved draws' values stacked in
    draw order. The first solved draw gives this process's template; a draw whose results do
    not fit it fails with that reason. The template goes with this process's first chunk of the
    execution that has a solved draw. Never raises for a model or data problem."""
    keys, errors, logs, times = [], [], [], []
    rows: list[xr.Dataset] = []
    attrs: list[tuple] = []
    texts: dict = {}  # one object per distinct text, so that pickling sends it once
    template = None
    for job in chunk.jobs:
        t0 = time.perf_counter()
        res, err, log = _solve(job, calls)
        if res is not None:
            template = template or template_of(res)
            if not template.fits(res):
                err = "its results do not have the variables and shapes of the batch's other draws"
                log += f"\nFAILED: {err}\n"
                res = None
        keys.append(job.key)
        errors.append(err)
        logs.append(log if err else "")
        times.append(time.perf_counter() - t0)
        if res is not None:
            rows.append(res)
            attrs.append(
                tuple(
                    texts.setdefault(v, v) if isinstance(v, str) else v
                    for v in (res.attrs.get(k) for k in MEMBER_ATTRS)
                )
            )
    values = {}
    if template is not None and rows:
        for name in template.variables:
            values[name] = np.stack([ds.variables[name].values for ds in rows])
    out = ChunkOutcome(keys, errors, logs, times, values, attrs)
    if template is not None and rows and chunk.run not in _TEMPLATE_SENT:
        out.template = template
        _TEMPLATE_SENT.add(chunk.run)
    return out
