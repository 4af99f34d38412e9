"""Planning a batch: its members, their cache keys and the jobs a worker runs.

A batch is a list of *members* (sweep points ``s000, s001, ...`` or Monte Carlo draws
``0, 1, ...``). Each valid member is a :class:`Job` keyed by the sha256 of what determines its
result: the resolved configuration (``Scenario.resolved_json()``, which names the engine), a
fingerprint of the dataset files, the nationcap version and, for a draw, the uncertainty table,
seed and draw index.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..config import (
    Scenario,
    apply_override,
    expand,
    parse_montecarlo,
    parse_override,
    parse_sweep_table,
    read_scenario_file,
    scenario_from_dict,
)
from ..config.loading import batch_table_overrides, blame, blame_overrides, check_batch_tables, override_paths
from ..engines.highs_options import check_highs_options
from ..errors import InputError, NationcapError, Problem, Problems
from ..inputs import dataset_fingerprint
from ..inputs.names import check_scenario_names
from ..inputs.tables import Dataset, load_dataset
from ..vocab import DRAW_DIM, SWEEP_DIM

BATCH_FILE = "batch.json"


def run_key(scn: Scenario, draw_info: dict[str, Any] | None = None) -> str:
    """Cache key of one member: sha256 of the resolved configuration, the dataset files, the
    draw and the nationcap version (a new release never reuses an older release's results)."""
    from .. import __version__

    payload = {
        "nationcap_version": __version__,
        "config": json.loads(scn.resolved_json()),
        "dataset_sha256": dataset_fingerprint(scn.inputs_path),
        "draw": draw_info,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


@dataclasses.dataclass(frozen=True)
class Job:
    """What a worker needs to solve one member (plain data: picklable for any executor)."""

    key: str
    label: str
    raw: dict[str, Any]  # scenario dict with every override applied
    source: str  # absolute path of the scenario file (inputs are relative to it)
    montecarlo: dict[str, Any] | None = None
    seed: int | None = None
    draw: int | None = None
    reuse: bool = False  # re-solve this process's persistent model when only allocations differ


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A contiguous block of Monte Carlo draws solved by one worker call
    (:func:`nationcap.batch.worker.solve_chunk`), which returns plain arrays instead of one
    Dataset per draw. ``run`` names the execution, so a worker sends the batch's template of
    names, dimensions, coordinates and attributes once per execution
    (:class:`nationcap.batch.arrays.Template`)."""

    jobs: tuple[Job, ...]
    run: str
    start: int  # position of the first draw among the batch's members

    @property
    def key(self) -> str:
        return self.jobs[0].key

    @property
    def label(self) -> str:
        return f"draws {self.jobs[0].label}-{self.jobs[-1].label}"


@dataclasses.dataclass(frozen=True)
class PairChunk:
    """The same draws of the two designs of a paired Monte Carlo (``a`` and ``b``: each design's
    :class:`Chunk` of them), solved by one worker call (:func:`nationcap.batch.worker.solve_pair`),
    which makes each draw's values once for both."""

    a: Chunk
    b: Chunk

    @property
    def jobs(self) -> tuple[Job, ...]:
        return self.a.jobs + self.b.jobs

    @property
    def key(self) -> str:
        return self.a.key

    @property
    def label(self) -> str:
        return f"{self.a.label} of both designs"


#: at most this many draws in one chunk: a chunk's arrays (~0.1 MB a draw on the full dataset)
#: travel to the main process in one message
CHUNK_MAX = 100
#: chunks per worker at least (when there are draws enough): the pool balances uneven chunks
CHUNKS_PER_WORKER = 4


def chunk_size(n: int, workers: int) -> int:
    """Draws per chunk for ``n`` draws on ``workers`` workers: each worker gets several chunks
    (:data:`CHUNKS_PER_WORKER`), none larger than :data:`CHUNK_MAX`."""
    return max(1, min(CHUNK_MAX, -(-n // (max(1, workers) * CHUNKS_PER_WORKER))))


def chunks(jobs: list[Job], size: int, run: str) -> list[Chunk]:
    """``jobs`` (in draw order) cut into contiguous chunks of ``size`` draws. A draw's result does
    not depend on its chunk: draw i uses ``default_rng([seed, i])`` whatever solved before it."""
    return [Chunk(tuple(jobs[i : i + size]), run, i) for i in range(0, len(jobs), size)]


@dataclasses.dataclass
class Member:
    label: str  # "s000" or the draw number as text
    coord: Any  # coordinate value along the batch dimension
    params: dict[str, Any]
    key: str | None  # None when the member's configuration is invalid
    error: str = ""


@dataclasses.dataclass
class Batch:
    kind: str  # "sweep" | "montecarlo"
    name: str
    source: Path
    base: Scenario
    members: list[Member]
    jobs: dict[str, Job]  # by key
    params: list[str] = dataclasses.field(default_factory=list)
    mode: str = ""
    montecarlo: dict[str, Any] | None = None
    seed: int | None = None
    #: the tables the plan read and checked, when asked to keep them (a paired Monte Carlo solves
    #: its deterministic pair on them)
    dataset: Dataset | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def dim(self) -> str:
        return SWEEP_DIM if self.kind == "sweep" else DRAW_DIM

    def spec_hash(self) -> str:
        spec = {"kind": self.kind, "members": [(m.label, m.key, m.error) for m in self.members]}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def default_out(self) -> Path:
        return Path("outputs") / f"{self.name}_{self.kind}"


def _base(path: Path, overrides: Iterable[str]) -> tuple[dict[str, Any], dict | None, dict | None, Scenario, Dataset]:
    """The scenario dict with the overrides applied, its [sweep] and [montecarlo] tables, the
    scenario and its dataset: both checked before anything is solved (a problem that a ``--set``
    causes is reported against it)."""
    raw, sweep, mc = read_scenario_file(path)
    src = path.resolve()
    overrides, tables = batch_table_overrides(path, {"sweep": sweep, "montecarlo": mc}, overrides)
    base = scenario_from_dict(raw, source=src, overrides=overrides)
    check_batch_tables(tables)
    with blame_overrides(overrides):
        check_highs_options(base)
        ds = load_dataset(base.inputs_path, base)
    data = copy.deepcopy(raw)
    for text in overrides:
        apply_override(data, *parse_override(text))
    return data, tables["sweep"].table, tables["montecarlo"].table, base, ds


def _name_problems(scn: Scenario, ds: Dataset, params: Iterable[str]) -> list[Problem]:
    """Names a sweep point gives that the data does not have (categories, offset types, selection
    labels: :func:`nationcap.inputs.names.check_scenario_names`), against the swept keys."""
    problems = Problems()
    check_scenario_names(scn, ds.entities, ds.offsets, ds.path, problems)
    return blame(problems.items, override_paths(params=params))


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, NationcapError) else f"{type(exc).__name__}: {exc}"


def _refuse_text_values(path: Path, data: dict[str, Any], params: dict[str, list[Any]]) -> None:
    """Refuse, before anything is solved, a swept value that was read as text (a bare word such as
    ``abc``, which is not a TOML value) where the key does not take text: a typo in --values,
    not a point of the sweep."""
    problems = []
    for key, values in params.items():
        for v in values:
            if not isinstance(v, str):
                continue
            raw = copy.deepcopy(data)
            try:
                apply_override(raw, key.split("."), v)
                scenario_from_dict(raw, source=path.resolve())
            except ValueError as exc:
                problems.append(Problem(f"--param {key}", f"value {v!r}", "", str(exc)))
            except InputError as exc:
                on_key = blame(exc.problems, override_paths(params=[key]))
                problems += [
                    Problem(f"--param {key}", f"value {v!r}", "", p.message)
                    for p in on_key
                    if p.file == f"--param {key}"
                ]
    if problems:
        raise InputError(problems, 'sweep values (read as TOML: a bare word is text; quote text, e.g. "fast")')


def plan_sweep(
    path: str | Path,
    params: dict[str, list[Any]] | None = None,
    mode: str | None = None,
    overrides: Iterable[str] = (),
    reuse: bool = False,
) -> Batch:
    """Members of a sweep: from ``params`` (e.g. the CLI) or else the file's ``[sweep]`` table.

    With ``reuse``, a worker re-solves its built model (:mod:`nationcap.engines.persistent`) for members that
    change only allocations; such runs are cached under their own keys."""
    path = Path(path)
    data, table, _, base, ds = _base(path, overrides)
    if params is None:
        if table is None:
            raise InputError(
                [
                    Problem(
                        str(path),
                        "",
                        "",
                        "nothing to sweep: give --param KEY --values V1,V2 or a [sweep] table in the file",
                    )
                ],
                "scenario",
            )
        params, file_mode = parse_sweep_table(table, str(path))
        mode = mode or file_mode
    mode = mode or "grid"
    try:
        points = expand(params, mode)
    except ValueError as exc:
        raise InputError([Problem("--param/--values", "", "", str(exc))], "arguments") from None
    _refuse_text_values(path, data, params)
    width = max(3, len(str(len(points) - 1)))
    members: list[Member] = []
    jobs: dict[str, Job] = {}
    misnamed: dict[tuple[str, str, str], Problem] = {}
    for i, point in enumerate(points):
        label = f"s{i:0{width}d}"
        raw = copy.deepcopy(data)
        try:
            for k, v in point.items():
                apply_override(raw, k.split("."), copy.deepcopy(v))
            scn = scenario_from_dict(raw, source=path.resolve())
        except (NationcapError, ValueError) as exc:
            members.append(Member(label, label, point, None, _error_text(exc)))
            continue
        if scn.inputs_path == ds.path:  # (a member on other data is checked when it is solved)
            for p in _name_problems(scn, ds, params):
                misnamed.setdefault((p.file, p.where, p.message), p)
        key = run_key(scn, {"reuse": True} if reuse else None)
        members.append(Member(label, label, point, key))
        jobs.setdefault(key, Job(key, label, raw, str(path.resolve()), reuse=reuse))
    if misnamed:  # a misspelt name would sweep nothing: refuse the sweep before solving
        raise InputError(list(misnamed.values()), f"sweep of {path} on dataset {ds.path}")
    if not jobs:
        raise InputError([Problem(str(path), m.label, "", m.error) for m in members[:3]], "sweep (no valid scenario)")
    return Batch("sweep", base.name, path, base, members, jobs, params=list(params), mode=mode)


def plan_montecarlo(
    path: str | Path,
    draws: int | None = None,
    seed: int | None = None,
    overrides: Iterable[str] = (),
    keep_tables: bool = False,
) -> Batch:
    """Members of a Monte Carlo run: draws ``0..N-1`` of the file's ``[montecarlo]`` table; with
    ``keep_tables``, the batch keeps the tables read (:attr:`Batch.dataset`)."""
    path = Path(path)
    data, _, table, base, ds = _base(path, overrides)
    if table is None:
        raise InputError(
            [
                Problem(
                    str(path), "", "", "no [montecarlo] table: declare the uncertain inputs (see README, 'Batch runs')"
                )
            ],
            "scenario",
        )
    spec = parse_montecarlo(table, str(path))
    draws = draws if draws is not None else spec.draws
    seed = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
    if draws is None or draws < 1:
        raise InputError(
            [Problem(str(path), "key 'montecarlo.draws'", "", "give --draws N (N >= 1) or montecarlo.draws")],
            "scenario",
        )
    uncertain = json.loads(spec.uncertain_json())
    members, jobs = [], {}
    for i in range(draws):
        key = run_key(base, {"montecarlo": uncertain, "seed": seed, "draw": i})
        members.append(Member(str(i), i, {}, key))
        jobs[key] = Job(key, str(i), data, str(path.resolve()), uncertain, seed, i)
    return Batch(
        "montecarlo",
        base.name,
        path,
        base,
        members,
        jobs,
        montecarlo=uncertain,
        seed=seed,
        dataset=ds if keep_tables else None,
    )
