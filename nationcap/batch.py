"""Batch runs: cap sweeps and Monte Carlo draws on a local process pool or a Dask cluster.

A batch is a list of *members* (sweep points ``s000, s001, ...`` or Monte Carlo draws
``0, 1, ...``). Each valid member is a :class:`Job` keyed by the sha256 of what determines its
result: the resolved configuration (``Scenario.resolved_json()``), a fingerprint of the dataset
files, the nationcap version and, for a draw, the uncertainty table, seed and draw index. Jobs
run in worker processes (:func:`solve_job`: a sweep point goes through ``run_scenario``, a draw
through the same steps on a modified copy of the dataset); a job never raises: a failure comes
back as an :class:`Outcome` with its error, so one bad member never stops the batch.

Output folder ``DIR``::

    batch.json          what the batch is (kind, members and their keys); written first
    runs/<key>.nc       one results file per finished member: the cache
    logs/<key>.log      HiGHS log (and the error, if any) per member
    results.nc          every run's variables with a ``scenario`` (sweep) or ``draw`` dimension
    summary.csv         sweep: tidy scenario x market x year; Monte Carlo: price quantiles
    draws.csv           Monte Carlo only: the tidy per-draw table
    iamc.csv            IAMC wide table (see :mod:`nationcap.iamc`)
    <dims>.csv          the per-variable CSV tables of :func:`nationcap.writers.csv_tables`
    run.json            members with status, error, cache use and timings; versions; written last

Re-running the same command resumes: members whose ``runs/<key>.nc`` exists are not solved
again and the combined files are rebuilt from the cache. A folder holding anything else (a
different batch, a single run) is refused unless ``force``; with ``force`` the combined files are
replaced and cache entries of other batches are deleted at the end. Cached runs are reused
whenever their key matches (the key covers everything the result depends on), unless
``resume=False``. Failed members are not cached: a re-run tries them again.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import dataclasses
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import tempfile
import time
import tomllib
import traceback
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .config import Scenario, apply_override, parse_override, scenario_from_dict
from .errors import InputError, NationcapError, OutputExistsError, Problem

SWEEP_DIM = "scenario"
DRAW_DIM = "draw"
BATCH_FILE = "batch.json"
#: variables added per member; they describe the run rather than its results
MEMBER_VARS = ("status", "error", "config_hash", "config", "termination", "objective")


# ---------------------------------------------------------------------------------------
# reading the scenario file and the batch tables
# ---------------------------------------------------------------------------------------


def read_scenario_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """TOML -> (scenario dict, ``[sweep]`` table, ``[montecarlo]`` table); the tables are popped."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            [Problem(str(path), "", "", "file not found; give the path of a scenario .toml file")], "scenario"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(str(path), "", "", f"not valid TOML: {exc}")], "scenario") from None
    return raw, raw.pop("sweep", None), raw.pop("montecarlo", None)


def load_batch_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """The Scenario of a file that may hold ``[sweep]`` / ``[montecarlo]`` tables (ignored here;
    ``config.load_scenario`` does the same and also checks the tables)."""
    raw, _, _ = read_scenario_file(path)
    return scenario_from_dict(raw, source=Path(path).resolve(), overrides=tuple(overrides))


def split_values(text: str) -> list[Any]:
    """``"0.1,0.2"`` -> [0.1, 0.2]: split on top-level commas, read each item as a TOML value.

    Commas inside brackets, braces or quotes do not split, so ``[1, 2],[3, 4]`` gives two lists.
    """
    items, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    items.append("".join(cur))
    values = []
    for item in items:
        item = item.strip()
        if not item:
            raise ValueError(f"empty value in {text!r}")
        values.append(parse_override(f"v={item}")[1])
    return values


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b": [1]}`` (unquoted dotted TOML keys become nested tables)."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


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


# ---------------------------------------------------------------------------------------
# keys and fingerprints
# ---------------------------------------------------------------------------------------

_FINGERPRINTS: dict[str, str] = {}


def dataset_fingerprint(path: str | Path) -> str:
    """sha256 of every (non-hidden) file's relative name and bytes in the dataset folder."""
    path = Path(path)
    key = str(path.resolve())
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ):
            h.update(str(f.relative_to(path)).encode())
            h.update(b"\0")
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]


def run_key(scn: Scenario, draw_info: dict[str, Any] | None = None) -> str:
    """Cache key of one member: sha256 of the resolved configuration, the dataset files, the
    draw and the nationcap version (a new release never reuses an older release's results)."""
    from . import __version__

    payload = {
        "nationcap_version": __version__,
        "config": json.loads(scn.resolved_json()),
        "dataset_sha256": dataset_fingerprint(scn.inputs_path),
        "draw": draw_info,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


# ---------------------------------------------------------------------------------------
# plan: members and jobs
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    """What a worker needs to solve one member (plain data: picklable for any executor)."""

    key: str
    label: str
    raw: dict[str, Any]  # scenario dict with every override applied
    source: str  # absolute path of the scenario file (inputs are relative to it)
    montecarlo: dict[str, Any] | None = None
    seed: int | None = None
    draw: int | None = None
    reuse: bool = False  # re-solve this process's persistent model when only allocations differ


@dataclasses.dataclass
class Member:
    label: str  # "s000" or the draw number as text
    coord: Any  # coordinate value along the batch dimension
    params: dict[str, Any]
    key: str | None  # None when the member's configuration is invalid
    error: str = ""


@dataclasses.dataclass
class Batch:
    kind: str  # "sweep" | "montecarlo"
    name: str
    source: Path
    base: Scenario
    members: list[Member]
    jobs: dict[str, Job]  # by key
    params: list[str] = dataclasses.field(default_factory=list)
    mode: str = ""
    montecarlo: dict[str, Any] | None = None
    seed: int | None = None

    @property
    def dim(self) -> str:
        return SWEEP_DIM if self.kind == "sweep" else DRAW_DIM

    def spec_hash(self) -> str:
        spec = {"kind": self.kind, "members": [(m.label, m.key, m.error) for m in self.members]}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def default_out(self) -> Path:
        return Path("outputs") / f"{self.name}_{self.kind}"


def _base(path: Path, overrides: Iterable[str]) -> tuple[dict[str, Any], dict | None, dict | None, Scenario]:
    raw, sweep, mc = read_scenario_file(path)
    src = path.resolve()
    base = scenario_from_dict(raw, source=src, overrides=tuple(overrides))
    data = copy.deepcopy(raw)
    for text in overrides:
        apply_override(data, *parse_override(text))
    return data, sweep, mc, base


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, NationcapError) else f"{type(exc).__name__}: {exc}"


def plan_sweep(
    path: str | Path,
    params: dict[str, list[Any]] | None = None,
    mode: str | None = None,
    overrides: Iterable[str] = (),
    reuse: bool = False,
) -> Batch:
    """Members of a sweep: from ``params`` (e.g. the CLI) or else the file's ``[sweep]`` table.

    With ``reuse``, a worker re-solves its built model (nationcap.persistent) for members that
    change only allocations; such runs are cached under their own keys."""
    path = Path(path)
    data, table, _, base = _base(path, overrides)
    if params is None:
        if table is None:
            raise InputError(
                [
                    Problem(
                        str(path),
                        "",
                        "",
                        "nothing to sweep: give --param KEY --values V1,V2 or a [sweep] table in the file",
                    )
                ],
                "scenario",
            )
        params, file_mode = parse_sweep_table(table, str(path))
        mode = mode or file_mode
    mode = mode or "grid"
    try:
        points = expand(params, mode)
    except ValueError as exc:
        raise InputError([Problem("--param/--values", "", "", str(exc))], "arguments") from None
    width = max(3, len(str(len(points) - 1)))
    members, jobs = [], {}
    for i, point in enumerate(points):
        label = f"s{i:0{width}d}"
        raw = copy.deepcopy(data)
        try:
            for k, v in point.items():
                apply_override(raw, k.split("."), copy.deepcopy(v))
            scn = scenario_from_dict(raw, source=path.resolve())
        except (NationcapError, ValueError) as exc:
            members.append(Member(label, label, point, None, _error_text(exc)))
            continue
        key = run_key(scn, {"reuse": True} if reuse else None)
        members.append(Member(label, label, point, key))
        jobs.setdefault(key, Job(key, label, raw, str(path.resolve()), reuse=reuse))
    if not jobs:
        raise InputError([Problem(str(path), m.label, "", m.error) for m in members[:3]], "sweep (no valid scenario)")
    return Batch("sweep", base.name, path, base, members, jobs, params=list(params), mode=mode)


def plan_montecarlo(
    path: str | Path, draws: int | None = None, seed: int | None = None, overrides: Iterable[str] = ()
) -> Batch:
    """Members of a Monte Carlo run: draws ``0..N-1`` of the file's ``[montecarlo]`` table."""
    from .uncertainty import parse_montecarlo

    path = Path(path)
    data, _, table, base = _base(path, overrides)
    if table is None:
        raise InputError(
            [
                Problem(
                    str(path), "", "", "no [montecarlo] table: declare the uncertain inputs (see README, 'Batch runs')"
                )
            ],
            "scenario",
        )
    spec = parse_montecarlo(table, str(path))
    draws = draws if draws is not None else spec.draws
    seed = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
    if draws is None or draws < 1:
        raise InputError(
            [Problem(str(path), "key 'montecarlo.draws'", "", "give --draws N (N >= 1) or montecarlo.draws")],
            "scenario",
        )
    uncertain = json.loads(spec.uncertain_json())
    members, jobs = [], {}
    for i in range(draws):
        key = run_key(base, {"montecarlo": uncertain, "seed": seed, "draw": i})
        members.append(Member(str(i), i, {}, key))
        jobs[key] = Job(key, str(i), data, str(path.resolve()), uncertain, seed, i)
    return Batch("montecarlo", base.name, path, base, members, jobs, montecarlo=uncertain, seed=seed)


# ---------------------------------------------------------------------------------------
# the worker side
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    key: str
    ok: bool
    error: str
    results: xr.Dataset | None
    log: str
    wall_time_s: float


def solve_dataset(scn: Scenario, ds, log_file: str | None = None) -> xr.Dataset:
    """run_scenario's steps (Pyomo engine) on an already loaded, possibly modified, dataset."""
    from .run import run_dataset

    return run_dataset(scn, ds, log_file=log_file)


def draw_variables(d, years: list[int]) -> xr.Dataset:
    """The values of a Monte Carlo draw as variables of its results."""
    return xr.Dataset(
        {
            "mc_bau_multiplier": xr.DataArray(
                d.bau_multiplier,
                dims=("bau_group", "year"),
                coords={"bau_group": d.bau_labels, "year": np.array(years, dtype=np.int64)},
                attrs={"units": "1", "description": "BAU emissions multiplier of the draw by group and year"},
            ),
            "mc_mac_cost_multiplier": xr.DataArray(
                d.mac_multiplier,
                dims=("mac_group",),
                coords={"mac_group": d.mac_labels},
                attrs={"units": "1", "description": "MAC step cost multiplier of the draw by group"},
            ),
        }
    )


def dataset_for(job: Job):
    """(scenario, dataset, draw) of a job: the draw is applied to a copy of the tables."""
    from .data import load_dataset
    from .uncertainty import MonteCarloSpec, apply_draw, draw

    scn = scenario_from_dict(job.raw, source=job.source)
    ds = load_dataset(scn.inputs_path, scn)
    d = None
    if job.montecarlo is not None:
        spec = MonteCarloSpec.model_validate(job.montecarlo)
        d = draw(spec, job.seed, job.draw, scn, ds)
        ds = apply_draw(spec, d, scn, ds)
    return scn, ds, d


def solve_job(job: Job) -> Outcome:
    """Solve one member in this process. Never raises for a model or data problem."""
    t0 = time.perf_counter()
    header = f"nationcap batch member {job.label} (key {job.key})\n"
    if job.draw is not None:
        header += f"Monte Carlo draw {job.draw}, seed {job.seed}\n"
    with tempfile.TemporaryDirectory(prefix="nationcap-") as td:
        log_path = Path(td) / "highs.log"
        res, err, tb = None, "", ""
        try:
            if job.montecarlo is None and job.reuse:  # re-solve this worker's model if it can
                from .persistent import solve_reusing

                res = solve_reusing(scenario_from_dict(job.raw, source=job.source), log_file=str(log_path))
            elif job.montecarlo is None:  # a sweep point: exactly what `nationcap run --set ...` solves
                from .run import run_scenario

                res = run_scenario(scenario_from_dict(job.raw, source=job.source), log_file=str(log_path))
            else:
                scn, ds, d = dataset_for(job)
                res = solve_dataset(scn, ds, log_file=str(log_path))
                res = res.merge(draw_variables(d, scn.years), combine_attrs="override")
        except Exception as exc:  # recorded, not raised: one failure must not stop a batch
            err = _error_text(exc)
            if not isinstance(exc, NationcapError):
                tb = traceback.format_exc()
        log = header + "\n" + (log_path.read_text(errors="replace") if log_path.is_file() else "")
    if err:
        log += f"\nFAILED: {err}\n{tb}"
    return Outcome(job.key, res is not None, err, res, log, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------------------


def _failed(job: Job, exc: BaseException) -> Outcome:
    return Outcome(job.key, False, f"worker error: {_error_text(exc)}", None, traceback.format_exc(), 0.0)


def _preload_modules() -> list[str]:
    """Modules the fork server imports once, so that workers start warm: Pyomo, pandas, xarray,
    and dask.array when installed (xarray imports it lazily on the first DataArray, ~1 s)."""
    import importlib.util

    mods = [
        "nationcap.batch",
        "nationcap.run",
        "nationcap.model",
        "nationcap.solve",
        "nationcap.results",
        "nationcap.data",
    ]
    if importlib.util.find_spec("dask") is not None:
        mods.append("dask.array")
    return mods


_PRELOAD = _preload_modules()


def execute(
    jobs: list[Job],
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[Job, Outcome], None] = lambda j, o: None,
) -> str:
    """Run ``jobs``; call ``on_done`` in this process as each finishes. Returns the engine used."""
    if not jobs:
        return "none (all cached)"
    if scheduler:
        return _execute_dask(jobs, scheduler, on_done)
    workers = max(1, int(workers))
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            on_done(job, solve_job(job))
        return "in-process"
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        futures = {pool.submit(solve_job, job): job for job in jobs}
        for fut in cf.as_completed(futures):
            job = futures[fut]
            try:
                out = fut.result()
            except Exception as exc:  # a worker died (e.g. out of memory)
                out = _failed(job, exc)
            on_done(job, out)
    return f"local pool ({min(workers, len(jobs))} processes)"


def _execute_dask(jobs: list[Job], address: str, on_done) -> str:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            [Problem("--scheduler", "", "", "needs Dask: pip install 'nationcap[dask]'")], "arguments"
        ) from None
    try:
        client = Client(address, timeout=30)
    except Exception as exc:
        raise InputError(
            [Problem("--scheduler", address, "", f"cannot connect to the Dask scheduler: {exc}")], "arguments"
        ) from None
    with client:
        futures = client.map(solve_job, jobs, pure=False)
        by_future = dict(zip(futures, jobs))
        for fut in as_completed(futures):
            job = by_future[fut]
            try:
                out = fut.result()
            except Exception as exc:  # the worker died or the task was lost
                out = _failed(job, exc)
            on_done(job, out)
            fut.release()
    return f"dask {address}"


# ---------------------------------------------------------------------------------------
# output folder, cache and combined results
# ---------------------------------------------------------------------------------------


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_nc(ds: xr.Dataset, path: Path) -> None:
    enc = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}
    _write_atomic(path, lambda p: ds.to_netcdf(p, engine="netcdf4", encoding=enc))


def prepare_dir(out_dir: Path, batch: Batch, force: bool) -> bool:
    """Check ``out_dir`` may take this batch; return True when it holds this same batch."""
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
    if not force:
        raise OutputExistsError(
            f"{out_dir} already holds other results (not this batch); pass --force to replace them "
            f"(cached runs with matching keys are reused) or --out to write elsewhere"
        )
    if not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} is a file, not a folder")
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
    """Solve what is not cached, then (re)write the combined outputs. See the module docstring."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir) if out_dir else batch.default_out()
    workers = workers or os.cpu_count() or 1
    prepare_dir(out_dir, batch, force)
    runs, logs = out_dir / "runs", out_dir / "logs"
    runs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    spec = {
        "kind": batch.kind,
        "name": batch.name,
        "source": str(batch.source),
        "spec_hash": batch.spec_hash(),
        "members": [{"label": m.label, "key": m.key, "params": m.params} for m in batch.members],
    }
    _write_atomic(out_dir / BATCH_FILE, lambda p: p.write_text(json.dumps(spec, indent=1, default=str) + "\n"))

    for m in batch.members:  # invalid configurations: log the error
        if m.key is None:
            _write_atomic(
                logs / f"invalid-{m.label}.log",
                lambda p, m=m: p.write_text(f"nationcap batch member {m.label}\nINVALID: {m.error}\n"),
            )

    pending = [j for k, j in batch.jobs.items() if not (resume and (runs / f"{k}.nc").is_file())]
    cached = len(batch.jobs) - len(pending)
    info: dict[str, dict[str, Any]] = {}
    fresh: dict[str, xr.Dataset] = {}

    def on_done(job: Job, out: Outcome) -> None:
        _write_atomic(logs / f"{job.key}.log", lambda p: p.write_text(out.log))
        if out.ok:
            _write_nc(out.results, runs / f"{job.key}.nc")
            fresh[job.key] = out.results
        else:  # --no-resume: an older result of this key must not stand in for the failure
            (runs / f"{job.key}.nc").unlink(missing_ok=True)
        info[job.key] = {"error": out.error, "wall_time_s": round(out.wall_time_s, 3)}
        if progress is not None:
            progress(1)

    engine = execute(pending, workers=workers, scheduler=scheduler, on_done=on_done)
    combined, records = combine(batch, runs, info, fresh)
    write_batch_outputs(combined, records, batch, out_dir, engine, prune=True)
    wall = time.perf_counter() - t0
    _finish_run_json(out_dir, wall, len(pending), cached)
    return BatchResult(batch, out_dir, combined, records, engine, wall, len(pending), cached)


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
                    loaded[m.key] = xr.load_dataset(path, engine="netcdf4")
                except Exception as exc:  # pragma: no cover - a damaged cache file
                    rec["error"] = f"cache file {path} is unreadable ({exc}); re-run with --no-resume"
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
            ds = (loaded[m.key] if rec["status"] == "ok" else blank).copy()
            ds.attrs = {}
            parts.append(ds)
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
        first_attrs = template.attrs
    else:
        out = xr.Dataset(coords={dim: coords})
        first_attrs = {}

    def member_attr(m, rec, name, default):
        return loaded[m.key].attrs.get(name, default) if rec["status"] == "ok" else default

    per = {
        "status": ([r["status"] for r in records], "", "ok or failed"),
        "error": ([r["error"] for r in records], "", "why the member failed (empty when ok)"),
        "config_hash": (
            [m.key or "" for m in batch.members],
            "",
            "cache key: sha256 of the resolved configuration, dataset and draw (runs/<key>.nc)",
        ),
        "config": (
            [member_attr(m, r, "config", "") for m, r in zip(batch.members, records)],
            "",
            "resolved configuration of the member (JSON)",
        ),
        "termination": (
            [member_attr(m, r, "termination", "") for m, r in zip(batch.members, records)],
            "",
            "solver termination condition",
        ),
    }
    for name, (vals, units, desc) in per.items():
        out[name] = xr.DataArray(np.array(vals, dtype=str), dims=(dim,), attrs={"units": units, "description": desc})
    out["objective"] = xr.DataArray(
        np.array([float(member_attr(m, r, "objective_jpy", np.nan)) for m, r in zip(batch.members, records)]),
        dims=(dim,),
        attrs={"units": "JPY, present value", "description": "optimal objective (total discounted abatement cost)"},
    )
    for key in batch.params:
        out = out.assign_coords({key: (dim, _coord_values([m.params[key] for m in batch.members]))})
        out[key].attrs = {"units": "", "description": f"swept value of {key}"}
    if dim in out.coords and dim == SWEEP_DIM:
        out[dim].attrs = {"units": "", "description": "sweep point"}
    elif dim in out.coords:
        out[dim].attrs = {
            "units": "",
            "description": "Monte Carlo draw number (rng = numpy.random.default_rng([seed, draw]))",
        }

    keep = {
        k: first_attrs[k]
        for k in ("dataset", "first_year", "nationcap_version", "pyomo_version", "highs_version", "python_version")
        if k in first_attrs
    }
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
        out.attrs["montecarlo_seed"] = int(batch.seed)
        _add_band_probability(out)
    return out, records


# ---------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------


def market_year_table(res: xr.Dataset) -> pd.DataFrame:
    """Tidy (member,) market, year table: price, emissions, abatement, cost, period cap and bank."""
    dim = res.attrs.get("batch_dim")
    dims = [dim] if dim else []
    if "price" not in res:
        return pd.DataFrame()
    cfg = json.loads(res.attrs["config"])
    year_period = {y: p["name"] for p in cfg["periods"] for y in range(p["first_year"], p["last_year"] + 1)}
    df = res["price"].to_dataframe(name="price_jpy_per_t")[["price_jpy_per_t"]]
    by = lambda v: res[f"{v}_by_sector"].sum("sector").to_series()  # noqa: E731 (market x year sums)
    df["emissions_t"] = by("emissions")
    df["abatement_t"] = by("abatement")
    df["abatement_cost_jpy"] = by("abatement_cost")
    df = df.reset_index()
    df.insert(len(dims) + 2, "period", df["year"].map(year_period))
    per = (
        res[["cap", "bank"]]
        .to_dataframe()[["cap", "bank"]]
        .rename(columns={"cap": "cap_t", "bank": "bank_t"})
        .reset_index()
    )
    df = df.merge(per, on=dims + ["market", "period"], how="left")
    tc = res["total_cost"].to_dataframe(name="total_cost_jpy_pv")[["total_cost_jpy_pv"]].reset_index()
    df = df.merge(tc, on=dims + ["market"], how="left")
    return df


def sweep_summary(res: xr.Dataset) -> pd.DataFrame:
    """summary.csv of a sweep: scenario, swept values, status, then the market-year table."""
    dim = SWEEP_DIM
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    head = pd.DataFrame({dim: res[dim].values, **{k: res[k].values for k in params}, "status": res["status"].values})
    table = market_year_table(res)
    if table.empty:
        return head
    return head.merge(table, on=dim, how="right")


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _add_band_probability(res: xr.Dataset) -> None:
    """``p_price_at_floor`` / ``p_price_at_ceiling`` (market, year): the share of successful draws
    whose price is at the band's bound. Only for markets and years where the results carry a
    ``price_floor`` / ``price_ceiling`` (NaN = no bound); otherwise the variable is omitted."""
    if "price" not in res:
        return
    ok = res["status"] == "ok"
    price = res["price"].where(ok)
    for which, name in (("price_floor", "p_price_at_floor"), ("price_ceiling", "p_price_at_ceiling")):
        if which not in res:
            continue
        band = res[which].where(ok).max(DRAW_DIM)  # the same in every draw; NaN where there is none
        if not np.isfinite(band.values).any():
            continue
        tol = 1e-6 * np.maximum(1.0, np.abs(band))
        hit = (price <= band + tol) if which == "price_floor" else (price >= band - tol)
        prob = hit.where(price.notnull()).mean(DRAW_DIM).where(np.isfinite(band))
        res[name] = prob.assign_attrs(
            units="1", description=f"share of the successful draws whose price is at the {which.split('_')[1]}"
        )


def montecarlo_summary(res: xr.Dataset) -> pd.DataFrame:
    """summary.csv of a Monte Carlo run: the price distribution per market and year."""
    if "price" not in res:
        return pd.DataFrame(columns=["market", "year", "n_draws"])
    ok = res["status"] == "ok"
    price = res["price"].where(ok)
    rows = {
        "n_draws": price.count(DRAW_DIM),
        "mean_jpy_per_t": price.mean(DRAW_DIM),
        "sd_jpy_per_t": price.std(DRAW_DIM, ddof=1) if int(ok.sum()) > 1 else price.mean(DRAW_DIM) * np.nan,
        "min_jpy_per_t": price.min(DRAW_DIM),
    }
    for q in QUANTILES:
        rows[f"p{round(q * 100):02d}_jpy_per_t"] = price.quantile(q, dim=DRAW_DIM).drop_vars("quantile")
    rows["max_jpy_per_t"] = price.max(DRAW_DIM)
    for name in ("p_price_at_floor", "p_price_at_ceiling"):
        rows[name] = res[name] if name in res else xr.full_like(price.isel({DRAW_DIM: 0}, drop=True), np.nan)
    df = pd.DataFrame({k: v.to_series() for k, v in rows.items()}).reset_index()
    cfg = json.loads(res.attrs["config"])
    year_period = {y: p["name"] for p in cfg["periods"] for y in range(p["first_year"], p["last_year"] + 1)}
    df.insert(2, "period", df["year"].map(year_period))
    return df


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


def combined_tables(res: xr.Dataset) -> dict[str, pd.DataFrame]:
    from .writers import csv_tables

    slim = res.drop_vars(["config"], errors="ignore")
    return csv_tables(slim)


def write_batch_outputs(
    res: xr.Dataset, records: list[dict[str, Any]], batch: Batch, out_dir: Path, engine: str, prune: bool = True
) -> None:
    """Stage the combined files, then move them into ``out_dir``; ``run.json`` goes last."""
    from . import iamc

    stage = out_dir / f".staging-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        enc = {v: {"zlib": True, "complevel": 4} for v in res.data_vars if res[v].dtype.kind in "fiu"}
        res.to_netcdf(stage / "results.nc", engine="netcdf4", encoding=enc)
        if batch.kind == "sweep":
            sweep_summary(res).to_csv(stage / "summary.csv", index=False, lineterminator="\n")
        else:
            montecarlo_summary(res).to_csv(stage / "summary.csv", index=False, lineterminator="\n")
            table = market_year_table(res)
            if not table.empty:
                table.insert(
                    1, "status", table[DRAW_DIM].map(dict(zip(res[DRAW_DIM].values.tolist(), res["status"].values)))
                )
            table.to_csv(stage / "draws.csv", index=False, lineterminator="\n")
        if "price" in res:
            iamc.to_iamc(res).to_csv(stage / "iamc.csv", index=False, lineterminator="\n")
            for fname, df in combined_tables(res).items():
                df.to_csv(stage / fname, index=False, lineterminator="\n")
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
        (stage / "run.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")

        new = {p.name for p in stage.iterdir()}
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
        shutil.rmtree(stage, ignore_errors=True)
    if prune:
        keep = {m.key for m in batch.members if m.key} | {f"invalid-{m.label}" for m in batch.members if m.key is None}
        for f in [*(out_dir / "runs").glob("*.nc"), *(out_dir / "logs").glob("*.log")]:
            if f.stem not in keep:
                f.unlink()


def _finish_run_json(out_dir: Path, wall: float, solved: int, cached: int) -> None:
    p = out_dir / "run.json"
    meta = json.loads(p.read_text())
    meta.update({"wall_time_s": round(wall, 3), "solved_now": solved, "from_cache": cached})
    _write_atomic(p, lambda q: q.write_text(json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n"))


# ---------------------------------------------------------------------------------------
# reading results (single runs and batches alike)
# ---------------------------------------------------------------------------------------


def load_results(path: str | Path) -> xr.Dataset:
    """A results folder (``results.nc`` inside) or a ``.nc`` file, loaded into memory."""
    path = Path(path)
    nc = path / "results.nc" if path.is_dir() else path
    if not nc.is_file():
        raise InputError(
            [Problem(str(path), "", "", "no results here: give a results folder (with results.nc) or a .nc file")],
            "arguments",
        )
    try:
        return xr.load_dataset(nc, engine="netcdf4")
    except Exception as exc:
        raise InputError([Problem(str(nc), "", "", f"cannot be read as netCDF results: {exc}")], "arguments") from None


def batch_dim(res: xr.Dataset) -> str | None:
    dim = res.attrs.get("batch_dim")
    return dim if dim in res.dims else None


def members(res: xr.Dataset) -> list[tuple[Any, str]]:
    """(coordinate, display label) of the successful members of a batch; [] for a single run."""
    dim = batch_dim(res)
    if dim is None:
        return []
    out = []
    for i, c in enumerate(res[dim].values.tolist()):
        if str(res["status"].values[i]) == "ok":
            out.append((c, str(c)))
    return out


def select_member(res: xr.Dataset, which: str | None = None) -> tuple[xr.Dataset, str]:
    """One run out of a batch (``which`` = label or draw number; default the first successful).

    Returns the single-run Dataset (its ``config`` attribute is the member's) and a label.
    """
    dim = batch_dim(res)
    if dim is None:
        return res, ""
    ok = members(res)
    if not ok:
        raise InputError([Problem("results", "", "", "every member of this batch failed: nothing to plot")], "results")
    if which is None:
        coord = ok[0][0]
    else:
        labels = {str(c): c for c, _ in ok}
        if str(which) not in labels:
            raise InputError(
                [Problem("--member", str(which), "", f"not a successful member; choose one of {sorted(labels)[:10]}")],
                "arguments",
            )
        coord = labels[str(which)]
    one = res.sel({dim: coord})
    cfg = str(one["config"].values) if "config" in one else res.attrs["config"]
    one = one.drop_vars([v for v in MEMBER_VARS if v in one.data_vars])
    one.attrs = {**res.attrs, "config": cfg, "member": coord}
    return one, f"{dim} {coord}{member_description(res, coord)}"


def member_description(res: xr.Dataset, coord) -> str:
    """ ", key=value, ..." of a sweep member's swept values ('' for a draw)."""
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    if not params:
        return ""
    dim = batch_dim(res)
    one = res.sel({dim: coord})
    return ": " + ", ".join(f"{k}={one[k].values.item()}" for k in params)
