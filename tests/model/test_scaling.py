"""The LP's unit of quantity is chosen from the data, so that small entities stay exact.

Quantities enter the LP divided by ``ModelData.scale_t``; it used to be fixed at 10^6 t (Mt), so
HiGHS's tolerances (1e-7 LP units = 0.1 t) exceeded the data of entities of a few tonnes a year.
``nationcap.model.data.choose_scale_t`` now sets it to ``10 ** (floor(log10(B)) - 1)`` clamped to
[1, 10^6], B = the largest market-period BAU total (t), and ``prepare`` warns
(``PrecisionWarning``) when the smallest positive quantity is below 1e-6 LP units.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from casebuilder import write_case

from nationcap.model import prepare
from nationcap.model.data import SCALE_T, PrecisionWarning, choose_scale_t
from nationcap.pipeline import load, run_dataset

REPO = Path(__file__).resolve().parents[2]

# a dataset in tonnes: four entities of 3 to 32 t/yr, 21 steps with distinct costs
BASE = {"N0": 28.0, "N1": 3.0, "R0": 16.0, "R1": 32.0}
BAU = {"N0": 27.6318, "N1": 2.9858, "R0": 15.8122, "R1": 31.5755}
MAC = [
    ("N0", 1, 0.0127, 7074.03),
    ("N0", 2, 0.0309, 5854.16),
    ("N1", 1, 0.0186, 7097.38),
    ("N1", 2, 0.0056, 2133.51),
    ("N1", 3, 0.014, 2179.12),
    ("N1", 4, 0.0007, 1597.86),
    ("N1", 5, 0.0032, 5725.85),
    ("N1", 6, 0.0039, 1930.35),
    ("N1", 7, 0.0148, 5425.27),
    ("R0", 1, 0.0183, 1406.49),
    ("R0", 2, 0.0027, 313.5),
    ("R0", 3, 0.0207, 6342.62),
    ("R0", 4, 0.0086, 2913.13),
    ("R0", 5, 0.0409, 5423.88),
    ("R1", 1, 0.0214, 1738.78),
    ("R1", 2, 0.008, 5634.86),
    ("R1", 3, 0.0183, 6669.83),
    ("R1", 4, 0.0073, -295.55),
    ("R1", 5, 0.0157, 3314.22),
    ("R1", 6, 0.0101, 3844.05),
    ("R1", 7, 0.0062, 6779.59),
]
FACTORS = {"national": (0.023738, 0.037341), "regional": (0.011311, 0.023216)}


def tonnes_case(root: Path) -> Path:
    return write_case(
        root,
        [
            dict(entity_id=e, market="national" if e[0] == "N" else "regional", base_emissions_t=b)
            for e, b in BASE.items()
        ],
        BAU,
        MAC,
        [("P1", 2026, 2027), ("P2", 2028, 2030)],
        {m: {"compliance_factor": {"P1": {"general": f[0]}, "P2": {"general": f[1]}}} for m, f in FACTORS.items()},
        discount_rate=0.03,
    )


@pytest.mark.solver
def test_tonnes_sized_data_solve_exactly(tmp_path):
    """The Pyomo engine (HiGHS) agrees with the exact merit-order engine to 1e-9.

    Largest market-period BAU: regional P2, 3 x (15.8122 + 31.5755) = 142.2 t, so scale_t =
    10 ** (2 - 1) = 10 t. Prices by hand (PV, first-year money; the merit-order engine confirms
    them and flags no step boundary): national P1 = N0's step 2 in FY2027, 5,854.16 / 1.03 =
    5,683.65; national P2 = the same step in FY2028, 5,854.16 / 1.03^2 = 5,518.11; regional
    (banked across the periods, one PV price) = R0's step 1 in FY2030, 1,406.49 / 1.03^4 =
    1,249.65, a step used by only 0.0015 t.

    With the old fixed scale_t = 10^6 (1e-7 Mt = 0.1 t of tolerance) HiGHS 1.15.1 treated that
    0.0015 t as zero and returned, without any warning, a regional PV price of 313.50 JPY/t
    (R0's step 2) instead of 1,249.65, regional emissions 94.2275 / 141.3435 t instead of
    94.2290 / 141.3420 t per period, and a total cost of 14,775.23 instead of 14,776.62 JPY.
    """
    scn, ds = load(tonnes_case(tmp_path))
    md = prepare(scn, ds)
    assert md.scale_t == 10.0
    exact = run_dataset(scn, ds, engine="fast")
    assert exact.solution.info["boundary_periods"] == 0
    lp = run_dataset(scn, ds, engine="pyomo").results
    ref = exact.results
    pv = ref["price_pv"].values
    assert pv[0] == pytest.approx([5854.16 / 1.03, 5854.16 / 1.03**2], rel=1e-12)
    assert pv[1] == pytest.approx([1406.49 / 1.03**4] * 2, rel=1e-12)
    np.testing.assert_allclose(lp["price_pv"].values, pv, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lp["price"].values, ref["price"].values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lp["market_emissions"].values, ref["market_emissions"].values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lp["emissions"].values, ref["emissions"].values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lp["total_cost"].values, ref["total_cost"].values, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(lp["bank"].values, ref["bank"].values, rtol=1e-9, atol=1e-9)


def test_choose_scale_t():
    """10 ** (floor(log10(B)) - 1), clamped to [1, 10^6]."""
    assert choose_scale_t(np.array([[142.2, 3.0]])) == 10.0
    assert choose_scale_t(np.array([[99.0]])) == 1.0  # 10 ** (1 - 1)
    assert choose_scale_t(np.array([[5.0]])) == 1.0  # clamped below
    assert choose_scale_t(np.array([[0.0]])) == 1.0  # no emissions at all
    assert choose_scale_t(np.array([[2.5e5]])) == 1e4
    assert choose_scale_t(np.array([[1.88e7]])) == 1e6
    assert choose_scale_t(np.array([[2.37e9]])) == SCALE_T == 1e6  # clamped above: Mt


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param("baseline.toml", marks=pytest.mark.integration),  # inputs/japan: full scale
        pytest.param("tokyo_rules.toml", marks=pytest.mark.integration),
        "tiny.toml",
    ],
)
def test_shipped_datasets_keep_mt_and_raise_no_warning(scenario):
    """inputs/japan (largest market-period BAU 2.37e9 t) and inputs/tiny (1.88e7 t) keep
    scale_t = 10^6 exactly, so their results do not change; their smallest quantities (a 76 t
    step, a 445 t step) are far above 1e-6 Mt."""
    scn, ds = load(REPO / "models" / scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        md = prepare(scn, ds)
    assert md.scale_t == 1e6


def test_warns_when_the_data_span_too_many_orders_of_magnitude(tmp_path):
    """One entity of 10^8 t/yr sets scale_t = 10^6; a 0.3 t step of another (3 t x 0.1) is below
    1e-6 x 10^6 = 1 t: warned, naming the quantity and the scale."""
    path = write_case(
        tmp_path,
        [
            dict(entity_id="BIG", market="national", base_emissions_t=1e8),
            dict(entity_id="TINY", market="regional", base_emissions_t=3.0),
        ],
        {"BIG": 1e8, "TINY": 3.0},
        [("BIG", 1, 0.1, 1000.0), ("TINY", 1, 0.1, 2000.0)],
        [("P1", 2026, 2026)],
        {m: {"compliance_factor": {"P1": {"general": 0.05}}} for m in ("national", "regional")},
    )
    scn, ds = load(path)
    with pytest.warns(PrecisionWarning, match=r"abatement step .* 0\.3 t.*1e\+06 t"):
        prepare(scn, ds)
