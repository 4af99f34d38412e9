"""``nationcap export --format xlsx``: the workbook of a run, a comparison, a sweep and a Monte
Carlo batch, read back with openpyxl and pandas against the results it was made from."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from workbookcheck import check_layout, check_values

from nationcap.cli import cli
from nationcap.report.compare import compare

pytestmark = pytest.mark.solver


def export(*args: str) -> str:
    result = CliRunner().invoke(cli, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_workbook_of_a_run(tiny_outputs, tmp_path):
    """Every numeric variable of the run is in the workbook, equal to the last bit; the
    entities sheet has one row per entity with its labels; prices carry their interval."""
    out = tmp_path / "tiny.xlsx"
    text = export(str(tiny_outputs["run"]), "--format", "xlsx", "--out", str(out))
    assert "wrote" in text and "README" in text
    r = xr.load_dataset(tiny_outputs["run"] / "results.nc")
    assert check_values(out, [r]) > 1000
    check_layout(out)
    ent = pd.read_excel(out, sheet_name="entities", header=1)
    assert list(ent["entity"]) == list(r["entity"].values)
    assert list(ent["prefecture"]) == list(r["entity_prefecture"].values)
    prices = pd.read_excel(out, sheet_name="prices", header=0)
    assert "least clearing allowance price (JPY/t CO2, each year's money)" in prices.columns
    readme = pd.read_excel(out, sheet_name="README", header=1)
    items = dict(zip(readme["item"], readme["value"]))
    assert items["dataset_sha256"] == r.attrs["dataset_sha256"]
    assert items["nationcap_version"] == r.attrs["nationcap_version"]
    assert items["termination"] == "optimal"
    units = readme[readme["what"] == "sheet markets"]
    assert "total cost (JPY, present value at FY2026)" in set(units["value"])


def test_default_location_and_no_silent_overwrite(tiny_outputs, tmp_path):
    """Without --out the workbook is results.xlsx beside results.nc; a second export refuses to
    replace it (exit 4) until --force is given."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_outputs["run"], run)
    export(str(run), "--format", "xlsx")
    assert (run / "results.xlsx").is_file()
    again = CliRunner().invoke(cli, ["export", str(run), "--format", "xlsx"])
    assert again.exit_code == 4 and "--force" in again.output
    export(str(run), "--format", "xlsx", "--force")


def test_workbook_of_a_comparison(tiny_outputs, tmp_path):
    """Two runs side by side: each variable has a column per run, each equal to its run; the
    summary sheet is the comparison's, gains included."""
    out = tmp_path / "compare.xlsx"
    export(str(tiny_outputs["run"]), str(tiny_outputs["linked"]), "--format", "xlsx", "--out", str(out))
    runs = [xr.load_dataset(tiny_outputs[k] / "results.nc") for k in ("run", "linked")]
    labels = [str(r.attrs["scenario"]) for r in runs]
    labels = [labels[0], labels[1] + "#2"] if labels[0] == labels[1] else labels
    assert check_values(out, runs, labels) > 500
    check_layout(out)
    summary = pd.read_excel(out, sheet_name="summary", header=1).set_index("run")
    expect = compare([tiny_outputs["run"], tiny_outputs["linked"]])["summary"]
    assert list(summary.index) == list(expect.index)
    for col in ("total_cost_jpy", "gain_vs_first_jpy"):
        assert summary[col].tolist() == expect[col].tolist()
    assert summary["gain_vs_first_jpy"].iloc[1] >= 0  # linking never costs more on the same data


def test_workbook_of_a_sweep(tiny_outputs, tmp_path):
    """A sweep's workbook: every variable with the scenario dimension first, the members sheet
    with the swept values, and the summary sheet equal to summary.csv."""
    out = tmp_path / "sweep.xlsx"
    export(str(tiny_outputs["sweep"]), "--format", "xlsx", "--out", str(out))
    r = xr.load_dataset(tiny_outputs["sweep"] / "results.nc")
    assert check_values(out, [r]) > 1000
    members = pd.read_excel(out, sheet_name="members", header=1)
    assert members["markets.regional.compliance_factor.P2.general"].tolist() == [0.1, 0.17, 0.25]
    summary = pd.read_excel(out, sheet_name="summary", header=1)
    csv = pd.read_csv(tiny_outputs["sweep"] / "summary.csv")
    assert list(summary.columns) == list(csv.columns)
    pd.testing.assert_series_equal(summary["price_jpy_per_t"], csv["price_jpy_per_t"])


def test_workbook_of_a_montecarlo(tiny_outputs, tmp_path):
    """A Monte Carlo workbook: every variable by draw, and the price statistics of summary.csv."""
    out = tmp_path / "mc.xlsx"
    export(str(tiny_outputs["mc"]), "--format", "xlsx", "--out", str(out))
    r = xr.load_dataset(tiny_outputs["mc"] / "results.nc")
    assert check_values(out, [r]) > 1000
    check_layout(out)
    summary = pd.read_excel(out, sheet_name="summary", header=1)
    csv = pd.read_csv(tiny_outputs["mc"] / "summary.csv")
    for col in ("price_p05_jpy_per_t", "price_p50_jpy_per_t", "price_p95_jpy_per_t"):
        assert summary[col].tolist() == pytest.approx(csv[col].tolist(), rel=1e-15)


def test_workbook_in_japanese(tiny_outputs, tmp_path):
    """--lang ja: readable headers in Japanese, kanji prefecture names beside the English keys,
    the same numbers."""
    out = tmp_path / "ja.xlsx"
    export(str(tiny_outputs["run"]), "--format", "xlsx", "--out", str(out), "--lang", "ja")
    r = xr.load_dataset(tiny_outputs["run"] / "results.nc")
    check_values(out, [r])
    pref = pd.read_excel(out, sheet_name="prefectures", header=1)
    pairs = set(zip(pref["prefecture"], pref["prefecture_ja"]))
    assert ("Tokyo", "東京都") in pairs and ("Osaka", "大阪府") in pairs
    assert set(zip(pref["market"], pref["market_ja"])) == {("national", "国制度"), ("regional", "地域制度")}
    heads = pd.read_excel(out, sheet_name="prices", header=0).columns
    assert "排出枠価格 (円/t-CO2、各年の貨幣価値)" in heads


def test_iamc_export_still_takes_one_results(tiny_outputs, tmp_path):
    """The IAMC CSV is unchanged by the workbook format; two RESULTS are refused for it (exit 2)."""
    out = tmp_path / "iamc.csv"
    export(str(tiny_outputs["run"]), "--out", str(out))
    assert pd.read_csv(out).columns[:5].tolist() == ["model", "scenario", "region", "variable", "unit"]
    two = CliRunner().invoke(cli, ["export", str(tiny_outputs["run"]), str(tiny_outputs["linked"])])
    assert two.exit_code == 2 and "--format xlsx" in two.output


def test_workbook_is_byte_stable(tiny_outputs, tmp_path):
    """The same results give the same workbook, byte for byte, written at different times: the
    document's time stamps and the zip entries' dates are fixed (1980-01-01)."""
    import time
    import zipfile

    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    export(str(tiny_outputs["run"]), "--format", "xlsx", "--out", str(a))
    time.sleep(2.1)  # past the zip format's 2-second resolution of entry times
    export(str(tiny_outputs["run"]), "--format", "xlsx", "--out", str(b))
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "1980-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()
    check_layout(a)
