"""The columnar cache of ``load``: the same frame as reading every record, never stale, rebuilt
when damaged, and a damaged record behind it still detected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import theorylab as tl
from theorylab.runner import consolidate
from theorylab.runner.consolidate import CACHE_DIR, CacheWarning, stored_keys
from theorylab.runner.store import CorruptRecordWarning, Store
from theorylab.runner.sweep import _frame, _record_rows, sweep
from theorylab.runner.tasks import Task, execute

SLUG = "bayes_extensive"
BASE = {"d": 40, "n_test": 200, "draws": 1}
GRID = {"alpha": [0.5, 1.0, 2.0]}


def reference(root: Path) -> pd.DataFrame:
    """``load`` without the cache: every record read and expanded."""
    exp = tl.get(SLUG)
    recs = Store(root).records(SLUG)
    chunks = [_record_rows(exp, rec, False) for rec in recs]
    return _frame([c for c in chunks if c is not None])


def cache_files(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob(f"{SLUG}.*.parquet"))


def no_record_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self, slug, key):
        raise AssertionError(f"read record {key} although the cache holds it")

    monkeypatch.setattr(Store, "read", refuse)


@pytest.fixture()
def loaded(tmp_path: Path) -> Path:
    """A theory-only sweep (three points) and a first load that writes the cache."""
    assert sweep(SLUG, GRID, BASE, store=tmp_path).ran == 3
    assert sweep(SLUG, {"alpha": [1.0]}, BASE, simulate=True, seeds=2, store=tmp_path).ran == 2
    pd.testing.assert_frame_equal(tl.load(SLUG, tmp_path), reference(tmp_path))
    assert len(cache_files(tmp_path)) == 1
    return tmp_path


def test_second_load_reads_the_cache_not_the_records(
    loaded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = reference(loaded)
    no_record_reads(monkeypatch)
    pd.testing.assert_frame_equal(tl.load(SLUG, loaded), expected)


def test_new_records_make_the_cache_stale_and_only_they_are_read(
    loaded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(tl.load(SLUG, loaded)["key"])
    assert sweep(SLUG, {"alpha": [3.0, 4.0]}, BASE, store=loaded).ran == 2
    reads: list[str] = []
    real_read = Store.read
    monkeypatch.setattr(Store, "read", lambda s, slug, k: reads.append(k) or real_read(s, slug, k))
    frame = tl.load(SLUG, loaded)
    assert len(reads) == 2 and not set(reads) & before
    pd.testing.assert_frame_equal(frame, reference(loaded))


def test_removed_and_rewritten_records_are_seen(loaded: Path) -> None:
    paths = sorted((loaded / SLUG).glob("*.json"))
    paths[0].unlink()
    doc = json.loads(paths[1].read_text())
    doc["observables"] = {k: 0.0 for k in doc["observables"]}
    Store(loaded).write(doc)  # same key, other content: a new file renamed into place
    frame = tl.load(SLUG, loaded)
    assert paths[0].stem not in set(frame["key"])
    assert (frame.loc[frame["key"] == doc["key"], "value"] == 0.0).all()
    pd.testing.assert_frame_equal(frame, reference(loaded))


@pytest.mark.parametrize("damage", [b"not parquet at all", b""])
def test_corrupt_cache_is_reported_and_rebuilt(loaded: Path, damage: bytes) -> None:
    (path,) = cache_files(loaded)
    path.write_bytes(damage)
    with pytest.warns(CacheWarning, match="rebuilding"):
        frame = tl.load(SLUG, loaded)
    pd.testing.assert_frame_equal(frame, reference(loaded))
    assert path.stat().st_size > 100  # rewritten whole
    pd.testing.assert_frame_equal(tl.load(SLUG, loaded), frame)


def test_damaged_record_behind_the_cache_is_still_detected(loaded: Path) -> None:
    path = sorted((loaded / SLUG).glob("*.json"))[0]
    path.write_text(path.read_text()[:40])  # torn in place: its stamp changes
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        frame = tl.load(SLUG, loaded)
    assert path.stem not in set(frame["key"]) and not path.exists()
    pd.testing.assert_frame_equal(frame, reference(loaded))


def test_cache_that_cannot_be_written_does_not_stop_a_load(tmp_path: Path) -> None:
    sweep(SLUG, GRID, BASE, store=tmp_path)
    (tmp_path / CACHE_DIR).write_text("a file where the cache folder would be")
    pd.testing.assert_frame_equal(tl.load(SLUG, tmp_path), reference(tmp_path))
    pd.testing.assert_frame_equal(tl.load(SLUG, tmp_path), reference(tmp_path))


def test_empty_store_loads_empty_and_creates_nothing(tmp_path: Path) -> None:
    assert tl.load(SLUG, tmp_path / "none").empty
    assert not (tmp_path / "none").exists()


def test_protocol_filter_has_its_own_cache(loaded: Path) -> None:
    assert len(tl.load(SLUG, loaded, all_protocols=True)) == len(tl.load(SLUG, loaded))
    assert len(cache_files(loaded)) == 2


# --------------------------------------------------------------------------------------------
# Resume through the cache's stamps
# --------------------------------------------------------------------------------------------


def test_resume_after_a_load_reads_no_record(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = Store(loaded).keys(SLUG)
    no_record_reads(monkeypatch)
    assert stored_keys(Store(loaded), SLUG) == expected
    summary = sweep(SLUG, GRID, BASE, store=loaded)
    assert (summary.skipped, summary.ran) == (3, 0)


def test_resume_reads_what_changed_since_the_cache(loaded: Path) -> None:
    path = sorted((loaded / SLUG).glob("*.json"))[0]
    path.write_text("{")
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        done = stored_keys(Store(loaded), SLUG)
    assert path.stem not in done
    sim = sweep(SLUG, {"alpha": [1.0]}, BASE, simulate=True, seeds=2, store=loaded)
    theory = sweep(SLUG, GRID, BASE, store=loaded)
    assert sim.ran + theory.ran == 1


def test_unreadable_cache_only_costs_reads(loaded: Path) -> None:
    for path in cache_files(loaded):
        path.write_bytes(b"junk")
    assert consolidate._checked_stamps(loaded, SLUG) == {}
    assert stored_keys(Store(loaded), SLUG) == Store(loaded).keys(SLUG)


# --------------------------------------------------------------------------------------------
# What is forced to disk
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "seed", "fsyncs"), [("theory", None, 0), ("simulation", 0, 1)])
def test_only_simulation_records_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, seed: int | None, fsyncs: int
) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real(fd))
    task = Task.make(SLUG, {"alpha": [1.0], **BASE}, seed, kind)  # type: ignore[arg-type]
    rec = execute(task, str(tmp_path))
    assert len(calls) == fsyncs
    assert Store(tmp_path).read(SLUG, task.key) == rec
