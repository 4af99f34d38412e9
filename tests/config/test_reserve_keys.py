"""Scenario keys of the allowance reserves and of the limits on the floor and the ceiling: their
meaning, their checks (every problem at once, exit 2), and the refusal of a design in which the
administrator buys back above a PV price it sells at.

The arbitrage case: one market, periods P1 = FY2026-2028 and P2 = FY2029-2030, discount rate 3 %,
no growth of the triggers unless stated. A release trigger of 1,000 JPY/t below a withhold
trigger of 2,000 in the same year: the LP would release allowances at 1,000 and withhold them at
2,000, a gain of 1,000 per allowance up to the smaller volume (bounded, but meaningless).
"""

from __future__ import annotations

import pytest
from casebuilder import REPO, two_market_case
from click.testing import CliRunner

from nationcap.cli import cli
from nationcap.config import load_scenario
from nationcap.config.schema import MAX_PRICE_JPY_PER_T
from nationcap.errors import InputError

case = two_market_case


def tranche(trigger, volume, growth=0.0):
    return {"trigger_jpy_per_t": float(trigger), "volume_t": float(volume), "growth_rate": float(growth)}


def validate(path):
    return CliRunner().invoke(cli, ["validate", str(path)])


def test_the_reserve_keys_load_and_mean_what_they_say(tmp_path):
    """A release tranche at trigger 5,000 growing 5 %/yr from the first model year (FY2026):
    5,000 x 1.05^4 = 6,077.53 in FY2030; the growth defaults to 3 % (the GX band's)."""
    path = case(
        tmp_path,
        national={
            "reserve": {
                "release": [tranche(5000, 1.0e6, 0.05)],
                "withhold": [{"trigger_jpy_per_t": 1500.0, "volume_t": 2.0e6}],
            }
        },
    )
    scn = load_scenario(path)
    res = scn.markets["national"].reserve
    assert res is not None
    assert res.release[0].trigger(2030) == pytest.approx(5000 * 1.05**4)
    assert res.release[0].trigger(2026) == 5000
    assert res.withhold[0].growth_rate == 0.03
    assert scn.markets["regional"].reserve is None
    assert scn.markets["national"].floor_volume_limit_t is None


def test_the_shipped_reserves_scenario_is_valid():
    scn = load_scenario(REPO / "models" / "reserves.toml")
    for m in ("national", "regional"):
        res = scn.markets[m].reserve
        assert res is not None and len(res.release) == 1 and len(res.withhold) == 1
        assert res.release[0].trigger(2030) == pytest.approx(4300 * 1.03**4)  # 4,839.7 (program_rules.md)
        assert res.withhold[0].trigger(2030) == pytest.approx(1700 * 1.03**4)  # 1,913.4


def test_every_problem_is_reported_at_once(tmp_path):
    bad = {
        "reserve": {
            "release": [tranche(-1.0, -5.0), tranche(5000, 1.0, growth=9.0)],
            "withhold": [tranche(10.0, 1.0, growth=-1.0)],
        },
        "floor_volume_limit_t": 10.0,  # no price_floor
        "price_ceiling": {},
        "ceiling_volume_limit_t": -1.0,
    }
    out = validate(case(tmp_path, national=bad))
    assert out.exit_code == 2, out.output
    msg = out.output
    for key in (
        "markets.national.reserve.release.0.volume_t",
        "markets.national.reserve.release.0.trigger_jpy_per_t",
        "markets.national.reserve.release.1",  # 5,000 x 10^4 beyond MAX_PRICE_JPY_PER_T
        "markets.national.reserve.withhold.0.growth_rate",
        "markets.national.floor_volume_limit_t",
        "markets.national.ceiling_volume_limit_t",
    ):
        assert key in msg, (key, msg)
    assert f"{MAX_PRICE_JPY_PER_T:g}" in msg and "no price_floor" in msg
    assert "Traceback" not in msg


def test_an_unknown_tranche_key_is_an_error(tmp_path):
    path = case(tmp_path, national={"reserve": {"release": [{"trigger_jpy_per_t": 1.0, "volume": 1.0}]}})
    with pytest.raises(InputError, match="volume"):
        load_scenario(path)


def test_a_release_trigger_below_a_withhold_trigger_is_refused(tmp_path):
    """Release at 1,000 and withhold at 2,000 (same period P1): refused, naming the tranche, the
    years and the PV prices; the volumes are finite, so the message says bounded, not
    unbounded."""
    reserve = {"release": [tranche(1000, 5.0)], "withhold": [tranche(2000, 5.0)]}
    out = validate(case(tmp_path, national={"reserve": reserve}))
    assert out.exit_code == 2, out.output
    msg = out.output
    assert "markets.national.reserve.release.0" in msg
    # the most profitable pair: released in FY2028 (PV 1,000 / 1.03^2 = 942.60), withheld in FY2026
    assert "release tranche 0 in FY2028" in msg and "PV 942.60" in msg and "withhold tranche 0 in FY2026" in msg
    assert "buy back" in msg and "unbounded" not in msg
    assert "Traceback" not in msg


def test_the_other_way_round_is_accepted(tmp_path):
    """Release at 2,000, withhold at 1,000: a working reserve. Banking lets FY2026's release reach
    FY2030's withholding: PV 1,000 / 1.03^4 = 888.5 < 2,000, still fine."""
    reserve = {"release": [tranche(2000, 5.0)], "withhold": [tranche(1000, 5.0)]}
    out = validate(case(tmp_path, national={"reserve": reserve}))
    assert out.exit_code == 0, out.output


def test_triggers_are_compared_in_every_year(tmp_path):
    """Release at 2,000 (no growth), withhold at 1,000 growing 20 %/yr: 1,000 x 1.2^4 = 2,073.6 in
    FY2030 > 2,000, both in P2: refused (within period P2, FY2030), banking or not."""
    reserve = {"release": [tranche(2000, 5.0)], "withhold": [tranche(1000, 5.0, growth=0.2)]}
    for sub, banking in (("a", True), ("b", False)):
        out = validate(case(tmp_path / sub, national={"banking": banking, "reserve": reserve}))
        assert out.exit_code == 2, out.output
        assert "within period P2" in out.output and "FY2030" in out.output and "2,073.60 JPY/t" in out.output


def test_the_band_against_tranches_and_its_own_limits(tmp_path):
    """Each pair of a selling price and a higher buying price is refused: a release tranche below
    the (unlimited) floor, the (unlimited) ceiling below a withhold tranche, and a ceiling below a
    floor when either has a volume limit (finite: the 'buy back' message, not 'unbounded')."""
    floor = {"start_jpy_per_t": 3000.0, "growth_rate": 0.0}
    out = validate(case(tmp_path / "a", national={"price_floor": floor, "reserve": {"release": [tranche(1000, 1)]}}))
    assert out.exit_code == 2 and "release tranche 0" in out.output and "the floor" in out.output, out.output
    ceiling = {"start_jpy_per_t": 1000.0, "growth_rate": 0.0}
    out = validate(
        case(tmp_path / "b", national={"price_ceiling": ceiling, "reserve": {"withhold": [tranche(3000, 1)]}})
    )
    assert out.exit_code == 2 and "the ceiling" in out.output and "withhold tranche 0" in out.output, out.output
    band = {"price_ceiling": ceiling, "price_floor": floor}
    out = validate(case(tmp_path / "c", national=band))
    assert out.exit_code == 2 and "unbounded" in out.output, out.output
    out = validate(case(tmp_path / "d", national={**band, "floor_volume_limit_t": 5.0}))
    assert out.exit_code == 2 and "buy back" in out.output and "unbounded" not in out.output, out.output


def test_a_tranche_with_no_volume_cannot_pump(tmp_path):
    """A zero-volume tranche sells nothing: its trigger is not checked against the withholding."""
    reserve = {"release": [tranche(1000, 0.0)], "withhold": [tranche(2000, 5.0)]}
    out = validate(case(tmp_path, national={"reserve": reserve}))
    assert out.exit_code == 0, out.output


def test_across_a_full_link(tmp_path):
    """A national release tranche at 1,000 against a regional withhold tranche at 2,000 (FY2026):
    no link: accepted; a full link moves the allowance across at ratio 1: refused."""
    national = {"reserve": {"release": [tranche(1000, 5.0)]}}
    regional = {"reserve": {"withhold": [tranche(2000, 5.0)]}}
    out = validate(case(tmp_path / "a", national, regional))
    assert out.exit_code == 0, out.output
    out = validate(case(tmp_path / "b", national, regional, '[link]\nmode = "full"\n'))
    assert out.exit_code == 2 and "key 'link'" in out.output, out.output
