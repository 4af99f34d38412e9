"""compare and the IAMC export of a nationwide market against its split by administrator."""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import REPO
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.report.compare import compare
from nationcap.results.iamc import to_iamc
from nationcap.results.io import load_results

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("split")
    tiny = str(REPO / "models/tiny.toml")
    for name, extra in (("whole", []), ("split", ["--set", 'markets.regional.split_by="administrator"'])):
        r = CliRunner().invoke(cli, ["-q", "run", tiny, "--out", str(root / name), *extra])
        assert r.exit_code == 0, r.output
    return root


def test_compare_sums_split_markets_by_table(runs):
    tables = compare([runs / "whole", runs / "split"])
    s = tables["summary"]
    first, second = s.index  # both runs are of the scenario "tiny": labels tiny and tiny#2
    s = s.rename(index={first: "whole", second: "split"})
    whole, split = load_results(runs / "whole"), load_results(runs / "split")
    parts = [m for m in split["market"].values if str(m).startswith("regional/")]
    # the split's regional cost is the sum of its markets' costs, comparable with the whole market
    assert s.loc["split", "total_cost_jpy_regional"] == pytest.approx(
        float(split["total_cost"].sel(market=parts).sum())
    )
    assert s.loc["whole", "total_cost_jpy_regional"] == pytest.approx(
        float(whole["total_cost"].sel(market="regional").sum())
    )
    # one nationwide market never costs more than separate ones (it only adds trades)
    assert s.loc["split", "gain_vs_first_jpy"] <= 1e-6 * abs(s.loc["whole", "total_cost_jpy"])
    spread = tables["spread"].xs("regional", level="table").rename(index={first: "whole", second: "split"})
    one = spread.loc["split"].iloc[0]
    assert one["markets"] == len(parts)
    price = split["price_pv"].sel(market=parts).isel(period=0)
    assert one["price_pv_min_jpy_per_t"] == pytest.approx(float(price.min()))
    assert one["price_pv_max_jpy_per_t"] == pytest.approx(float(price.max()))
    assert one["market_at_max"] == str(price["market"].values[int(np.argmax(price.values))])
    assert spread.loc["whole"].iloc[0]["markets"] == 1
    admin = tables["administrators"]
    change = admin[f"change_vs_first_jpy_{second}"]
    assert change.to_numpy() == pytest.approx(
        (admin[f"compliance_cost_jpy_{second}"] - admin[f"compliance_cost_jpy_{first}"]).to_numpy()
    )
    # administrators' costs add up to the run's compliance costs
    assert admin[f"compliance_cost_jpy_{second}"].sum() == pytest.approx(
        float(split["compliance_cost_by_administrator"].sum()), rel=1e-12
    )


def test_iamc_reports_split_markets_by_program_and_region(runs):
    split = load_results(runs / "split")
    df = to_iamc(split)
    assert not df.duplicated(["scenario", "region", "variable"]).any()
    price = df[df["variable"] == "Price|Carbon|Regional Program"]
    groups = sorted(str(m).split("/", 1)[1] for m in split["market"].values if "/" in str(m))
    assert sorted(price["region"]) == groups  # one price per administrator, no Japan price
    cap = df[df["variable"] == "Cap|CO2|Regional Program"].set_index("region")["2026"]
    assert cap["Japan"] == pytest.approx(cap.drop("Japan").sum())
    whole = to_iamc(load_results(runs / "whole"))
    # emissions by prefecture and for Japan are the same rows as the unsplit run's, summed over the markets
    key = ["region", "variable"]
    e_split = df[df["variable"].str.startswith("Baseline Emissions")].set_index(key)["2026"].sort_index()
    e_whole = whole[whole["variable"].str.startswith("Baseline Emissions")].set_index(key)["2026"].sort_index()
    assert e_split.to_numpy() == pytest.approx(e_whole.to_numpy())
