"""Synthetic dataset generator: determinism, shipped folders, structural facts, atomic writing.

No solver is needed; the whole module runs in a few seconds.
"""

from __future__ import annotations

import io
import tomllib

import numpy as np
import pandas as pd
import pytest
from casebuilder import REPO

from nationcap.errors import OutputExistsError
from nationcap.inputs.geo import DESIGNATED_CITIES, PREFECTURES
from nationcap.tools.generate import (
    BASE_YEARS,
    HISTORY_YEARS,
    MODEL_YEARS,
    SHIPPED_SEED,
    generate,
    write_dataset,
)

COLUMNS = {
    "entities.csv": [
        "entity_id",
        "market",
        "name",
        "sector",
        "prefecture",
        "administrator",
        "category",
        "top_level",
        "base_emissions_t",
        "electricity_share",
        "benchmark",
    ],
    "bau.csv": ["entity_id", "year", "bau_emissions_t"],
    "mac.csv": ["entity_id", "step", "abatement_share", "cost_jpy_per_t"],
    "offsets.csv": ["offset_type", "market", "year", "quantity_t", "cost_jpy_per_t"],
    "history.csv": ["entity_id", "fiscal_year", "emissions_t"],
    "activity.csv": ["entity_id", "year", "activity"],
    "benchmarks.csv": ["benchmark", "year", "t_per_activity"],
}


def _tables(files: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(io.StringIO(files[n]), keep_default_na=False) for n in COLUMNS if n in files}


@pytest.fixture(scope="module")
def japan_files() -> dict[str, str]:
    return generate("japan", SHIPPED_SEED)


@pytest.fixture(scope="module")
def japan(japan_files) -> dict[str, pd.DataFrame]:
    return _tables(japan_files)


@pytest.fixture(scope="module")
def national_co2(japan_files) -> pd.Series:
    meta = tomllib.loads(japan_files["dataset.toml"])
    return pd.Series({int(k): float(v) for k, v in meta["national_co2_t"].items()})


# --- determinism and the shipped folders ----------------------------------------------------


def test_same_seed_gives_identical_texts(japan_files):
    assert generate("japan", SHIPPED_SEED) == japan_files


def test_other_seed_gives_other_entities(japan_files):
    other = generate("japan", SHIPPED_SEED + 1)
    assert other.keys() == japan_files.keys()
    assert other["entities.csv"] != japan_files["entities.csv"]


@pytest.mark.parametrize("kind", ["japan", "tiny"])
def test_shipped_folder_equals_generator_output(kind, japan_files):
    folder = REPO / "inputs" / kind
    files = japan_files if kind == "japan" else generate(kind, SHIPPED_SEED)
    on_disk = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert "README.md" in files  # the README is generated too
    assert on_disk == sorted(files), f"{folder} holds {on_disk}; the generator makes {sorted(files)}"
    for name in on_disk:
        with open(folder / name, encoding="utf-8", newline="") as fh:
            assert fh.read() == files[name], f"{folder / name} differs from generate({kind!r}); regenerate it"


def test_generate_command_reproduces_the_shipped_folders(tmp_path):
    """`nationcap generate --kind tiny --out DIR` (default seed) and `--kind japan --seed 2026`
    write folders identical, file for file and byte for byte, to inputs/tiny and inputs/japan,
    README.md included."""
    from click.testing import CliRunner

    from nationcap.cli import cli

    for kind, args in (("tiny", []), ("japan", ["--seed", "2026"])):
        out = tmp_path / kind
        r = CliRunner().invoke(cli, ["generate", "--kind", kind, *args, "--out", str(out)])
        assert r.exit_code == 0, r.output
        shipped = REPO / "inputs" / kind
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in shipped.iterdir())
        for f in shipped.iterdir():
            assert (out / f.name).read_bytes() == f.read_bytes(), f.name


def test_readme_of_another_seed_or_scale_says_so(japan_files):
    """The japan README quotes the shipped folder's numbers: for another seed or scale it opens
    with a note naming that seed and scale; tiny's README is the same for every seed."""
    shipped = japan_files["README.md"]
    other = generate("japan", 7, scale=0.1)["README.md"]
    title = shipped.split("\n", 1)[0]
    assert other.startswith(title + "\n\n> **This folder:** `nationcap generate --kind japan --seed 7 --scale 0.1`")
    assert "those of the shipped folder (seed 2026, scale 1)" in other
    assert other.endswith(shipped.split("\n", 1)[1])
    assert generate("tiny", 5)["README.md"] == generate("tiny", SHIPPED_SEED)["README.md"]


# --- structure of the japan dataset -------------------------------------------------------


def test_columns_and_row_order(japan):
    for name, cols in COLUMNS.items():
        assert list(japan[name].columns) == cols, name
    for name, keys in (
        ("entities.csv", ["entity_id"]),
        ("bau.csv", ["entity_id", "year"]),
        ("mac.csv", ["entity_id", "step"]),
        ("history.csv", ["entity_id", "fiscal_year"]),
    ):
        df = japan[name]
        assert df.equals(df.sort_values(keys, kind="stable").reset_index(drop=True)), f"{name} not sorted by {keys}"


def test_counts_and_geography(japan):
    ent = japan["entities.csv"]
    assert ent["entity_id"].is_unique
    counts = ent["market"].value_counts()
    assert set(counts.index) == {"national", "regional"}
    assert 480 <= counts["national"] <= 520
    assert 13_500 <= counts["regional"] <= 14_500
    assert set(ent["prefecture"]) <= set(PREFECTURES)
    reg = ent[ent["market"] == "regional"]
    assert set(reg["prefecture"]) == set(PREFECTURES)
    assert 1_200 <= (reg["prefecture"] == "Tokyo").sum() <= 1_300
    assert abs((reg["prefecture"] == "Saitama").sum() - 600) <= 60
    # administrators: prefecture itself or one of its designated cities
    nat = ent[ent["market"] == "national"]
    assert (nat["administrator"] == "national").all()
    city_ok = reg["administrator"].map(DESIGNATED_CITIES) == reg["prefecture"]
    assert ((reg["administrator"] == reg["prefecture"]) | city_ok).all()
    assert set(reg["administrator"]) >= set(DESIGNATED_CITIES)


def test_entity_attributes(japan):
    ent = japan["entities.csv"]
    nat = ent[ent["market"] == "national"]
    reg = ent[ent["market"] == "regional"]
    assert (nat["category"] == "general").all() and (nat["top_level"] == "none").all()
    assert (nat["electricity_share"] == 0).all()
    assert set(reg["category"]) == {"general", "dhc"}
    assert set(reg["top_level"]) == {"none", "top", "near_top"}
    assert reg["electricity_share"].between(0, 1).all()
    buildings = reg["sector"].isin(["office", "commercial", "public"])
    assert 0.40 <= buildings.mean() <= 0.45
    assert 0.03 <= (reg.loc[buildings, "category"] == "dhc").mean() <= 0.07
    assert reg["base_emissions_t"].between(2_500, 110_000).all()
    top10 = nat["base_emissions_t"].nlargest(10) / 1e6
    assert top10.max() <= 25 and top10.min() >= 8


def test_base_is_mean_of_recent_history(japan):
    ent, hist = japan["entities.csv"], japan["history.csv"]
    assert sorted(hist["fiscal_year"].unique()) == list(HISTORY_YEARS)
    assert (hist.groupby("entity_id").size() == len(HISTORY_YEARS)).all()
    recent = hist[hist["fiscal_year"].isin(BASE_YEARS)].groupby("entity_id")["emissions_t"].mean()
    base = ent.set_index("entity_id")["base_emissions_t"].reindex(recent.index)
    np.testing.assert_allclose(base.to_numpy(), recent.round(1).to_numpy(), rtol=0, atol=1e-6)
    assert len(recent) == len(ent)


def test_bau_complete(japan):
    ent, bau = japan["entities.csv"], japan["bau.csv"]
    assert len(bau) == len(ent) * len(MODEL_YEARS)
    years = bau.groupby("entity_id")["year"].apply(list)
    assert sorted(years.index) == sorted(ent["entity_id"])
    assert all(y == list(MODEL_YEARS) for y in years)
    assert (bau["bau_emissions_t"] > 0).all()
    assert pd.api.types.is_integer_dtype(bau["bau_emissions_t"])


def test_coverage_and_national_share(japan, national_co2):
    ent, bau = japan["entities.csv"], japan["bau.csv"]
    assert sorted(national_co2.index) == list(MODEL_YEARS)
    b = bau.merge(ent[["entity_id", "market", "electricity_share"]], on="entity_id")
    national = b[b["market"] == "national"].groupby("year")["bau_emissions_t"].sum()
    direct = (b["bau_emissions_t"] * (1 - b["electricity_share"])).groupby(b["year"]).sum()
    coverage = direct / national_co2
    assert (coverage >= 0.60).all(), coverage.round(4).to_dict()
    # the power sector is inventory-consistent (311 Mt / 0.914 of sales = 340 Mt in FY2023), and
    # with it the national tier holds about 59-64 % of national CO2 (an output, not a target)
    power = ent[ent["sector"].str.startswith("power")]
    assert 330e6 <= power["base_emissions_t"].sum() <= 360e6
    assert 0.58 <= national[2026] / national_co2[2026] <= 0.64


def test_activity_moves_with_emissions_at_a_fixed_site_intensity(japan, japan_files):
    """Every entity has activity for FY2023-2035 in its sector's unit ([activity_units]) whose
    ratio to its emissions is one number per entity (up to the rounding of whole units), near its
    sector's intensity; only power, steel and cement have a benchmark group, and each group has an
    intensity every model year.

    Intensities of the energy sectors, by hand (nationcap/tools/activity.py, japan_facts.toml
    [activity]): electricity 8.64 GJ/MWh / 0.421 t/MWh = 20.523 GJ/t; city gas
    1 / (0.0136 x 44/12) = 20.053 GJ/t; half city gas, half A heavy oil
    1 / ((0.0136 + 0.0189) / 2 x 44/12) = 16.783 GJ/t.

    * national sites without a product unit (direct, e = 0): 1 / (16.783 x 0.0258) = 2.309 t/kL.
    * regional factory at e = 0.45 (the middle of 0.30-0.60):
      1 / ((0.45 x 20.523 + 0.55 x 16.783) x 0.0258) = 1 / (18.466 x 0.0258) = 2.099 t/kL.
    * office at e = 0.725 (the middle of 0.60-0.85): 1.511 / (0.725 x 20.523 + 0.275 x 20.053)
      = 1.511 / 20.394 = 0.0741 t/m2; commercial 2.093 / 20.394 = 0.1026; public 1.657 / 20.394
      = 0.0813 t/m2.

    Sector medians lie within 10 % of these (site spread sd 8 %, electricity shares spread
    around the middle)."""
    ent, act, bm = japan["entities.csv"], japan["activity.csv"], japan["benchmarks.csv"]
    hist, bau = japan["history.csv"], japan["bau.csv"]
    units = tomllib.loads(japan_files["dataset.toml"])["activity_units"]
    sectors = {"power_coal": 0.831, "power_lng": 0.388, "power_oil": 0.714, "steel": 1.818, "cement": 0.713}
    energy = {
        **{s: 2.309 for s in ("chemicals", "paper", "glass_ceramics", "nonferrous", "automotive", "other_industry")},
        **{s: 2.099 for s in ent["sector"] if s.startswith("factory_")},
        "office": 0.0741,
        "commercial": 0.1026,
        "public": 0.0813,
    }
    assert set(act["entity_id"]) == set(ent["entity_id"])
    assert set(ent["sector"]) <= set(units)
    assert {units[s] for s in energy} == {"kL crude-oil equivalent", "m2 floor area"}
    assert all(units[s] == "m2 floor area" for s in ("office", "commercial", "public"))
    assert sorted(act["year"].unique()) == list(range(2023, 2036))
    assert len(act) == 13 * len(ent)
    emis = pd.concat(
        [hist.rename(columns={"fiscal_year": "year", "emissions_t": "t"}), bau.rename(columns={"bau_emissions_t": "t"})]
    )
    both = act.merge(emis, on=["entity_id", "year"]).merge(ent[["entity_id", "sector"]], on="entity_id")
    ratio = both["t"] / both["activity"]
    spread = ratio.groupby(both["entity_id"]).agg(lambda r: r.max() / r.min() - 1)
    assert (spread < 1e-3).all()
    mean = ratio.groupby(both["sector"]).median()
    for sec, intensity in {**sectors, **energy}.items():
        assert mean[sec] == pytest.approx(intensity, rel=0.1), sec
    # every entity has a group: GX-ETS's names for power by fuel, steel and cement, else its sector
    gx_names = {"power_coal": "power_coal", "power_lng": "power_gas", "power_oil": "power_oil"}
    gx_names |= {"steel": "steel_integrated", "cement": "cement"}
    assert (ent["benchmark"] == ent["sector"].map(lambda s: gx_names.get(s, s))).all()
    assert set(bm["benchmark"]) == set(ent["benchmark"])
    # a group's FY2026 benchmark is its median site (within 10 % of the sector intensity), and the
    # FY2030 one the 32.5th percentile, at most the FY2026 value
    wide = bm.pivot(index="benchmark", columns="year", values="t_per_activity")
    for sec, intensity in {**sectors, **energy, "refinery": 0.154}.items():
        g = gx_names.get(sec, sec)
        assert wide.loc[g, 2026] == pytest.approx(intensity, rel=0.1), sec
        assert wide.loc[g, 2030] <= wide.loc[g, 2026], sec
    assert (bm.groupby("benchmark")["year"].apply(list) == [list(MODEL_YEARS)] * bm["benchmark"].nunique()).all()


def test_energy_intensity_by_hand():
    """The intensity of one entity, by hand (numbers as in the test above): a regional factory
    with e = 0.3 uses 0.3 x 20.523 + 0.7 x 16.783 = 17.905 GJ per t CO2, so
    1 / (17.905 x 0.0258) = 2.1647 t per kL; a public building with e = 0.6 uses
    0.6 x 20.523 + 0.4 x 20.053 = 20.335 GJ/t, so 1.657 / 20.335 = 0.08149 t per m2."""
    from nationcap.tools.activity import energy_intensity

    assert energy_intensity("factory_food", 0.3) == pytest.approx(2.1647, rel=2e-4)
    assert energy_intensity("public", 0.6) == pytest.approx(0.08149, rel=2e-4)
    assert energy_intensity("chemicals", 0.0) == pytest.approx(2.309, rel=2e-4)


def test_mac_curves(japan):
    ent, mac = japan["entities.csv"], japan["mac.csv"]
    assert set(mac["entity_id"]) == set(ent["entity_id"])
    steps = mac.groupby("entity_id")["step"]
    assert steps.size().between(3, 5).all()
    assert (steps.apply(lambda s: list(s) == list(range(1, len(s) + 1)))).all()
    assert (mac["abatement_share"] > 0).all()
    assert (mac.groupby("entity_id")["abatement_share"].sum() <= 1 + 1e-9).all()
    assert (mac.groupby("entity_id")["cost_jpy_per_t"].diff().dropna() > 0).all()
    assert (mac["cost_jpy_per_t"] != 0).all()
    assert (mac["cost_jpy_per_t"] < 0).any()


def test_offsets(japan):
    off = japan["offsets.csv"]
    reg = off[off["market"] == "regional"]
    per = reg.groupby(["offset_type", "year"]).size()
    assert set(reg["offset_type"]) == {"small_mid", "renewable", "outside"}
    assert len(per) == 3 * len(MODEL_YEARS) and per.between(1, 3).all()
    nat = off[off["market"] == "national"]
    assert set(nat["offset_type"]) == {"outside"} and sorted(nat["year"].unique()) == list(MODEL_YEARS)
    assert (off["quantity_t"] > 0).all() and (off["cost_jpy_per_t"] > 0).all()


def test_dataset_toml(japan_files):
    meta = tomllib.loads(japan_files["dataset.toml"])
    assert meta["name"] == "japan" and meta["seed"] == SHIPPED_SEED
    assert meta["generator"] == f"nationcap generate --kind japan --seed {SHIPPED_SEED} --out inputs/japan"
    numeric = {
        "base_emissions_t",
        "electricity_share",
        "bau_emissions_t",
        "abatement_share",
        "cost_jpy_per_t",
        "quantity_t",
        "emissions_t",
        "year",
        "fiscal_year",
        "step",
    }
    assert numeric <= set(meta["units"])
    assert all({"id", "citation", "url"} <= set(s) for s in meta["sources"])


# --- tiny, scale, arguments ---------------------------------------------------------------


def test_tiny_dataset():
    files = generate("tiny")
    t = _tables(files)
    ent = t["entities.csv"]
    assert ent["market"].value_counts().to_dict() == {"regional": 5, "national": 3}
    assert {"dhc"} <= set(ent["category"]) and {"top"} <= set(ent["top_level"])
    assert len(t["bau.csv"]) == len(ent) * len(MODEL_YEARS)
    assert (t["mac.csv"].groupby("entity_id").size() == 3).all()
    assert set(t["offsets.csv"]["market"]) == {"national", "regional"}
    assert set(t["offsets.csv"]["offset_type"]) == {"small_mid", "renewable", "outside"}
    assert generate("tiny", seed=1)["entities.csv"] == files["entities.csv"]
    assert sorted(tomllib.loads(files["dataset.toml"])["national_co2_t"]) == [str(y) for y in MODEL_YEARS]


def test_scale_multiplies_entity_counts(japan):
    small = _tables(generate("japan", SHIPPED_SEED, scale=0.1))["entities.csv"]
    full = japan["entities.csv"]
    for market in ("national", "regional"):
        ratio = (small["market"] == market).sum() / (full["market"] == market).sum()
        assert 0.09 <= ratio <= 0.11, (market, ratio)
    assert set(small.loc[small["market"] == "regional", "prefecture"]) == set(PREFECTURES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "mars"}, "japan, tiny"),
        ({"scale": 0.0}, "scale"),
        ({"scale": -1.0}, "scale"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(**kwargs)


# --- write_dataset ------------------------------------------------------------------------


def test_write_dataset_refuses_then_replaces(tmp_path):
    out = tmp_path / "ds"
    files = generate("tiny")
    write_dataset(files, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    with open(out / "bau.csv", encoding="utf-8", newline="") as fh:
        assert fh.read() == files["bau.csv"]

    (out / "README.md").write_text("hand-written\n", encoding="utf-8")
    (out / "stale.csv").write_text("old\n", encoding="utf-8")
    changed = dict(files, **{"bau.csv": "entity_id,year,bau_emissions_t\n"})
    with pytest.raises(OutputExistsError, match="--force"):
        write_dataset(changed, out)
    assert (out / "bau.csv").read_text(encoding="utf-8") == files["bau.csv"]  # untouched

    write_dataset(changed, out, force=True)
    assert (out / "bau.csv").read_text(encoding="utf-8") == changed["bau.csv"]
    assert not (out / "stale.csv").exists()
    assert (out / "README.md").read_text(encoding="utf-8") == files["README.md"]  # generated: replaced
    # files without a README keep the folder's own
    (out / "README.md").write_text("hand-written\n", encoding="utf-8")
    write_dataset({k: v for k, v in files.items() if k != "README.md"}, out, force=True)
    assert (out / "README.md").read_text(encoding="utf-8") == "hand-written\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folders left behind


def test_write_dataset_into_empty_folder(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    write_dataset({"a.csv": "x\n1\n"}, out)
    assert (out / "a.csv").read_text(encoding="utf-8") == "x\n1\n"


def test_monte_carlo_moves_every_entitys_activity_with_its_bau(tmp_path):
    """A Monte Carlo draw multiplies BAU and the model years' activity by the same factor
    (nationcap/derive/draws.py), so each entity's activity per t of BAU is unchanged by the draw,
    for the new activity rows too (a regional building and factory, a chemical complex), while
    the base years' activity stays. Drawn on a small generated dataset (scale 0.05) with the
    scenario of models/gx_benchmark_mc.toml (BAU growth by sector, sd 2 %/yr)."""
    from nationcap.config import load_scenario, parse_montecarlo
    from nationcap.derive.draws import apply_draw, draw
    from nationcap.inputs import load_dataset

    data = tmp_path / "japan"
    write_dataset(generate("japan", SHIPPED_SEED, scale=0.05), data)
    text = (REPO / "models" / "gx_benchmark_mc.toml").read_text(encoding="utf-8")
    scn_path = tmp_path / "mc.toml"
    scn_path.write_text(text.replace('inputs = "../inputs/japan"', f'inputs = "{data.as_posix()}"'), encoding="utf-8")
    scn = load_scenario(scn_path)
    ds = load_dataset(scn.inputs_path, scn)
    spec = parse_montecarlo({"bau_growth": {"by": "sector", "sd": 0.05}}, "x")
    new = apply_draw(spec, draw(spec, 1, 0, scn, ds), scn, ds)
    ent = ds.entities.set_index("entity_id")
    picks = [ent.index[ent["sector"] == s][0] for s in ("office", "factory_food", "chemicals")]

    def per_t(tables, eid):
        a = tables.activity[tables.activity["entity_id"] == eid].set_index("year")["activity"]
        b = tables.bau[tables.bau["entity_id"] == eid].set_index("year")["bau_emissions_t"]
        return a, (a.reindex(b.index) / b)

    for eid in picks:
        (a0, r0), (a1, r1) = per_t(ds, eid), per_t(new, eid)
        np.testing.assert_allclose(r1.to_numpy(), r0.to_numpy(), rtol=1e-12)
        assert not np.allclose(a1.loc[2030], a0.loc[2030])  # the draw moved it
        np.testing.assert_array_equal(a1.loc[[2023, 2024, 2025]], a0.loc[[2023, 2024, 2025]])
