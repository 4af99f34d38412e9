"""Scenario configuration: the schema, its cross-field checks, ``--set`` overrides, batch tables and
loading.

Layer 2 of the package (above errors.py, vocab.py and atomic.py): imports nothing of nationcap but
:mod:`nationcap.errors` and :mod:`nationcap.vocab`.
"""

from ..vocab import year_period_map  # re-exported: the one year -> period map
from .batch import MonteCarloSpec, Uncertain, expand, parse_montecarlo, parse_sweep_table
from .checks import check_scenario
from .loading import load_scenario, read_scenario_file, scenario_from_dict
from .overrides import apply_override, parse_override, split_values
from .schema import (
    DEFAULT_HIGHS_OPTIONS,
    ENGINE_NAMES,
    MarketConfig,
    Period,
    Scenario,
    SolverConfig,
)

__all__ = [
    "DEFAULT_HIGHS_OPTIONS",
    "ENGINE_NAMES",
    "MarketConfig",
    "MonteCarloSpec",
    "Period",
    "Scenario",
    "SolverConfig",
    "Uncertain",
    "apply_override",
    "check_scenario",
    "expand",
    "load_scenario",
    "parse_montecarlo",
    "parse_override",
    "parse_sweep_table",
    "read_scenario_file",
    "scenario_from_dict",
    "split_values",
    "year_period_map",
]
