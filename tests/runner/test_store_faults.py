"""A damaged store never crashes a load and never passes a damaged record off as a result.

Half-written JSON, a record under the wrong name, a foreign file, two sweeps writing at once:
each is detected and reported with its path; a damaged record is set aside and its task
recomputed by the next sweep. (Without the checks of ``Store._load``, the truncated record
makes ``tl.load`` raise ``JSONDecodeError`` and the wrong-key record is counted as done.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import theorylab as tl
from theorylab.runner.store import CorruptRecordWarning, Store
from theorylab.runner.sweep import sweep

SLUG = "bayes_extensive"
GRID = {"alpha": [0.5, 1.0, 2.0]}
BASE = {"d": 40, "n_test": 200, "draws": 1}


@pytest.fixture()
def swept(tmp_path: Path) -> Store:
    """A theory-only sweep of three points, all stored."""
    summary = sweep(SLUG, GRID, BASE, store=tmp_path)
    assert summary.ran == 3
    return Store(tmp_path)


def _one_record(store: Store) -> Path:
    return sorted((store.root / SLUG).glob("*.json"))[0]


def _damage_truncate(path: Path) -> None:
    path.write_text(path.read_text()[: len(path.read_text()) // 2])


def _damage_wrong_key(path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["key"] = "0" * 24
    path.write_text(json.dumps(doc))


def _damage_foreign_content(path: Path) -> None:
    path.write_text(json.dumps([1, 2, 3]))


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_wrong_key, _damage_foreign_content])
def test_damaged_record_is_reported_set_aside_and_recomputed(swept: Store, damage) -> None:
    path = _one_record(swept)
    good = json.loads(path.read_text())
    damage(path)
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        frame = tl.load(SLUG, swept.root)
    assert set(frame["key"]) == swept.keys(SLUG) and good["key"] not in set(frame["key"])
    assert not path.exists()
    aside = list((swept.root / SLUG / ".corrupt").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith(path.name)
    summary = sweep(SLUG, GRID, BASE, store=swept.root)
    assert (summary.skipped, summary.ran, summary.failed) == (2, 1, 0)
    redone = json.loads(path.read_text())
    assert redone["observables"] == good["observables"]
    assert len(tl.load(SLUG, swept.root)) == 3 * len(frame) // 2


def test_foreign_file_is_skipped_and_left_alone(swept: Store) -> None:
    foreign = swept.root / SLUG / "notes.json"
    foreign.write_text('{"hello": "world"}')
    with pytest.warns(CorruptRecordWarning, match="foreign file .*notes.json"):
        assert len(swept.keys(SLUG)) == 3
    assert foreign.exists()
    with pytest.warns(CorruptRecordWarning, match="notes.json"):
        summary = sweep(SLUG, GRID, BASE, store=swept.root)
    assert (summary.skipped, summary.ran) == (3, 0)


def test_read_of_a_damaged_record_is_none_not_an_exception(swept: Store) -> None:
    path = _one_record(swept)
    path.write_bytes(b"\xff\xfe not json")
    with pytest.warns(CorruptRecordWarning):
        assert swept.read(SLUG, path.stem) is None
    assert swept.read(SLUG, path.stem) is None  # set aside: now simply missing


def test_two_sweeps_writing_one_store_at_once_lose_and_tear_nothing(tmp_path: Path) -> None:
    """Two processes sweep overlapping grids (theory and simulation tasks) into one store at
    the same time: every task of the union is stored once, whole."""
    script = textwrap.dedent(
        f"""
        import sys
        from theorylab.runner.sweep import sweep
        alphas = [float(a) for a in sys.argv[1].split(",")]
        s = sweep({SLUG!r}, {{"alpha": alphas}}, {BASE!r}, simulate=True, seeds=3,
                  store=sys.argv[2])
        assert s.failed == 0, s.errors
        """
    )
    grids = ["0.25,0.5,0.75,1.0,1.5", "0.75,1.0,1.5,2.0,3.0"]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, g, str(tmp_path)]) for g in grids
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    store = Store(tmp_path)
    files = sorted((tmp_path / SLUG).iterdir())
    assert [f for f in files if not f.name.endswith(".json")] == []  # no temporaries left
    records = list(store.records(SLUG))
    assert len(records) == len(files) == 7 * (1 + 3)
    union = sweep(SLUG, {"alpha": [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]}, BASE,
                  simulate=True, seeds=3, store=tmp_path)
    assert (union.skipped, union.ran) == (28, 0)
