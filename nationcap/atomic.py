"""Writing files and folders safely: atomic replacement, stale temporaries, what ``--force`` may
replace, and interruption (Ctrl-C, SIGTERM) while writing. The bottom layer: inputs (the dataset
generator) and results alike are written through it.

Atomic writing. Everything is first written into a temporary sibling
(``.NAME.tmp-p<pid>-h<host>-<random>``); only when it is complete is it moved into place, and an
existing folder is replaced only with ``force`` and only after the new one is complete (the old
one is moved aside as ``.NAME.old-...``, the new one moved in, then the old one removed). A failed
or interrupted write never leaves half an output and never destroys an old one.

What ``--force`` may replace. Only what nationcap wrote (:func:`written_by`): a results folder
(``run.json`` of nationcap, ``results.nc``), a batch folder (``batch.json``), a comparison
(``compare_summary.csv``) or a dataset nationcap generated (``dataset.toml`` whose ``generator`` is
a ``nationcap generate`` command). Any other folder that holds something is refused, with or
without ``--force``, so a user's files or the input data are never deleted.

Stale temporaries. A process killed while writing (``kill -9``, a power cut) cannot clean up
after itself, so the next write to the same place removes the temporaries of that name whose
writer is gone (:func:`remove_stale_temps`): the writer's PID and a tag of its host are part of
every temporary name, and a temporary is removed only when that PID is no longer alive on this
host (or, when the writer cannot be identified, e.g. written on another host of a shared file
system or by an older nationcap, when it is older than :data:`STALE_AGE_S`). A concurrent writer's
temporaries are never touched.

Interruption. SIGTERM (a batch system's time limit, ``timeout``, a container stop) is turned into
:class:`~nationcap.errors.Terminated`, a kind of ``KeyboardInterrupt``, by
:func:`raise_on_sigterm`, so it unwinds like Ctrl-C and every ``with`` block below cleans up. The
steps that must not be cut in the middle (a netCDF file being written, whose library holds a lock
until it is closed; the moves that put a new folder in place) run under :func:`signals_deferred`:
a Ctrl-C or SIGTERM that arrives meanwhile takes effect as soon as the step is done.

The output location is checked before any work (:func:`check_location`); a write that fails
anyway (disk full, permissions changed meanwhile) raises :class:`~nationcap.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import stat
import threading
import time
import tomllib
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, OutputExistsError, Terminated

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# interruption: SIGTERM as Ctrl-C, and steps that finish before a signal takes effect
# ---------------------------------------------------------------------------------------

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def raise_on_sigterm() -> None:
    """From now on SIGTERM raises :class:`~nationcap.errors.Terminated` (a ``KeyboardInterrupt``)
    in this process, as Ctrl-C raises ``KeyboardInterrupt``. Called by the command line and by
    batch workers; only the main thread can install it (elsewhere it does nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block to its end even if Ctrl-C or SIGTERM arrives; the signal then takes effect
    (its handler runs) as the block ends. In a thread other than the main one, signals are handled
    by the main thread anyway and the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, frame: Any) -> None:
        caught.append(signum)

    old = {s: signal.signal(s, record) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])  # the handler that was in place before the block runs now


# ---------------------------------------------------------------------------------------
# temporary names and stale temporaries
# ---------------------------------------------------------------------------------------

#: a temporary whose writer cannot be identified (written on another host, or named by an older
#: nationcap without a PID) is removed only when it is older than this (seconds)
STALE_AGE_S = 6 * 3600.0

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_WRITER = r"(?:p(?P<pid>\d+)-h(?P<host>[0-9a-f]{6})-)?[0-9a-f]{8}"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<tag>tmp|old)-" + _WRITER + "$")
_STAGING_RE = re.compile(r"^\.staging-" + _WRITER + "$")


def temp_tag() -> str:
    """``p<pid>-h<host>-<random>``: every temporary name carries its writer (see the module doc)."""
    return f"p{os.getpid()}-h{_HOST}-{uuid.uuid4().hex[:8]}"


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{temp_tag()}"


def staging_name() -> str:
    """The name of a batch folder's staging folder (``.staging-p<pid>-h<host>-<random>``)."""
    return f".staging-{temp_tag()}"


def _writer_alive(pid: str | None, host: str | None) -> bool | None:
    """Whether the writer of a temporary still runs; None when that cannot be told."""
    if pid is None or host != _HOST:
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, OverflowError, ValueError):
        return None
    return True


def remove_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove nationcap's temporaries in ``folder`` whose writer is gone; return what was removed.

    Only entries of nationcap's own naming are considered: ``.NAME.tmp-*`` and ``.NAME.old-*``
    (:func:`atomic_folder`, :func:`atomic_file`; only those of ``name`` when it is given) and,
    when ``name`` is None, a batch folder's ``.staging-*``. An entry is removed when its writer's
    PID is not alive on this host, or, if the writer cannot be identified, when it is older than
    :data:`STALE_AGE_S`. A stale ``.NAME.old-*`` is the previous output moved aside; it is kept
    (and a warning logged) when ``NAME`` itself is missing, since it is then the only copy.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        m = _TEMP_RE.match(entry.name)
        if m is not None and name is not None and m["name"] != name:
            continue
        if m is None and (name is not None or (m := _STAGING_RE.match(entry.name)) is None):
            continue
        alive = _writer_alive(m["pid"], m["host"])
        if alive is None:
            try:
                alive = now - entry.stat(follow_symlinks=False).st_mtime <= STALE_AGE_S
            except OSError:
                continue
        if alive:
            continue
        path = Path(entry.path)
        if m.groupdict().get("tag") == "old" and not (folder / m["name"]).exists():
            log.warning("kept %s: an interrupted write left it, and %s is missing", path, folder / m["name"])
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        if not os.path.lexists(path):
            log.info("removed %s, left by an interrupted nationcap run", path)
            removed.append(path)
    return removed


# ---------------------------------------------------------------------------------------
# what nationcap wrote (what --force may replace)
# ---------------------------------------------------------------------------------------

#: kinds of folder nationcap writes, as :func:`written_by` names them
RESULTS, BATCH, COMPARISON, DATASET = "results", "batch results", "comparison", "generated dataset"
#: what the commands that write results may replace with --force (a generated dataset is not)
RESULT_KINDS = (RESULTS, BATCH, COMPARISON)
#: a ``nationcap target`` folder (``target.json``), replaced only by another target search
TARGET = "target search"
#: the first bytes of every netCDF4 (HDF5) file
NETCDF4_MAGIC = b"\x89HDF\r\n\x1a\n"


def _json_has(path: Path, key: str) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and key in data


def _is_netcdf4(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(NETCDF4_MAGIC)) == NETCDF4_MAGIC
    except OSError:
        return False


def written_by(folder: Path) -> str | None:
    """What nationcap wrote ``folder`` as (:data:`RESULTS`, :data:`BATCH`, :data:`COMPARISON`,
    :data:`DATASET`), or None when nothing in it says nationcap wrote it.

    The signs: a batch's ``batch.json`` (with its ``spec_hash``); a run's ``run.json`` (with the
    ``nationcap_version``) or a netCDF4 ``results.nc``; a comparison's ``compare_summary.csv``; a
    target search's ``target.json`` (with its ``intervals``, :data:`TARGET`); a
    ``dataset.toml`` whose ``generator`` is a ``nationcap generate`` command.
    """
    folder = Path(folder)
    if _json_has(folder / "batch.json", "spec_hash"):
        return BATCH
    if _json_has(folder / "run.json", "nationcap_version") or _is_netcdf4(folder / "results.nc"):
        return RESULTS
    if (folder / "compare_summary.csv").is_file():
        return COMPARISON
    if _json_has(folder / "target.json", "intervals"):
        return TARGET
    try:
        meta = tomllib.loads((folder / "dataset.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return DATASET if str(meta.get("generator", "")).startswith("nationcap generate") else None


def _listing(folder: Path, n: int = 3) -> str:
    names = sorted(p.name for p in folder.iterdir())
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def check_replaceable(out_dir: Path, force: bool, kinds: Iterable[str] = RESULT_KINDS) -> None:
    """Raise unless ``out_dir`` is missing, empty, or (with ``force``) a folder of one of ``kinds``
    that nationcap wrote (:func:`written_by`): :class:`OutputExistsError` for nationcap's own
    outputs without ``force``, :class:`OutputError` for anything else (exit code 4 for both)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} exists and is not a folder; give another --out")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    kind = written_by(out_dir)
    if kind is None:
        raise OutputError(
            f"{out_dir} holds files nationcap did not write ({_listing(out_dir)}); choose a new or empty folder "
            f"(--force replaces only outputs nationcap wrote)"
        )
    if kind not in tuple(kinds):
        raise OutputError(
            f"{out_dir} holds a {kind} of nationcap, which this command does not replace; choose a new or empty folder"
        )
    if not force:
        raise OutputExistsError(
            f"{out_dir} already holds {kind} of nationcap; pass --force to replace them or --out to write elsewhere"
        )


def check_writable(out_dir: Path, force: bool, kinds: Iterable[str] = RESULT_KINDS) -> None:
    """:func:`check_replaceable`, then :func:`check_location` (the folder can be written)."""
    check_replaceable(out_dir, force, kinds)
    check_location(out_dir, "folder")


def check_file_replaceable(path: Path, force: bool, is_ours) -> None:
    """The same for one file: an existing ``path`` is replaced only with ``force`` and only when
    ``is_ours(path)`` says nationcap wrote it."""
    path = Path(path)
    if not path.is_file():
        return
    if not is_ours(path):
        raise OutputError(
            f"{path} is a file nationcap did not write; choose a new file name (--force replaces only "
            f"files nationcap wrote)"
        )
    if not force:
        raise OutputExistsError(f"{path} exists; pass --force to replace it or --out to write elsewhere")


# ---------------------------------------------------------------------------------------
# the output location
# ---------------------------------------------------------------------------------------


def check_location(path: Path, kind: str = "folder") -> None:
    """Raise :class:`OutputError` unless outputs can be written at ``path``; leaves nothing behind.

    ``kind`` is how ``path`` is written: ``"folder"`` (a folder made or replaced as a whole:
    :func:`atomic_folder`), ``"inside"`` (a folder written into: batch folders, plots) or
    ``"file"`` (one file: :func:`atomic_file`). The folder where entries will be created (or the
    nearest existing folder above it) must be a folder in which a temporary folder can be created
    and removed; this catches read-only folders, a file standing where a folder must be and a mount
    point given as a folder to replace, before anything is loaded or solved.
    """
    path = Path(path)
    if kind == "file" and path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name (--out FILE)")
    if kind != "file" and path.exists() and not path.is_dir():
        raise OutputError(f"{path} exists and is not a folder; give another --out")
    if kind == "folder" and path.is_dir() and os.path.ismount(path):
        raise OutputError(
            f"{path} is a mount point: nationcap writes an output folder as a whole and moves it into place, "
            f"which a mount point cannot take; give a folder inside it (--out {path / 'results'})"
        )
    target = path if kind == "inside" and path.is_dir() else path.parent
    where = target
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise OutputError(f"cannot create {path}: {where} is a file, not a folder; give another --out")
    probe = where / f".nationcap-probe-{temp_tag()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {where} is not writable ({exc.strerror or exc}); "
            f"give another --out or make {where} writable"
        ) from None


def write_error(path: Path, exc: Exception) -> OutputError:
    """An OSError (or the netCDF library's RuntimeError for a full disk) met while writing
    ``path``, as the OutputError the command line reports."""
    filename = getattr(exc, "filename", None)
    where = f" ({filename})" if filename and str(filename) != str(path) else ""
    return OutputError(
        f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}{where}; nothing was written there "
        f"(check the free space and permissions, or give another --out)"
    )


# ---------------------------------------------------------------------------------------
# atomic folders and files
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_folder(out_dir: Path, force: bool = False, kinds: Iterable[str] = RESULT_KINDS) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``out_dir`` (see the module doc).

    ``out_dir`` must be missing, empty or, with ``force``, a folder of one of ``kinds`` that
    nationcap wrote (:func:`check_replaceable`). An OSError while writing (in the caller's block
    too) becomes :class:`OutputError`.
    """
    out_dir = Path(out_dir)
    kinds = tuple(kinds)
    check_writable(out_dir, force, kinds)
    remove_stale_temps(out_dir.parent, out_dir.name)
    tmp = _sibling(out_dir, "tmp")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise write_error(out_dir, exc) from exc
    old: Path | None = None
    try:
        try:
            yield tmp
            with signals_deferred():  # the moves run to their end
                # keep the old folder's permissions (a new one gets the usual rwxr-xr-x); set last, so
                # that a read-only old folder does not make the temporary one unwritable
                os.chmod(tmp, stat.S_IMODE(out_dir.stat().st_mode) if out_dir.is_dir() else 0o755)
                if out_dir.exists():
                    check_replaceable(out_dir, force, kinds)  # re-check: another process may have written meanwhile
                    old = _sibling(out_dir, "old")
                    os.replace(out_dir, old)
                    os.replace(tmp, out_dir)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(tmp, out_dir)
        except OSError as exc:
            raise write_error(out_dir, exc) from exc
    except BaseException:
        with signals_deferred():
            if old is not None and old.exists() and not out_dir.exists():
                os.replace(old, out_dir)  # interrupted between the two moves: put the old folder back
            shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path, clean: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    ``clean`` first removes stale temporaries of ``path`` (:func:`remove_stale_temps`); callers
    that write many files into a folder they clean once themselves pass False. An OSError while
    writing becomes :class:`OutputError`.
    """
    path = Path(path)
    if clean:
        remove_stale_temps(path.parent, path.name)
    tmp = _sibling(path, "tmp")
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            yield tmp
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(path, exc) from exc
    except BaseException:
        with signals_deferred():
            tmp.unlink(missing_ok=True)
        raise
