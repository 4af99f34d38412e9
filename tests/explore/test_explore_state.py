"""The explorer without its page: controls, the variants they make, refusals, the Pyomo route,
the price-setting step, saving a scenario that runs to the same prices, and the TOML writer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from nationcap.config import load_scenario
from nationcap.config.loading import read_scenario_file
from nationcap.config.writing import scenario_toml
from nationcap.errors import InputError, OutputError
from nationcap.explore.state import Explorer, marginal_steps
from nationcap.session import Session

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "models" / "tiny.toml"
GX = ROOT / "models" / "gx_band.toml"
FACTOR = "markets.regional.compliance_factor.P2.general"


@pytest.fixture(scope="module")
def tiny():
    return Explorer.open(TINY)


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.toml")), ids=lambda p: p.name)
def test_scenario_toml_reads_back_as_the_dict_it_was_given(path):
    """Every shipped scenario, written by the explorer's TOML writer, reads back equal."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert tomllib.loads(scenario_toml(raw)) == raw


def test_unchanged_controls_make_no_override_and_a_change_makes_one(tiny):
    """The loaded values give the scenario as loaded; one moved factor gives its --set."""
    assert tiny.edits({})[1] == []
    assert tiny.edits({c.key: c.value for c in tiny.controls})[1] == []
    assert tiny.edits({FACTOR: 0.25})[1] == [f"{FACTOR}=0.25"]
    # a price floor switched on is made by its level; a size threshold also names the market label
    assert tiny.edits({"markets.regional.price_floor": True})[1] == [
        "markets.regional.price_floor.start_jpy_per_t=1700.0"
    ]
    assert tiny.edits({"markets.regional.select.min_base_t": 5000})[1] == [
        'markets.regional.select.market=["regional"]',
        "markets.regional.select.min_base_t=5000",
    ]


def test_a_band_switched_off_leaves_the_scenario():
    """Switching off a floor the file has removes the table: the variant has no floor."""
    ex = Explorer(Session.open(GX, engine="pyomo"))
    market = next(m for m, cfg in ex.session.scenario.markets.items() if cfg.price_floor is not None)
    var = ex.variant({f"markets.{market}.price_floor": False})
    assert var.scenario.markets[market].price_floor is None
    assert var.overrides == []


@pytest.mark.parametrize(
    "values, overrides",
    [
        ({FACTOR: 1.2}, [f"{FACTOR}=1.2"]),
        ({FACTOR: None}, [f"{FACTOR}="]),
        (
            {
                "markets.regional.price_floor": True,
                "markets.regional.price_ceiling": True,
                "markets.regional.price_floor.start_jpy_per_t": 5000,
            },
            [
                "markets.regional.price_floor.start_jpy_per_t=5000",
                "markets.regional.price_ceiling.start_jpy_per_t=4300.0",
            ],
        ),
    ],
    ids=["factor-above-one", "factor-empty", "floor-above-ceiling"],
)
def test_bad_input_is_refused_with_the_report_of_validate(tiny, values, overrides):
    """The page's refusal is the InputError that validating the file with the same --set gives."""
    out = tiny.solve(values)
    assert out.run is None and isinstance(out.exception, InputError)
    assert out.overrides == overrides
    with pytest.raises(InputError) as validate:
        load_scenario(TINY, overrides)
    assert out.error == str(validate.value)
    assert tiny.pending  # nothing to save until the controls solve again
    assert tiny.solve({}).run is not None and not tiny.pending


@pytest.mark.solver
def test_price_setting_step_of_tiny(tiny):
    """Tiny, as loaded (both markets bank; costs constant in each year's money, so a step's PV
    cost is cost / 1.03^(year - 2026)):

    - national: N0002's first step (2,500 JPY/t) is partly used in FY2028: PV price
      2500 / 1.03^2 = 2,356.49 JPY/t in both periods, steel in Chiba (inputs/tiny/entities.csv);
    - regional: R00003's first step (1,000 JPY/t) in FY2026: PV price 1,000 JPY/t,
      factory_chemicals in Saitama.
    """
    out = tiny.solve({})
    steps = marginal_steps(out.run).set_index(["market", "period"])
    for p in ("P1", "P2"):
        nat, reg = steps.loc[("national", p)], steps.loc[("regional", p)]
        assert nat.price_pv_jpy_per_t == pytest.approx(2500 / 1.03**2, rel=1e-9)
        assert nat.step_cost_pv_jpy_per_t == pytest.approx(2500 / 1.03**2, rel=1e-9)
        assert (nat.entity, nat.sector, nat.prefecture, nat.year) == ("N0002", "steel", "Chiba", 2028)
        assert reg.price_pv_jpy_per_t == pytest.approx(1000.0, rel=1e-9)
        assert (reg.entity, reg.sector, reg.prefecture, reg.year) == ("R00003", "factory_chemicals", "Saitama", 2026)


@pytest.mark.solver
def test_a_floor_is_solved_on_pyomo_only_when_asked(tiny):
    """The exact engine refuses a price floor: the outcome says so and solves nothing. Solved
    with Pyomo on request: tiny's regional price (1,000 JPY/t PV without a floor) is below the
    floor of 1,700 JPY/t growing 3 %/yr, which with a 3 % discount rate is 1,700 JPY/t in PV
    every year; with unlimited withdrawals at the floor the price is the floor:
    1,700 x 1.03^(year - 2026)."""
    values = {"markets.regional.price_floor": True}
    out = tiny.solve(values)
    assert out.run is None and out.needs_pyomo and not out.error
    assert any("price_floor" in why for why in out.needs_pyomo)
    out = tiny.solve(values, engine="pyomo")
    assert out.engine == "pyomo" and out.run is not None
    years = out.run.results.year.values
    np.testing.assert_allclose(
        out.run.results.price.sel(market="regional").values, 1700 * 1.03 ** (years - 2026), rtol=1e-6
    )


@pytest.mark.solver
def test_saved_scenario_runs_to_the_same_prices(tiny, tmp_path):
    """A saved variant, loaded again from its file (inputs relative to it), solves to the prices
    the explorer showed; saving over an existing file is refused."""
    out = tiny.solve({FACTOR: 0.25, "discount_rate": 0.04})
    path = tiny.save(out, tmp_path / "sub" / "mine.toml")
    again = Session.open(path).solve().results
    np.testing.assert_array_equal(again.price.values, out.run.results.price.values)
    raw = read_scenario_file(path)[0]
    assert raw["solver"]["engine"] == "fast"
    assert raw["markets"]["regional"]["compliance_factor"]["P2"]["general"] == 0.25
    with pytest.raises(OutputError):
        tiny.save(out, path)


@pytest.mark.parametrize(
    "path",
    [TINY, pytest.param(ROOT / "models" / "regional_threshold.toml", marks=pytest.mark.integration)],
    ids=lambda p: p.name,
)
def test_a_factor_change_reuses_the_prepared_model_data_exactly(path):
    """The model data of a compliance-factor variant, made by the session from its prepared model
    data without reading the tables again (Session.prepare -> model.prepare.reallocate), equals the
    model data prepared from the tables (every array, the scenario, the scale)."""
    import dataclasses

    from nationcap.model import prepare

    ex = Explorer(Session.open(path, engine="pyomo"))
    base = ex.session.model_data  # the scenario as loaded, prepared once
    var = ex.variant({FACTOR: 0.25, "markets.national.compliance_factor.P1.general": 0.1})
    fast, ref = ex.session.prepare(var.scenario), prepare(var.scenario, ex.session.dataset)
    assert fast.bau_t is base.bau_t  # not prepared again
    for f in dataclasses.fields(fast):
        a, b = getattr(fast, f.name), getattr(ref, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
    assert fast.scenario == ref.scenario and fast.scale_t == ref.scale_t


@pytest.mark.solver
def test_export_writes_the_results_folder_of_the_current_state(tiny, tmp_path):
    """Export writes results.nc (full detail) with the prices shown, into a new folder only."""
    import xarray as xr

    out = tiny.solve({FACTOR: 0.3})
    folder = tiny.export(out, tmp_path / "exported")
    with xr.open_dataset(folder / "results.nc") as res:
        np.testing.assert_array_equal(res.price.values, out.run.results.price.values)
        assert "entity" in res.dims
    with pytest.raises(OutputError):
        tiny.export(out, folder)


@pytest.mark.solver
def test_the_command_line_adds_the_workbook_and_the_report_to_an_export(tmp_path):
    """Exported through nationcap explore, the folder also holds results.xlsx and report.html;
    the workbook's prices are the results' (openpyxl reads them back)."""
    import openpyxl

    from nationcap.cli.explore import _workbook_and_report

    ex = Explorer.open(TINY)
    ex.after_export = _workbook_and_report
    out = ex.solve({FACTOR: 0.3})
    folder = ex.export(out, tmp_path / "exported")
    assert {"results.nc", "results.xlsx", "report.html"} <= {p.name for p in folder.iterdir()}
    assert "<html" in (folder / "report.html").read_text(encoding="utf-8").lower()
    wb = openpyxl.load_workbook(folder / "results.xlsx", read_only=True)
    assert len(wb.sheetnames) > 1


def test_a_change_sends_only_the_views_it_changed():
    """The page keeps a fingerprint of each view it shows: a page that shows nothing yet gets
    every view, and a change sends only the views whose content differs (a compliance factor
    leaves the coverage of BAU as it was); a view changed back is sent again."""
    import dash

    from nationcap.explore.app import changed_views

    a = [{"data": [1]}, {"data": [2]}, {"data": [3]}]
    sent, prints = changed_views(a, None)
    assert sent == a and len(prints) == 3
    b = [{"data": [1]}, {"data": [20]}, {"data": [3]}]
    sent, prints_b = changed_views(b, prints)
    assert sent[0] is dash.no_update and sent[1] == {"data": [20]} and sent[2] is dash.no_update
    sent, _ = changed_views(a, prints_b)
    assert sent[1] == {"data": [2]} and sent[0] is dash.no_update
