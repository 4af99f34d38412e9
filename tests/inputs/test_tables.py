"""The dataset loader and every class of bad input (no solver; fast).

Each bad case starts from a small valid case written by :func:`casebuilder.write_case`, corrupts
one file, and checks that the loader raises one :class:`InputError` whose problems name the file,
the row or id, the column and what is expected, and that ``nationcap validate`` prints that report
with exit code 2 and no traceback (and re-raises it with ``--debug``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from casebuilder import REPO, write_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.errors import MAX_ROWS_PER_PROBLEM, InputError, Problem
from nationcap.inputs import TABLES, Dataset, load_dataset

# ---------------------------------------------------------------------------------------
# the base case
# ---------------------------------------------------------------------------------------
#
# entities.csv rows: 2 = R1, 3 = R2, 4 = N1 (header is line 1)
# bau.csv rows: R1 2026..2029 = rows 2..5, R2 = rows 6..9, N1 = rows 10..13
# mac.csv rows: 2 = R1 step 1, 3 = R2 step 1, 4 = N1 step 1, 5 = N1 step 2
# offsets.csv rows: 2 = regional 2026, 3 = national 2026

ENTITIES = [
    dict(entity_id="R1", market="regional", base_emissions_t=1000.0, electricity_share=0.4),
    dict(
        entity_id="R2",
        market="regional",
        base_emissions_t=2000.0,
        category="dhc",
        prefecture="Saitama",
        administrator="Saitama",
    ),
    dict(
        entity_id="N1",
        market="national",
        base_emissions_t=5000.0,
        sector="power_coal",
        prefecture="Aichi",
        administrator="national",
    ),
]
BAU = {"R1": 1000.0, "R2": [2000.0, 1990.0, 1980.0, 1970.0], "N1": 5000.0}
MAC = [("R1", 1, 0.5, 1000.0), ("R2", 1, 0.3, 2000.0), ("N1", 1, 0.2, -500.0), ("N1", 2, 0.3, 8000.0)]
PERIODS = [("P1", 2026, 2027), ("P2", 2028, 2029)]
MARKETS = {
    "regional": dict(banking=True, compliance_factor={"P1": {"general": 0.08, "dhc": 0.06}, "P2": {"general": 0.15}}),
    "national": dict(banking=False, compliance_factor={"P1": {"general": 0.02}, "P2": {"general": 0.05}}),
}
NATIONAL = {2026: 1.0e9, 2027: 9.9e8, 2028: 9.8e8, 2029: 9.7e8}
OFFSETS = [("small_mid", "regional", 2026, 100.0, 3000.0), ("renewable", "national", 2026, 50.0, 2500.0)]


def make_case(root: Path, **kw) -> Path:
    args = dict(
        entities=ENTITIES, bau=BAU, mac=MAC, periods=PERIODS, markets=MARKETS, national_co2_t=NATIONAL, offsets=OFFSETS
    )
    args.update(kw)
    return write_case(root, **args)


@pytest.fixture
def case(tmp_path) -> Path:
    """Path of the scenario TOML of a valid case; the dataset is ``case.parent / 'data'``."""
    return make_case(tmp_path)


def data_dir(scn_path: Path) -> Path:
    return scn_path.parent / "data"


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def edit(path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Rewrite a CSV after ``fn`` changed it (values as text, so anything can be written)."""
    df = read(path)
    out = fn(df)
    (df if out is None else out).to_csv(path, index=False)


def set_cell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Corruption: set ``column`` of CSV line ``row`` (header = line 1) of ``file`` to ``value``."""

    def corrupt(scn: Path) -> None:
        def fn(df):
            df.loc[row - 2, column] = value

        edit(data_dir(scn) / file, fn)

    return corrupt


def append_row(file: str, **values: str) -> Callable[[Path], None]:
    def corrupt(scn: Path) -> None:
        edit(data_dir(scn) / file, lambda df: pd.concat([df, pd.DataFrame([values])], ignore_index=True).fillna(""))

    return corrupt


def load(scn_path: Path) -> Dataset:
    scn = load_scenario(scn_path)
    return load_dataset(scn.inputs_path, scn)


def find(err: InputError, file: str, column: str, where: str = "") -> list[Problem]:
    return [p for p in err.problems if p.file.endswith(file) and p.column == column and where in p.where]


def assert_problem(err: InputError, file: str, where: str, column: str, word: str) -> Problem:
    hits = find(err, file, column, where)
    assert hits, f"no problem for ({file}, {where!r}, {column!r}) in:\n{err}"
    matching = [p for p in hits if word.lower() in p.message.lower()]
    assert matching, f"problem for ({file}, {where!r}, {column!r}) does not say {word!r}:\n{err}"
    return matching[0]


# ---------------------------------------------------------------------------------------
# a good case
# ---------------------------------------------------------------------------------------


def test_good_case_loads_with_typed_columns(case):
    ds = load(case)
    ent = ds.entities
    assert list(ent.index) == ["R1", "R2", "N1"]  # indexed by id, file order
    assert list(ent["entity_id"]) == ["R1", "R2", "N1"]  # ... and the column is kept
    assert ent["base_emissions_t"].dtype == np.float64
    assert ent["electricity_share"].dtype == np.float64
    assert ent.loc["R2", "base_emissions_t"] == 2000.0
    assert ent.loc["R1", "electricity_share"] == pytest.approx(0.4)
    assert ent.loc["R2", "category"] == "dhc"
    assert ent.loc["N1", "administrator"] == "national"
    assert ds.bau["year"].dtype == np.int64
    assert ds.bau["bau_emissions_t"].dtype == np.float64
    assert len(ds.bau) == 3 * 4
    assert ds.mac["step"].dtype == np.int64
    assert ds.mac["abatement_share"].dtype == np.float64
    assert ds.mac["cost_jpy_per_t"].tolist() == [1000.0, 2000.0, -500.0, 8000.0]  # negative cost is fine
    assert ds.offsets is not None and ds.offsets["year"].dtype == np.int64
    assert ds.offsets["quantity_t"].tolist() == [100.0, 50.0]
    assert ds.history is None
    assert ds.name == "test"


def test_national_co2_is_parsed_with_integer_years(case):
    ds = load(case)
    assert ds.national_co2_t == NATIONAL
    assert all(isinstance(y, int) for y in ds.national_co2_t)


def test_dataset_toml_without_national_totals_is_fine(tmp_path):
    ds = load(make_case(tmp_path, national_co2_t=None))
    assert ds.national_co2_t == {}


def test_optional_files_may_be_absent(tmp_path):
    ds = load(make_case(tmp_path, offsets=None))
    assert not (data_dir(tmp_path / "case.toml") / "offsets.csv").exists()
    assert ds.offsets is None and ds.history is None


def test_optional_history_is_read_and_checked(case):
    pd.DataFrame({"entity_id": ["R1", "R1"], "fiscal_year": [2024, 2025], "emissions_t": [990.0, 1010.0]}).to_csv(
        data_dir(case) / "history.csv", index=False
    )
    ds = load(case)
    assert ds.history["fiscal_year"].dtype == np.int64
    assert ds.history["emissions_t"].tolist() == [990.0, 1010.0]


def test_extra_columns_are_carried_along(case):
    edit(data_dir(case) / "entities.csv", lambda df: df.assign(facility_code=["F-01", "F-02", "007"]))
    edit(data_dir(case) / "mac.csv", lambda df: df.assign(measure=["LED", "heat pump", "fuel switch", "CCS"]))
    edit(data_dir(case) / "bau.csv", lambda df: df.assign(source="survey"))
    ds = load(case)
    # carried as text, unchanged (leading zeros kept)
    assert ds.entities["facility_code"].tolist() == ["F-01", "F-02", "007"]
    assert ds.mac["measure"].tolist() == ["LED", "heat pump", "fuel switch", "CCS"]
    assert set(ds.bau["source"]) == {"survey"}


def test_columns_may_come_in_any_order_with_spaces(case):
    path = data_dir(case) / "entities.csv"
    df = read(path)
    df[list(reversed(df.columns))].to_csv(path, index=False)
    text = path.read_text().replace(",", ", ")
    path.write_text(text)
    ds = load(case)
    assert ds.entities.loc["R2", "base_emissions_t"] == 2000.0
    assert ds.entities.loc["R2", "prefecture"] == "Saitama"


def test_optional_year_column_of_mac(case):
    # steps per (entity, year): R1 may abate 0.5 + 0.3 in 2026 and 0.7 in 2027, each year <= 1
    pd.DataFrame(
        [
            ("R1", 1, 0.5, 1000.0, 2026),
            ("R1", 2, 0.3, 3000.0, 2026),
            ("R1", 1, 0.7, 900.0, 2027),
            ("R2", 1, 0.3, 2000.0, 2026),
            ("N1", 1, 0.2, 100.0, 2026),
        ],
        columns=["entity_id", "step", "abatement_share", "cost_jpy_per_t", "year"],
    ).to_csv(data_dir(case) / "mac.csv", index=False)
    ds = load(case)
    assert ds.mac["year"].dtype == np.int64
    assert ds.mac["year"].tolist() == [2026, 2026, 2027, 2026, 2026]


def test_load_dataset_without_scenario_skips_scenario_checks(case):
    set_cell("entities.csv", 3, "market", "somewhere_else")(case)
    ds = load_dataset(data_dir(case))  # markets and model years are only checked against a scenario
    assert ds.entities.loc["R2", "market"] == "somewhere_else"


def test_cli_validate_good_case(case):
    result = CliRunner().invoke(cli, ["validate", str(case)])
    assert result.exit_code == 0, result.output
    assert "OK: scenario and dataset are valid." in result.output


# ---------------------------------------------------------------------------------------
# every class of bad input
# ---------------------------------------------------------------------------------------


def _remove(file: str) -> Callable[[Path], None]:
    return lambda scn: (data_dir(scn) / file).unlink()


def _drop_column(file: str, column: str) -> Callable[[Path], None]:
    return lambda scn: edit(data_dir(scn) / file, lambda df: df.drop(columns=[column]))


def _drop_bau_year(entity: str, year: int) -> Callable[[Path], None]:
    return lambda scn: edit(
        data_dir(scn) / "bau.csv", lambda df: df[~((df["entity_id"] == entity) & (df["year"] == str(year)))]
    )


def _rewrite_scenario(old: str, new: str) -> Callable[[Path], None]:
    def corrupt(scn: Path) -> None:
        text = scn.read_text()
        assert old in text, old
        scn.write_text(text.replace(old, new, 1))

    return corrupt


def _prepend_scenario(line: str) -> Callable[[Path], None]:
    return lambda scn: scn.write_text(line + "\n" + scn.read_text())


def _markets_with(market: str, **changes) -> dict:
    out = {m: dict(cfg) for m, cfg in MARKETS.items()}
    out[market].update(changes)
    return out


@dataclass
class Bad:
    id: str
    corrupt: Callable[[Path], None] | None  # corrupts a valid case in place
    file: str  # the problem's file ends with this
    where: str  # ... its `where` contains this
    column: str  # ... its column is exactly this ("" for file-level and scenario problems)
    word: str  # ... and its message contains this (case-insensitive)
    case_kw: dict | None = None  # or: build the case with these write_case arguments instead


BAD = [
    # 1. missing files and columns
    Bad("missing entities.csv", _remove("entities.csv"), "entities.csv", "", "", "required file is missing"),
    Bad("missing bau.csv", _remove("bau.csv"), "bau.csv", "", "", "required file is missing"),
    Bad("missing mac.csv", _remove("mac.csv"), "mac.csv", "", "", "required file is missing"),
    Bad("missing dataset.toml", _remove("dataset.toml"), "dataset.toml", "", "", "missing"),
    Bad(
        "missing dataset folder",
        _rewrite_scenario('inputs = "data"', 'inputs = "no_such_folder"'),
        "no_such_folder",
        "",
        "",
        "folder not found",
    ),
    Bad(
        "missing column entities",
        _drop_column("entities.csv", "electricity_share"),
        "entities.csv",
        "header",
        "electricity_share",
        "required column is missing",
    ),
    Bad("missing column bau", _drop_column("bau.csv", "year"), "bau.csv", "header", "year", "required column"),
    Bad(
        "missing column offsets",
        _drop_column("offsets.csv", "quantity_t"),
        "offsets.csv",
        "header",
        "quantity_t",
        "required column",
    ),
    # 2. ids
    Bad(
        "duplicate entity_id",
        append_row(
            "entities.csv",
            **{
                "entity_id": "R1",
                "market": "regional",
                "name": "copy",
                "sector": "office",
                "prefecture": "Tokyo",
                "administrator": "Tokyo",
                "category": "general",
                "top_level": "none",
                "base_emissions_t": "1",
                "electricity_share": "0",
            },
        ),
        "entities.csv",
        "row 5 (entity_id R1)",
        "entity_id",
        "unique",
    ),
    Bad(
        "unknown entity_id in bau",
        append_row("bau.csv", entity_id="X9", year="2026", bau_emissions_t="10"),
        "bau.csv",
        "row 14 (entity_id X9)",
        "entity_id",
        "must appear in entities.csv",
    ),
    Bad(
        "unknown entity_id in mac",
        append_row("mac.csv", entity_id="X9", step="1", abatement_share="0.1", cost_jpy_per_t="10"),
        "mac.csv",
        "row 6 (entity_id X9)",
        "entity_id",
        "unknown entity_id",
    ),
    # 3. markets and prefectures
    Bad(
        "unknown market of an entity",
        set_cell("entities.csv", 3, "market", "regionl"),
        "entities.csv",
        "row 3 (entity_id R2)",
        "market",
        "'regionl'",
    ),
    Bad(
        "unknown market in offsets",
        set_cell("offsets.csv", 3, "market", "global"),
        "offsets.csv",
        "row 3",
        "market",
        "unknown market",
    ),
    Bad(
        "unknown prefecture",
        set_cell("entities.csv", 2, "prefecture", "Tokio"),
        "entities.csv",
        "row 2 (entity_id R1)",
        "prefecture",
        "47 prefectures",
    ),
    Bad(
        "unknown top_level",
        set_cell("entities.csv", 4, "top_level", "yes"),
        "entities.csv",
        "row 4 (entity_id N1)",
        "top_level",
        "near_top",
    ),
    # 4. negative, non-numeric and missing numbers
    Bad(
        "negative base emissions",
        set_cell("entities.csv", 3, "base_emissions_t", "-5"),
        "entities.csv",
        "row 3 (entity_id R2)",
        "base_emissions_t",
        "negative",
    ),
    Bad(
        "non-numeric bau",
        set_cell("bau.csv", 7, "bau_emissions_t", "abc"),
        "bau.csv",
        "row 7 (entity_id R2)",
        "bau_emissions_t",
        "not a number",
    ),
    Bad(
        "empty cost",
        set_cell("mac.csv", 4, "cost_jpy_per_t", ""),
        "mac.csv",
        "row 4 (entity_id N1)",
        "cost_jpy_per_t",
        "missing",
    ),
    Bad("empty entity_id", set_cell("mac.csv", 2, "entity_id", ""), "mac.csv", "row 2", "entity_id", "missing"),
    Bad(
        "fractional year",
        set_cell("bau.csv", 2, "year", "2026.5"),
        "bau.csv",
        "row 2 (entity_id R1)",
        "year",
        "whole number",
    ),
    Bad(
        "negative offset quantity",
        set_cell("offsets.csv", 2, "quantity_t", "-1"),
        "offsets.csv",
        "row 2",
        "quantity_t",
        ">= 0",
    ),
    # 5. shares
    Bad(
        "electricity_share above 1",
        set_cell("entities.csv", 2, "electricity_share", "1.2"),
        "entities.csv",
        "row 2 (entity_id R1)",
        "electricity_share",
        "[0, 1]",
    ),
    Bad(
        "negative abatement_share",
        set_cell("mac.csv", 3, "abatement_share", "-0.1"),
        "mac.csv",
        "row 3 (entity_id R2)",
        "abatement_share",
        "negative",
    ),
    Bad(
        "MAC shares of an entity sum above 1",
        append_row("mac.csv", entity_id="N1", step="3", abatement_share="0.6", cost_jpy_per_t="20000"),
        "mac.csv",
        "entity_id N1",
        "abatement_share",
        "sum above 1",
    ),
    # 6. BAU years
    Bad("missing BAU year", _drop_bau_year("R2", 2028), "bau.csv", "entity_id R2", "bau_emissions_t", "2028"),
    # 7. compliance factors (scenario)
    Bad(
        "factor for an unknown period",
        None,
        "case.toml",
        "markets.regional.compliance_factor.P3",
        "",
        "unknown period",
        case_kw=dict(
            markets=_markets_with(
                "regional", compliance_factor={"P1": {"general": 0.08}, "P2": {"general": 0.15}, "P3": {"general": 0.2}}
            )
        ),
    ),
    Bad(
        "factor equal to 1",
        None,
        "case.toml",
        "markets.national.compliance_factor.P2.general",
        "",
        "[0, 1)",
        case_kw=dict(
            markets=_markets_with("national", compliance_factor={"P1": {"general": 0.02}, "P2": {"general": 1.0}})
        ),
    ),
    Bad(
        "negative factor",
        None,
        "case.toml",
        "markets.regional.compliance_factor.P1.dhc",
        "",
        "[0, 1)",
        case_kw=dict(
            markets=_markets_with(
                "regional", compliance_factor={"P1": {"general": 0.08, "dhc": -0.1}, "P2": {"general": 0.15}}
            )
        ),
    ),
    # 8. periods (scenario)
    Bad(
        "overlapping periods",
        None,
        "case.toml",
        "periods.1",
        "",
        "overlap",
        case_kw=dict(periods=[("P1", 2026, 2027), ("P2", 2027, 2029)]),
    ),
    Bad(
        "gap between periods",
        None,
        "case.toml",
        "periods.1",
        "",
        "gap",
        case_kw=dict(periods=[("P1", 2026, 2027), ("P2", 2029, 2030)]),
    ),
    # 9. unknown scenario keys (typos)
    Bad(
        "unknown top-level key",
        _prepend_scenario("discount_rat = 0.05"),
        "case.toml",
        "discount_rat",
        "",
        "unknown key",
    ),
    Bad(
        "unknown nested key",
        None,
        "case.toml",
        "markets.regional.bankng",
        "",
        "unknown key",
        case_kw=dict(markets=_markets_with("regional", bankng=True)),
    ),
]


def _build(tmp_path: Path, bad: Bad) -> Path:
    scn = make_case(tmp_path, **(bad.case_kw or {}))
    if bad.corrupt is not None:
        bad.corrupt(scn)
    return scn


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_is_reported(tmp_path, bad):
    scn = _build(tmp_path, bad)
    with pytest.raises(InputError) as info:
        load(scn)
    assert_problem(info.value, bad.file, bad.where, bad.column, bad.word)


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_through_cli(tmp_path, bad):
    scn = _build(tmp_path, bad)
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(scn)])
    assert result.exit_code == 2, result.output
    out = result.output
    assert "Traceback" not in out
    assert "error:" in out and "problem" in out
    # the report line of the expected problem: file, where, column and message on one line
    lines = [ln for ln in out.splitlines() if ln.lstrip().startswith("- ") and bad.file in ln and bad.where in ln]
    if bad.column:
        lines = [ln for ln in lines if f"column '{bad.column}'" in ln]
    assert any(bad.word.lower() in ln.lower() for ln in lines), out

    debug = runner.invoke(cli, ["--debug", "validate", str(scn)])
    assert isinstance(debug.exception, InputError)
    assert debug.exit_code != 0


def test_missing_scenario_file_and_bad_toml(tmp_path):
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "nope.toml")
    assert_problem(info.value, "nope.toml", "", "", "file not found")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(InputError) as info:
        load_scenario(bad)
    assert_problem(info.value, "bad.toml", "", "", "not valid TOML")
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output and "not valid TOML" in result.output


def test_unreadable_csv_is_reported(case):
    (data_dir(case) / "mac.csv").write_bytes("entity_id,step\n\x82\xa0,1\n".encode("latin-1"))  # Shift-JIS-ish bytes
    with pytest.raises(InputError) as info:
        load(case)
    assert_problem(info.value, "mac.csv", "line 2", "", "save mac.csv as UTF-8")


def test_bad_national_totals_in_dataset_toml(case):
    (data_dir(case) / "dataset.toml").write_text('name = "t"\n[national_co2_t]\n2026 = -1.0\nyear = 5\n')
    with pytest.raises(InputError) as info:
        load(case)
    assert_problem(info.value, "dataset.toml", "national_co2_t.2026", "", "positive")
    assert_problem(info.value, "dataset.toml", "national_co2_t.year", "", "year = tonnes")


def test_duplicate_bau_and_mac_rows(case):
    append_row("bau.csv", entity_id="R1", year="2026", bau_emissions_t="1")(case)
    append_row("mac.csv", entity_id="R1", step="1", abatement_share="0.1", cost_jpy_per_t="1")(case)
    with pytest.raises(InputError) as info:
        load(case)
    assert_problem(info.value, "bau.csv", "row 14 (entity_id R1)", "year", "duplicate")
    assert_problem(info.value, "mac.csv", "row 6 (entity_id R1)", "step", "duplicate")


# ---------------------------------------------------------------------------------------
# every problem at once; long lists are cut
# ---------------------------------------------------------------------------------------


def test_several_problems_in_different_files_in_one_error(case):
    set_cell("entities.csv", 2, "base_emissions_t", "-5")(case)
    set_cell("entities.csv", 3, "prefecture", "Tokio")(case)
    set_cell("bau.csv", 7, "bau_emissions_t", "abc")(case)
    set_cell("mac.csv", 4, "abatement_share", "1.5")(case)
    set_cell("offsets.csv", 2, "market", "global")(case)
    (data_dir(case) / "dataset.toml").write_text('name = "t"\n[national_co2_t]\n2026 = 0\n')
    with pytest.raises(InputError) as info:
        load(case)
    err = info.value
    assert_problem(err, "entities.csv", "row 2", "base_emissions_t", "negative")
    assert_problem(err, "entities.csv", "row 3", "prefecture", "prefectures")
    assert_problem(err, "bau.csv", "row 7", "bau_emissions_t", "not a number")
    assert_problem(err, "mac.csv", "row 4", "abatement_share", "share")
    assert_problem(err, "offsets.csv", "row 2", "market", "unknown market")
    assert_problem(err, "dataset.toml", "national_co2_t.2026", "", "positive")
    files = {Path(p.file).name for p in err.problems}
    assert {"entities.csv", "bau.csv", "mac.csv", "offsets.csv", "dataset.toml"} <= files
    text = str(err)
    assert text.startswith(f"{len(err.problems)} problems in the dataset")
    assert all(str(p) in text for p in err.problems)

    result = CliRunner().invoke(cli, ["validate", str(case)])
    assert result.exit_code == 2
    for name in ("entities.csv", "bau.csv", "mac.csv", "offsets.csv", "dataset.toml"):
        assert name in result.output


def test_more_than_ten_rows_with_one_problem_are_cut(case):
    edit(data_dir(case) / "bau.csv", lambda df: df.assign(bau_emissions_t="abc"))  # 12 rows
    with pytest.raises(InputError) as info:
        load(case)
    hits = find(info.value, "bau.csv", "bau_emissions_t")
    listed = [p for p in hits if p.where.startswith("row ")]
    assert len(listed) == MAX_ROWS_PER_PROBLEM == 10
    assert [p.where for p in listed][:2] == ["row 2 (entity_id R1)", "row 3 (entity_id R1)"]
    more = [p for p in hits if "more rows" in p.where]
    assert len(more) == 1 and more[0].where == "and 2 more rows"
    assert "not a number" in more[0].message
    result = CliRunner().invoke(cli, ["validate", str(case)])
    assert result.exit_code == 2 and "and 2 more rows" in result.output


def test_many_entities_with_the_same_problem(tmp_path):
    ents = [dict(entity_id=f"R{i:03d}", market="regional", base_emissions_t=-1.0) for i in range(25)]
    scn = make_case(
        tmp_path, entities=ents, bau={e["entity_id"]: 1.0 for e in ents}, mac=[("R000", 1, 0.1, 1.0)], offsets=None
    )
    with pytest.raises(InputError) as info:
        load(scn)
    hits = find(info.value, "entities.csv", "base_emissions_t")
    assert len(hits) == 11
    assert hits[-1].where == "and 15 more rows"


# ---------------------------------------------------------------------------------------
# the documented contract does not drift from the code
# ---------------------------------------------------------------------------------------


def test_readme_documents_every_file_and_column():
    readme = (REPO / "inputs" / "README.md").read_text(encoding="utf-8")
    missing = []
    for table in TABLES.values():
        if f"`{table.file}`" not in readme:
            missing.append(table.file)
        for col in table.columns + table.optional_columns:
            # each column appears as `name` in the README
            if not re.search(rf"`{re.escape(col.name)}`", readme):
                missing.append(f"{table.file}:{col.name}")
    assert not missing, f"inputs/README.md does not document: {missing}"
    for key in ("dataset.toml", "national_co2_t", "nationcap validate"):
        assert key in readme


# ---------------------------------------------------------------------------------------
# non-finite numbers ('inf', '1e400') are rejected like non-numbers
# ---------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "file, row, column, value",
    [
        ("entities.csv", 2, "base_emissions_t", "inf"),
        ("bau.csv", 3, "bau_emissions_t", "1e400"),
        ("mac.csv", 2, "cost_jpy_per_t", "-inf"),
        ("bau.csv", 2, "year", "inf"),
    ],
)
def test_non_finite_numbers_are_rejected(case, file, row, column, value):
    set_cell(file, row, column, value)(case)
    with pytest.raises(InputError) as info:
        load(case)
    assert_problem(info.value, file, f"row {row}", column, "number")


def test_cells_padded_with_white_space_are_stripped(tmp_path):
    """A cell with a trailing space, a tab or an ideographic space (U+3000, as a Japanese
    keyboard types it) is read as the value without it: the file is stripped cell by cell only
    when it may hold such padding, and reads the same as the plain file."""
    import shutil

    from nationcap.inputs.tables import _padded, load_dataset

    src = REPO / "inputs" / "tiny"
    plain = load_dataset(src)
    assert not _padded((src / "mac.csv").read_bytes())
    for pad in (" ", "\t", "\u3000"):
        folder = tmp_path / f"pad{ord(pad)}"
        shutil.copytree(src, folder)
        lines = (folder / "mac.csv").read_text(encoding="utf-8").splitlines()
        head, rows = lines[0], [",".join(c + pad for c in line.split(",")) for line in lines[1:]]
        (folder / "mac.csv").write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
        assert _padded((folder / "mac.csv").read_bytes())
        assert load_dataset(folder).mac.equals(plain.mac), repr(pad)
