"""Hand-derived solved cases, run on every engine whose ``supports()`` accepts them.

A :class:`Case` is a builder of the inputs (a function that writes a dataset and scenario with
:func:`casebuilder.write_case` and returns the scenario path; its docstring holds the derivation
of the answer), optional ``--set`` overrides, and the expected values derived by hand (a function
that asserts them on the :class:`~nationcap.pipeline.Run`), or the :class:`ModelError` the case
must raise instead. Test modules collect their cases in a :class:`Cases` list and run each one
with the ``@engines`` mark, one test per (case, engine)::

    CASES = Cases()

    @CASES.add(merit_order)                  # merit_order(root) -> scenario path (derivation)
    def merit_order_price_is_cost_of_partly_used_step(run):
        assert float(run.results["price"].sel(market="m", year=2026)) == pytest.approx(3000)

    @engines
    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_hand_case(case, engine, tmp_path):
        case.check(engine, tmp_path)

An engine that does not implement a setting of the case skips it with the reasons its
``supports()`` lists. Where the LP's answer is not unique (a requirement exactly on a step
boundary, tied columns), expectations test the interval of optimal answers, not one end of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nationcap.config import Scenario
from nationcap.engines import Engine, engine_names, get_engine
from nationcap.errors import ModelError
from nationcap.inputs import Dataset
from nationcap.model import ModelData, prepare
from nationcap.pipeline import Run, load, run_dataset

#: every engine nationcap has, by name, and the Pyomo engine in each of its formulations
#: ("pyomo" is its default, sifting; "pyomo:full" the reference with entity rows); a case runs on
#: each (or is skipped by it)
ENGINES = (*engine_names(), "pyomo:compact", "pyomo:full")

#: ``@engines`` parametrizes a test over every engine (argument ``engine``: its name)
engines = pytest.mark.parametrize("engine", ENGINES)

#: t and JPY/t: the answers are vertices of tiny LPs, which both engines find to rounding error
TOL = 1e-6


def model_data(path: Path, overrides: Iterable[str] = ()) -> ModelData:
    scn, ds = load(path, tuple(overrides))
    return prepare(scn, ds)


def supported(engine: str, path: Path, overrides: Iterable[str] = ()) -> tuple[Scenario, Dataset, Engine]:
    """Scenario, tables and a fresh engine; skips the test (with the engine's reasons) when the
    engine does not implement every setting of the scenario."""
    name, _, formulation = engine.partition(":")
    if formulation:
        overrides = (*overrides, f'solver.formulation="{formulation}"')
    scn, ds = load(path, tuple(overrides))
    eng = get_engine(name)
    missing = eng.supports(prepare(scn, ds))
    if missing:
        pytest.skip(f"the {engine!r} engine does not implement: " + "; ".join(missing))
    return scn, ds, eng


def run_on(engine: str, path: Path, overrides: Iterable[str] = ()) -> Run:
    """Solve a scenario with the named engine through the pipeline (skipped where unsupported)."""
    scn, ds, eng = supported(engine, path, overrides)
    run = run_dataset(scn, ds, engine=eng)
    # every solved case: the engine asked for answered, with nationcap's own status
    assert run.results.attrs["engine"] == engine.partition(":")[0] == run.solution.engine
    assert run.results.attrs["termination"] == "optimal"
    # ... and its cost account adds up to the objective (README "Cost account")
    check_account(run.results)
    return run


def check_account(res) -> None:
    """The identities of the cost account: its items in the objective, with their signs, add up to
    the objective; the resource items to ``total_cost``; all items with signs to ``net_cost_covered``;
    every item but abatement (negative with no-regret steps) is a non-negative amount per market and period."""
    from nationcap.results.build import COST_ACCOUNT, objective_from_account

    assert objective_from_account(res) == pytest.approx(res.attrs["objective_jpy"], rel=1e-9, abs=1e-6)
    total = sum(res[i.variable] for i in COST_ACCOUNT if i.kind == "resource")
    net = sum(i.sign * res[i.variable] for i in COST_ACCOUNT)
    for item in COST_ACCOUNT:
        assert res[item.variable].dims == ("market", "period"), item.key
        assert item.key == "abatement" or (res[item.variable] >= 0).all(), item.key
    assert abs(res["total_cost"] - total).max() <= 1e-9 * max(1.0, float(abs(total).max()))
    assert abs(res["net_cost_covered"] - net).max() <= 1e-9 * max(1.0, float(abs(net).max()))


@dataclass(frozen=True)
class Case:
    """A builder of inputs plus the hand-derived answer (values, or the error to raise)."""

    id: str
    write: Callable[[Path], Path]
    expect: Callable[[Run], None] | None = None
    overrides: tuple[str, ...] = ()
    error: str | None = None  # regular expression of the ModelError's message

    def __str__(self) -> str:
        return self.id

    def check(self, engine: str, root: Path) -> None:
        path = self.write(root)
        if self.error is not None:
            scn, ds, eng = supported(engine, path, self.overrides)
            with pytest.raises(ModelError, match=self.error):
                run_dataset(scn, ds, engine=eng)
            return
        assert self.expect is not None, self.id
        self.expect(run_on(engine, path, self.overrides))


class Cases(list[Case]):
    """An ordered list of cases, filled by decorating each case's expectations."""

    def _append(self, case: Case) -> None:
        assert case.id not in {c.id for c in self}, f"duplicate case id {case.id}"
        self.append(case)

    def add(self, write: Callable[[Path], Path], overrides: Iterable[str] = (), id: str | None = None):
        """Register the decorated function (``expect(run)``) as a case, named after it (or ``id``)."""

        def deco(expect: Callable[[Run], None]) -> Callable[[Run], None]:
            self._append(Case(id or expect.__name__, write, expect, tuple(overrides)))
            return expect

        return deco

    def add_error(self, id: str, write: Callable[[Path], Path], error: str, overrides: Iterable[str] = ()) -> None:
        """Register a case whose answer is a ModelError matching ``error``."""
        self._append(Case(id, write, None, tuple(overrides), error))
