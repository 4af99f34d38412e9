"""``nationcap bench``: time and memory of a full run, by phase, engine and dataset size.

Each case runs in a fresh Python process (``python -m nationcap.tools.bench --child SPEC``) so that its
peak resident memory (``ru_maxrss`` of that process) and its imports are its own. The parent
measures the wall time from process start to results written ("end to end", what a user of
``nationcap run`` waits for); the child reports its phases:

``import``   importing nationcap and its solver stack
``load``     reading and validating the scenario and the dataset
``build``    ModelData (allocation, MAC columns) and the feasibility check; the Pyomo engine
             also builds the Pyomo model here
``solve``    the engine (Pyomo: ``opt.solve``, i.e. hand-off to HiGHS + HiGHS + loading values)
``extract``  the results Dataset
``write``    results.nc, the CSV tables and run.json

Datasets: scale 1 is the shipped ``inputs/japan`` (identical to ``nationcap generate`` with the
shipped seed); other scales are generated with the shipped seed into a temporary folder and run
with the same scenario, only ``inputs`` overridden. Nothing is written outside the temporary
folder except the CSV table (``--out``).

With ``--mc-draws N`` the fast engine also re-solves N perturbed copies of the model in the same
process and reports the time per draw, for two kinds of draw: BAU growth only (the cost order is
reused) and BAU growth plus MAC cost multipliers by sector (every draw sorts again). Perturbed
copies are made on the model arrays directly, so this excludes re-reading and re-preparing the
tables.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: the default scenario, relative to the folder ``nationcap bench`` is run from (the repository)
DEFAULT_SCENARIO = Path("models") / "baseline.toml"
DEFAULT_SCALES = (0.1, 0.5, 1.0, 2.0, 4.0)
PHASES = ("import", "load", "build", "solve", "extract", "write")
COLUMNS = (
    "engine",
    "scale",
    "dataset",
    "entities",
    "columns",
    "rows",
    "nonzeros",
    *(f"{p}_s" for p in PHASES),
    "highs_s",
    "end_to_end_s",
    "ratio_to_direct",
    "peak_rss_mb",
    "formulation",
    "columns_held",
    "rounds",
    "certification_s",
    "mc_draw_bau_s",
    "mc_draw_bau_cost_s",
    "price_pv",
    "objective_jpy",
    "cores",
    "cpu",
    "versions",
)


# ------------------------------------------------------------------------------------------
# machine and model size
# ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions(),
    }


#: the packages whose versions a benchmark states (their releases move the timings)
VERSIONED = ("numpy", "pandas", "xarray", "pyomo", "highspy", "netCDF4")


def versions() -> str:
    """``python 3.11.7, numpy 2.4.6, ...``: the versions this benchmark runs with (package
    metadata; nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    out = [f"python {platform.python_version()}"]
    for name in VERSIONED:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} -")
    return ", ".join(out)


def lp_size(md) -> dict[str, int]:
    """Columns, rows and non-zeros of the core LP of ``md`` in the compact formulation (the LP the
    direct solve hands to HiGHS): abatement columns, banks and expiry; one row per market and
    period."""
    n_m, n_p, n_e, n_j = len(md.markets), len(md.periods), md.n_entities, len(md.col_cost)
    n_x = len(md.expire_index())
    return {
        "entities": n_e,
        "columns": n_j + n_m * n_p + n_x,
        "rows": n_m * n_p,
        # each abatement column in its market row, each bank in its period's row and the next
        "nonzeros": n_j + n_m * (2 * n_p - 1) + n_x,
    }


# ------------------------------------------------------------------------------------------
# the child process: one run, by phase
# ------------------------------------------------------------------------------------------


def _highs_time(log: Path) -> float | None:
    found = None
    try:
        for line in log.read_text(errors="replace").splitlines():
            if "HiGHS run time" in line:
                found = float(line.split(":")[-1].strip())
    except (OSError, ValueError):
        return None
    return found


#: the bench-only "engine" that solves the core LP straight from the ModelData arrays
DIRECT = "highspy"


def direct_core_lp(md) -> tuple[np.ndarray, float, float]:
    """Solve the core LP of ``md`` (abatement columns, banks, expiry; one row per market and
    period, as in the compact formulation) with highspy from numpy arrays, IPX without presolve:
    the floor any LP engine can reach. Returns (PV prices (M, P), objective JPY, HiGHS seconds)."""
    import highspy

    from ..model.data import bank_bounds

    n_m, n_p, n_j = len(md.markets), len(md.periods), len(md.col_cost)
    scale = md.scale_t
    rows_abate = md.entity_market[md.col_entity] * n_p + md.col_period
    cost = [md.discount[md.col_year] * md.col_cost]
    lower, upper = [np.zeros(n_j)], [md.col_qty_t / scale]
    index, value = [rows_abate], [np.ones(n_j)]
    col = n_j
    for a, name in enumerate(md.markets):  # Bank[a, p]: +1 in row p + 1, -1 in row p
        cfg = md.scenario.markets[name]
        for p in range(n_p):
            lo, hi = bank_bounds(cfg.banking, cfg.borrowing, p == n_p - 1)
            rows = [a * n_p + p] + ([a * n_p + p + 1] if p + 1 < n_p else [])
            coefs = [-1.0] + ([1.0] if p + 1 < n_p else [])
            col += 1
            index.append(np.array(rows))
            value.append(np.array(coefs))
            cost.append(np.zeros(1))
            lower.append(np.array([-highspy.kHighsInf if lo is None else lo]))
            upper.append(np.array([highspy.kHighsInf if hi is None else hi]))
    for a, p in md.expire_index():  # Expire[a, p] >= 0: -1 in row p
        col += 1
        index.append(np.array([a * n_p + p]))
        value.append(np.array([-1.0]))
        cost.append(np.zeros(1))
        lower.append(np.zeros(1))
        upper.append(np.array([highspy.kHighsInf]))
    need = np.zeros(n_m * n_p)
    per = md.need_t()
    for p in range(n_p):
        np.add.at(need, md.entity_market * n_p + p, per[:, p])
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = col, n_m * n_p
    lp.col_cost_ = np.concatenate(cost)
    lp.col_lower_, lp.col_upper_ = np.concatenate(lower), np.concatenate(upper)
    lp.row_lower_ = lp.row_upper_ = need / scale
    nnz = [len(i) for i in index]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([1] * n_j + nnz[1:])]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(index).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate(value)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in md.scenario.solver.highs_options().items():
        h.setOptionValue(k, v)
    h.passModel(lp)
    t = time.perf_counter()
    h.run()
    highs_s = time.perf_counter() - t
    sol = h.getSolution()
    prices = np.abs(np.asarray(sol.row_dual)).reshape(n_m, n_p)
    return prices, float(h.getInfo().objective_function_value) * scale, highs_s


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case in this process, through a :class:`~nationcap.session.Session`, and return its
    measurements."""
    t = time.perf_counter()
    if spec["engine"] == DIRECT:
        return _child_direct(spec, t)
    from ..results.io import write_results
    from ..results.prices import price_interval_pv
    from ..session import Session

    engine_name = spec["engine"]
    log = Path(spec["out_dir"] + ".highs.log")
    out: dict[str, Any] = {"import_s": time.perf_counter() - t}

    session = Session.open(spec["scenario"], spec.get("overrides", []), engine_name, log_file=str(log))
    run = session.solve()
    out["load_s"] = run.timings["load"]
    out.update({f"{k}_s": v for k, v in run.timings.items() if k in ("build", "solve", "extract")})
    out["highs_s"] = _highs_time(log) if engine_name == "pyomo" else None

    t = time.perf_counter()
    write_results(run.results, Path(spec["out_dir"]), force=True)
    out["write_s"] = time.perf_counter() - t
    out["done_at"] = time.time()  # results written: the end of "end to end"

    md, sr = run.model_data, run.solution
    out.update(lp_size(md))
    for key in ("formulation", "columns_held", "rounds", "certification_s"):
        if key in sr.info:
            out[key] = sr.info[key]
    prices = price_interval_pv(md, sr)[0]  # the reported price: the lower end of the interval
    out["price_pv"] = " ".join(f"{v:.6f}" for v in prices.ravel())
    out["objective_jpy"] = sr.objective_jpy
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    n_draws = int(spec.get("mc_draws", 0))
    if engine_name == "fast" and n_draws > 0:
        out["mc_draw_bau_s"] = _mc_seconds_per_draw(session, n_draws, costs=False)
        out["mc_draw_bau_cost_s"] = _mc_seconds_per_draw(session, n_draws, costs=True)
    return out


#: the draws ``nationcap bench`` times: BAU growth N(0, 1 %/yr) per market, and with costs also
#: a lognormal(0, 0.2) MAC cost multiplier per sector (a [montecarlo] table, as in a scenario file)
BENCH_DRAWS = {
    "bau_growth": {"by": "market", "distribution": "normal", "sd": 0.01},
    "mac_cost": {"by": "sector", "distribution": "lognormal", "sd": 0.2},
}


def _child_direct(spec: dict[str, Any], t0: float) -> dict[str, Any]:
    """The direct highspy solve of the core LP: load, prepare, arrays, HiGHS, prices (no results)."""
    from ..model import prepare
    from ..pipeline import load

    out: dict[str, Any] = {"import_s": time.perf_counter() - t0}
    t = time.perf_counter()
    scn, ds = load(spec["scenario"], spec.get("overrides", []))
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    md = prepare(scn, ds)
    out["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    prices, objective, out["highs_s"] = direct_core_lp(md)
    out["solve_s"] = time.perf_counter() - t
    out["extract_s"] = out["write_s"] = 0.0
    out["done_at"] = time.time()
    out.update(lp_size(md))
    out["price_pv"] = " ".join(f"{v:.6f}" for v in prices.ravel())
    out["objective_jpy"] = objective
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def _mc_seconds_per_draw(session, n: int, costs: bool) -> float:
    """Mean time of one Monte Carlo draw solved as a batch member solves it
    (:meth:`nationcap.session.Session.solve_draw`: the draw applied to the model arrays, the
    exact engine re-clearing from its sorted columns, the market-level results).

    The draws are those of :data:`BENCH_DRAWS` (without the MAC costs unless ``costs``), made by
    :mod:`nationcap.derive.draws`; step sizes follow BAU, allocations do not. The session's
    engine is set up for the draws' cost groups before the clock starts.
    """
    from ..config import MonteCarloSpec
    from ..derive.draws import draw

    spec = MonteCarloSpec.model_validate(BENCH_DRAWS if costs else {"bau_growth": BENCH_DRAWS["bau_growth"]})
    scn, ds = session.scenario, session.dataset
    session.solve_draw(spec, draw(spec, 1, 0, scn, ds))  # the sorted columns of the draws' groups
    t = time.perf_counter()
    for i in range(n):
        session.solve_draw(spec, draw(spec, 1, i, scn, ds))
    return (time.perf_counter() - t) / n


# ------------------------------------------------------------------------------------------
# the parent: cases, subprocesses, table
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    scale: float
    scenario: Path
    overrides: list[str]
    dataset: str


def make_cases(scales, workdir: Path, scenario: Path = DEFAULT_SCENARIO) -> list[Case]:
    """One case per scale; generated datasets are written into ``workdir``."""
    from . import generate as gen

    cases = []
    scenario = Path(scenario).resolve()  # cases run in their own working folder
    for x in scales:
        x = float(x)
        if x == 1.0 and scenario == DEFAULT_SCENARIO.resolve():
            cases.append(Case(x, scenario, [], "inputs/japan (shipped)"))
            continue
        folder = workdir / f"japan_x{x:g}"
        if not folder.exists():
            gen.write_dataset(gen.generate("japan", seed=gen.SHIPPED_SEED, scale=x), folder)
        cases.append(Case(x, scenario, [f"inputs={json.dumps(str(folder))}"], f"generated x{x:g}"))
    return cases


def run_case(case: Case, engine: str, workdir: Path, mc_draws: int = 0) -> dict[str, Any]:
    """Run one case in a fresh process; raise RuntimeError with its stderr if it fails."""
    out_dir = workdir / f"out_{engine}_x{case.scale:g}"
    spec = {
        "engine": engine,
        "scenario": str(case.scenario),
        "overrides": case.overrides,
        "out_dir": str(out_dir),
        "mc_draws": mc_draws if engine == "fast" else 0,
    }
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "nationcap.tools.bench", "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=str(workdir),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} at scale {case.scale:g} failed:\n{proc.stderr[-3000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    # process start (interpreter start-up, imports) to results written; the Monte Carlo
    # timing that follows in the same process is not included
    row.update(
        {"engine": engine, "scale": case.scale, "dataset": case.dataset, "end_to_end_s": row.pop("done_at") - started}
    )
    return row


def run_bench(
    scales=DEFAULT_SCALES,
    engines=("fast", "pyomo"),
    out_csv: Path | None = None,
    scenario: Path = DEFAULT_SCENARIO,
    mc_draws: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every (scale, engine) case; append each row to ``out_csv`` as it finishes."""
    if not Path(scenario).is_file():
        from ..errors import InputError, Problem

        raise InputError(
            [Problem(str(scenario), "", "", "scenario not found; run from the repository folder or give --scenario")],
            "arguments",
        )
    info = machine()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nationcap-bench-") as tmp:
        workdir = Path(tmp)
        if progress:
            progress(f"generating datasets for scales {', '.join(f'{x:g}' for x in scales)} ...")
        cases = make_cases(scales, workdir, scenario)
        for case in cases:
            direct_s = None
            for engine in (DIRECT, *engines):
                if progress:
                    progress(f"{engine} x{case.scale:g} ({case.dataset}) ...")
                row = run_case(case, engine, workdir, mc_draws)
                if engine == DIRECT:
                    direct_s = row["end_to_end_s"]
                row["ratio_to_direct"] = row["end_to_end_s"] / direct_s if direct_s else None
                row.update({"cores": info["cores"], "cpu": info["cpu"], "versions": info["versions"]})
                rows.append(row)
                if out_csv is not None:
                    write_csv(rows, out_csv)
                if progress:
                    progress("  " + _one_line(row))
    return rows


def is_bench_csv(path: Path) -> bool:
    """Whether ``path`` is a table :func:`write_csv` wrote (its header is :data:`COLUMNS`): the
    only file ``nationcap bench --force`` replaces."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\r\n") == ",".join(COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    from ..atomic import atomic_file

    with atomic_file(Path(path)) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in COLUMNS})


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.6e}"
    return "" if v is None else v


def _one_line(r: dict[str, Any]) -> str:
    return (
        f"{r['engine']:7s} x{r['scale']:<4g} end to end {r['end_to_end_s']:7.2f} s, solve {r['solve_s']:7.3f} s, "
        f"peak {r['peak_rss_mb']:7.0f} MB"
    )


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of the runs (times in s, memory in MB)."""
    head = [
        "engine",
        "scale",
        "entities",
        "columns",
        "rows",
        "nonzeros",
        "load",
        "build",
        "solve",
        "(HiGHS)",
        "extract",
        "write",
        "end-to-end",
        "x direct",
        "peak MB",
        "held cols",
        "rounds",
        "cert s",
    ]
    lines = []
    for r in rows:
        highs = r.get("highs_s")
        lines.append(
            [
                r["engine"],
                f"{r['scale']:g}",
                f"{r['entities']:,}",
                f"{r['columns']:,}",
                f"{r['rows']:,}",
                f"{r['nonzeros']:,}",
                f"{r['load_s']:.2f}",
                f"{r['build_s']:.2f}",
                f"{r['solve_s']:.3f}",
                f"{highs:.2f}" if highs is not None else "-",
                f"{r['extract_s']:.2f}",
                f"{r['write_s']:.2f}",
                f"{r['end_to_end_s']:.2f}",
                f"{r['ratio_to_direct']:.2f}" if r.get("ratio_to_direct") else "-",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['columns_held']:,}" if r.get("columns_held") is not None else "-",
                str(r["rounds"]) if r.get("rounds") is not None else "-",
                f"{r['certification_s']:.3f}" if r.get("certification_s") is not None else "-",
            ]
        )
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *(fmt(x) for x in lines)])


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - exercised via subprocess
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        print(json.dumps(child(json.loads(argv[1]))))
        return
    raise SystemExit("use `nationcap bench`; `python -m nationcap.tools.bench --child SPEC` is internal")


if __name__ == "__main__":  # pragma: no cover
    main()


# ------------------------------------------------------------------------------------------
# the explorer: one change of a compliance factor, at full scale
# ------------------------------------------------------------------------------------------

#: the factor each timed change moves, and the values it takes in turn
EXPLORE_KEY = "markets.regional.compliance_factor.P2.general"
EXPLORE_VALUES = (0.20, 0.25, 0.30, 0.22, 0.28, 0.18)
#: the browser the page time is measured in (the system's Chromium, through Playwright)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def explore_timings(scenario: Path = DEFAULT_SCENARIO, key: str = EXPLORE_KEY) -> dict[str, float | None]:
    """Medians over :data:`EXPLORE_VALUES` of one change of ``key`` in ``nationcap explore``:

    ``solve_ms``   the engine's solve of the variant (the held session's exact engine)
    ``server_ms``  the page's server: the variant validated, prepared, solved, its results and
                   views made (in this process, without the web server)
    ``page_ms``    from the change in the page to the page's new values, as the page measures it
                   in the system's headless Chromium (None without Chromium or Playwright)
    """
    import statistics

    from ..explore.app import views_of
    from ..explore.state import Explorer

    ex = Explorer.open(scenario)
    ex.solve({})
    solve, server = [], []
    for v in EXPLORE_VALUES:
        t = time.perf_counter()
        out = ex.solve({key: v})
        if out.run is None:
            raise RuntimeError(out.error or f"{key}={v}: not solved on the exact engine")
        views_of(out)
        server.append(time.perf_counter() - t)
        solve.append(out.solve_s)
    del ex
    return {
        "solve_ms": 1e3 * statistics.median(solve),
        "server_ms": 1e3 * statistics.median(server),
        "page_ms": _page_ms(scenario, key),
    }


def _page_ms(scenario: Path, key: str) -> float | None:
    """Median time to the updated page in headless Chromium (see :func:`explore_timings`)."""
    import importlib.util
    import json
    import re
    import socket
    import statistics

    if not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None:
        return None
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", "from nationcap.cli import cli; cli()", "explore", str(scenario), "--no-open"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    box = f"[id='{json.dumps({'key': key, 'type': 'fctl'}, separators=(',', ':'))}']"
    times = []
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_FLAGS)
            )
            try:
                page = browser.new_page()
                deadline = time.monotonic() + 300
                while True:
                    try:
                        page.goto(url)
                        break
                    except Exception:
                        if proc.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError("nationcap explore did not start") from None
                        time.sleep(0.5)
                page.wait_for_selector("#status:has-text('solve')", timeout=300_000)
                for v in EXPLORE_VALUES:
                    n = int(re.search(r"change (\d+)", page.inner_text("#status")).group(1))  # type: ignore[union-attr]
                    page.fill(box, str(v))
                    page.press(box, "Enter")
                    page.wait_for_function(
                        "n => document.querySelector('#page-time').innerText.endsWith('change ' + n)",
                        arg=str(n + 1),
                        timeout=120_000,
                    )
                    found = re.search(r"(\d+) ms", page.inner_text("#page-time"))
                    if found:
                        times.append(float(found.group(1)))
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return statistics.median(times) if times else None
