"""`nationcap compare` with batch folders and with runs on different data.

Hand-derived case (one regional entity, one one-year period, no discounting): BAU = base-year
emissions = 100 t, one MAC step of 50 % of BAU (50 t) at 1,000 JPY/t. A compliance factor f gives
a cap of 100 (1 - f) t, so the entity abates 100 f t at 1,000 JPY/t: total cost 100 f x 1,000 JPY
(f = 0.1: 10,000 JPY; f = 0.2: 20,000 JPY; f = 0.3: 30,000 JPY), and the price is 1,000 JPY/t
(the step is only partly used). The gain of the run with f = 0.3 against the first run (f = 0.1)
is therefore 10,000 - 30,000 = -20,000 JPY.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import xarray as xr
from casebuilder import write_case
from click.testing import CliRunner

from nationcap.cli import EXIT_INPUT, cli
from nationcap.report.compare import compare, split_member

pytestmark = pytest.mark.solver

KEY = "markets.regional.compliance_factor.P1.general"


def one_entity_case(root, cost_jpy_per_t: float = 1000.0):
    return write_case(
        root,
        [dict(entity_id="R1", market="regional", base_emissions_t=100.0)],
        {"R1": 100.0},
        [("R1", 1, 0.5, cost_jpy_per_t)],
        [("P1", 2026, 2026)],
        {"regional": {"compliance_factor": {"P1": {"general": 0.1}}}},
    )


def invoke(args):
    return CliRunner().invoke(cli, args)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    path = one_entity_case(root / "case")
    out = root / "sweep"
    res = invoke(["sweep", str(path), "--param", KEY, "--values", "0.1,0.2,0.3", "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    run = root / "run"
    assert invoke(["run", str(path), "--out", str(run)]).exit_code == 0
    return root, out, run


def test_split_member():
    assert split_member("outputs/p2_sweep::s002") == (split_member("outputs/p2_sweep")[0], "s002")
    assert split_member("a/b.nc") == (split_member("a/b.nc")[0], None)


def test_batch_without_member_is_refused_clearly(sweep):
    root, out, run = sweep
    res = invoke(["compare", str(run), str(out), "--out", str(root / "c0")])
    assert res.exit_code == EXIT_INPUT, res.output
    assert "Traceback" not in res.output and "AssertionError" not in res.output
    assert "sweep folder of 3 runs" in res.output and "--member" in res.output and "::LABEL" in res.output
    assert "s000, s001, s002" in res.output
    assert not (root / "c0").exists()


def test_member_option_applies_to_every_batch(sweep):
    root, out, run = sweep
    res = invoke(["compare", str(run), str(out), "--member", "s002", "--out", str(root / "c1")])
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(root / "c1" / "compare_summary.csv", index_col="run")
    # the module docstring: costs 10,000 JPY (f = 0.1, the run) and 30,000 JPY (f = 0.3, s002)
    assert summary.loc["case", "total_cost_jpy"] == pytest.approx(10_000, rel=1e-6)
    assert summary.loc["case/s002", "total_cost_jpy"] == pytest.approx(30_000, rel=1e-6)
    assert summary.loc["case/s002", "gain_vs_first_jpy"] == pytest.approx(-20_000, rel=1e-6)
    prices = pd.read_csv(root / "c1" / "compare_prices.csv")
    assert prices["case/s002"].tolist() == pytest.approx([1000.0])
    assert not (root / "c1" / "compare_notes.txt").exists()  # same data: no note


def test_path_member_syntax_compares_members_of_one_batch(sweep):
    root, out, _ = sweep
    res = invoke(["compare", f"{out}::s000", f"{out}::s001", f"{out}::s002", "--out", str(root / "c2")])
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(root / "c2" / "compare_summary.csv", index_col="run")
    assert summary["total_cost_jpy"].tolist() == pytest.approx([10_000, 20_000, 30_000], rel=1e-6)
    assert summary["gain_vs_first_jpy"].tolist() == pytest.approx([0, -10_000, -20_000], abs=1e-3)


def test_bad_member_labels_are_reported_together(sweep):
    root, out, run = sweep
    res = invoke(["compare", f"{out}::s009", f"{run}::s000", "--out", str(root / "c3")])
    assert res.exit_code == EXIT_INPUT and "Traceback" not in res.output
    assert "2 problems" in res.output
    assert "s009" in res.output and "not a successful member" in res.output
    assert "single run, not a batch" in res.output


def test_runs_on_different_datasets_get_no_gain_and_a_note(tmp_path):
    """Same scenario, but the second dataset's step costs 3,000 JPY/t: a "gain" of
    10,000 - 30,000 JPY would be meaningless."""
    a = one_entity_case(tmp_path / "a")
    b = one_entity_case(tmp_path / "b", cost_jpy_per_t=3000.0)
    for path, out in ((a, "ra"), (b, "rb")):
        assert invoke(["run", str(path), "--out", str(tmp_path / out)]).exit_code == 0
    res = invoke(["compare", str(tmp_path / "ra"), str(tmp_path / "rb"), "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "note:" in res.stderr and "other data" in res.stderr
    assert str(tmp_path / "b" / "data") in res.stderr
    summary = pd.read_csv(tmp_path / "c" / "compare_summary.csv", index_col="run")
    assert summary["total_cost_jpy"].tolist() == pytest.approx([10_000, 30_000], rel=1e-6)
    assert summary["gain_vs_first_jpy"].iloc[0] == 0
    assert pd.isna(summary["gain_vs_first_jpy"].iloc[1])
    notes = (tmp_path / "c" / "compare_notes.txt").read_text()
    assert "case#2" in notes and "not comparable" in notes


def test_the_fingerprint_decides_when_both_runs_have_one(tmp_path):
    """With ``dataset_sha256`` on both runs it decides alone: a copy of the same dataset in
    another folder is the same data, and a changed dataset in the same folder is not."""
    a = one_entity_case(tmp_path / "a")
    shutil.copytree(tmp_path / "a" / "data", tmp_path / "b" / "data")
    shutil.copy(a, tmp_path / "b" / "case.toml")
    for src, out in ((tmp_path / "a", "ra"), (tmp_path / "b", "rb")):
        assert invoke(["run", str(src / "case.toml"), "--out", str(tmp_path / out)]).exit_code == 0

    def with_sha(out: str, sha: str) -> str:
        r = xr.load_dataset(tmp_path / out / "results.nc")
        r.attrs["dataset_sha256"] = sha
        path = tmp_path / f"{out}_{sha}.nc"
        r.to_netcdf(path)
        return str(path)

    # runs carry the fingerprint of their dataset: a copy in another folder is the same data
    assert compare([tmp_path / "ra", tmp_path / "rb"])["summary"]["gain_vs_first_jpy"].iloc[1] == pytest.approx(
        0.0, abs=1e-6
    )

    # results without fingerprints (written before they were added): the folder decides
    def without_sha(out: str) -> str:
        r = xr.load_dataset(tmp_path / out / "results.nc")
        del r.attrs["dataset_sha256"]
        path = tmp_path / f"{out}_nosha.nc"
        r.to_netcdf(path)
        return str(path)

    assert pd.isna(compare([without_sha("ra"), without_sha("rb")])["summary"]["gain_vs_first_jpy"].iloc[1])
    same = compare([with_sha("ra", "aaaa"), with_sha("rb", "aaaa")])
    assert same["summary"]["gain_vs_first_jpy"].iloc[1] == pytest.approx(0.0, abs=1e-6)
    assert same["notes"].empty
    other = compare([with_sha("ra", "aaaa"), with_sha("ra", "bbbb")])
    assert pd.isna(other["summary"]["gain_vs_first_jpy"].iloc[1])
    assert "sha256 bbbb" in other["notes"]["note"].iloc[0]
