"""Stale temporaries of a killed run are removed on the next write to the same place, and a
running writer's are never touched.

Every temporary name carries its writer: ``.NAME.tmp-p<pid>-h<host>-<random>`` (and ``.old-``,
and a batch folder's ``.staging-...``). A dead writer is simulated with the PID of a child process
that has exited; a live one with this test's own PID.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.atomic import STALE_AGE_S, atomic_file, atomic_folder, remove_stale_temps, temp_tag
from nationcap.cli import cli


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    try:
        os.kill(p.pid, 0)
    except ProcessLookupError:
        return p.pid
    pytest.skip("the PID was reused at once")


def tag(pid: int, host: str | None = None) -> str:
    """A temporary-name tag of writer ``pid`` on this host (or on ``host``)."""
    t = re.sub(r"^p\d+", f"p{pid}", temp_tag())
    return re.sub(r"-h[0-9a-f]{6}-", f"-h{host}-", t) if host else t


def make_temp(path, size: int = 1000):
    """A temporary folder with a file of ``size`` bytes, as a killed write leaves it."""
    path.mkdir()
    (path / "results.nc").write_bytes(b"\0" * size)
    return path


def test_temporary_names_carry_the_writer():
    assert re.fullmatch(rf"p{os.getpid()}-h[0-9a-f]{{6}}-[0-9a-f]{{8}}", temp_tag())


def test_a_dead_writers_folder_is_removed_a_live_one_stays(tmp_path, dead_pid):
    stale = make_temp(tmp_path / f".out.tmp-{tag(dead_pid)}")
    live = make_temp(tmp_path / f".out.tmp-{tag(os.getpid())}")
    other_name = make_temp(tmp_path / f".other.tmp-{tag(dead_pid)}")
    user = make_temp(tmp_path / ".out.tmp-mine")  # not nationcap's naming
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "x.txt").write_text("new\n")
    assert not stale.exists()
    assert live.exists() and user.exists()
    assert other_name.exists()  # only temporaries of the place written are considered
    assert (tmp_path / "out" / "x.txt").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == sorted([live.name, user.name])


def test_writer_unknown_uses_the_age(tmp_path, dead_pid):
    """Old names without a PID (earlier nationcap versions) and other hosts' temporaries are
    removed only when older than STALE_AGE_S."""
    old_style_old = make_temp(tmp_path / ".out.tmp-0123abcd")
    old_style_new = make_temp(tmp_path / ".out.tmp-89abcdef")
    other_host = make_temp(tmp_path / f".out.tmp-{tag(dead_pid, host='000000')}")
    long_ago = time.time() - STALE_AGE_S - 60
    os.utime(old_style_old, (long_ago, long_ago))
    removed = remove_stale_temps(tmp_path, "out")
    assert removed == [old_style_old]
    assert old_style_new.exists() and other_host.exists()


def test_an_old_folder_is_kept_when_it_is_the_only_copy(tmp_path, dead_pid):
    """A write killed between moving the old output aside and moving the new one in leaves
    ``.out.old-*`` as the only copy of the results: it is kept until ``out`` exists again."""
    old = make_temp(tmp_path / f".out.old-{tag(dead_pid)}")
    assert remove_stale_temps(tmp_path, "out") == []
    assert old.exists()
    (tmp_path / "out").mkdir()
    assert remove_stale_temps(tmp_path, "out") == [old]


def test_atomic_file_removes_its_stale_temporaries(tmp_path, dead_pid):
    stale = tmp_path / f".iamc.csv.tmp-{tag(dead_pid)}"
    stale.write_text("half a table")
    live = tmp_path / f".iamc.csv.tmp-{tag(os.getpid())}"
    live.write_text("being written")
    with atomic_file(tmp_path / "iamc.csv") as tmp:
        tmp.write_text("a,b\n")
    assert not stale.exists() and live.exists()
    assert (tmp_path / "iamc.csv").read_text() == "a,b\n"


@pytest.mark.solver
def test_run_removes_what_a_killed_run_left(tmp_path, dead_pid):
    path = batch_case(tmp_path / "case")
    stale = make_temp(tmp_path / f".out.tmp-{tag(dead_pid)}", size=10_000_000)  # ~10 MB, as reported
    live = make_temp(tmp_path / f".out.tmp-{tag(os.getpid())}")
    res = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "out"), "--engine", "fast"])
    assert res.exit_code == 0, res.output
    assert not stale.exists() and live.exists()
    assert (tmp_path / "out" / "results.nc").is_file()


@pytest.mark.solver
def test_batch_removes_stale_staging_and_cache_temporaries(tmp_path, dead_pid):
    path = batch_case(tmp_path / "case")
    out = tmp_path / "sweep"
    args = ["sweep", str(path), "--param", "discount_rate", "--values", "0.01,0.02", "--out", str(out)]
    args += ["--workers", "1", "--set", 'solver.engine="fast"']
    runner = CliRunner()
    assert runner.invoke(cli, args).exit_code == 0
    stale = [
        make_temp(out / f".staging-{tag(dead_pid)}"),
        make_temp(out / "runs" / f".0123456789abcdef0123.nc.tmp-{tag(dead_pid)}"),
        make_temp(out / "logs" / f".0123456789abcdef0123.log.tmp-{tag(dead_pid)}"),
        make_temp(out / f".summary.csv.tmp-{tag(dead_pid)}"),
    ]
    live = [make_temp(out / f".staging-{tag(os.getpid())}"), make_temp(out / "runs" / f".k.nc.tmp-{tag(os.getpid())}")]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in live)
    assert (out / "run.json").is_file()
