"""Prefectures and designated cities written in kanji: read as their English names.

The input tables accept ``東京都`` (or ``東京``) wherever ``Tokyo`` is accepted, and ``横浜市``
wherever ``Yokohama`` is; a dataset written either way loads to the same tables and solves to the
same results.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from casebuilder import REPO

from nationcap.errors import InputError
from nationcap.inputs import load_dataset
from nationcap.inputs.geo import (
    DESIGNATED_CITIES,
    DESIGNATED_CITIES_JA,
    PREFECTURES,
    PREFECTURES_JA,
    canonical_place,
)


def test_every_prefecture_and_city_has_one_kanji_name():
    """47 prefectures and 20 designated cities, each with a distinct kanji name ending in its
    kind's suffix (都, 道, 府, 県 for prefectures; 市 for cities)."""
    assert list(PREFECTURES_JA) == list(PREFECTURES)
    assert len(set(PREFECTURES_JA.values())) == 47
    assert all(ja[-1] in "都道府県" for ja in PREFECTURES_JA.values())
    assert set(DESIGNATED_CITIES_JA) == set(DESIGNATED_CITIES)
    assert len(set(DESIGNATED_CITIES_JA.values())) == 20
    assert all(ja.endswith("市") for ja in DESIGNATED_CITIES_JA.values())


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("東京都", "Tokyo"),
        ("東京", "Tokyo"),
        ("Tokyo", "Tokyo"),
        ("大阪府", "Osaka"),
        ("大阪市", "Osaka City"),
        ("京都府", "Kyoto"),
        ("京都市", "Kyoto City"),
        ("北海道", "Hokkaido"),
        ("神奈川県", "Kanagawa"),
        ("横浜市", "Yokohama"),
        ("さいたま市", "Saitama City"),
        ("沖縄県", "Okinawa"),
        ("national", "national"),
        ("Tokio", "Tokio"),
    ],
)
def test_canonical_place(written, canonical):
    """Kanji names (with or without the prefecture suffix) map to the English name; English
    names and other text stay as they are."""
    assert canonical_place(written) == canonical


def _kanji_copy(tmp_path: Path) -> tuple[Path, Path]:
    """inputs/tiny and models/tiny.toml copied twice: as shipped, and with every prefecture and
    administrator written in kanji (short forms and designated cities too)."""
    roots = []
    for name in ("romaji", "kanji"):
        root = tmp_path / name
        shutil.copytree(REPO / "inputs" / "tiny", root / "inputs" / "tiny")
        (root / "models").mkdir()
        shutil.copy(REPO / "models" / "tiny.toml", root / "models" / "tiny.toml")
        roots.append(root)
    ent_path = roots[1] / "inputs" / "tiny" / "entities.csv"
    ent = pd.read_csv(ent_path, dtype=str, keep_default_na=False)
    to_ja = {**PREFECTURES_JA, **DESIGNATED_CITIES_JA}
    ent["prefecture"] = [to_ja[p] if i % 2 == 0 else to_ja[p][:-1] for i, p in enumerate(ent["prefecture"])]
    ent["administrator"] = [to_ja.get(a, a) for a in ent["administrator"]]
    assert "東京都" in set(ent["prefecture"]) and "大阪市" in set(ent["administrator"])
    ent.to_csv(ent_path, index=False, lineterminator="\n")
    return roots[0], roots[1]


def test_kanji_names_load_as_english(tmp_path):
    """The entities table of the kanji copy equals the shipped one after loading."""
    romaji, kanji = _kanji_copy(tmp_path)
    a = load_dataset(romaji / "inputs" / "tiny").entities
    b = load_dataset(kanji / "inputs" / "tiny").entities
    pd.testing.assert_frame_equal(a, b)
    assert "Tokyo" in set(b["prefecture"]) and "Osaka City" in set(b["administrator"])


def test_unknown_kanji_is_refused(tmp_path):
    """A kanji name that is no prefecture (東京県) is refused like any unknown prefecture."""
    _, kanji = _kanji_copy(tmp_path)
    path = kanji / "inputs" / "tiny" / "entities.csv"
    ent = pd.read_csv(path, dtype=str, keep_default_na=False)
    ent.loc[0, "prefecture"] = "東京県"
    ent.to_csv(path, index=False, lineterminator="\n")
    with pytest.raises(InputError) as err:
        load_dataset(kanji / "inputs" / "tiny")
    (problem,) = err.value.problems
    assert problem.column == "prefecture" and "東京県" in problem.message


@pytest.mark.solver
def test_kanji_and_english_give_the_same_results(tmp_path):
    """models/tiny.toml on its data with 東京都 / 大阪府 / 大阪市 ... and on the shipped data with
    Tokyo / Osaka / Osaka City ...: every results variable is equal, and the prefecture and
    administrator coordinates are the English names."""
    from nationcap.pipeline import run_scenario

    romaji, kanji = _kanji_copy(tmp_path)
    a = run_scenario(romaji / "models" / "tiny.toml")
    b = run_scenario(kanji / "models" / "tiny.toml")
    assert list(a.data_vars) == list(b.data_vars)
    for v in a.data_vars:
        if a[v].dtype.kind in "fc":
            np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
        else:
            assert (a[v].values == b[v].values).all(), v
    assert "Tokyo" in b["prefecture"].values and "Osaka City" in b["administrator"].values
    assert list(a["entity_prefecture"].values) == list(b["entity_prefecture"].values)
