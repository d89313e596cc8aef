"""The result store: one JSON record per finished task, ``<root>/<slug>/<key>.json``.

Records are written to a temporary file in the same folder and renamed into place
(``os.replace`` is atomic on POSIX), so a killed writer leaves either the whole record or none;
the key is a content hash, so a task run twice overwrites its own record instead of adding one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_STORE", "Store"]

DEFAULT_STORE = Path("theorylab-results")
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Store:
    """A folder of task records."""

    root: Path = DEFAULT_STORE

    def path(self, slug: str, key: str) -> Path:
        return self.root / slug / f"{key}.json"

    def has(self, slug: str, key: str) -> bool:
        return self.path(slug, key).is_file()

    def write(self, record: dict[str, Any]) -> Path:
        """Write ``record`` atomically (temp file + fsync + rename)."""
        target = self.path(record["slug"], record["key"])
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh, allow_nan=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def read(self, slug: str, key: str) -> dict[str, Any] | None:
        """The record of ``key``, or None if it is not stored."""
        try:
            return json.loads(self.path(slug, key).read_text())
        except FileNotFoundError:
            return None

    def _record_paths(self, slug: str) -> list[Path]:
        """Paths of complete records (temporary files of writers are not records)."""
        folder = self.root / slug
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.json") if not p.name.startswith(_TMP_PREFIX))

    def keys(self, slug: str) -> set[str]:
        return {p.stem for p in self._record_paths(slug)}

    def records(self, slug: str) -> Iterator[dict[str, Any]]:
        """Every complete record of ``slug`` (temporary files of killed writers are skipped)."""
        for p in self._record_paths(slug):
            try:
                yield json.loads(p.read_text())
            except (OSError, json.JSONDecodeError) as exc:  # pragma: no cover - disk damage
                warnings.warn(f"skipping unreadable record {p}: {exc}", stacklevel=2)

    def clean_temporary(self, slug: str, older_than_s: float = 3600.0) -> int:
        """Remove temporary files of killed writers (older than ``older_than_s``, so that a
        concurrent writer's file in flight is left alone); returns how many were removed."""
        folder = self.root / slug
        if not folder.is_dir():
            return 0
        now = time.time()
        removed = 0
        for p in folder.glob(f"{_TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if now - p.stat().st_mtime > older_than_s:
                    p.unlink()
                    removed += 1
        return removed
