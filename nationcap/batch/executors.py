"""Executors: run a batch's jobs in this process, on a local process pool or on a Dask cluster.

Interruption. Ctrl-C and SIGTERM stop a batch as a whole: in this process they raise
``KeyboardInterrupt`` (SIGTERM: :class:`~nationcap.errors.Terminated`, installed by the command
line). The local pool's workers ignore Ctrl-C (a terminal sends it to every process) and may not
have received SIGTERM (sent to this process only, as ``kill`` and ``timeout`` do): this process
sends each SIGTERM, which unwinds the member it solves (its temporary files are removed) and ends
it (:func:`_worker_signal`). Members already cached in ``runs/`` are complete and kept.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from ..atomic import signals_deferred
from ..config import SolverConfig
from ..engines import ENGINES
from ..errors import InputError, Problem, Terminated
from .arrays import ChunkOutcome, PairOutcome
from .plan import Chunk, Job, PairChunk, _error_text
from .worker import Outcome, solve_chunk, solve_job, solve_pair

#: what the executors run: one member, a chunk of Monte Carlo draws, or a chunk of the same draws
#: under the two designs of a paired Monte Carlo
Task = Job | Chunk | PairChunk
Result = Outcome | ChunkOutcome | PairOutcome

#: exit code of a worker stopped by SIGTERM (as the command line's, nationcap/cli/common.py)
EXIT_TERMINATED = 143


def _failed(job: Task, exc: BaseException) -> Result:
    error, log = f"worker error: {_error_text(exc)}", traceback.format_exc()
    if isinstance(job, PairChunk):
        a, b = _failed(job.a, exc), _failed(job.b, exc)
        assert isinstance(a, ChunkOutcome) and isinstance(b, ChunkOutcome)
        return PairOutcome(a, b)
    if isinstance(job, Chunk):
        n = len(job.jobs)
        return ChunkOutcome([j.key for j in job.jobs], [error] * n, [log] * n, [0.0] * n, {}, [])
    return Outcome(job.key, False, error, None, log, 0.0)


def _engines_of(jobs: Sequence[Task]) -> set[str]:
    """The engines the jobs' scenarios name (``[solver] engine``, else the default)."""
    default = SolverConfig().engine
    raws = [j.raw for job in jobs for j in (job.jobs if isinstance(job, (Chunk, PairChunk)) else (job,))]
    return {(raw.get("solver") or {}).get("engine", default) for raw in raws}


def solve_task(job: Task) -> Result:
    """A member (:func:`~nationcap.batch.worker.solve_job`), a chunk of draws
    (:func:`~nationcap.batch.worker.solve_chunk`) or a chunk of draws of both designs of a pair
    (:func:`~nationcap.batch.worker.solve_pair`) solved in this process."""
    if isinstance(job, PairChunk):
        return solve_pair(job)
    return solve_chunk(job) if isinstance(job, Chunk) else solve_job(job)


def loaded_modules(prefixes: tuple[str, ...]) -> list[str]:
    """The modules of this process whose top package is one of ``prefixes`` (to check that a
    worker starts light: tests/batch/test_chunks.py)."""
    return sorted(m for m in sys.modules if m.split(".")[0] in prefixes)


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


#: whether this pool worker is solving a member (see :func:`_worker_signal`)
_IN_JOB = False


def _worker_signal(signum: int, frame) -> None:
    """SIGTERM in a pool worker: inside a member, an interruption that unwinds it (its temporary
    files are removed) before :func:`_run_job` ends the worker; between members, a quiet exit."""
    if _IN_JOB:
        raise Terminated()
    sys.exit(EXIT_TERMINATED)


def _worker_start() -> None:
    """A pool worker's start: Ctrl-C is left to the main process (which stops the workers, module
    doc); SIGTERM ends the worker cleanly (:func:`_worker_signal`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_signal)


def _run_job(job: Task) -> Result:
    """:func:`solve_task` in a pool worker; an interruption ends the worker."""
    global _IN_JOB
    _IN_JOB = True
    try:
        return solve_task(job)
    except KeyboardInterrupt:
        os._exit(EXIT_TERMINATED)  # unwound (temporaries removed): end without returning to the pool
    finally:
        _IN_JOB = False


def _stop_workers(procs: list) -> None:
    """Send SIGTERM to the pool's worker processes ``procs`` and wait until they are gone."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():  # a worker stuck in the solver's C code: it holds no file of ours
            p.kill()
            p.join(timeout=5)


def execute(
    jobs: Sequence[Task],
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[Any, Any], None] = lambda j, o: None,
    client=None,
) -> str:
    """Run ``jobs``; call ``on_done`` in this process as each finishes. Returns the engine used.

    With ``scheduler``, the jobs run on that Dask cluster, through ``client`` when it is given
    (a client of :func:`connect`; it is closed at the end)."""
    if not jobs:
        return "none (all cached)"
    if scheduler:
        return _execute_dask(jobs, scheduler, on_done, client)
    workers = max(1, int(workers))
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            on_done(job, solve_task(job))
        return "in-process"
    pool = make_pool(jobs, workers)
    try:
        futures = {pool.submit(_run_job, job): job for job in jobs}
        for fut in cf.as_completed(futures):
            job = futures.pop(fut)  # (a finished future holds its result: drop it once handled)
            try:
                out = fut.result()
            except Exception as exc:  # a worker died (e.g. out of memory)
                out = _failed(job, exc)
            on_done(job, out)
            del fut, out
    except BaseException:
        # Ctrl-C, SIGTERM (or an error writing a result): drop the members not started, stop the
        # running ones (module doc); members already cached in runs/ are complete and kept
        with signals_deferred():  # a second Ctrl-C waits until the workers are gone
            procs = list((getattr(pool, "_processes", None) or {}).values())  # (shutdown forgets them)
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_workers(procs)
        raise
    pool.shutdown(wait=True)
    return f"local pool ({min(workers, len(jobs))} processes)"


def make_pool(jobs: Sequence[Task], workers: int) -> cf.ProcessPoolExecutor:
    """The local pool of :func:`execute`: fork-server workers (spawned where there is no fork
    server) that preload what the jobs' engines need (:func:`preload_modules`)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(preload_modules(_engines_of(jobs)))
    return cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx, initializer=_worker_start)


def beside(func: Callable[[Any], Any], arg: Any, here: Callable[[], Any]) -> tuple[Any, Any]:
    """``(func(arg), here())``, with ``func(arg)`` in a worker process of its own (started as the
    local pool's workers are, Ctrl-C left to this process) while ``here()`` runs in this process:
    two pieces of independent work on two cores. An exception of either is raised here once both
    have ended."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_worker_start) as pool:
        fut = pool.submit(func, arg)
        mine = here()
        return fut.result(), mine


def connect(address: str):
    """A Dask client connected to the scheduler at ``address``; an InputError (exit code 2) when
    Dask is missing or the scheduler cannot be reached. :func:`nationcap.batch.store.run_batch`
    connects before it creates or changes anything in the output folder."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            [Problem("--scheduler", "", "", "needs Dask: pip install 'nationcap[dask]'")], "arguments"
        ) from None
    try:
        return Client(address, timeout=30)
    except Exception as exc:
        raise InputError(
            [
                Problem(
                    "--scheduler",
                    address,
                    "",
                    f"cannot connect to the Dask scheduler: {exc}; nothing was written (start the scheduler, "
                    f"or leave --scheduler out to run on local worker processes)",
                )
            ],
            "arguments",
        ) from None


def _execute_dask(jobs: Sequence[Task], address: str, on_done, client=None) -> str:
    from dask.distributed import as_completed

    client = client if client is not None else connect(address)
    with client:
        futures = client.map(solve_task, jobs, pure=False)
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
