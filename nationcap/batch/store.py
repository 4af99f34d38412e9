"""The batch folder: the run cache, combining members into one Dataset, the combined outputs.

Output folder ``DIR``::

    batch.json          what the batch is (kind, members and their keys); written first
    runs/<key>.nc       one results file per finished member: the cache
    logs/<key>.log      solver log (and the error, if any) per member
    results.nc          every run's variables with a ``scenario`` (sweep) or ``draw`` dimension
    summary.csv         sweep: tidy scenario x market x year; Monte Carlo: price quantiles
    draws.csv           Monte Carlo only: the tidy per-draw table
    iamc.csv            IAMC wide table (see :mod:`nationcap.results.iamc`)
    <dims>.csv          the per-variable CSV tables of :func:`nationcap.results.io.csv_tables`
    run.json            members with status, error, cache use and timings; versions; written last

Re-running the same command resumes: members whose ``runs/<key>.nc`` exists are not solved
again and the combined files are rebuilt from the cache. A folder holding other results of
nationcap (a different batch, a single run) is refused unless ``force``; with ``force`` the combined
files are replaced and cache entries of other batches are deleted at the end. A folder holding
anything nationcap did not write is refused even with ``force`` (:func:`nationcap.atomic.check_replaceable`). Cached runs are reused
whenever their key matches (the key covers everything the result depends on), unless
``resume=False``. Failed members are not cached: a re-run tries them again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..atomic import (
    atomic_file,
    check_location,
    check_replaceable,
    remove_stale_temps,
    signals_deferred,
    staging_name,
    write_error,
)
from ..model.rules import RULES
from ..results import iamc
from ..results.conventions import apply_conventions
from ..results.io import load_results, to_netcdf, write_csv, write_json, write_netcdf
from ..vocab import SWEEP_DIM, present_value_money, variable_attrs
from .arrays import MEMBER_ATTRS, ChunkOutcome, DrawStack, PairOutcome
from .executors import beside, connect, execute
from .plan import BATCH_FILE, Batch, Chunk, Job, PairChunk, chunk_size, chunks
from .summaries import combined_tables, montecarlo_iamc, montecarlo_summary, sweep_summary, write_draws_csv
from .worker import Outcome


def _write_text(path: Path, text: str, clean: bool = True) -> None:
    with atomic_file(path, clean=clean) as tmp:
        tmp.write_text(text)


def prepare_dir(out_dir: Path, batch: Batch, force: bool) -> bool:
    """Check ``out_dir`` may take this batch (and can be written: :func:`check_location`);
    return True when it holds this same batch."""
    check_location(out_dir, "inside")
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return False
    bf = out_dir / BATCH_FILE
    if out_dir.is_dir() and bf.is_file():
        try:
            same = json.loads(bf.read_text()).get("spec_hash") == batch.spec_hash()
        except (OSError, ValueError):
            same = False
        if same:
            return True
    # anything else: with --force, only results nationcap wrote (never a user's files)
    check_replaceable(out_dir, force)
    return False


@dataclasses.dataclass
class BatchResult:
    batch: Batch
    out_dir: Path
    results: xr.Dataset
    records: list[dict[str, Any]]
    engine: str
    wall_time_s: float
    solved: int
    cached: int

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] != "ok"]


def run_batch(
    batch: Batch,
    out_dir: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    resume: bool = True,
    progress: Callable[[int], Any] | None = None,
) -> BatchResult:
    """Solve what is not cached, then (re)write the combined outputs. See the module docstring.

    Stale temporaries that an interrupted batch left in the folder are removed first
    (:func:`nationcap.atomic.remove_stale_temps`); a cache file that is not a netCDF file is
    solved again. An OSError while writing becomes :class:`~nationcap.errors.OutputError`.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir) if out_dir else batch.default_out()
    workers = workers or os.cpu_count() or 1
    prepare_dir(out_dir, batch, force)  # (checks only: writes nothing)
    client = connect(scheduler) if scheduler else None  # a scheduler that is not there: nothing is written
    try:
        return _run_batch(batch, out_dir, workers, scheduler, resume, progress, t0, client)
    except OSError as exc:
        raise write_error(out_dir, exc) from exc
    finally:
        if client is not None:
            client.close()


#: the first bytes of every netCDF4 (HDF5) file
_NETCDF4_MAGIC = b"\x89HDF\r\n\x1a\n"


def is_cached(path: Path) -> bool:
    """Whether ``path`` (``runs/<key>.nc``) is a usable cache entry: a file that starts as a
    netCDF4 file does (a damaged file that passes this is reported by :func:`combine`)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_NETCDF4_MAGIC)) == _NETCDF4_MAGIC
    except OSError:
        return False


def member_cache_pointless(batch: Batch) -> bool:
    """Whether the members are not cached in ``runs/``: Monte Carlo draws on the exact engine
    (:func:`nationcap.batch.worker.solve_job` re-solves one in well under a second, faster than
    writing and reading its file)."""
    return batch.kind == "montecarlo" and batch.base.solver.engine == "fast"


def _open_dir(batch: Batch, out_dir: Path) -> tuple[Path, Path]:
    """Make ``out_dir``'s runs/ and logs/ (removing an interrupted batch's stale temporaries),
    write batch.json and the logs of the invalid members; returns (runs, logs)."""
    runs, logs = out_dir / "runs", out_dir / "logs"
    runs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    for folder in (out_dir, runs, logs):
        remove_stale_temps(folder)
    spec = {
        "kind": batch.kind,
        "name": batch.name,
        "source": str(batch.source),
        "spec_hash": batch.spec_hash(),
        "members": [{"label": m.label, "key": m.key, "params": m.params} for m in batch.members],
    }
    _write_text(out_dir / BATCH_FILE, json.dumps(spec, indent=1, default=str) + "\n")

    for m in batch.members:  # invalid configurations: log the error
        if m.key is None:
            _write_text(
                logs / f"invalid-{m.label}.log", f"nationcap batch member {m.label}\nINVALID: {m.error}\n", clean=False
            )
    return runs, logs


def _run_batch(batch, out_dir, workers, scheduler, resume, progress, t0, client=None) -> BatchResult:
    runs, logs = _open_dir(batch, out_dir)

    # a Monte Carlo on the exact engine re-solves a draw faster than it could read it back: its
    # members are not cached, and only the combined results (and failed members' logs) are written
    keep = not member_cache_pointless(batch)
    if batch.kind == "montecarlo" and not keep:
        return _run_draws(batch, out_dir, workers, scheduler, progress, t0, client)
    pending = [j for k, j in batch.jobs.items() if not (keep and resume and is_cached(runs / f"{k}.nc"))]
    cached = len(batch.jobs) - len(pending)
    info: dict[str, dict[str, Any]] = {}
    fresh: dict[str, xr.Dataset] = {}

    def on_done(job: Job, out: Outcome) -> None:
        if keep or not out.ok:
            _write_text(logs / f"{job.key}.log", out.log, clean=False)
        if out.ok:
            assert out.results is not None  # ok means results
            if keep:
                # a member's cache file (the folder's stale temporaries were removed above)
                write_netcdf(out.results, runs / f"{job.key}.nc", clean=False)
            fresh[job.key] = out.results
        else:  # --no-resume: an older result of this key must not stand in for the failure
            (runs / f"{job.key}.nc").unlink(missing_ok=True)
        info[job.key] = {"error": out.error, "wall_time_s": round(out.wall_time_s, 3)}
        if progress is not None:
            progress(1)

    engine = execute(pending, workers=workers, scheduler=scheduler, on_done=on_done, client=client)
    combined, records = combine(batch, runs, info, fresh)
    write_batch_outputs(combined, records, batch, out_dir, engine, prune=True)
    wall = time.perf_counter() - t0
    _finish_run_json(out_dir, wall, len(pending), cached)
    return BatchResult(batch, out_dir, combined, records, engine, wall, len(pending), cached)


def _run_draws(batch, out_dir, workers, scheduler, progress, t0, client=None) -> BatchResult:
    """A Monte Carlo batch that caches nothing (:func:`member_cache_pointless`): its draws are
    solved in contiguous chunks (:func:`nationcap.batch.plan.chunks`, sized for ``workers``)
    that return plain arrays, put in place in a :class:`~nationcap.batch.arrays.DrawStack`
    (its streamed blocks in a staging folder of ``out_dir``, removed at the end)."""
    jobs = list(batch.jobs.values())  # one per draw, in draw order (plan_montecarlo)
    size = chunk_size(len(jobs), workers)
    draws = _Draws(batch, out_dir, size)

    def on_done(chunk: Chunk, out: ChunkOutcome) -> None:
        draws.add(chunk, out)
        if progress is not None:
            progress(len(chunk.jobs))

    try:
        engine = execute(
            chunks(jobs, size, uuid.uuid4().hex), workers=workers, scheduler=scheduler, on_done=on_done, client=client
        )
        combined, records = draws.finish(engine)
    finally:
        draws.close()
    wall = time.perf_counter() - t0
    _finish_run_json(out_dir, wall, len(jobs), 0)
    return BatchResult(batch, out_dir, combined, records, engine, wall, len(jobs), 0)


class _Draws:
    """The main process's side of a Monte Carlo batch solved in chunks of draws: each chunk's
    outcome put in place (:meth:`add`: a failed draw's log written), then the combined results and
    files (:meth:`finish`); ``size`` draws a chunk (the HDF5 chunks of streamed variables)."""

    def __init__(self, batch: Batch, out_dir: Path, size: int) -> None:
        self.batch, self.out_dir, self.size = batch, out_dir, size
        self.logs = out_dir / "logs"
        self.stack = DrawStack(len(batch.members), out_dir / staging_name())
        self.info: dict[str, dict[str, Any]] = {}

    def add(self, chunk: Chunk, out: ChunkOutcome) -> None:
        for key, err, log, wall in zip(out.keys, out.errors, out.logs, out.wall_times_s):
            if err:
                _write_text(self.logs / f"{key}.log", log, clean=False)
            self.info[key] = {"error": err, "wall_time_s": round(wall, 3)}
        self.stack.add(chunk.start, out)

    def finish(self, engine: str) -> tuple[xr.Dataset, list[dict[str, Any]]]:
        """The combined results and records, with every combined file written (but run.json's
        timings: :func:`_finish_run_json`)."""
        stack, info, batch = self.stack, self.info, self.batch
        stack.finish()
        for i, m in enumerate(batch.members):  # a draw can fail on arrival (its results do not fit)
            if m.key in info and stack.errors[i] != info[m.key]["error"]:
                info[m.key]["error"] = stack.errors[i]
                _write_text(
                    self.logs / f"{m.key}.log", f"nationcap batch member {m.label}\nFAILED: {stack.errors[i]}\n"
                )
        combined, records = combine_arrays(batch, stack, info)
        combined = write_batch_outputs(
            combined, records, batch, self.out_dir, engine, prune=True, stack=stack, chunk=self.size
        )
        return combined, records

    def __getstate__(self) -> dict[str, Any]:
        """What another process needs to finish the batch (:func:`_finish_draws`): all but the
        tables the plan may have kept."""
        state = dict(self.__dict__)
        state["batch"] = dataclasses.replace(self.batch, dataset=None)
        return state

    def close(self) -> None:
        """Remove the staging folder of the streamed blocks."""
        with signals_deferred():
            shutil.rmtree(self.stack.stage, ignore_errors=True)


def _finish_draws(work: tuple[_Draws, str]) -> tuple[xr.Dataset, list[dict[str, Any]]]:
    """:meth:`_Draws.finish` in a worker process (:func:`run_paired`)."""
    draws, engine = work
    return draws.finish(engine)


def shares_draws(batch_a: Batch, batch_b: Batch) -> bool:
    """Whether two Monte Carlo batches can be solved together by :func:`run_paired`: both on the
    exact engine's uncached path (:func:`member_cache_pointless`), with the same draws (table,
    seed and members). Other pairs are run as two batches."""
    return (
        batch_a.kind == batch_b.kind == "montecarlo"
        and member_cache_pointless(batch_a)
        and member_cache_pointless(batch_b)
        and batch_a.montecarlo == batch_b.montecarlo
        and batch_a.seed == batch_b.seed
        and [m.coord for m in batch_a.members] == [m.coord for m in batch_b.members]
        and len(batch_a.jobs) == len(batch_a.members) == len(batch_b.jobs)
    )


def run_paired(
    batch_a: Batch,
    batch_b: Batch,
    out_a: Path,
    out_b: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> tuple[BatchResult, BatchResult]:
    """The two Monte Carlo batches of a paired Monte Carlo (:func:`shares_draws`) solved together:
    one pool of workers (or one Dask execution) for both, each task the same chunk of draws under
    both designs (:class:`~nationcap.batch.plan.PairChunk`), so that a worker keeps both designs'
    sessions on tables read once and makes each draw's values once for both; with more than one
    local worker, design A's combined files are written in a process of their own while this one
    writes design B's (:func:`~nationcap.batch.executors.beside`). Each design's
    folder gets what :func:`run_batch` writes for it alone, file for file (run.json's timings
    and engine aside: the wall time is the pair's); ``progress`` counts solved draws of both."""
    t0 = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    for batch, out in ((batch_a, out_a), (batch_b, out_b)):
        prepare_dir(out, batch, force)  # (checks only: writes nothing)
    client = connect(scheduler) if scheduler else None  # a scheduler that is not there: nothing is written
    draws: list[_Draws] = []
    current = out_a
    try:
        for batch, out in ((batch_a, out_a), (batch_b, out_b)):
            current = out
            _open_dir(batch, out)
        jobs = [list(b.jobs.values()) for b in (batch_a, batch_b)]  # one per draw, in draw order
        size = chunk_size(len(jobs[0]), workers)  # as each batch alone: the same HDF5 chunks
        draws = [_Draws(batch_a, out_a, size), _Draws(batch_b, out_b, size)]
        pairs = [PairChunk(a, b) for a, b in zip(*(chunks(j, size, uuid.uuid4().hex) for j in jobs))]

        def on_done(pair: PairChunk, out: PairOutcome) -> None:
            draws[0].add(pair.a, out.a)
            draws[1].add(pair.b, out.b)
            if progress is not None:
                progress(len(pair.jobs))

        engine = execute(pairs, workers=workers, scheduler=scheduler, on_done=on_done, client=client)
        if workers > 1 and scheduler is None:  # A's files in a process of their own, B's here

            def finish_b() -> tuple[xr.Dataset, list[dict[str, Any]]]:
                try:
                    return draws[1].finish(engine)
                except OSError as exc:
                    raise write_error(out_b, exc) from exc

            current = out_a
            done = list(beside(_finish_draws, (draws[0], engine), finish_b))
        else:
            done = []
            for d in draws:
                current = d.out_dir
                done.append(d.finish(engine))
        wall = time.perf_counter() - t0
        results = []
        for (combined, records), d in zip(done, draws):
            current = d.out_dir
            _finish_run_json(d.out_dir, wall, len(records), 0)
            results.append(BatchResult(d.batch, d.out_dir, combined, records, engine, wall, len(records), 0))
        return results[0], results[1]
    except OSError as exc:
        raise write_error(current, exc) from exc
    finally:
        for d in draws:
            d.close()
        if client is not None:
            client.close()


def combine_arrays(
    batch: Batch, stack: DrawStack, info: dict[str, dict[str, Any]]
) -> tuple[xr.Dataset, list[dict[str, Any]]]:
    """:func:`combine` of draws held in ``stack``: the same Dataset and records. A streamed
    variable (:attr:`DrawStack.streamed`) stands in the Dataset as a NaN placeholder taking no
    memory; :func:`write_batch_outputs` writes its values from the stack."""
    records = []
    for i, m in enumerate(batch.members):
        rec: dict[str, Any] = {"label": m.label, "params": m.params, "key": m.key, "status": "failed", "error": m.error}
        rec["cached"] = m.key is not None and m.key not in info
        if m.key is not None:
            rec.update(info.get(m.key, {}))
            if stack.ok[i]:
                rec["status"], rec["error"] = "ok", ""
            elif not rec["error"]:
                rec["error"] = "not solved"
        records.append(rec)
    dim = batch.dim
    coords = np.array([m.coord for m in batch.members], dtype=np.int64)
    tpl = stack.template
    if tpl is not None and stack.ok.any():
        data = {}
        for name, spec in tpl.variables.items():
            if name in stack.streamed:
                dtype = stack.dtype(name)
                blank = np.array(np.nan if dtype.kind == "f" else 0, dtype=dtype)
                values = np.broadcast_to(blank, (stack.n, *spec.shape))
            else:
                values = stack.array(name)
            data[name] = ((dim, *spec.dims), values, dict(spec.attrs))
        tcoords = {c: xr.Variable(dims, values, dict(attrs)) for c, (dims, values, attrs) in tpl.coords.items()}
        out = xr.Dataset(data, coords={**tcoords, dim: coords})
        out = out.assign_coords({dim: coords})
        first_attrs = tpl.attrs
    else:
        out = xr.Dataset(coords={dim: coords})
        first_attrs = {}

    def member_attr(i: int, name: str, default: Any) -> Any:
        attrs = stack.attrs[i]
        value = attrs[MEMBER_ATTRS.index(name)] if attrs is not None and stack.ok[i] else None
        return default if value is None else value

    return _finish(batch, out, records, member_attr, first_attrs), records


def _nan_like(ds: xr.Dataset) -> xr.Dataset:
    """A stand-in for a failed member: NaN for numbers, "" for text."""
    out = ds.copy()
    for v in out.data_vars:
        text = out[v].dtype.kind in "OUS"
        out[v] = xr.full_like(out[v], "" if text else np.nan, dtype=str if text else float)
    return out


def _coord_values(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array([v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values], dtype=str)


def _stack(parts: list[xr.Dataset], dim: str, coords: np.ndarray) -> xr.Dataset | None:
    """The members stacked along ``dim`` with numpy, when they all have the same variables,
    dimensions and coordinates (the usual case: one scenario's draws or sweep points), else None.

    The same result as ``xr.concat`` of the members, without its per-member alignment (which
    takes seconds for a thousand Monte Carlo draws)."""
    first = parts[0]
    names = list(first.data_vars)
    for ds in parts[1:]:
        if list(ds.data_vars) != names or dict(ds.sizes) != dict(first.sizes):
            return None
        for c in first.coords:
            if c not in ds.coords or not np.array_equal(ds[c].values, first[c].values):
                return None
    data = {}
    for n in names:
        var = first[n]
        values = np.stack([ds[n].values for ds in parts])
        data[n] = ((dim, *var.dims), values, dict(var.attrs))
    return xr.Dataset(data, coords={**{c: first[c] for c in first.coords}, dim: coords})


def combine(
    batch: Batch, runs: Path, info: dict[str, dict[str, Any]], fresh: dict[str, xr.Dataset] | None = None
) -> tuple[xr.Dataset, list[dict[str, Any]]]:
    """The combined Dataset (batch dimension first) and one record per member.

    Members come from ``fresh`` (solved now, already in memory) or the cache ``runs/<key>.nc``.
    """
    loaded: dict[str, xr.Dataset] = dict(fresh or {})
    records = []
    for m in batch.members:
        rec = {
            "label": m.label,
            "params": m.params,
            "key": m.key,
            "status": "failed",
            "error": m.error,
            "cached": m.key is not None and m.key not in info,
        }
        if m.key is not None:
            rec.update(info.get(m.key, {}))
            path = runs / f"{m.key}.nc"
            if m.key not in loaded and path.is_file():
                try:
                    loaded[m.key] = load_results(path)
                except Exception as exc:  # a damaged cache file: remove it, so that a re-run solves it
                    path.unlink(missing_ok=True)
                    rec["error"] = f"cache file {path} was unreadable ({exc}) and is removed; re-run to solve it again"
            if m.key in loaded:
                rec["status"], rec["error"] = "ok", ""
            elif not rec["error"]:
                rec["error"] = "not solved"
        records.append(rec)

    dim = batch.dim
    coords = np.array([m.coord for m in batch.members], dtype=str if batch.kind == "sweep" else np.int64)
    template = next(iter(loaded.values()), None)
    if template is not None:
        blank = _nan_like(template)
        parts = []
        for m, rec in zip(batch.members, records):
            ds = (loaded[m.key] if m.key is not None and rec["status"] == "ok" else blank).copy()
            ds.attrs = {}
            parts.append(ds)
        out = _stack(parts, dim, coords)
        if out is None:  # members of different shapes (e.g. other offset types): align them
            out = xr.concat(
                parts,
                dim=pd.Index(coords, name=dim),
                data_vars="all",
                coords="minimal",
                compat="override",
                join="outer",
                combine_attrs="drop",
            )
        out = out.assign_coords({dim: coords})  # plain numpy labels (pandas may infer its own string dtype)
        for name in out.variables:  # concat drops the variables' attributes: take the members'
            if name in template.variables:
                out[name].attrs = dict(template[name].attrs)
        first_attrs = template.attrs
    else:
        out = xr.Dataset(coords={dim: coords})
        first_attrs = {}

    def member_attr(i: int, name: str, default: Any) -> Any:
        m, rec = batch.members[i], records[i]
        return loaded[str(m.key)].attrs.get(name, default) if rec["status"] == "ok" else default

    return _finish(batch, out, records, member_attr, first_attrs), records


def _finish(
    batch: Batch,
    out: xr.Dataset,
    records: list[dict[str, Any]],
    member_attr: Callable[[int, str, Any], Any],
    first_attrs: dict[str, Any],
) -> xr.Dataset:
    """The combined Dataset ``out`` (the members' variables stacked) with the per-member
    variables, the batch dimension's coordinates and the batch's attributes; the rules' Monte
    Carlo statistics. ``member_attr(i, name, default)`` is an attribute of member i's results."""
    dim = batch.dim
    n = len(batch.members)
    ok = [i for i in range(n) if records[i]["status"] == "ok"]
    per = {
        "status": ([r["status"] for r in records], "member status", "ok or failed"),
        "error": ([r["error"] for r in records], "member error", "why the member failed (empty when ok)"),
        "config_hash": (
            [m.key or "" for m in batch.members],
            "member cache key",
            "cache key: sha256 of the resolved configuration, dataset and draw (runs/<key>.nc)",
        ),
        "config": (
            np.array([member_attr(i, "config", "") for i in range(n)], dtype=object),
            "member configuration",
            "resolved configuration of the member (JSON)",
        ),
        "termination": (
            [member_attr(i, "termination", "") for i in range(n)],
            "termination status",
            "termination status (nationcap's own: optimal, infeasible, ...)",
        ),
    }
    for name, (vals, long_name, desc) in per.items():
        text = vals if isinstance(vals, np.ndarray) else np.array(vals, dtype=str)
        out[name] = xr.DataArray(text, dims=(dim,), attrs={"long_name": long_name, "description": desc})
    out["objective"] = xr.DataArray(
        np.array([float(member_attr(i, "objective_jpy", np.nan)) for i in range(n)]),
        dims=(dim,),
        attrs=variable_attrs(
            "JPY",
            'optimal objective: the cost account\'s items in the objective with their signs (README "Cost account")',
            money=present_value_money(batch.base.first_year),
            long_name="objective",
        ),
    )
    for key in batch.params:
        out = out.assign_coords({key: (dim, _coord_values([m.params[key] for m in batch.members]))})
        out[key].attrs = {"long_name": f"swept value of {key}"}
    if dim in out.coords and dim == SWEEP_DIM:
        out[dim].attrs = {"long_name": "sweep point"}
    elif dim in out.coords:
        out[dim].attrs = {
            "long_name": "Monte Carlo draw number",
            "comment": "draw i uses numpy.random.default_rng([seed, i])",
        }

    keep: dict[str, Any] = {
        k: first_attrs[k]
        for k in ("dataset", "first_year", "nationcap_version", "pyomo_version", "highspy_version", "python_version")
        if k in first_attrs
    }
    # what the members were computed from, when they all share it (a sweep of `inputs` does not)
    for k in ("dataset_sha256", "inputs_sha256"):
        values = {str(member_attr(i, k, "")) for i in ok}
        if len(values) == 1 and "" not in values:
            keep[k] = values.pop()
    out.attrs = {
        "scenario": batch.name,
        "description": batch.base.description,
        "batch": batch.kind,
        "batch_dim": dim,
        "config": batch.base.resolved_json(),
        "first_year": batch.base.first_year,
        **keep,
        "n_members": len(batch.members),
        "n_ok": sum(r["status"] == "ok" for r in records),
        "n_failed": sum(r["status"] != "ok" for r in records),
    }
    if batch.kind == "sweep":
        out.attrs["sweep_mode"] = batch.mode
        out.attrs["sweep_params"] = json.dumps(batch.params)
    else:
        out.attrs["montecarlo"] = json.dumps(batch.montecarlo, sort_keys=True)
        assert batch.seed is not None  # plan_montecarlo sets it
        out.attrs["montecarlo_seed"] = int(batch.seed)
        for rule in RULES:  # per-draw statistics of the rules (e.g. how often the price sits at the floor)
            if hasattr(rule, "montecarlo"):
                for name, da in rule.montecarlo(out).items():
                    if np.isfinite(da.values).any():
                        out[name] = da
    return apply_conventions(out)


def write_batch_outputs(
    res: xr.Dataset,
    records: list[dict[str, Any]],
    batch: Batch,
    out_dir: Path,
    engine: str,
    prune: bool = True,
    stack: DrawStack | None = None,
    chunk: int = 1,
) -> xr.Dataset:
    """Stage the combined files, then move them into ``out_dir``; ``run.json`` goes last.

    A Monte Carlo's per-draw table (draws.csv) and IAMC quantiles are made block by block of
    draws. With a ``stack`` that streams (:attr:`DrawStack.streamed`), ``res`` holds
    placeholders for those variables: results.nc gets their values from the stack block by
    block (HDF5 chunks of ``chunk`` draws), and the tables are read back from it. Returns the
    results: ``res``, without the streamed variables (they are in results.nc only)."""
    stage = out_dir / staging_name()
    stage.mkdir()
    streamed = stack is not None and bool(stack.streamed)
    tables = res
    try:
        if stack is not None and streamed:
            nc = stage / "results.nc"
            to_netcdf(res.drop_vars(stack.streamed), nc, shown=out_dir / "results.nc")
            try:
                with signals_deferred():
                    stack.write_detail(nc, batch.dim, {n: dict(res[n].attrs) for n in stack.streamed}, chunk)
            except RuntimeError as exc:
                raise write_error(out_dir / "results.nc", exc) from exc
            # the tables read the streamed variables back from the file, a block at a time
            tables = xr.open_dataset(nc, engine="netcdf4")
        else:
            to_netcdf(res, stage / "results.nc", shown=out_dir / "results.nc")
            tables = res
        if batch.kind == "sweep":
            write_csv(sweep_summary(res), stage / "summary.csv")
        else:  # (the quantiles and the rules' statistics read only in-memory variables)
            write_csv(montecarlo_summary(res), stage / "summary.csv")
            write_draws_csv(tables, stage / "draws.csv")
        if "price" in res:
            if batch.kind == "sweep":
                write_csv(iamc.to_iamc(res), stage / "iamc.csv")
            else:
                scratch = stage / "iamc-blocks"
                scratch.mkdir()
                write_csv(montecarlo_iamc(tables, scratch), stage / "iamc.csv")
                shutil.rmtree(scratch)
            if batch.kind == "sweep":  # a Monte Carlo's draws: results.nc, draws.csv and summary.csv
                for fname, df in combined_tables(res).items():
                    write_csv(df, stage / fname)
        meta = {
            "batch": batch.kind,
            "scenario": batch.name,
            "source": str(batch.source),
            "spec_hash": batch.spec_hash(),
            "engine": engine,
            "dimension": batch.dim,
            "n_members": len(records),
            "n_ok": sum(r["status"] == "ok" for r in records),
            "n_failed": sum(r["status"] != "ok" for r in records),
            "members": records,
            **{
                k: v
                for k, v in res.attrs.items()
                if k not in ("config", "montecarlo", "sweep_params", "scenario", "batch")
            },
            "config": json.loads(res.attrs["config"]),
        }
        if batch.kind == "sweep":
            meta["sweep"] = {"mode": batch.mode, "params": batch.params}
        else:
            meta["montecarlo"] = {"seed": batch.seed, "draws": len(records), "spec": batch.montecarlo}
        write_json(meta, stage / "run.json")

        new = {p.name for p in stage.iterdir()}
        with signals_deferred():  # the moves run to their end (Ctrl-C or SIGTERM takes effect after)
            (out_dir / "run.json").unlink(missing_ok=True)  # no run.json = combined files incomplete
            for old in out_dir.iterdir():
                if old.name in new or old.name in ("runs", "logs", BATCH_FILE, stage.name):
                    continue
                if old.is_dir() and not old.name.startswith("."):
                    shutil.rmtree(old)
                elif old.is_file():
                    old.unlink()
            for name in sorted(new - {"run.json"}):
                os.replace(stage / name, out_dir / name)
            os.replace(stage / "run.json", out_dir / "run.json")
    finally:
        if streamed:
            tables.close()
        with signals_deferred():
            shutil.rmtree(stage, ignore_errors=True)
    if stack is not None and streamed:  # the placeholders: those variables are in results.nc only
        res = res.drop_vars(stack.streamed)
    if prune:
        keep = {m.key for m in batch.members if m.key} | {f"invalid-{m.label}" for m in batch.members if m.key is None}
        for f in [*(out_dir / "runs").glob("*.nc"), *(out_dir / "logs").glob("*.log")]:
            if f.stem not in keep:
                f.unlink()
    return res


def _finish_run_json(out_dir: Path, wall: float, solved: int, cached: int) -> None:
    p = out_dir / "run.json"
    meta = json.loads(p.read_text())
    meta.update({"wall_time_s": round(wall, 3), "solved_now": solved, "from_cache": cached})
    with atomic_file(p) as tmp:
        write_json(meta, tmp)
