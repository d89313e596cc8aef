"""A columnar cache of a store's records: ``<root>/.cache/<slug>.<tag>.parquet``.

Loading a store of 100 000 records reads 100 000 files and expands each into rows in Python.
The cache keeps the rows of every record already read in one Parquet file, with the stamp
(inode, size, mtime) each record file had when it was read. A load lists the folder once and
reads only the records whose stamp is new or changed; rows of records gone from the folder are
dropped. So the cache is never trusted past the store: a new, rewritten or removed record is
seen by the listing; a damaged record file has a new stamp, so it is read, found corrupt and set
aside as without the cache.

The records remain the source of truth: the cache is rebuilt from them when it is missing,
unreadable (reported with :class:`CacheWarning`) or written for another format, and a store
the cache cannot be written to (read-only, no pyarrow) is loaded without one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from theorylab.runner.store import Stamp, Store

__all__ = ["CACHE_DIR", "CacheWarning", "cache_path", "consolidated_frame", "stored_keys"]

CACHE_DIR = ".cache"
_FORMAT = 1
_META = b"theorylab"

Chunk = Any  # one record's rows, in whatever form ``frame_of`` takes a list of
Rows = Callable[[dict[str, Any]], Chunk | None]
Frame = Callable[[list[Chunk]], pd.DataFrame]


class CacheWarning(UserWarning):
    """The columnar cache of a store could not be read: it is rebuilt from the records."""


def cache_path(root: Path, slug: str, tag: str) -> Path:
    return root / CACHE_DIR / f"{slug}.{tag}.parquet"


def consolidated_frame(
    store: Store,
    slug: str,
    tag: str,
    rows_of: Rows,
    frame_of: Frame,
    arrange: Callable[[pd.DataFrame], pd.DataFrame] = lambda df: df,
) -> pd.DataFrame:
    """Rows of every whole record of ``slug``, records in key order, through the cache.

    ``rows_of(record)`` gives one record's rows as a chunk (None to leave it out);
    ``frame_of(chunks)`` makes one frame of a list of chunks, and ``arrange`` puts the columns
    of cached and new rows together in the order ``frame_of`` gives (so that the frame does
    not depend on what was cached).
    ``tag`` names what ``rows_of`` does (a cache built by another ``rows_of`` is another file).
    """
    store.check_foreign(slug)
    stamps = store.stamps(slug)
    if not stamps:  # nothing stored: no cache to write (nor a folder to create)
        return frame_of([])
    path = cache_path(store.root, slug, tag)
    cached = _read(path, tag)
    frame, index = cached if cached is not None else (None, {})
    kept = {k for k, s in index.items() if stamps.get(k) == s}
    fresh = sorted(set(stamps) - kept)
    if frame is not None and not fresh and kept == set(index):
        return frame
    chunks: list[Chunk] = []
    new_index = {k: index[k] for k in kept}
    for key in fresh:
        rec = store.read(slug, key)
        if rec is not None:
            new_index[key] = stamps[key]
            chunk = rows_of(rec)
            if chunk is not None:
                chunks.append(chunk)
    parts = [frame[frame["key"].isin(kept)]] if frame is not None and kept else []
    if chunks:
        parts.append(frame_of(chunks))
    out = arrange(_in_key_order(parts)) if parts else frame_of([])
    _write(path, tag, out, new_index)
    return out


def stored_keys(store: Store, slug: str) -> set[str]:
    """Keys of the whole records of ``slug``, as :meth:`Store.keys` but reading only the files
    that no cache has read with their present stamp (the others were checked then, unchanged
    since). Foreign files are reported, corrupt records set aside, as by :meth:`Store.keys`."""
    store.check_foreign(slug)
    stamps = store.stamps(slug)
    checked = _checked_stamps(store.root, slug) if stamps else {}
    done = {k for k, s in stamps.items() if checked.get(k) == s}
    return done | {k for k in stamps.keys() - done if store.read(slug, k) is not None}


def _checked_stamps(root: Path, slug: str) -> dict[str, Stamp]:
    """Stamps of the records read by any cache of ``slug`` (only the Parquet footers are
    read); an unreadable cache adds nothing."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {}
    checked: dict[str, Stamp] = {}
    for path in sorted((root / CACHE_DIR).glob(f"{slug}.*.parquet")):
        try:
            meta = json.loads(pq.read_schema(path).metadata[_META])
            if meta.get("format") == _FORMAT:
                checked.update(_stamps(meta["index"]))
        except Exception:  # an unreadable cache: its records are read instead
            continue
    return checked


def _stamps(index: Mapping[str, Any]) -> dict[str, Stamp]:
    return {k: (int(s[0]), int(s[1]), int(s[2])) for k, s in index.items()}


def _in_key_order(parts: list[pd.DataFrame]) -> pd.DataFrame:
    df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    if df.empty or df["key"].is_monotonic_increasing:
        return df.reset_index(drop=True)
    return df.sort_values("key", kind="stable").reset_index(drop=True)


def _read(path: Path, tag: str) -> tuple[pd.DataFrame, dict[str, Stamp]] | None:
    """The cached frame and its index, or None (no cache, or one to rebuild)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_META])
        if meta.get("format") != _FORMAT or meta.get("tag") != tag:
            return None
        index = _stamps(meta["index"])
        frame = table.to_pandas()
    except Exception as exc:
        warnings.warn(
            f"unreadable cache {path} ({type(exc).__name__}: {exc}); rebuilding it from the "
            "records",
            CacheWarning,
            stacklevel=3,
        )
        return None
    return frame, index


def _write(path: Path, tag: str, frame: pd.DataFrame, index: Mapping[str, Stamp]) -> None:
    """Write the cache atomically (temp file + rename); a cache that cannot be written (no
    pyarrow, a read-only store, values Parquet cannot hold) is simply not written."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    meta = {"format": _FORMAT, "tag": tag, "index": index}
    tmp = None
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META: json.dumps(meta).encode()}
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
        os.close(fd)
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError, NotImplementedError, pa.ArrowException):
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
