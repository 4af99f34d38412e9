"""``nationcap explore`` end to end: the command serves the page on the loopback address, the
system's headless Chromium (``/usr/bin/chromium``, through the Playwright package) moves a
compliance factor, and the prices the page shows are the ones ``nationcap run`` gives for the
same change and for the scenario the page saves.

Expected values are not derived by hand here: the page must agree with ``nationcap run`` (the
reference, the Pyomo engine; the page solves on the exact engine, whose price is the lower end
of the same interval of clearing prices) to a cent per tonne. Bad input through the page must be
refused with the report ``nationcap validate`` prints for the same ``--set`` values, and the
server must keep serving. The page may load nothing from anywhere but the server.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from browser import CHROMIUM, FLAGS, need_chromium

pytest.importorskip("dash")
pytest.importorskip("playwright")

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "models" / "tiny.toml"
FACTOR = "markets.regional.compliance_factor.P2.general"
#: the command of the environment running the tests
CLI = [str(Path(sys.executable).with_name("nationcap"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def run_prices(tmp: Path, name: str, *args: str) -> np.ndarray:
    """Regional prices by year (JPY/t) of ``nationcap run ARGS``."""
    out = tmp / name
    done = cli("run", *args, "--out", str(out), cwd=tmp)
    assert done.returncode == 0, done.stderr
    with xr.open_dataset(out / "results.nc") as res:
        return res["price"].sel(market="regional").values.copy()


def ctl(key: str, kind: str = "ctl") -> str:
    """The CSS selector of a control (Dash writes a dict id as JSON with sorted keys); a
    compliance factor's box is of kind ``fctl``, its slider ``slide``."""
    return f"[id='{json.dumps({'key': key, 'type': kind}, separators=(',', ':'))}']"


#: the regional price line of the price figure as Plotly drew it (null before it is drawn)
FIGURE_JS = (
    "(() => { const g = document.querySelector('#prices .js-plotly-plot');"
    " const t = g && g.data && g.data.find(t => t.name === 'regional'); return t ? t.y : null; })()"
)


def page_prices(page, market: str, timeout_s: float = 60) -> np.ndarray:
    """The prices the page's price table shows for ``market`` (waiting while it is redrawn)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = page.evaluate(
            "() => [...document.querySelectorAll('#price-table tr')].map(r => [...r.cells].map(c => c.innerText))"
        )
        for cells in rows:
            if cells and cells[0].strip() == market:
                return np.array([float(c.replace(",", "")) for c in cells[1:]])
        page.wait_for_timeout(100)
    raise AssertionError(f"no row {market!r} in the price table")


@pytest.fixture
def server(tmp_path):
    """``nationcap explore models/tiny.toml --no-open`` on a free port (cwd: a temporary folder);
    stopped (terminate, then wait) whatever the test does."""
    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*CLI, "explore", str(TINY), "--no-open", "--port", str(port)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise AssertionError(f"the server did not start: {(tmp_path / 'server.log').read_text()}") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_explore_moves_a_factor_refuses_bad_input_and_saves_what_run_reproduces(server, tmp_path):
    """Moving the regional P2 factor to 0.25 gives the regional prices of ``nationcap run --set``
    (to 0.01 JPY/t); a factor of 1.2 and a floor above the ceiling are refused with the text of
    ``nationcap validate`` while the server keeps solving; the saved scenario runs to the same
    prices; no console error, no request beyond 127.0.0.1."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    url, proc = server
    console: list[tuple[str, str]] = []
    requests: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, viewport={"width": 1300, "height": 1000}
        )
        try:
            context.route(
                "**/*", lambda route: route.continue_() if route.request.url.startswith(url) else route.abort()
            )
            page = context.new_page()
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url)
            page.wait_for_selector("#status:has-text('solve')", timeout=60_000)
            before = page_prices(page, "regional")

            # move the factor's slider with the keyboard: 0.17 -> 0.25 in eight steps of 0.01
            box = page.locator(ctl(FACTOR, "fctl"))
            assert box.input_value() == "0.17"
            page.locator(ctl(FACTOR, "slide") + " [role=slider]").focus()
            for _ in range(8):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("sel => document.querySelector(sel).value === '0.25'", arg=ctl(FACTOR, "fctl"))
            page.wait_for_function("() => document.querySelector('#page-time').innerText.includes('updated')")
            page.wait_for_timeout(300)
            moved = _wait_change(page, before)
            expected = run_prices(tmp_path, "run_set", str(TINY), "--set", f"{FACTOR}=0.25")
            np.testing.assert_allclose(moved, expected, atol=0.01)
            assert not np.allclose(moved, before)
            # the figure is redrawn with the same prices
            page.wait_for_function(
                f"want => {{ const y = {FIGURE_JS}; return y !== null && y.every((v, i) => Math.abs(v - want[i]) < 0.01); }}",
                arg=[float(v) for v in moved],
                timeout=30_000,
            )

            # bad input: refused with validate's words; the server keeps running
            box.fill("1.2")
            box.press("Enter")
            page.wait_for_function("() => document.querySelector('#problems').innerText.length > 0")
            shown = page.inner_text("#problems")
            report, _, command = shown.rpartition("\n(as: ")
            validate = cli("validate", str(TINY), "--set", f"{FACTOR}=1.2", cwd=tmp_path)
            assert validate.returncode == 2
            assert validate.stderr.strip() == f"error: {report.strip()}"
            assert command.rstrip(")") == f"nationcap validate {TINY} --set {FACTOR}=1.2"
            assert proc.poll() is None
            np.testing.assert_allclose(page_prices(page, "regional"), moved)  # the last solved state stays

            box.fill("0.25")
            box.press("Enter")
            page.wait_for_function("() => document.querySelector('#problems').innerText.length === 0")

            # a floor above the ceiling
            page.locator(ctl("markets.regional.price_floor") + " input").check()
            page.wait_for_selector("#pyomo-box:visible")
            page.locator(ctl("markets.regional.price_ceiling") + " input").check()
            floor = page.locator(ctl("markets.regional.price_floor.start_jpy_per_t"))
            floor.fill("5000")
            floor.press("Enter")
            page.wait_for_function(
                "() => document.querySelector('#problems').innerText.includes('floor above the ceiling')"
            )
            report, _, command = page.inner_text("#problems").rpartition("\n(as: ")
            args = shlex.split(command.rstrip(")"))[2:]
            validate = cli("validate", *args, cwd=tmp_path)
            assert validate.returncode == 2
            assert validate.stderr.strip() == f"error: {report.strip()}"
            assert proc.poll() is None

            # back to the moved state, then save it
            page.locator(ctl("markets.regional.price_floor") + " input").uncheck()
            page.locator(ctl("markets.regional.price_ceiling") + " input").uncheck()
            page.wait_for_function("() => document.querySelector('#problems').innerText.length === 0")
            page.wait_for_function("() => getComputedStyle(document.querySelector('#pyomo-box')).display === 'none'")
            np.testing.assert_allclose(page_prices(page, "regional"), moved, atol=1e-9)
            page.fill("#save-path", str(tmp_path / "saved.toml"))
            page.click("#save-button")
            page.wait_for_function("() => document.querySelector('#record-message').innerText.includes('saved')")
        finally:
            context.close()

    saved = run_prices(tmp_path, "run_saved", str(tmp_path / "saved.toml"))
    np.testing.assert_allclose(saved, moved, atol=0.01)
    errors = [c for c in console if c[0] in ("error", "pageerror")]
    assert errors == [], errors
    assert requests and all(r.startswith(url) for r in requests), [r for r in requests if not r.startswith(url)]
    assert proc.poll() is None  # still serving until the fixture stops it


def _wait_change(page, before: np.ndarray, timeout_s: float = 60) -> np.ndarray:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = page_prices(page, "regional")
        if not np.allclose(now, before):
            return now
        page.wait_for_timeout(100)
    raise AssertionError("the regional prices did not change")
