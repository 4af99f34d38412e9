"""Monte Carlo draws: multipliers by group, applied to a copy of the tables (no solver)."""

from __future__ import annotations

import numpy as np
import pytest
from casebuilder import batch_case

from nationcap.config import load_scenario, parse_montecarlo
from nationcap.derive.draws import apply_draw, draw
from nationcap.inputs import load_dataset


def test_draws_apply_growth_and_cost_multipliers_to_a_copy(tmp_path):
    path = batch_case(tmp_path, national_p2=0.10)
    scn = load_scenario(path)
    ds = load_dataset(scn.inputs_path, scn)
    spec = parse_montecarlo(
        {
            "bau_growth": {"by": "market", "sd": 0.05},
            "mac_cost": {"by": "sector", "distribution": "lognormal", "sd": 0.3},
        },
        "x",
    )
    d = draw(spec, 3, 0, scn, ds)
    d_again = draw(spec, 3, 0, scn, ds)
    np.testing.assert_array_equal(d.bau_multiplier, d_again.bau_multiplier)
    assert d.bau_labels == ["national", "regional"] and d.mac_labels == ["factory", "office", "power", "steel"]
    g = d.bau_multiplier[:, 0] - 1.0  # (1 + g)^1 in the first model year
    np.testing.assert_allclose(d.bau_multiplier, (1 + g)[:, None] ** np.arange(1, 5)[None, :])
    new = apply_draw(spec, d, scn, ds)
    r1 = new.bau[(new.bau["entity_id"] == "R1") & (new.bau["year"] == 2029)]["bau_emissions_t"].item()
    assert r1 == pytest.approx(100.0 * (1 + g[1]) ** 4)
    steel = new.mac[new.mac["entity_id"] == "N2"]["cost_jpy_per_t"].to_numpy()
    np.testing.assert_allclose(
        steel, ds.mac[ds.mac["entity_id"] == "N2"]["cost_jpy_per_t"].to_numpy() * d.mac_multiplier[3]
    )
    assert ds.bau["bau_emissions_t"].max() == 1000.0  # the original tables are untouched
