"""``nationcap template``: an empty dataset folder that, filled by hand, validates and runs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.inputs import TABLES

YEARS = range(2026, 2036)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_template_has_every_file_of_the_contract(tmp_path):
    """Every table of the contract with exactly its header line, dataset.toml, the scenario and
    a README that documents every column."""
    out = tmp_path / "mine"
    result = invoke("template", "--out", str(out))
    assert result.exit_code == 0, result.output
    readme = (out / "README.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        text = (out / table.file).read_text(encoding="utf-8")
        assert text == ",".join(c.name for c in table.columns) + "\n"
        for c in table.columns + table.optional_columns:
            assert f"`{c.name}`" in readme
    assert 'inputs = "."' in (out / "scenario.toml").read_text(encoding="utf-8")
    assert "# [[sources]]" in (out / "dataset.toml").read_text(encoding="utf-8")
    assert "ghg-santeikohyo.env.go.jp" in readme


def test_template_refuses_a_folder_with_files(tmp_path):
    """No silent overwrite: a second template into the same folder exits 4 and leaves it as it
    was, even with --force (a template holds the user's own data once filled in)."""
    out = tmp_path / "mine"
    assert invoke("template", "--out", str(out)).exit_code == 0
    (out / "entities.csv").write_text("my edits\n", encoding="utf-8")
    again = invoke("template", "--out", str(out))
    assert again.exit_code == 4 and "--force" in again.output
    assert (out / "entities.csv").read_text(encoding="utf-8") == "my edits\n"
    forced = invoke("template", "--out", str(out), "--force")
    assert forced.exit_code == 4 and "holds files nationcap did not write" in forced.output
    assert (out / "entities.csv").read_text(encoding="utf-8") == "my edits\n"


def test_empty_template_gets_the_usual_report(tmp_path):
    """Unfilled, validate reports the missing rows (exit 2), as for any dataset."""
    out = tmp_path / "mine"
    invoke("template", "--out", str(out))
    result = invoke("validate", str(out / "scenario.toml"))
    assert result.exit_code == 2 and "entities.csv has no rows" in result.output


def _append(path, rows: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in rows))


@pytest.mark.solver
def test_filled_template_validates_and_runs(tmp_path):
    """Three entities typed in by hand (one national supplier, two regional installations, one
    of them with its prefecture in kanji), BAU for every model year, two MAC steps each: the
    scenario of the template validates and solves (exit 0)."""
    out = tmp_path / "mine"
    assert invoke("template", "--out", str(out)).exit_code == 0
    _append(
        out / "entities.csv",
        [
            "N1,national,Power station,power_coal,Aichi,national,general,none,1000000,0",
            "R1,regional,Head office,office,東京都,Tokyo,general,none,12000,0.8",
            "R2,regional,Factory,factory_food,Osaka,Osaka,general,none,30000,0.4",
        ],
    )
    _append(
        out / "bau.csv",
        [f"N1,{y},1000000" for y in YEARS] + [f"R1,{y},12000" for y in YEARS] + [f"R2,{y},30000" for y in YEARS],
    )
    _append(
        out / "mac.csv",
        [
            "N1,1,0.05,1000",
            "N1,2,0.25,6000",
            "R1,1,0.05,-2000",
            "R1,2,0.3,8000",
            "R2,1,0.1,3000",
            "R2,2,0.2,12000",
        ],
    )
    scenario = str(out / "scenario.toml")
    valid = invoke("validate", scenario)
    assert valid.exit_code == 0, valid.output
    assert "OK" in valid.output
    run = invoke("run", scenario, "--out", str(tmp_path / "results"))
    assert run.exit_code == 0, run.output
    import xarray as xr

    with xr.open_dataset(tmp_path / "results" / "results.nc") as r:
        assert sorted(r["entity_prefecture"].values.tolist()) == ["Aichi", "Osaka", "Tokyo"]
        assert r.attrs["termination"] == "optimal"
