"""`nationcap bench`: the machinery on small cases (the benchmark itself is not a test)."""

from __future__ import annotations

import csv

import pyomo.environ as pyo
import pytest
from casebuilder import REPO
from click.testing import CliRunner
from pyomo.repn import generate_standard_repn

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.inputs import load_dataset
from nationcap.model import build_model, prepare
from nationcap.tools import bench

pytestmark = pytest.mark.solver


@pytest.mark.parametrize("overrides", [[], ["markets.regional.banking=false", "markets.national.borrowing=true"]])
def test_lp_size_counts_the_built_model(overrides):
    """lp_size describes the core LP in the compact formulation (what the direct solve passes)."""
    scn = load_scenario(REPO / "models" / "tiny.toml", overrides)
    md = prepare(scn, load_dataset(scn.inputs_path, scn))
    m = build_model(md, "compact")
    cols = sum(1 for v in m.component_data_objects(pyo.Var) if not v.fixed)
    rows = list(m.component_data_objects(pyo.Constraint, active=True))
    nnz = sum(len(generate_standard_repn(c.body).linear_vars) for c in rows)
    assert bench.lp_size(md) == {"entities": md.n_entities, "columns": cols, "rows": len(rows), "nonzeros": nnz}


def test_child_runs_report_every_phase(tmp_path):
    case = bench.Case(1.0, REPO / "models" / "tiny.toml", [], "tiny")
    rows = [bench.run_case(case, engine, tmp_path, mc_draws=2) for engine in ("fast", "pyomo")]
    direct = bench.run_case(case, bench.DIRECT, tmp_path)
    assert direct["price_pv"] == rows[0]["price_pv"]  # the direct highspy solve of the core LP agrees
    assert direct["objective_jpy"] == pytest.approx(rows[0]["objective_jpy"], rel=1e-9)
    assert 0 < direct["highs_s"] <= direct["solve_s"] <= direct["end_to_end_s"]
    for r in rows:
        # every phase is measured (real work takes time) and they are disjoint parts of the
        # end-to-end wall time, from the parent starting the child to the results written
        assert all(r[f"{phase}_s"] > 0 for phase in bench.PHASES), r
        assert sum(r[f"{phase}_s"] for phase in bench.PHASES) <= r["end_to_end_s"] + 1e-3
        assert r["peak_rss_mb"] > 50
        assert r["entities"] == 8
    assert rows[0]["price_pv"] == rows[1]["price_pv"]  # same prices, printed to 1e-6 JPY/t
    assert rows[0]["mc_draw_bau_s"] > 0 and rows[1].get("mc_draw_bau_s") is None
    assert rows[1]["highs_s"] is not None and rows[1]["highs_s"] <= rows[1]["solve_s"]
    assert (tmp_path / "out_fast_x1" / "results.nc").is_file()
    table = bench.format_table(rows)
    assert "fast" in table and "pyomo" in table and "end-to-end" in table


def test_cli_bench_writes_the_csv(tmp_path):
    out = tmp_path / "b.csv"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "--scale",
            "0.1",
            "--engine",
            "fast",
            "--mc-draws",
            "2",
            "--scenario",
            str(REPO / "models" / "tiny.toml"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "machine: " in result.output and "Monte Carlo draw" in result.output
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    # every scale first times the direct highspy solve of the core LP, the floor of the ratios
    assert [r["engine"] for r in rows] == [bench.DIRECT, "fast"] and float(rows[1]["scale"]) == 0.1
    assert float(rows[0]["ratio_to_direct"]) == 1.0
    ratio = float(rows[1]["end_to_end_s"]) / float(rows[0]["end_to_end_s"])
    assert float(rows[1]["ratio_to_direct"]) == pytest.approx(ratio, rel=1e-3)
    assert int(rows[1]["entities"]) > 1000 and int(rows[1]["cores"]) >= 1
    assert list(rows[0]) == list(bench.COLUMNS)
    # the versions it ran with, in the table and the output
    import numpy
    import pandas

    assert f"numpy {numpy.__version__}" in rows[1]["versions"] and f"pandas {pandas.__version__}" in rows[1]["versions"]
    assert "versions: python " in result.output


def test_held_resolve_target_reports_a_positive_median():
    """The held-session figure of ``bench --targets``: a compliance-factor change re-solved on the
    exact engine (tiny scenario), a median of positive seconds."""
    from nationcap.tools import targets

    s = targets.held_resolve_s(REPO / "models" / "tiny.toml", n=3)
    assert 0.0 < s < 60.0
    text = targets.format_targets(
        [{"target": "held", "seconds": s, "ratio_to_direct": s / 2.0, "peak_rss_mb": None}], direct_s=2.0
    )
    assert "x direct" in text and "2.00 s" in text


def test_cli_bench_never_overwrites_a_file_silently(tmp_path):
    """An existing --out table is refused without --force (exit 4, before any case runs); a file
    nationcap bench did not write is refused even with --force; its own table is recognised."""
    runner = CliRunner()
    args = ["bench", "--scale", "0.1", "--engine", "fast", "--scenario", str(REPO / "models" / "tiny.toml")]
    ours = tmp_path / "bench.csv"
    bench.write_csv([], ours)
    assert bench.is_bench_csv(ours)
    before = ours.read_bytes()
    result = runner.invoke(cli, [*args, "--out", str(ours)])
    assert result.exit_code == 4 and "pass --force" in result.output
    assert ours.read_bytes() == before
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert not bench.is_bench_csv(other)
    result = runner.invoke(cli, [*args, "--out", str(other), "--force"])
    assert result.exit_code == 4 and "did not write" in result.output
    assert other.read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_the_scaled_monte_carlo_target_is_reported_against_the_smaller_one():
    """``--mc-scale 20``: a 20x larger Monte Carlo taking 30 s and 600 MB against 2 s and 400 MB
    is 15.00 x the time and 1.50 x the peak (30 / 2, 600 / 400)."""
    from nationcap.tools import targets

    rows = [
        {"target": "montecarlo 10 draws", "seconds": 2.0, "ratio_to_direct": 1.0, "peak_rss_mb": 400.0},
        {
            "target": "montecarlo 200 draws",
            "seconds": 30.0,
            "ratio_to_direct": 15.0,
            "peak_rss_mb": 600.0,
            "scale": 20,
            "time_ratio_to_mc": 30.0 / 2.0,
            "peak_ratio_to_mc": 600.0 / 400.0,
        },
    ]
    text = targets.format_targets(rows, direct_s=2.0)
    assert "15.00 x the time and 1.50 x the peak of the 20x smaller Monte Carlo" in text
