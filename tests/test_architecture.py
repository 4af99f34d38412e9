"""The package's architecture: its import graph, the dependency rule and what imports load.

Solver-free. The graph is read from the source with :mod:`ast`: every ``import nationcap...``,
``from nationcap... import`` and relative ``from .x import``, at module level and inside
functions alike; only imports under ``if TYPE_CHECKING:`` are left out (they never run).
Dynamic imports (``importlib.import_module`` in :func:`nationcap.engines.get_engine`) are not
seen; the fresh-interpreter tests below cover what importing a module really loads.

The dependency rule (layers, lowest first; see CONTRIBUTING.md)::

    {errors, vocab} <- atomic <- config <- inputs <- derive <- model <- engines <- results
           <- session <- pipeline <- {batch, design, report, explore} <- cli <- __main__;   tools: imported only by cli

A module imports from its own package and from lower layers only. ``batch``, ``design``, ``report`` and
``explore`` share a layer and do not import each other; ``tools`` sits above ``cli``: only ``cli`` may import it, and
it imports only what is below ``cli``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "nationcap"
SOURCE = ROOT / PACKAGE

#: top-level part of the package -> layer (a module belongs to the part named by its second
#: dotted component; "nationcap" is the package's own __init__.py: the version only)
LAYERS: dict[str, int] = {
    "nationcap": 0,
    "errors": 0,
    "vocab": 0,
    "atomic": 1,
    "config": 2,
    "inputs": 3,
    "derive": 4,
    "model": 5,
    "engines": 6,
    "results": 7,
    "session": 8,
    "pipeline": 9,
    "batch": 10,
    "design": 10,
    "report": 10,
    "explore": 10,
    "cli": 11,
    "tools": 12,
    "__main__": 13,
}
#: parts that only the listed parts (besides themselves) may import
ONLY_FROM: dict[str, set[str]] = {"tools": {"cli"}}
#: parts that may import only the layers below the one given (tools: anything below cli)
IMPORTS_BELOW: dict[str, int] = {"tools": LAYERS["cli"]}

#: modules whose import must not load the solver stack (choosing the merit-order engine, reading
#: and writing results never need Pyomo or HiGHS)
PYOMO_FREE = (
    "nationcap.engines.merit_order",
    "nationcap.results.build",
    "nationcap.results.io",
    "nationcap.pipeline",
    "nationcap.session",
    "nationcap.batch.worker",
    "nationcap.batch.executors",
)
SOLVER_MODULES = ("pyomo", "pyomo.environ", "highspy")


# ---------------------------------------------------------------------------------------------
# the import graph, from the source


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    path: Path  # its file
    line: int
    target: str  # imported nationcap module
    in_function: bool
    name: str | None = None  # for "from X import name" where name is not a submodule of X

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def describe(self) -> str:
        what = f"{self.target}.{self.name}" if self.name else self.target
        return f"{self.where}: {self.source} imports {what}" + (" (inside a function)" if self.in_function else "")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package (packages by their __init__.py) -> its file."""
    found = {module_name(p): p for p in sorted(SOURCE.rglob("*.py")) if "__pycache__" not in p.parts}
    assert PACKAGE in found, f"no {SOURCE}/__init__.py"
    return found


def is_package(mod: str) -> bool:
    return modules()[mod].name == "__init__.py"


def part(mod: str) -> str:
    """The layer table's key of a module: nationcap.model.rules.link -> model."""
    pieces = mod.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    """Imports of one module (absolute and relative), skipping ``if TYPE_CHECKING:`` bodies."""

    def __init__(self, mod: str, path: Path):
        self.mod, self.path = mod, path
        self.package = mod if is_package(mod) else mod.rpartition(".")[0]
        self.depth = 0  # > 0 inside a function
        self.found: list[tuple[int, str, str | None, bool]] = []  # (line, module, name, in function)
        self.unresolved: list[str] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:  # the else branch runs
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                self.found.append((node.lineno, alias.name, None, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            if node.level - 1 >= len(base):
                self.unresolved.append(
                    f"{self.path.relative_to(ROOT)}:{node.lineno}: relative import beyond the package"
                )
                return
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                return
        for alias in node.names:
            self.found.append((node.lineno, target, alias.name, self.depth > 0))


@cache
def defined_names(mod: str) -> frozenset[str] | None:
    """Names bound at the top level of ``mod`` (None: anything goes, it has a __getattr__)."""
    tree = ast.parse(modules()[mod].read_text(encoding="utf-8"))
    names: set[str] = set()

    def bind(target: ast.AST) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                names.add(n.id)

    def scan(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    bind(t)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                bind(node.target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                if isinstance(node, (ast.For, ast.AsyncFor)):
                    bind(node.target)
                scan(node.body)
                scan(node.orelse)
            elif isinstance(node, ast.If):
                scan(node.body)
                scan(node.orelse)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        bind(item.optional_vars)
                scan(node.body)
            elif isinstance(node, ast.Try):
                scan(node.body)
                for h in node.handlers:
                    scan(h.body)
                scan(node.orelse)
                scan(node.finalbody)

    scan(tree.body)
    return None if "__getattr__" in names else frozenset(names)


@cache
def graph() -> tuple[tuple[Import, ...], tuple[str, ...]]:
    """Every import between nationcap modules, and every import that names nothing that exists."""
    mods = modules()
    edges: list[Import] = []
    problems: list[str] = []
    for mod, path in mods.items():
        c = _Collector(mod, path)
        c.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        problems += c.unresolved
        for line, target, name, in_function in c.found:
            where = f"{path.relative_to(ROOT)}:{line}"
            if target not in mods:
                problems.append(f"{where}: {mod} imports {target}, which is no module of the package")
                continue
            if name is None or name == "*":
                edges.append(Import(mod, path, line, target, in_function))
            elif f"{target}.{name}" in mods:  # from package import submodule
                edges.append(Import(mod, path, line, f"{target}.{name}", in_function))
            else:
                names = defined_names(target)
                if names is not None and name not in names:
                    problems.append(f"{where}: {mod} imports {name!r} from {target}, which does not define it")
                edges.append(Import(mod, path, line, target, in_function, name))
    return tuple(e for e in edges if e.source != e.target), tuple(problems)


def find_cycles(edges: tuple[Import, ...]) -> list[list[Import]]:
    """One cycle (as its imports) per strongly connected component with more than one module."""
    succ: dict[str, dict[str, Import]] = defaultdict(dict)
    for e in edges:
        succ[e.source].setdefault(e.target, e)
    # Tarjan's strongly connected components (iterative)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(modules()):
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(succ[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    components.append(sorted(comp))
    return [min((_shortest_cycle(succ, set(comp), start) for start in comp), key=len) for comp in components]


def _shortest_cycle(succ: dict[str, dict[str, Import]], members: set[str], start: str) -> list[Import]:
    """The shortest cycle from ``start`` back to it within ``members`` (breadth first)."""
    prev: dict[str, Import] = {}
    queue, seen = [start], {start}
    while queue:
        node = queue.pop(0)
        for tgt, e in sorted(succ[node].items()):
            if tgt == start:
                path = [e]
                while path[0].source != start:
                    path.insert(0, prev[path[0].source])
                return path
            if tgt in members and tgt not in seen:
                seen.add(tgt)
                prev[tgt] = e
                queue.append(tgt)
    raise AssertionError(f"no cycle through {start}")  # cannot happen inside a component


def layer_violation(e: Import) -> str | None:
    src, dst = part(e.source), part(e.target)
    if src == dst:
        return None
    if dst in ONLY_FROM:
        if src in ONLY_FROM[dst]:
            return None
        return f"only {', '.join(f'{PACKAGE}.{a}' for a in sorted(ONLY_FROM[dst]))} may import {PACKAGE}.{dst}"
    ls, ld = LAYERS[src], LAYERS[dst]
    if src in IMPORTS_BELOW:
        below = IMPORTS_BELOW[src]
        return None if ld < below else f"upward import: {src} may import only layers below {below}"
    if ld > ls:
        return "upward import"
    if ld == ls:
        return f"{src} and {dst} share a layer and may not import each other"
    return None


# ---------------------------------------------------------------------------------------------
# static checks


def test_every_part_has_a_layer_and_every_folder_is_a_package():
    unknown = sorted({m for m in modules() if part(m) not in LAYERS})
    assert not unknown, f"modules outside the layer table (add their part to LAYERS): {unknown}"
    folders = sorted(
        str(d.relative_to(ROOT))
        for d in {p.parent for p in SOURCE.rglob("*.py") if "__pycache__" not in p.parts}
        if not (d / "__init__.py").is_file()
    )
    assert not folders, f"folders of modules without an __init__.py (implicit namespace packages): {folders}"


def test_imports_resolve():
    """Every nationcap import names a module or a name bound in the module it imports from."""
    edges, problems = graph()
    assert edges, "no imports found: is the source tree at " + str(SOURCE)
    if problems:
        pytest.fail("imports that fail when they run:\n  " + "\n  ".join(problems), pytrace=False)


def test_no_import_cycles():
    edges, _ = graph()
    cycles = find_cycles(edges)
    msg = []
    for cyc in cycles:
        chain = " -> ".join([cyc[0].source] + [e.target for e in cyc])
        msg.append(f"cycle: {chain}\n" + "\n".join(f"    {e.describe()}" for e in cyc))
    if cycles:
        pytest.fail(f"{len(cycles)} import cycle(s) between modules:\n  " + "\n  ".join(msg), pytrace=False)


def test_dependency_rule():
    edges, _ = graph()
    bad = []
    for e in sorted(edges, key=lambda e: (e.where, e.target)):
        why = layer_violation(e)
        if why:
            src, dst = part(e.source), part(e.target)
            bad.append(
                f"{e.describe()}: {e.source} is in layer {LAYERS[src]} ({src}), "
                f"{e.target} in layer {LAYERS[dst]} ({dst}): {why}"
            )
    if bad:
        pytest.fail(f"{len(bad)} import(s) against the dependency rule:\n  " + "\n  ".join(bad), pytrace=False)


def test_errors_and_the_package_init_import_nothing_of_nationcap():
    edges, _ = graph()
    bad = [e.describe() for e in edges if e.source in (PACKAGE, f"{PACKAGE}.errors")]
    if bad:
        pytest.fail(
            "nationcap/__init__.py and errors.py import nothing of nationcap:\n  " + "\n  ".join(bad), pytrace=False
        )


# ---------------------------------------------------------------------------------------------
# imports in fresh interpreters


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter on the source tree next to these tests (not an installed copy)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


#: a fresh interpreter that loads the heavy third-party libraries once (never nationcap), then
#: imports each module given in a child forked from it: every child starts with no nationcap module
#: loaded, as a fresh interpreter would, without paying numpy/pandas/xarray's import time again.
#: Prints one JSON line: module -> the end of its traceback, for the modules that failed.
_IMPORT_EACH = """
import json, os, sys, traceback
from pathlib import Path
import numpy, pandas, xarray, pydantic, click  # third-party only
assert not any(m == "nationcap" or m.startswith("nationcap.") for m in sys.modules)
mods, source = json.loads(sys.argv[1]), Path(sys.argv[2])
failed = {}
for mod in mods:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(mod)
            f = sys.modules[mod].__file__
            assert Path(f).resolve().is_relative_to(source), f
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed[mod] = text.strip().splitlines()[-6:] or [f"exit status {status}"]
print(json.dumps(failed))
"""


def test_each_module_imports_on_its_own():
    """``import nationcap.<module>`` works for every module in an interpreter that has loaded no
    nationcap module before (a child forked from a fresh interpreter; one fresh interpreter per
    module where ``os.fork`` is missing), and loads it from this source tree."""
    mods = sorted(modules())
    if hasattr(os, "fork"):
        r = _python("-c", _IMPORT_EACH, json.dumps(mods), str(SOURCE))
        assert r.returncode == 0, r.stderr
        failed = json.loads(r.stdout.strip().splitlines()[-1])
    else:
        failed = {}
        for mod in mods:
            r = _python(
                "-c",
                f"import sys, {mod}; from pathlib import Path; f = sys.modules[{mod!r}].__file__; "
                f"assert Path(f).resolve().is_relative_to({str(SOURCE)!r}), f",
            )
            if r.returncode != 0:
                failed[mod] = r.stderr.strip().splitlines()[-6:]
    if failed:
        pytest.fail(
            f"{len(failed)} of {len(mods)} modules do not import on their own:\n  "
            + "\n  ".join(f"import {mod} failed:\n      " + "\n      ".join(lines) for mod, lines in failed.items()),
            pytrace=False,
        )


def _import_chain(mod: str, wanted: str) -> str:
    """Who imported ``wanted`` when ``mod`` was imported (from ``python -X importtime``)."""
    r = _python("-X", "importtime", "-c", f"import {mod}")
    rows = []  # (depth, module) in the order Python finished importing them (children first)
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "imported package" not in line:
            name = line.rsplit("|", 1)[1]
            rows.append(((len(name) - len(name.lstrip())) // 2, name.strip()))
    hit = next((i for i, (_, name) in enumerate(rows) if name == wanted), None)
    if hit is None:
        return "(not found in -X importtime output)"
    chain, depth = [wanted], rows[hit][0]
    for d, name in rows[hit + 1 :]:
        if d < depth:
            chain.insert(0, name)
            depth = d
    # "a.b -> a -> a.b": importing a.b first ran package a, whose __init__ imported a.b; keep the last
    return " -> ".join(name for i, name in enumerate(chain) if name not in chain[i + 1 :])


@pytest.mark.parametrize("mod", PYOMO_FREE)
def test_import_does_not_load_the_solver(mod):
    r = _python("-c", f"import json, sys, {mod}; print(json.dumps(sorted(sys.modules)))")
    if r.returncode != 0:
        pytest.fail(f"import {mod} failed:\n{r.stderr}", pytrace=False)
    loaded = set(json.loads(r.stdout.strip().splitlines()[-1]))
    bad = [m for m in SOLVER_MODULES if m in loaded]
    if bad:
        pytest.fail(f"import {mod} loads {', '.join(bad)}; import chain: {_import_chain(mod, bad[0])}", pytrace=False)


def test_an_exact_engine_monte_carlo_worker_loads_no_solver_or_plotting():
    """A worker of a Monte Carlo batch on the exact engine, in a fresh interpreter: it imports the
    modules the executor preloads for that engine (the registry's list) and solves two draws of
    models/tiny_montecarlo.toml as a pool worker does; neither Pyomo, HiGHS nor matplotlib is
    loaded. The same worker on the Pyomo engine does load Pyomo (the check can fail)."""
    script = """
import importlib, json, sys
from nationcap.batch.executors import preload_modules
from nationcap.batch.plan import plan_montecarlo
from nationcap.batch.worker import solve_job
engine = sys.argv[1]
for mod in preload_modules({engine}):
    importlib.import_module(mod)
batch = plan_montecarlo("models/tiny_montecarlo.toml", draws=2, overrides=[f'solver.engine="{engine}"'])
outcomes = [solve_job(job) for job in batch.jobs.values()]
assert all(o.ok for o in outcomes), [o.error for o in outcomes]
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("pyomo", "highspy", "matplotlib"))))
"""
    loaded = {}
    for engine in ("fast", "pyomo"):
        r = _python("-c", script, engine)
        if r.returncode != 0:
            pytest.fail(f"the {engine} worker failed:\n{r.stderr}", pytrace=False)
        loaded[engine] = json.loads(r.stdout.strip().splitlines()[-1])
    assert loaded["fast"] == [], loaded["fast"]
    assert "pyomo.environ" in loaded["pyomo"] and not any(m.startswith("matplotlib") for m in loaded["pyomo"])
