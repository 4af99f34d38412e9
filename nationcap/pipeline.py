"""One-call entry points over a :class:`~nationcap.session.Session`.

    >>> from nationcap.pipeline import run_scenario
    >>> res = run_scenario("models/tiny.toml")          # doctest: +SKIP
    >>> res["price"].sel(market="regional").values      # doctest: +SKIP

Each function opens a session and solves it once; the chain itself (prepare, checks, engine,
results) is the session's (:mod:`nationcap.session`), so these never repeat it. To solve many
variants of one scenario, hold a session instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import xarray as xr

from .config import Scenario, load_scenario
from .engines import Engine
from .inputs.tables import Dataset, load_dataset
from .session import Progress, Run, Session

__all__ = ["Progress", "Run", "Session", "load", "run_dataset", "run_scenario"]


def load(scenario: Scenario | str | Path, overrides: Iterable[str] = ()) -> tuple[Scenario, Dataset]:
    """The validated scenario and its validated dataset tables."""
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, tuple(overrides))
    return scn, load_dataset(scn.inputs_path, scn)


def run_dataset(
    scn: Scenario,
    ds: Dataset,
    engine: Engine | str | None = None,
    log_file: str | None = None,
    progress: Progress | None = None,
    detail: str = "full",
    mac_curve: bool = True,
) -> Run:
    """Solve ``scn`` on already loaded (possibly modified) tables ``ds``: one session, one solve."""
    session = Session(scn, ds, engine, log_file=log_file)
    return session.solve(progress=progress, detail=detail, mac_curve=mac_curve)


def run_scenario(
    scenario: Scenario | str | Path,
    overrides: Iterable[str] = (),
    log_file: str | None = None,
    engine: Engine | str | None = None,
    dataset: Dataset | None = None,
    progress: Progress | None = None,
    detail: str = "full",
) -> xr.Dataset:
    """Load, prepare, solve and return the results Dataset (nothing is written).

    ``engine`` is an engine name (``"pyomo"``: the LP with HiGHS, the reference; ``"fast"``: the
    exact merit-order engine), an :class:`~nationcap.engines.base.Engine`, or None for the
    scenario's ``[solver] engine``. ``dataset`` reuses tables already loaded for this scenario's
    inputs. ``progress(event, elapsed_s)`` is told of each phase as it starts and ends
    (:mod:`nationcap.session`).
    """
    session = Session.open(scenario, overrides, engine, dataset=dataset, log_file=log_file, progress=progress)
    return session.solve(progress=progress, detail=detail).results
