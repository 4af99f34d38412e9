"""IAMC export: columns, variables and units, Japan = sum of prefectures, batches, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap import __version__
from nationcap.batch.plan import plan_montecarlo, plan_sweep
from nationcap.batch.store import run_batch
from nationcap.cli import cli
from nationcap.pipeline import run_scenario
from nationcap.results import iamc
from nationcap.results.io import select_member, write_results

pytestmark = pytest.mark.solver

YEARS = ["2026", "2027", "2028", "2029"]
FLOWS = ("Emissions|CO2", "Baseline Emissions|CO2", "Abatement|CO2", "Abatement Cost")


def make_case(root, extra: str = ""):
    return batch_case(root, extra, national_p2=0.15)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    root = tmp_path_factory.mktemp("iamc")
    res = run_scenario(make_case(root))
    return res, root


def test_columns_variables_and_units(single):
    res, _ = single
    df = iamc.to_iamc(res)
    assert list(df.columns) == ["model", "scenario", "region", "variable", "unit"] + YEARS
    assert set(df["model"]) == {f"nationcap {__version__}"} and set(df["scenario"]) == {"case"}
    units = dict(zip(df["variable"], df["unit"]))
    for program in ("National Program", "Regional Program"):
        assert units[f"Price|Carbon|{program}"] == "JPY/t CO2"
        assert units[f"Emissions|CO2|{program}"] == "Mt CO2/yr"
        assert units[f"Baseline Emissions|CO2|{program}"] == "Mt CO2/yr"
        assert units[f"Abatement|CO2|{program}"] == "Mt CO2/yr"
        assert units[f"Abatement Cost|{program}"] == "billion JPY/yr"
        assert units[f"Cap|CO2|{program}"] == "Mt CO2/yr"
        assert units[f"Bank|CO2|{program}"] == "Mt CO2"
    assert not df.duplicated(["model", "scenario", "region", "variable"]).any()
    # prefectures only where the program has entities
    regions = df.groupby("variable")["region"].apply(set)
    assert regions["Emissions|CO2|Regional Program"] == {"Japan", "Tokyo", "Saitama"}
    assert regions["Emissions|CO2|National Program"] == {"Japan", "Chiba", "Aichi"}
    assert regions["Price|Carbon|National Program"] == {"Japan"}


def test_values_match_the_results(single):
    res, _ = single
    df = iamc.to_iamc(res).set_index(["region", "variable"])
    np.testing.assert_allclose(
        df.loc[("Japan", "Price|Carbon|Regional Program"), YEARS].to_numpy(float),
        res["price"].sel(market="regional").values,
    )
    cap_p2 = float(res["cap"].sel(market="national", period="P2")) / 2 / 1e6
    np.testing.assert_allclose(
        df.loc[("Japan", "Cap|CO2|National Program"), ["2028", "2029"]].to_numpy(float), [cap_p2, cap_p2]
    )
    bank = df.loc[("Japan", "Bank|CO2|National Program"), YEARS].to_numpy(float)
    assert np.isnan(bank[0]) and bank[1] == pytest.approx(float(res["bank"].sel(market="national", period="P1")) / 1e6)
    tokyo = res["emissions"].sel(entity=["R1", "R3"]).sum("entity").values / 1e6
    np.testing.assert_allclose(df.loc[("Tokyo", "Emissions|CO2|Regional Program"), YEARS].to_numpy(float), tokyo)
    # emissions = baseline - abatement, row by row
    for region, program in (("Japan", "National Program"), ("Tokyo", "Regional Program")):
        np.testing.assert_allclose(
            df.loc[(region, f"Emissions|CO2|{program}"), YEARS].to_numpy(float),
            (
                df.loc[(region, f"Baseline Emissions|CO2|{program}"), YEARS]
                - df.loc[(region, f"Abatement|CO2|{program}"), YEARS]
            ).to_numpy(float),
        )


def test_japan_is_the_sum_of_prefectures(single):
    res, _ = single
    df = iamc.to_iamc(res)
    for program in ("National Program", "Regional Program"):
        for flow in FLOWS:
            var = df[df["variable"] == f"{flow}|{program}"]
            japan = var[var["region"] == "Japan"][YEARS].to_numpy(float)
            prefs = var[var["region"] != "Japan"][YEARS].to_numpy(float).sum(axis=0)
            np.testing.assert_allclose(japan[0], prefs, rtol=1e-9, atol=1e-12)
            assert japan[0].sum() != 0 or flow == "Abatement Cost"


def test_cli_export_writes_and_refuses_to_overwrite(single, tmp_path):
    res, _ = single
    out = tmp_path / "run"
    write_results(res, out)
    runner = CliRunner()
    r = runner.invoke(cli, ["export", str(out), "--format", "iamc"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "iamc.csv")
    pd.testing.assert_frame_equal(df, pd.read_csv(_roundtrip(iamc.to_iamc(res), tmp_path)))
    assert runner.invoke(cli, ["export", str(out)]).exit_code == 4
    r = runner.invoke(cli, ["export", str(out / "results.nc"), "--out", str(tmp_path / "x" / "paper.csv")])
    assert r.exit_code == 0 and (tmp_path / "x" / "paper.csv").is_file()


def _roundtrip(df, tmp_path):
    p = tmp_path / "expected.csv"
    df.to_csv(p, index=False, lineterminator="\n")
    return p


def test_batches_give_one_scenario_per_member(tmp_path):
    path = make_case(
        tmp_path, '[montecarlo]\n[montecarlo.mac_cost]\nby = "market"\ndistribution = "lognormal"\nsd = 0.2\n'
    )
    sw = run_batch(
        plan_sweep(path, {"markets.regional.compliance_factor.P1.general": [0.04, 0.95, 0.06]}),
        tmp_path / "sw",
        workers=1,
    )
    df = pd.read_csv(tmp_path / "sw" / "iamc.csv")
    assert sorted(set(df["scenario"])) == ["case/s000", "case/s002"]  # the failed member has no rows
    one, _ = select_member(sw.results, "s002")
    expected = iamc.to_iamc(one).assign(scenario="case/s002")
    got = df[df["scenario"] == "case/s002"].reset_index(drop=True)
    np.testing.assert_allclose(got[YEARS].to_numpy(float), expected[YEARS].to_numpy(float), rtol=1e-12)

    run_batch(plan_montecarlo(path, draws=3, seed=1), tmp_path / "mc", workers=1)
    mc = pd.read_csv(tmp_path / "mc" / "iamc.csv")
    assert set(mc["scenario"]) == {"case/draw000", "case/draw001", "case/draw002", "case/p05", "case/p50", "case/p95"}
    price = mc[(mc["variable"] == "Price|Carbon|Regional Program") & (mc["region"] == "Japan")].set_index("scenario")[
        "2029"
    ]
    assert price["case/p50"] == pytest.approx(np.median(price[["case/draw000", "case/draw001", "case/draw002"]]))


def test_cost_account_rows_use_the_results_definitions(single):
    """Each account variable of the results is one IAMC row per program, in billion JPY/yr: the
    period's present value spread evenly over its years (batch_case: two 2-year periods), so a
    row's sum over the years is the result's sum over the periods. Items that are zero throughout
    (batch_case has no program rule: all but abatement) have no row; the totals always do."""
    res, _ = single
    df = iamc.to_iamc(res).set_index(["region", "variable"])
    names = dict(iamc.account_variables())
    assert names["total_cost"] == "Total Cost" and names["net_cost_covered"] == "Net Cost Covered"
    assert names["account_ceiling_payments"] == "Ceiling Payments"
    exported = {
        v.split("|")[1] for v in df.index.get_level_values("variable") if v.startswith("Cost Account (Present Value)|")
    }
    assert exported == {"Total Cost", "Net Cost Covered", "Abatement"}
    for var, name in names.items():
        if name not in exported:
            assert float(abs(res[var]).sum()) == 0, var
            continue
        for market, program in (("national", "National Program"), ("regional", "Regional Program")):
            row = df.loc[("Japan", f"Cost Account (Present Value)|{name}|{program}")]
            assert row["unit"] == "billion JPY/yr"
            per = res[var].sel(market=market).values / 1e9
            np.testing.assert_allclose(row[YEARS].to_numpy(float), np.repeat(per / 2, 2), rtol=1e-12, atol=0)
    total = df.loc[("Japan", "Cost Account (Present Value)|Total Cost|National Program"), YEARS].to_numpy(float).sum()
    assert total == pytest.approx(float(res["total_cost"].sel(market="national").sum()) / 1e9, rel=1e-12)
    assert total > 0


def test_cost_account_items_of_a_rule_are_exported():
    """models/gx_band.toml on inputs/tiny: the floor binds in the regional market's P1 only, so
    the export has Floor Receipts for the Regional Program (the PV of P1 spread over its 5 years,
    none after) and not for the National Program."""
    from casebuilder import REPO

    res = run_scenario(REPO / "models" / "gx_band.toml", overrides=['inputs="../inputs/tiny"'])
    df = iamc.to_iamc(res).set_index(["region", "variable"])
    years = [str(y) for y in range(2026, 2036)]
    floor = df.loc[("Japan", "Cost Account (Present Value)|Floor Receipts|Regional Program"), years].to_numpy(float)
    p1 = float(res["account_floor_receipts"].sel(market="regional", period="P1")) / 1e9
    assert p1 > 0
    np.testing.assert_allclose(floor, [p1 / 5] * 5 + [0.0] * 5, rtol=1e-12)
    assert ("Japan", "Cost Account (Present Value)|Floor Receipts|National Program") not in df.index


def test_present_value_rows_say_so_in_their_name(single):
    """The IAMC unit of a money row cannot say whether it is discounted, so the name does: every
    billion JPY/yr row is either `Abatement Cost|...` (each year's money) or
    `Cost Account (Present Value)|...` (present values), and no other variable holds the account."""
    res, _ = single
    df = iamc.to_iamc(res)
    money = df[df["unit"] == "billion JPY/yr"]["variable"].unique()
    assert {v.split("|")[0] for v in money} == {"Abatement Cost", "Cost Account (Present Value)"}
    assert iamc.ACCOUNT == "Cost Account (Present Value)"
    assert not any("Cost Account" in v and not v.startswith(iamc.ACCOUNT + "|") for v in df["variable"].unique())
