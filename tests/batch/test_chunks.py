"""Monte Carlo draws in chunks, as plain arrays (nationcap/batch/arrays.py): the outputs do not
depend on the chunking, the worker count or the streaming of the detail variables; a failing
draw inside a chunk is reported and the others kept; a worker of an exact-engine Monte Carlo
starts without Pyomo or matplotlib.

Every case is models/tiny_montecarlo.toml (exact engine, 8 entities), a few draws.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nationcap.batch import arrays, plan, summaries, worker
from nationcap.batch.plan import chunk_size, plan_montecarlo
from nationcap.batch.store import member_cache_pointless, run_batch
from nationcap.results import iamc

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "models" / "tiny_montecarlo.toml"
FILES = ("draws.csv", "summary.csv", "iamc.csv")


def mc(out: Path, draws: int = 9, workers: int = 1):
    batch = plan_montecarlo(TINY, draws=draws, seed=3)
    assert member_cache_pointless(batch)  # the exact engine: the chunked path
    return run_batch(batch, out, workers=workers)


def same_outputs(a: Path, b: Path) -> None:
    """Byte-identical tables; results.nc equal variable by variable, with the same attributes
    (also as netCDF stores them: fill values, the Dataset's attributes)."""
    for name in FILES:
        assert filecmp.cmp(a / name, b / name, shallow=False), name
    x, y = xr.load_dataset(a / "results.nc"), xr.load_dataset(b / "results.nc")
    xr.testing.assert_identical(x, y)
    for v in x.variables:
        assert x[v].dtype == y[v].dtype, v
    with netCDF4.Dataset(a / "results.nc") as p, netCDF4.Dataset(b / "results.nc") as q:
        assert set(p.variables) == set(q.variables)
        for v in p.variables:
            pa, qa = p[v].__dict__, q[v].__dict__
            assert pa.keys() == qa.keys(), v
            assert all(str(pa[k]) == str(qa[k]) for k in pa), v
            assert p[v].dtype == q[v].dtype and p[v].dimensions == q[v].dimensions, v


def test_chunk_sizes_give_each_worker_several_chunks():
    """1,000 draws on 2 workers: 1000 / (2 x 4) = 125, capped at 100 draws a chunk; 20 draws on
    2 workers: 20 / 8 = 2.5, so 3; one draw: one chunk of 1."""
    assert chunk_size(1000, 2) == 100 and chunk_size(20, 2) == 3 and chunk_size(1, 2) == 1
    jobs = list(plan_montecarlo(TINY, draws=7, seed=3).jobs.values())
    parts = plan.chunks(jobs, 3, "run")
    assert [c.start for c in parts] == [0, 3, 6] and [len(c.jobs) for c in parts] == [3, 3, 1]
    assert [j.draw for c in parts for j in c.jobs] == list(range(7))


def test_chunked_results_equal_one_draw_per_job(tmp_path, monkeypatch):
    """Chunks of 4 draws (9 draws: chunks of 4, 4, 1) against chunks of one draw each."""
    monkeypatch.setattr(plan, "CHUNK_MAX", 4)
    chunked = mc(tmp_path / "chunked")
    monkeypatch.setattr(plan, "CHUNK_MAX", 1)
    single = mc(tmp_path / "single")
    assert not chunked.failed and chunked.solved == 9
    same_outputs(tmp_path / "chunked", tmp_path / "single")
    xr.testing.assert_identical(chunked.results, single.results)


def test_worker_count_does_not_change_the_outputs(tmp_path):
    one = mc(tmp_path / "w1", workers=1)
    two = mc(tmp_path / "w2", workers=2)
    assert one.engine == "in-process" and two.engine.startswith("local pool")
    same_outputs(tmp_path / "w1", tmp_path / "w2")


def _failing(draws: dict[int, str]):
    """worker._solve failing draw i with the error draws[i] ("shape": a result of another shape)."""
    real = worker._solve

    def solve(job, *args):
        if job.draw in draws and draws[job.draw] != "shape":
            return None, draws[job.draw], f"log of draw {job.draw}\nFAILED: {draws[job.draw]}\n"
        res, err, log = real(job, *args)
        if job.draw in draws and res is not None:
            res = res.drop_vars("price_pv")
        return res, err, log

    return solve


def test_a_failing_draw_inside_a_chunk_is_reported_and_the_others_kept(tmp_path, monkeypatch):
    """Draw 4 fails and draw 5 returns results without one variable, both inside the second
    chunk of 4 draws; the other seven draws are the same as in a batch without failures, and
    the failed ones are NaN (integer counts become floats with NaN, as a failed member of a
    stacked batch always made them), with their errors in run.json, results.nc and logs/."""
    monkeypatch.setattr(plan, "CHUNK_MAX", 4)
    good = mc(tmp_path / "good")
    monkeypatch.setattr(worker, "_solve", _failing({4: "boom: no solution", 5: "shape"}))
    bad = mc(tmp_path / "bad")
    status = list(bad.results["status"].values)
    assert status == ["ok"] * 4 + ["failed"] * 2 + ["ok"] * 3
    errors = {r["label"]: r["error"] for r in bad.failed}
    assert errors["4"] == "boom: no solution" and "variables and shapes" in errors["5"]
    assert bad.results["error"].values[4] == "boom: no solution"
    for i in (4, 5):
        assert (tmp_path / "bad" / "logs" / f"{bad.batch.members[i].key}.log").is_file()
    kept = [0, 1, 2, 3, 6, 7, 8]
    for v in ("price", "emissions_by_sector", "entities_by_sector", "mc_bau_multiplier"):
        np.testing.assert_array_equal(bad.results[v].values[kept], good.results[v].values[kept])
        assert np.isnan(bad.results[v].values[[4, 5]]).all(), v
    assert good.results["entities_by_sector"].dtype.kind == "i"
    assert bad.results["entities_by_sector"].dtype.kind == "f"
    draws = pd.read_csv(tmp_path / "bad" / "draws.csv")
    assert draws.loc[draws["draw"] == 4, "price_jpy_per_t"].isna().all()
    assert set(draws.loc[draws["draw"] == 4, "status"]) == {"failed"}


@pytest.mark.parametrize("fail", [False, True])
def test_the_streamed_writer_gives_the_same_outputs_as_the_in_memory_path(tmp_path, monkeypatch, fail):
    """Streaming forced (a threshold of 0 bytes) with blocks of 2 draws for draws.csv and the
    IAMC quantiles, against the in-memory path: the same files (with a failed draw: the streamed
    integer counts are floats with NaN there too)."""
    monkeypatch.setattr(plan, "CHUNK_MAX", 3)
    if fail:
        monkeypatch.setattr(worker, "_solve", _failing({4: "boom"}))
    memory = mc(tmp_path / "memory")
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(summaries, "BLOCK", 2)
    monkeypatch.setattr(summaries, "IAMC_BLOCK", 2)
    monkeypatch.setattr(summaries, "IAMC_GROUP_VALUES", 50)
    streamed = mc(tmp_path / "streamed")
    assert len(streamed.failed) == int(fail)
    with netCDF4.Dataset(tmp_path / "streamed" / "results.nc") as nc:  # written block by block
        assert nc["emissions_by_sector"].chunking()[0] == 3
    same_outputs(tmp_path / "memory", tmp_path / "streamed")
    assert not [p for p in (tmp_path / "streamed").iterdir() if p.name.startswith(".")]  # no staging left
    assert "emissions_by_sector" not in streamed.results  # (in results.nc only)
    xr.testing.assert_identical(streamed.results["price"], memory.results["price"])


def test_the_blockwise_iamc_quantiles_equal_the_whole_table(tmp_path):
    """montecarlo_iamc in blocks of 2 draws gives the same table as iamc.to_iamc of all draws."""
    res = mc(tmp_path / "mc").results
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    blocks = summaries.montecarlo_iamc(res, scratch, block=2)
    pd.testing.assert_frame_equal(blocks, iamc.to_iamc(res))


PROBE = """
import json, sys
from nationcap.batch import executors, plan
from nationcap.batch.plan import plan_montecarlo
engine = sys.argv[1]
batch = plan_montecarlo("models/tiny_montecarlo.toml", draws=2, seed=3, overrides=[f'solver.engine="{engine}"'])
jobs = list(batch.jobs.values())
pool = executors.make_pool(jobs, 1)
out = pool.submit(executors._run_job, plan.Chunk(tuple(jobs), "probe", 0)).result()
assert out.errors == ["", ""], out.errors
print(json.dumps(pool.submit(executors.loaded_modules, ("pyomo", "highspy", "matplotlib")).result()))
pool.shutdown()
"""


def test_an_exact_engine_pool_worker_starts_without_pyomo_or_matplotlib():
    """A worker of the local pool of an exact-engine Monte Carlo (the pool and preloads of
    executors.execute, in a fresh interpreter: the fork server is one per process) reports its
    modules after solving a chunk of draws: no Pyomo, HiGHS or matplotlib. A Pyomo-engine
    batch's worker does load Pyomo (the check can fail)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    loaded = {}
    for engine in ("fast", "pyomo"):
        r = subprocess.run(
            [sys.executable, "-c", PROBE, engine], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0, r.stderr
        loaded[engine] = json.loads(r.stdout.strip().splitlines()[-1])
    assert loaded["fast"] == [], loaded["fast"]
    assert "pyomo" in loaded["pyomo"] and not any(m.startswith("matplotlib") for m in loaded["pyomo"])


def test_dask_gives_the_same_chunked_outputs(tmp_path, dask_cluster, monkeypatch):
    """The chunks on a Dask cluster (one worker process, two threads) give the same files."""
    address = dask_cluster(threads_per_worker=2)
    monkeypatch.setattr(plan, "CHUNK_MAX", 2)
    mc(tmp_path / "local")
    batch = plan_montecarlo(TINY, draws=9, seed=3)
    r = run_batch(batch, tmp_path / "dask", workers=2, scheduler=address)
    assert r.engine == f"dask {address}" and not r.failed
    same_outputs(tmp_path / "local", tmp_path / "dask")
