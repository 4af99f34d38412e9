"""The batch tables of a scenario file: ``--values`` lists, sweep expansion, the [montecarlo] table."""

from __future__ import annotations

import pytest

from nationcap.config import expand, parse_montecarlo, split_values
from nationcap.errors import InputError


def test_split_values_reads_toml_items_and_respects_brackets():
    assert split_values("0.1, 0.2,3") == [0.1, 0.2, 3]
    assert split_values("[1, 2],[3, 4]") == [[1, 2], [3, 4]]
    assert split_values('"a,b",true,plain') == ["a,b", True, "plain"]
    with pytest.raises(ValueError):
        split_values("0.1,,0.2")


def test_grid_is_the_cartesian_product_and_zip_pairs():
    params = {"a": [1, 2], "b": [10, 20, 30]}
    grid = expand(params, "grid")
    assert (
        len(grid) == 6
        and grid[0] == {"a": 1, "b": 10}
        and grid[1] == {"a": 1, "b": 20}
        and grid[-1] == {"a": 2, "b": 30}
    )
    assert expand({"a": [1, 2], "b": [3, 4]}, "zip") == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(ValueError, match="equal length"):
        expand(params, "zip")


def test_montecarlo_table_is_validated():
    with pytest.raises(InputError, match="montecarlo.bau_growth.sdd"):
        parse_montecarlo({"bau_growth": {"sdd": 0.1}}, "f.toml")
    with pytest.raises(InputError, match="growth rate"):
        parse_montecarlo({"bau_growth": {"distribution": "lognormal", "sd": 0.1}}, "f.toml")
    with pytest.raises(InputError, match="needs 'low' and 'high'"):
        parse_montecarlo({"mac_cost": {"distribution": "uniform"}}, "f.toml")
    with pytest.raises(InputError, match="at least one"):
        parse_montecarlo({"draws": 3}, "f.toml")
