"""One naming scheme for every CSV table nationcap writes (results.io.column_name)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import xarray as xr
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.model.rules import RULES
from nationcap.results.io import column_name, unit_suffix

MC_TABLE = """
[montecarlo]
draws = 2
seed = 3

[montecarlo.mac_cost]
by = "sector"
distribution = "lognormal"
sd = 0.2
"""
KEY = "markets.regional.compliance_factor.P2.general"
MC_STATS = ("mean", "sd", "min", "p05", "p25", "p50", "p75", "p95", "max")


def test_column_name_examples():
    each, pv = {"money": "each year's money"}, {"money": "present value at FY2026"}
    assert column_name("price", {"units": "JPY/t", **each}) == "price_jpy_per_t"
    assert column_name("price_pv", {"units": "JPY/t", **pv}) == "price_pv_jpy_per_t"  # not ..._jpy_per_t_pv
    assert column_name("total_cost", {"units": "JPY", **pv}) == "total_cost_jpy_pv"
    assert column_name("abatement_cost", {"units": "JPY", **each}) == "abatement_cost_jpy"
    assert column_name("emissions", {"units": "t"}) == "emissions_t"
    assert column_name("coverage_share", {"units": "1"}) == "coverage_share"  # not coverage_share_share
    assert column_name("noncompliant_entities", {"units": "1"}) == "noncompliant_entities"
    assert column_name("base_year_first", {}) == "base_year_first"
    assert column_name("price", {"units": "JPY/t", **each}, "p05") == "price_p05_jpy_per_t"
    assert column_name("objective_jpy", {"units": "JPY"}) == "objective_jpy"  # the name has it already
    # units written with their money (as rules state present values) read the same
    assert unit_suffix("JPY/t, present value at FY2026") == "jpy_per_t_pv"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    path = batch_case(root, MC_TABLE)
    out = {"run": root / "run", "sweep": root / "sweep", "mc": root / "mc"}
    runner = CliRunner()
    for args in (
        ["run", str(path), "--out", str(out["run"])],
        ["sweep", str(path), "--param", KEY, "--values", "0.1,0.12", "--out", str(out["sweep"]), "--workers", "1"],
        ["montecarlo", str(path), "--out", str(out["mc"]), "--workers", "1"],
    ):
        r = runner.invoke(cli, args)
        assert r.exit_code == 0, r.output
    return out


def names_of(ds: xr.Dataset) -> dict[str, str]:
    """variable -> its column name under the scheme; a sum over the groups of an aggregate
    (``emissions_by_sector`` summed over sectors, in the batch tables) is named as the quantity."""
    names = {str(v): column_name(str(v), ds[v].attrs) for v in ds.data_vars}
    for v in ds.data_vars:
        if str(v).endswith("_by_sector"):
            q = str(v)[: -len("_by_sector")]
            names.setdefault(q, column_name(q, ds[v].attrs))
    return names


def headers(folder) -> dict[str, list[str]]:
    return {f.name: list(pd.read_csv(f, nrows=0).columns) for f in sorted(folder.glob("*.csv")) if f.name != "iamc.csv"}


DOUBLED = re.compile(r"(_[a-z]+)\1$")


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["run", "sweep", "mc"])
def test_every_header_follows_the_scheme(folders, kind):
    with xr.open_dataset(folders[kind] / "results.nc") as ds:
        names = names_of(ds)
        labels = {str(c) for c in ds.coords} | set(json.loads(ds.attrs.get("sweep_params", "[]")))
        price_stats = {column_name("price", ds["price"].attrs, s) for s in MC_STATS} | {"n_draws"}
        if kind == "mc":  # the rules' per-draw statistics (named by the scheme too)
            for rule in RULES:
                if hasattr(rule, "montecarlo"):
                    price_stats |= {column_name(k, da.attrs) for k, da in rule.montecarlo(ds.load()).items()}
    allowed = set(names.values()) | labels | {"period", "status"} | (price_stats if kind == "mc" else set())
    tables = headers(folders[kind])
    assert tables
    for fname, cols in tables.items():
        for col in cols:
            assert col in allowed, f"{kind}/{fname}: column {col!r} is not named by column_name"
            assert col.count("pv") <= 1 and not DOUBLED.search(col), f"{kind}/{fname}: doubled suffix in {col!r}"
    every = {c for cols in tables.values() for c in cols}
    for bad in ("price_pv_jpy_per_t_pv", "coverage_share_share", "noncompliant_entities_entities", "price"):
        assert bad not in every, bad


@pytest.mark.solver
def test_the_same_quantity_has_the_same_name_everywhere(folders):
    per_kind = {}
    for kind, folder in folders.items():
        with xr.open_dataset(folder / "results.nc") as ds:
            per_kind[kind] = names_of(ds)
    shared = set.intersection(*(set(n) for n in per_kind.values())) - {"objective"}
    for var in shared:
        assert len({n[var] for n in per_kind.values()}) == 1, var

    price = per_kind["run"]["price"]
    assert price == "price_jpy_per_t"
    where = {
        ("run", "market_year.csv"),
        ("sweep", "scenario_market_year.csv"),
        ("sweep", "summary.csv"),
        ("mc", "draws.csv"),
    }
    for kind, fname in where:
        assert price in headers(folders[kind])[fname], (kind, fname)
    # the market-year summaries use the names of the per-variable tables
    summary = set(headers(folders["sweep"])["summary.csv"])
    run = {c for cols in headers(folders["run"]).values() for c in cols}
    for col in ("price_jpy_per_t", "emissions_t", "abatement_t", "abatement_cost_jpy", "cap_t", "bank_t"):
        assert col in summary and col in run, col
    for col in ("total_cost_jpy_pv", "net_cost_covered_jpy_pv", "account_abatement_jpy_pv"):
        assert col in summary and col in headers(folders["run"])["market_period.csv"], col
    assert set(headers(folders["mc"])["draws.csv"]) - {"draw", "status"} <= summary
    assert "price_p50_jpy_per_t" in headers(folders["mc"])["summary.csv"]
