"""Integration runs of the shipped scenarios through the CLI (outputs go to tmp folders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from nationcap.cli import cli

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration


def test_validate_baseline_prints_counts_and_coverage():
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "models" / "baseline.toml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Entities per market and sector" in out and "Coverage of national CO2" in out
    assert "below the proposal's 60%" not in out
    assert "OK: scenario and dataset are valid." in out


def test_run_tiny(tmp_path):
    result = CliRunner().invoke(cli, ["run", str(ROOT / "models" / "tiny.toml"), "--out", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(tmp_path / "tiny" / "results.nc") as r:
        assert r.attrs["termination"] == "convergenceCriteriaSatisfied"
        assert set(r["market"].values) == {"national", "regional"}
        assert (r["price"].values >= 0).all()


def test_run_baseline_full_scale(tmp_path):
    """The main job: ~14,500 entities, 10 years, 2 periods, both markets."""
    out = tmp_path / "baseline"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "models" / "baseline.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Allowance price" in result.output
    with xr.open_dataset(out / "results.nc") as r:
        assert r.sizes["entity"] > 14_000 and r.sizes["year"] == 10
        # the caps bind somewhere: prices are positive in the tighter second period
        assert (r["price"].sel(year=2035).values > 0).all()
        # per market and period, emissions = cap + bank drawn (banking on, nothing expires)
        prev = xr.zeros_like(r["bank"].isel(period=0))
        for p in r["period"].values:
            bank = r["bank"].sel(period=p)
            np.testing.assert_allclose(r["market_emissions"].sel(period=p), r["cap"].sel(period=p) + prev - bank, rtol=1e-7, atol=1.0)
            prev = bank
        np.testing.assert_allclose(float(r["total_cost"].sum()), r.attrs["objective_jpy"], rtol=1e-9)
