"""Ctrl-C (SIGINT) and SIGTERM stop a command cleanly at every moment.

SIGTERM (a batch system's time limit, ``timeout``, a container stop) is handled as Ctrl-C: the
command says it was stopped, leaves nothing half-written and exits 143 (Ctrl-C: 130). The tests
run ``python -m nationcap`` in a subprocess and send the signal at many moments of the write
phase (after the hidden temporary folder appears), during start-up, and to a sweep's main
process only; afterwards the output folder is either absent or complete (``run.json`` last, a
readable ``results.nc``), no temporary is left, no worker process survives, and no traceback is
printed. The results are complete and in place only when the signal came after the command's
work was done (then the exit code may also be 0, or the signal's own status).
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
from casebuilder import batch_case

from nationcap.atomic import signals_deferred

REPO = Path(__file__).resolve().parents[2]
CODE = {signal.SIGINT: 130, signal.SIGTERM: 143}
WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)"}


def nationcap(*args: str, cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.Popen(
        [sys.executable, "-m", "nationcap", "-q", *args], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True
    )


def wait_for(pattern: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not glob.glob(pattern) and proc.poll() is None and time.monotonic() - t0 < timeout:
        time.sleep(0.002)


def finish(proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, str]:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the command hung after the signal")
    assert proc.stderr is not None
    return code, proc.stderr.read()


def assert_clean_run_folder(root: Path, sig: int, code: int, err: str) -> None:
    """``root/out`` is absent (exit code of the signal, its message) or complete; no temporaries."""
    assert "Traceback" not in err, err
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []
    out = root / "out"
    if (out / "run.json").is_file():  # the signal came after the work was done
        assert code in (0, CODE[sig], -sig), (code, err)
        with xr.open_dataset(out / "results.nc") as res:
            assert "price" in res
    else:
        assert not out.exists(), sorted(p.name for p in out.iterdir())
        assert code == CODE[sig], (code, err)
        assert WORDS[sig] in err and "nothing was left half-written" in err


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("signals")
    batch_case(root / "case")
    return root


def test_a_signal_during_a_deferred_step_takes_effect_when_it_ends():
    done = []
    with pytest.raises(KeyboardInterrupt), signals_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler would run here without the deferral
        done.append("step finished")
    assert done == ["step finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is back


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_write_starts_leaves_nothing(root, sig):
    run = root / f"first-{int(sig)}"
    run.mkdir()
    proc = nationcap("run", str(root / "case" / "case.toml"), "--out", "out", "--engine", "fast", cwd=run)
    wait_for(str(run / ".out.tmp-*"), proc)
    proc.send_signal(sig)
    code, err = finish(proc)
    assert_clean_run_folder(run, sig, code, err)


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (its SigCgt mask, from /proc)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(text.split("SigCgt:")[1].split()[0], 16)
    return bool(mask & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the signal mask from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.1])
def test_a_signal_while_the_command_line_loads_prints_no_traceback(root, sig, delay):
    """The command's first step (the top of nationcap/__main__.py, before it imports the rest of
    nationcap) installs its signal handlers; a signal from then on, while nationcap's modules are
    still being imported (about a second), gives the one-line message, at every moment."""
    proc = nationcap("validate", str(root / "case" / "case.toml"), cwd=root)
    t0 = time.monotonic()
    while not catches_sigterm(proc.pid) and proc.poll() is None and time.monotonic() - t0 < 60:
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(sig)
    code, err = finish(proc)
    assert "Traceback" not in err, err
    assert code in (CODE[sig], 0), (code, err)  # 0: it had finished already
    if code:
        assert WORDS[sig] in err or "interrupted: stopped before starting" in err, err


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_at_many_moments_of_the_write(root, sig):
    for i, delay in enumerate((0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)):
        run = root / f"many-{int(sig)}-{i}"
        run.mkdir()
        proc = nationcap("run", str(root / "case" / "case.toml"), "--out", "out", "--engine", "fast", cwd=run)
        wait_for(str(run / ".out.tmp-*"), proc)
        time.sleep(delay)
        proc.send_signal(sig)
        code, err = finish(proc)
        assert_clean_run_folder(run, sig, code, err)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    parent: dict[int, list[int]] = {}
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            text = Path(status).read_text()
        except OSError:
            continue
        ppid = int(text.split("PPid:")[1].split()[0])
        parent.setdefault(ppid, []).append(int(status.split("/")[2]))
    found, todo = [], [pid]
    while todo:
        for child in parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_a_sweeps_main_process_stops_its_workers(root, sig):
    """The signal goes to the main process only (as `kill PID` and `timeout` send it): its pool
    workers stop too, every cached member is a complete netCDF file, and the sweep resumes."""
    run = root / f"sweep-{int(sig)}"
    run.mkdir()
    args = ["sweep", str(root / "case" / "case.toml"), "--param", "discount_rate", "--workers", "2", "--out", "sw"]
    values = ["--values", "0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08"]
    proc = nationcap(*args, *values, cwd=run)
    wait_for(str(run / "sw" / "runs" / "*.nc"), proc)
    below = descendants(proc.pid)
    proc.send_signal(sig)
    code, err = finish(proc)
    assert code == CODE[sig] and WORDS[sig] in err and "Traceback" not in err, (code, err)
    assert "leaked" not in err  # no semaphore left to the resource tracker
    deadline = time.monotonic() + 10
    while any(running(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in below if running(p)], "worker processes survived the main process"
    cached = sorted((run / "sw" / "runs").iterdir())
    assert cached and all(p.suffix == ".nc" for p in cached)  # no half-written cache file
    for p in cached:
        with xr.open_dataset(p) as res:
            assert "price" in res
    proc = nationcap(*args, *values, cwd=run)  # the same command resumes and completes
    code, err = finish(proc, timeout=300)
    assert code == 0, err
    assert (run / "sw" / "run.json").is_file()
