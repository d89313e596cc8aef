"""The result store: one JSON record per finished task, ``<root>/<slug>/<key>.json``.

Records are written to a temporary file in the same folder and renamed into place
(``os.replace`` is atomic on POSIX), so a killed writer leaves either the whole record or none;
the key is a content hash, so a task run twice overwrites its own record instead of adding one.

A file that is not a whole record of its place (half-written JSON copied in from elsewhere, a
record whose key or slug is not the one its path names, any other JSON) is never trusted: reading
it warns with its path, a file named like a key is moved to ``<root>/<slug>/.corrupt/`` (so the
task counts as missing and is recomputed, and the evidence is kept), and a foreign file is
skipped. Loads and reports never fail on one.
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

__all__ = ["DEFAULT_STORE", "CorruptRecordWarning", "Stamp", "Store", "record_problem"]

DEFAULT_STORE = Path("theorylab-results")
_TMP_PREFIX = ".tmp-"
_CORRUPT = ".corrupt"
_KINDS = ("theory", "simulation")

Stamp = tuple[int, int, int]
"""(inode, size, mtime in ns) of a record file: a rewrite (a new file renamed into place) or an
edit in place changes it."""


class CorruptRecordWarning(UserWarning):
    """A file in the store that is not a whole record of its place (reported with its path)."""


def record_problem(doc: Any, slug: str, key: str) -> str | None:
    """Why ``doc`` is not the record of ``<slug>/<key>.json``, or None if it is."""
    if not isinstance(doc, dict):
        return f"not a record (a JSON {type(doc).__name__})"
    if doc.get("key") != key:
        return f"its key {doc.get('key')!r} is not the file's name"
    if doc.get("slug") != slug:
        return f"its slug {doc.get('slug')!r} is not the folder's"
    if doc.get("kind") not in _KINDS or not isinstance(doc.get("observables"), dict):
        return "no kind or observables"
    return None


def _looks_like_key(name: str) -> bool:
    return len(name) == 24 and all(c in "0123456789abcdef" for c in name)


def _json_names(folder: Path) -> list[str]:
    """Names of the ``*.json`` files of ``folder`` that are not writers' temporaries."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [n for n in names if n.endswith(".json") and not n.startswith(_TMP_PREFIX)]


@dataclass(frozen=True)
class Store:
    """A folder of task records."""

    root: Path = DEFAULT_STORE

    def path(self, slug: str, key: str) -> Path:
        return self.root / slug / f"{key}.json"

    def has(self, slug: str, key: str) -> bool:
        return self.path(slug, key).is_file()

    def write(self, record: dict[str, Any], *, fsync: bool = True) -> Path:
        """Write ``record`` atomically (temp file + fsync + rename).

        Without ``fsync`` the record is still atomic (readers and a killed writer see all of it
        or none: the rename publishes a complete file, and the kernel writes it out after the
        writer dies). Only a crash of the machine itself (power, kernel) before the kernel has
        written it out can lose it, or leave an empty or cut file under its name, which reads
        as corrupt: it is set aside and its task recomputed.
        """
        target = self.path(record["slug"], record["key"])
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record, allow_nan=False)  # the C encoder; refuses NaN before any file
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def read(self, slug: str, key: str) -> dict[str, Any] | None:
        """The record of ``key``, or None if it is not stored (or not a whole record: then it
        is reported and moved aside, see the module docstring)."""
        return self._load(self.path(slug, key), slug)

    def _load(self, path: Path, slug: str) -> dict[str, Any] | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            warnings.warn(f"unreadable record {path}: {exc}", CorruptRecordWarning, stacklevel=3)
            return None
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problem: str | None = f"not valid JSON ({exc})"
        else:
            problem = record_problem(doc, slug, path.stem)
        if problem is None:
            return doc
        self._set_aside(path, problem)
        return None

    def _set_aside(self, path: Path, problem: str) -> None:
        if not _looks_like_key(path.stem):
            warnings.warn(f"skipping foreign file {path}: {problem}", CorruptRecordWarning, 4)
            return
        aside = path.parent / _CORRUPT / f"{path.name}.{time.time_ns()}"
        aside.parent.mkdir(exist_ok=True)
        with contextlib.suppress(FileNotFoundError):  # another reader moved it first
            os.replace(path, aside)
        warnings.warn(
            f"corrupt record {path}: {problem}; moved to {aside}, its task will be recomputed",
            CorruptRecordWarning,
            stacklevel=4,
        )

    def _record_paths(self, slug: str) -> list[Path]:
        """Paths of complete records (temporary files of writers are not records)."""
        folder = self.root / slug
        return sorted(folder / name for name in _json_names(folder))

    def stamps(self, slug: str) -> dict[str, Stamp]:
        """Key → :data:`Stamp` of every file named like a record of ``slug``, from one listing
        (no file is read: a stamp says whether a file changed since it was last read)."""
        stamps: dict[str, Stamp] = {}
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root / slug) as entries:
            for entry in entries:
                key = entry.name[:-5]
                if entry.name.endswith(".json") and _looks_like_key(key):
                    with contextlib.suppress(FileNotFoundError):  # removed since the listing
                        st = entry.stat()
                        stamps[key] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return stamps

    def foreign(self, slug: str) -> list[Path]:
        """``*.json`` files of ``slug``'s folder not named like a record (nor temporary)."""
        folder = self.root / slug
        return [folder / n for n in _json_names(folder) if not _looks_like_key(n[:-5])]

    def check_foreign(self, slug: str) -> None:
        """Report every foreign ``*.json`` file of ``slug`` (:class:`CorruptRecordWarning`)."""
        for path in self.foreign(slug):
            self._load(path, slug)

    def keys(self, slug: str) -> set[str]:
        """Keys of the whole records of ``slug`` (each file is read and checked)."""
        return {rec["key"] for rec in self.records(slug)}

    def records(self, slug: str) -> Iterator[dict[str, Any]]:
        """Every whole record of ``slug``; temporary files of killed writers are skipped, corrupt
        or foreign files reported (:class:`CorruptRecordWarning`) and never returned."""
        for p in self._record_paths(slug):
            rec = self._load(p, slug)
            if rec is not None:
                yield rec

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
