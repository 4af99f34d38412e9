"""Executors: run a batch's jobs in this process, on a local process pool or on a Dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import traceback
from collections.abc import Callable

from ..config import SolverConfig
from ..engines import ENGINES
from ..errors import InputError, Problem
from .plan import Job, _error_text
from .worker import Outcome, solve_job


def _failed(job: Job, exc: BaseException) -> Outcome:
    return Outcome(job.key, False, f"worker error: {_error_text(exc)}", None, traceback.format_exc(), 0.0)


def _engines_of(jobs: list[Job]) -> set[str]:
    """The engines the jobs' scenarios name (``[solver] engine``, else the default)."""
    default = SolverConfig().engine
    return {(job.raw.get("solver") or {}).get("engine", default) for job in jobs}


def preload_modules(engines: set[str]) -> list[str]:
    """Modules the fork server imports once, so that workers start warm: the worker and the
    session, the modules the registry lists for each engine the batch uses (so an exact-engine
    batch never loads Pyomo), and dask.array when installed (xarray imports it lazily on the
    first DataArray, ~1 s)."""
    import importlib.util

    mods = ["nationcap.batch.worker", "nationcap.session", "nationcap.results.build"]
    for name in sorted(engines):
        if name in ENGINES:
            mods += [m for m in ENGINES[name].preload if m not in mods]
    if importlib.util.find_spec("dask") is not None:
        mods.append("dask.array")
    return mods


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
        ctx.set_forkserver_preload(preload_modules(_engines_of(jobs)))
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx)
    try:
        futures = {pool.submit(solve_job, job): job for job in jobs}
        for fut in cf.as_completed(futures):
            job = futures[fut]
            try:
                out = fut.result()
            except Exception as exc:  # a worker died (e.g. out of memory)
                out = _failed(job, exc)
            on_done(job, out)
    except BaseException:
        # Ctrl-C (or an error writing a result): drop the members not started instead of waiting
        # for every queued one; members already cached in runs/ are complete and kept
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
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
