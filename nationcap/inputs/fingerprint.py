"""Fingerprints of input files: what a result or a cache entry was computed from."""

from __future__ import annotations

import hashlib
from pathlib import Path

_FINGERPRINTS: dict[tuple, str] = {}


def _files(folder: Path) -> list[Path]:
    """The non-hidden files of ``folder`` (recursively), sorted: the inputs a fingerprint covers."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def dataset_fingerprint(path: str | Path) -> str:
    """sha256 of every (non-hidden) file's relative name and bytes in the dataset folder.

    Remembered per folder while no file's name, size or modification time changes.
    """
    path = Path(path)
    files = _files(path)
    key = (str(path.resolve()), tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(path)).encode())
        h.update(b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of one file's bytes (remembered while the file's size and modification time stay)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _FILE_HASHES[key] = h.hexdigest()
    return _FILE_HASHES[key]


def input_fingerprints(dataset: str | Path, scenario: str | Path | None = None) -> dict[str, str]:
    """sha256 of every input file of a run: ``{name: sha256}``.

    Names: the scenario file's name (when there is a scenario file) and ``<dataset folder>/<path
    inside it>`` for every non-hidden file of the dataset folder (the files
    :func:`dataset_fingerprint` covers).
    """
    dataset = Path(dataset)
    out: dict[str, str] = {}
    if scenario is not None and Path(scenario).is_file():
        out[Path(scenario).name] = file_sha256(scenario)
    for f in _files(dataset):
        out[f"{dataset.name}/{f.relative_to(dataset).as_posix()}"] = file_sha256(f)
    return out
