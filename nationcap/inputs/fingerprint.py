"""Fingerprints of input files: what a result or a cache entry was computed from."""

from __future__ import annotations

import hashlib
from pathlib import Path

_FINGERPRINTS: dict[str, str] = {}


def dataset_fingerprint(path: str | Path) -> str:
    """sha256 of every (non-hidden) file's relative name and bytes in the dataset folder."""
    path = Path(path)
    key = str(path.resolve())
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ):
            h.update(str(f.relative_to(path)).encode())
            h.update(b"\0")
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]
